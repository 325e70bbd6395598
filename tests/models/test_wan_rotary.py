"""The stacked rotary form against diffusers' own Wan attention: bitwise equal eager, in float32
and bfloat16, through the transformer (a patched run through the switch is in test_patch_fast.py)."""

from __future__ import annotations

import pytest
import torch
from diffusers import WanTransformer3DModel

from interp.models.wan_rotary import StackedRotaryProcessor, rotate


def tiny_wan(dtype):
    torch.manual_seed(0)
    model = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=4,
                                  out_channels=4, text_dim=16, freq_dim=16, ffn_dim=32, num_layers=2,
                                  qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    return model.to(dtype).eval()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_stacked_rotary_equals_the_stock_processor_bitwise(dtype):
    model = tiny_wan(dtype)
    torch.manual_seed(1)
    inputs = dict(hidden_states=torch.randn(2, 4, 3, 8, 8, dtype=dtype), timestep=torch.tensor([900, 100]),
                  encoder_hidden_states=torch.randn(2, 5, 16, dtype=dtype), return_dict=False)
    with torch.no_grad():
        stock = model(**inputs)[0]
        model.set_attn_processor(StackedRotaryProcessor())
        stacked = model(**inputs)[0]
    assert torch.equal(stacked, stock)


def test_a_wrong_rotation_is_caught():
    """Negative control: a sign slip in the rotation shows in the comparison the test above makes."""
    x, cos, sin = torch.randn(2, 6, 2, 8), torch.rand(1, 6, 1, 8), torch.rand(1, 6, 1, 8)
    x1, x2 = x.unflatten(-1, (-1, 2)).unbind(-1)
    wrong = torch.stack((x1 * cos[..., 0::2] + x2 * sin[..., 1::2], x1 * sin[..., 1::2] + x2 * cos[..., 0::2]),
                        -1).flatten(-2)
    assert not torch.equal(rotate(x, cos, sin), wrong)
