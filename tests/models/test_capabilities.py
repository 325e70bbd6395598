"""The table of which family runs which causal command, against what each family is known to do.

The expectations are written here from the families' own documentation (CogVideoX samples by
DDIM, the others by flow matching; only Wan's image-to-video pipeline takes a first frame;
HunyuanVideo encodes prompts with two text encoders), not read from the adapters.
"""

from __future__ import annotations

import pytest

from interp.errors import InputError
from interp.models import (CogVideoXModel, HunyuanVideo15Model, HunyuanVideoModel, LTXModel, MochiModel,
                           WanModel)
from interp.models.capabilities import (COMMANDS, DOC_PAGE, RENOISING_MERGES, capability_table, check_command,
                                        page_with_table, unsupported)

FLOW_MATCHING = [WanModel, HunyuanVideoModel, HunyuanVideo15Model, LTXModel, MochiModel]


def test_the_docs_page_holds_the_current_table():
    text = DOC_PAGE.read_text()
    assert page_with_table(text) == text, "renew it: python -m interp.models.capabilities --write"


def test_cogvideox_alone_refuses_erasing_and_the_renoising_merges():
    for adapter in FLOW_MATCHING:
        assert all(unsupported(adapter, c) is None for c in COMMANDS)
        assert all(unsupported(adapter, "ensemble", m) is None for m in ("x0_renoise", "x0_median"))
    assert [c for c in COMMANDS if unsupported(CogVideoXModel, c)] == ["erase"]
    for merge, refused in [("x0_mean", False), ("xt_mean", False), ("x0_renoise", True), ("x0_median", True)]:
        assert (unsupported(CogVideoXModel, "ensemble", merge) is not None) == refused
    with pytest.raises(InputError, match="not flow matching"):
        check_command(CogVideoXModel, "erase")
    with pytest.raises(InputError, match="valid"):
        check_command(WanModel, "nonsense")


def test_the_renoising_merges_are_the_ensembles_merges_that_are_not_plain_means():
    from interp.ensemble import OPERATORS

    assert set(RENOISING_MERGES) == set(OPERATORS) - {"x0_mean", "xt_mean"}


def test_the_table_has_one_row_per_family_with_its_inputs_and_encoders():
    rows = {line.split(" | ")[0].strip("| `"): line for line in capability_table().splitlines()[2:]}
    assert set(rows) == {"wan", "hunyuan-video", "hunyuan-video-1.5", "ltx-video", "cogvideox", "mochi"}
    assert "image pairs (`WanImageToVideoPipeline`)" in rows["wan"]
    assert all("image pairs" not in line for family, line in rows.items() if family != "wan")
    assert "`text_encoder`, `text_encoder_2`" in rows["hunyuan-video"]
    assert "no: not flow matching" in rows["cogvideox"] and "not flow matching" not in rows["ltx-video"]
