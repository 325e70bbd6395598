"""Reading and writing small videos as uint8 ``[F, H, W, 3]`` arrays.

Formats, chosen by the path: ``.mp4`` (and other ffmpeg containers; needs the ``video`` extra,
imageio + imageio-ffmpeg), ``.gif`` (Pillow), ``.npy`` (numpy, never pickled), a folder of PNG
frames read in name order (written as ``frame_000.png``, ...), or one image (one frame).
MP4 is written losslessly (H.264 4:4:4, ``libx264rgb`` at ``qp 0``) so that frames round-trip
exactly; ffmpeg and VLC play it, some browsers do not.

Example:
    >>> import numpy as np, tempfile, os
    >>> video = np.zeros((3, 8, 8, 3), np.uint8); video[1] = 255
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_video(os.path.join(folder, "v.gif"), video)
    >>> np.array_equal(read_video(os.path.join(folder, "v.gif")), video)
    True
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from interp.errors import InputError
from interp.outputs import replacing

FFMPEG_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
VIDEO_SUFFIXES = FFMPEG_SUFFIXES + (".gif", ".npy") + IMAGE_SUFFIXES


def has_ffmpeg() -> bool:
    """True when imageio and imageio-ffmpeg are importable (the ``video`` extra)."""
    try:
        import imageio.v3  # noqa: F401
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def to_uint8(video) -> np.ndarray:
    """Convert frames to uint8 ``[F, H, W, 3]``.

    uint8 is kept. Floats are read as ``[-1, 1]`` when any value is below -0.05, else as
    ``[0, 1]``; values slightly outside are clipped, values far outside (say 0..255 floats)
    are refused. Other integer types must hold 0..255. One ``[H, W, 3]`` frame becomes ``F = 1``;
    a fourth (alpha) channel is dropped. Torch tensors (any device, bfloat16 too) are accepted.
    """
    if hasattr(video, "detach"):  # a torch tensor, possibly bfloat16 or on an accelerator
        video = video.detach().float().cpu().numpy() if video.is_floating_point() else video.detach().cpu().numpy()
    array = np.asarray(video)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] not in (3, 4) or 0 in array.shape:
        raise InputError(f"video of shape {array.shape} is not frames x height x width x 3 (RGB)")
    array = array[..., :3]
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if np.issubdtype(array.dtype, np.floating):
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        if not np.isfinite(array).all():
            raise InputError("video holds NaN or infinite values")
        if low < -0.05:
            array = (array + 1.0) / 2.0
            low, high = (low + 1.0) / 2.0, (high + 1.0) / 2.0
        if low < -0.05 or high > 1.05:
            raise InputError(
                f"float video values span {low:.3g}..{high:.3g} after scaling: expected [0, 1] or [-1, 1] "
                "(pass uint8 for 0..255)"
            )
        return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
        if array.min() < 0 or array.max() > 255:
            raise InputError(f"integer video values span {array.min()}..{array.max()}: expected 0..255")
        return array.astype(np.uint8)
    raise InputError(f"video dtype {array.dtype} is not supported: use uint8 or float")


def _png_frames(folder: Path) -> list[Path]:
    """PNG files in natural name order (``frame_2`` before ``frame_10``)."""
    def key(p: Path):
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]

    return sorted((p for p in folder.iterdir() if p.suffix.lower() == ".png"), key=key)


def _read_gif(path: Path) -> np.ndarray:
    """GIF frames at a uniform rate: Pillow merges identical neighbours into one longer frame,
    so a frame lasting ``k`` times the shortest duration is repeated ``k`` times."""
    from PIL import Image, ImageSequence

    frames, durations = [], []
    with Image.open(path) as im:
        for frame in ImageSequence.Iterator(im):
            frames.append(np.asarray(frame.convert("RGB")))
            durations.append(int(frame.info.get("duration", 0) or 0))
    base = min(durations) if durations else 0
    if base > 0:
        repeats = [max(1, round(d / base)) for d in durations]
        if all(abs(r * base - d) <= 10 * r for r, d in zip(repeats, durations)):
            return np.stack([f for f, r in zip(frames, repeats) for _ in range(r)])
    return np.stack(frames)


def read_video(path: str | os.PathLike) -> np.ndarray:
    """Read a video file or PNG-frame folder into uint8 ``[F, H, W, 3]``.

    Raises:
        InputError: the path is missing, of an unknown kind, unreadable, or holds no frames.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise InputError(f"video {str(path)!r} does not exist")
    try:
        if path.is_dir():
            if (path / "first_frame.png").is_file():
                raise InputError(f"{str(path)!r} is a task folder, not a video: pass its ground truth or a generated video")
            frames = _png_frames(path)
            if not frames:
                raise InputError(f"video folder {str(path)!r} holds no .png frames")
            images = [np.asarray(Image.open(p).convert("RGB")) for p in frames]
            if len({im.shape for im in images}) != 1:
                raise InputError(f"frames in {str(path)!r} differ in size")
            video = np.stack(images)
        else:
            suffix = path.suffix.lower()
            if suffix == ".npy":
                video = np.load(path, allow_pickle=False)
            elif suffix == ".gif":
                video = _read_gif(path)
            elif suffix in IMAGE_SUFFIXES:
                with Image.open(path) as im:
                    video = np.asarray(im.convert("RGB"))[None]
            elif suffix in FFMPEG_SUFFIXES:
                if not has_ffmpeg():
                    raise InputError(f"reading {suffix} needs imageio and imageio-ffmpeg: pip install 'cos-interp[video]'")
                import imageio.v3 as iio

                video = iio.imread(path, plugin="FFMPEG")
            else:
                kinds = ", ".join(VIDEO_SUFFIXES)
                raise InputError(f"unknown video type {suffix!r} of {str(path)!r}: use one of {kinds} or a PNG folder")
    except InputError:
        raise
    except (OSError, ValueError, RuntimeError, UnidentifiedImageError, IndexError) as err:
        raise InputError(f"cannot read video {str(path)!r}: {type(err).__name__}: {err}".splitlines()[0]) from None
    if np.asarray(video).size == 0:
        raise InputError(f"video {str(path)!r} holds no frames")
    return to_uint8(video)


