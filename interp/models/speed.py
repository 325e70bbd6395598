"""Speed switches for an adapter's transformers: compiled blocks, a chosen attention kernel,
Wan's rotary embedding as one stacked expression and the precision of float32 matrix products.

All are opt-in. :func:`compile_blocks` compiles each block's ``forward`` only, so the hooks
that the executor and capture put on a block itself (``resid_pre``, ``resid_post``) run eagerly
around the compiled code as before; hooks on a block's submodules (``attn1.out`` ...) would be
traced into it, so leave compiling off for those sites. :func:`attention_backend` picks the kernel behind
``torch.nn.functional.scaled_dot_product_attention``, which diffusers' Wan attention calls.

Compiled results agree with eager ones within floating-point tolerance (the compiler fuses
element-wise work and may reorder sums), not bitwise; the attention kernels likewise.
:func:`matmul_precision` ``"high"`` lets float32 matrix products run on TF32 tensor cores (a 10-bit
mantissa for the products' inputs): a float32 model then changes beyond reordering, by an amount
each benchmark record states.

Example:
    >>> from interp.models.speed import attention_backend, compile_blocks   # doctest: +SKIP
    >>> undo = compile_blocks(model, mode="default")                         # doctest: +SKIP
    >>> with attention_backend("flash"):                                     # doctest: +SKIP
    ...     grid = patch_sweep(model, clean, corrupt, metric, ...)           # doctest: +SKIP
    >>> undo()                                                               # doctest: +SKIP
"""

from __future__ import annotations

import contextlib

import torch

from interp.errors import InputError

#: torch.compile modes; "none" leaves the blocks eager.
COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
#: modes that replay CUDA graphs: every block of one shape replays one graph into one output buffer
CUDA_GRAPH_MODES = ("reduce-overhead", "max-autotune")
#: "auto" lets torch choose, as it does without the switch.
ATTENTION_BACKENDS = ("auto", "flash", "efficient", "cudnn", "math")
#: "stock" leaves diffusers' processors; "stacked" installs :class:`~interp.models.wan_rotary.StackedRotaryProcessor`.
ROTARY_FORMS = ("stock", "stacked")
#: torch's float32 matrix-product precisions: "highest" is float32 throughout, "high" TF32 (or
#: three bfloat16 products), "medium" bfloat16.
MATMUL_PRECISIONS = ("highest", "high", "medium")


def compile_blocks(model, mode: str = "default", *, backend: str = "inductor"):
    """Compile the ``forward`` of every block of every expert with ``torch.compile``; returns
    a function that restores the eager forwards.

    Shapes are static (``dynamic=False``): a sweep uses few batch shapes, and each compiles
    once. Inductor's on-disk cache (``TORCHINDUCTOR_CACHE_DIR``, by default under the system's
    temporary folder) makes a later process's compile a cache read.
    """
    if mode not in COMPILE_MODES:
        raise InputError(f"unknown compile mode {mode!r}: valid are {', '.join(COMPILE_MODES)}")
    if mode == "none":
        return lambda: None
    import torch._dynamo

    config = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(config, name):  # every block shares one compiled forward per shape
            setattr(config, name, max(getattr(config, name), 64))
    blocks = [block for expert in model.experts for block in model.blocks(expert)]
    for block in blocks:
        compiled = torch.compile(block.forward, mode=None if mode == "default" else mode, backend=backend,
                                 dynamic=False)
        block.forward = _owned_outputs(compiled) if mode in CUDA_GRAPH_MODES else compiled

    def undo():
        for block in blocks:
            block.__dict__.pop("forward", None)

    return undo


def _owned_outputs(forward):
    """``forward`` with its output tensors copied out: the next block's replay of the shared CUDA
    graph would otherwise overwrite the output this block handed on (the residual stream, a capture)."""
    import torch
    from torch.utils._pytree import tree_map

    def owned(*args, **kwargs):
        return tree_map(lambda t: t.clone() if isinstance(t, torch.Tensor) else t, forward(*args, **kwargs))

    return owned


def rotary_form(model, form: str = "stock"):
    """Rotate queries and keys of every Wan self-attention in the ``form`` given; returns a function
    that restores the processors. ``stacked`` is bitwise equal eager and compiles into lighter kernels."""
    if form not in ROTARY_FORMS:
        raise InputError(f"unknown rotary form {form!r}: valid are {', '.join(ROTARY_FORMS)}")
    if form == "stock":
        return lambda: None
    from diffusers.models.transformers.transformer_wan import WanAttention, WanAttnProcessor

    from interp.models.wan_rotary import StackedRotaryProcessor

    stock = [m for expert in model.experts.values() for m in expert.modules()
             if isinstance(m, WanAttention) and type(m.processor) is WanAttnProcessor]
    if not stock:
        raise InputError(f"rotary form {form!r} rewrites Wan attention; this {model.spec.family} model has none")
    originals = [m.processor for m in stock]
    for m in stock:
        m.set_processor(StackedRotaryProcessor())

    def undo():
        for m, processor in zip(stock, originals):
            m.set_processor(processor)

    return undo


@contextlib.contextmanager
def attention_backend(name: str = "auto"):
    """Run the enclosed code with ``scaled_dot_product_attention`` on one kernel (``auto``: torch's choice)."""
    if name not in ATTENTION_BACKENDS:
        raise InputError(f"unknown attention backend {name!r}: valid are {', '.join(ATTENTION_BACKENDS)}")
    if name == "auto":
        yield
        return
    from torch.nn.attention import SDPBackend, sdpa_kernel

    kernel = {"flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION,
              "cudnn": SDPBackend.CUDNN_ATTENTION, "math": SDPBackend.MATH}[name]
    with sdpa_kernel([kernel]):
        yield


@contextlib.contextmanager
def matmul_precision(name: str = "highest"):
    """Run the enclosed code with float32 matrix products at ``name`` precision
    (:func:`torch.set_float32_matmul_precision`); the process's own setting comes back after."""
    if name not in MATMUL_PRECISIONS:
        raise InputError(f"unknown matmul precision {name!r}: valid are {', '.join(MATMUL_PRECISIONS)}")
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(name)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)
