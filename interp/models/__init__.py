"""Model adapters: one small file per family, one declarative spec each.

``load_model`` turns what a user has (the word ``"organism"``, a folder, a pipeline object) into a
:class:`VideoModel` the sampling loop, capture and interventions understand.
"""

from interp.models.base import ArchitectureSpec, CallLabel, LoopInputs, VideoModel, generators_for
from interp.models.cogvideox import COGVIDEOX_SPEC, CogVideoXModel
from interp.models.hunyuan import HUNYUAN_SPEC, HunyuanVideoModel
from interp.models.hunyuan15 import HUNYUAN15_SPEC, HunyuanVideo15Model
from interp.models.loading import load_model
from interp.models.ltx import LTX_SPEC, LTXModel
from interp.models.mochi import MOCHI_SPEC, MochiModel
from interp.models.maze_organism import ORGANISM_SPEC, OrganismModel
from interp.models.walker import WALKER_SPEC, WalkerModel
from interp.models.wan import WAN_SPEC, WanModel

ARCHITECTURES = {spec.family: spec for spec in (WAN_SPEC, ORGANISM_SPEC, HUNYUAN_SPEC, LTX_SPEC, COGVIDEOX_SPEC, MOCHI_SPEC,
                                                     HUNYUAN15_SPEC)}

__all__ = [
    "ARCHITECTURES",
    "ArchitectureSpec",
    "CallLabel",
    "CogVideoXModel",
    "HunyuanVideo15Model",
    "HunyuanVideoModel",
    "LTXModel",
    "LoopInputs",
    "MochiModel",
    "OrganismModel",
    "VideoModel",
    "WalkerModel",
    "WanModel",
    "generators_for",
    "load_model",
]
