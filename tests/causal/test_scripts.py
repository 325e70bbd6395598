"""Bad input to the causal experiment scripts: one line ``error: ...`` and exit code 2."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script, args, message", [
    ("noise_step_vs_frame.py", ["--strengths", "-0.5"], "noise strength -0.5"),
    ("noise_step_vs_frame.py", ["--steps", "20"], "noise step 20 is outside the schedule"),
    ("noise_step_vs_frame.py", ["--frames", "7"], "unknown frame 7"),
    ("erase_candidates.py", ["--steps", "25"], "step 25 is outside the schedule"),
    ("layer_swap.py", ["--later-step", "-1"], "--later-step -1 is outside the schedule"),
    ("layer_swap.py", ["--layers", "40"], "layer 40 is out of range"),
    ("layer_swap.py", ["--preset", "tpu"], "invalid choice: 'tpu'"),
])
def test_bad_input_is_one_line_and_exit_2(script, args, message, tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "experiments" / script), *args, "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{script}: error: ") and message in lines[0], done.stderr
    assert not (tmp_path / "o").exists()
