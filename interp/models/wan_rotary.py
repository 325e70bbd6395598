"""Wan attention with its rotary embedding written as one stacked expression.

diffusers' ``WanAttnProcessor`` rotates query and key by writing the even and odd channels into
an empty tensor through two strided slices. Eager, that is four small kernels; compiled, the
strided stores land in the kernel that also holds the q/k RMS norm, and that fused kernel
dominated the compiled patching sweep on a GPU (see docs/benchmarks.md). :class:`StackedRotaryProcessor`
computes the same products and sums in the same dtype and interleaves them with ``stack`` +
``flatten``: eager results are bitwise equal to the stock processor (tested); compiled ones
agree within the compiler's tolerance.

Only self-attention is rewritten; cross-attention and a block with image key/values (Wan2.1
I2V's ``add_k_proj``) run the stock processor.
"""

from __future__ import annotations

import torch
from diffusers.models.attention_dispatch import dispatch_attention_fn
from diffusers.models.transformers.transformer_wan import WanAttnProcessor, _get_qkv_projections


def rotate(hidden_states: torch.Tensor, freqs_cos: torch.Tensor, freqs_sin: torch.Tensor) -> torch.Tensor:
    """The stock rotation ``out[..., 0::2] = x1 cos - x2 sin; out[..., 1::2] = x1 sin + x2 cos``, stacked."""
    x1, x2 = hidden_states.unflatten(-1, (-1, 2)).unbind(-1)
    cos, sin = freqs_cos[..., 0::2], freqs_sin[..., 1::2]
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)
    return out.type_as(hidden_states)


class StackedRotaryProcessor(WanAttnProcessor):
    """``WanAttnProcessor`` with :func:`rotate` in place of its strided-store rotation."""

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None):
        if rotary_emb is None or encoder_hidden_states is not None or attn.add_k_proj is not None:
            return super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, rotary_emb)
        query, key, value = _get_qkv_projections(attn, hidden_states, encoder_hidden_states)
        query, key = attn.norm_q(query), attn.norm_k(key)
        query, key, value = (t.unflatten(2, (attn.heads, -1)) for t in (query, key, value))
        query, key = rotate(query, *rotary_emb), rotate(key, *rotary_emb)
        hidden_states = dispatch_attention_fn(query, key, value, attn_mask=attention_mask, dropout_p=0.0,
                                              is_causal=False, backend=self._attention_backend,
                                              parallel_config=self._parallel_config)
        hidden_states = hidden_states.flatten(2, 3).type_as(query)
        return attn.to_out[1](attn.to_out[0](hidden_states))
