"""Capture activations of a video DiT through nnsight, straight into an HDF5 trace store.

* :class:`CaptureSpec` says what to record (sites, layers, steps, branches, tokens, dtype);
* :func:`capture` runs the denoising loop under nnsight and streams every slab to disk;
* :class:`Edit` and :func:`run_with_edits` set a site at chosen (step, branch, layer, tokens).

Example:
    >>> from interp.capture import CaptureSpec
    >>> spec = CaptureSpec.make(["resid_post", "x0"], layers=[0, 3], tokens="frame_mean")
    >>> spec.resolve(num_layers=8, num_steps=20, guidance=False).steps[:3]
    (0, 1, 2)
"""

from interp.capture.run import CaptureResult, capture
from interp.capture.spec import BLOCK_KINDS, LOOP_SITES, CaptureSpec, SiteGroup, parse_int_list
from interp.capture.tokens import TokenSelection, parse_tokens
from interp.capture.traced import Edit, traced_sample


def run_with_edits(model, inputs, edits, **sampling):
    """Sample with ``edits`` applied through nnsight; returns the :class:`~interp.sampling.SampleResult`."""
    return traced_sample(model, inputs, edits=edits, **sampling)


__all__ = [
    "BLOCK_KINDS",
    "LOOP_SITES",
    "CaptureResult",
    "CaptureSpec",
    "Edit",
    "SiteGroup",
    "TokenSelection",
    "capture",
    "parse_int_list",
    "parse_tokens",
    "run_with_edits",
    "traced_sample",
]