def write_video(path: str | os.PathLike, video, *, fps: float = 4.0) -> Path:
    """Write frames to ``path``: ``.mp4``, ``.gif``, ``.npy``, or a folder of PNGs (no suffix).

    The frames are checked before anything is written. Returns the path written.
    """
    from PIL import Image

    frames = to_uint8(video)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ("", ".mp4", ".gif", ".npy"):
        raise InputError(f"cannot write video type {suffix!r}: use .mp4, .gif, .npy or a folder (no suffix)")
    if not fps > 0:
        raise InputError(f"fps {fps} must be positive")
    if suffix == ".mp4" and not has_ffmpeg():
        raise InputError("writing .mp4 needs imageio and imageio-ffmpeg: pip install 'cos-interp[video]'")
    if suffix == "":
        path.mkdir(parents=True, exist_ok=True)
        for old in _png_frames(path):  # stale frames of a longer video would be read back
            if old.name.startswith("frame_"):
                old.unlink()
        for i, frame in enumerate(frames):
            Image.fromarray(frame).save(path / f"frame_{i:03d}.png")
        return path
    with replacing(path) as tmp:  # a failed write leaves no partial video behind
        if suffix == ".npy":
            np.save(tmp, frames, allow_pickle=False)
        elif suffix == ".gif":
            images = [Image.fromarray(f) for f in frames]
            # optimize=False keeps every frame whole; disposal 1 keeps frames independent
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=int(round(1000 / fps)),
                           loop=0, optimize=False, disposal=1)
        else:
            import imageio.v3 as iio

            iio.imwrite(
                tmp, frames, plugin="FFMPEG", fps=fps, codec="libx264rgb", pixelformat="rgb24",
                macro_block_size=1, output_params=["-qp", "0"],
            )
    return path
