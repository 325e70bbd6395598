"""Capture activations of a video DiT straight into an HDF5 trace store.

* :class:`CaptureSpec` says what to record (sites, layers, steps, branches, tokens, dtype);
* :func:`capture` runs the denoising loop, with any list of interventions, and streams every
  slab to disk (each stored site is one ``collect`` intervention of
  :func:`interp.interventions.run`).

For small runs held in memory, see :func:`interp.interventions.run_with_cache`.

Example:
    >>> from interp.capture import CaptureSpec
    >>> spec = CaptureSpec.make(["resid_post", "x0"], layers=[0, 3], tokens="frame_mean")
    >>> spec.resolve(num_layers=8, num_steps=20, guidance=False).steps[:3]
    (0, 1, 2)
"""

from interp.capture.stream import CaptureResult, capture, fingerprint
from interp.capture.spec import LOOP_SITES, CaptureSpec, SiteGroup, parse_int_list
from interp.sites import BLOCK_KINDS
from interp.tokens import TokenSelection, parse_tokens

__all__ = [
    "BLOCK_KINDS",
    "LOOP_SITES",
    "CaptureResult",
    "CaptureSpec",
    "SiteGroup",
    "TokenSelection",
    "capture",
    "fingerprint",
    "parse_int_list",
    "parse_tokens",
]
