"""Size options of the tiny pipeline folders the command-line tests use."""

#: size options each tiny folder accepts
GEOMETRY = {"wan22-a14b": ["--height", "16", "--width", "16", "--frames", "5"],
            "ltx": ["--height", "32", "--width", "32", "--frames", "9"],
            "wan21-i2v": ["--height", "16", "--width", "16", "--frames", "5"],
            "cogvideox": ["--height", "16", "--width", "16", "--frames", "5"],
            "hunyuan-video": ["--height", "16", "--width", "16", "--frames", "5"],
            "hunyuan-video-1.5": ["--height", "32", "--width", "32", "--frames", "5"],
            "mochi": ["--height", "16", "--width", "16", "--frames", "7"]}
