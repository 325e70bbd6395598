"""The tiny models of :mod:`interp.models.tiny` under the names the capture tests use."""

from __future__ import annotations

from interp.models.tiny import TINY_GEOMETRY as GEOMETRY  # noqa: F401
from interp.models.tiny import tiny_embeds as embeds  # noqa: F401
from interp.organism.tiny import tiny_organism  # noqa: F401
from interp.models.tiny import tiny_wan as tiny_model  # noqa: F401
from interp.models.tiny import tiny_wan_inputs as tiny_inputs  # noqa: F401
