"""Property: any malformed task metadata ends ``cos`` with one line and exit 2, never a traceback.

Hypothesis mutates a valid ``metadata.json`` (a key replaced by random JSON, removed, or the whole
file replaced) and runs ``cos tasks score`` and the task loader ``cos trace`` uses, in-process.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import TASK

from interp.cli.main import main

VALID = json.loads((TASK / "metadata.json").read_text())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def malformed(draw):
    meta = json.loads(json.dumps(VALID))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["top", "maze", "route", "whole"]))
        if where == "whole":
            return draw(json_values)
        target = meta if where == "top" else meta["maze"] if isinstance(meta.get("maze"), dict) else meta
        if where == "route" and isinstance(target.get("routes"), list) and target["routes"]:
            target["routes"][0] = draw(json_values)
            continue
        key = draw(st.sampled_from(sorted(target)) if target else st.just("maze"))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    return meta


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(meta=malformed())
def test_random_malformed_metadata_is_one_line_and_exit_2(tmp_path, meta):
    folder = tmp_path / "maze5_s0"
    if not folder.exists():
        shutil.copytree(TASK, folder)
    (folder / "metadata.json").write_text(json.dumps(meta))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["tasks", "score", str(TASK / "first_frame.png"), "--task", str(folder)])
    text = err.getvalue()
    assert "Traceback" not in text
    if code != 0:  # a mutation may leave the metadata valid (an unused key, a foreign task)
        assert code == 2, text
        assert len([line for line in text.splitlines() if line.strip()]) == 1, text
        assert text.startswith("cos: error: ")
