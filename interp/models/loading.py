"""Turn a name, a folder or a pipeline object into a :class:`VideoModel`. Nothing is downloaded."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch

from interp.errors import InputError
from interp.models.base import VideoModel
from interp.models.cogvideox import CogVideoXModel
from interp.models.hunyuan import HunyuanVideoModel
from interp.models.hunyuan15 import HunyuanVideo15Model
from interp.models.ltx import LTXModel
from interp.models.mochi import MochiModel
from interp.models.wan import WanModel
from interp.validate import check_model_index

# diffusers pipeline class name -> its adapter
PIPELINE_ADAPTERS = {
    "WanPipeline": WanModel,
    "WanImageToVideoPipeline": WanModel,
    "HunyuanVideoPipeline": HunyuanVideoModel,
    "HunyuanVideo15Pipeline": HunyuanVideo15Model,
    "LTXPipeline": LTXModel,
    "CogVideoXPipeline": CogVideoXModel,
    "MochiPipeline": MochiModel,
}


def _adapter_for(pipeline_class: str):
    if pipeline_class not in PIPELINE_ADAPTERS:
        raise InputError(
            f"pipeline {pipeline_class!r} is not supported: supported are {', '.join(sorted(PIPELINE_ADAPTERS))}"
        )
    return PIPELINE_ADAPTERS[pipeline_class]


#: Where the bundled organisms live; ``load_model("<name>")`` finds ``ORGANISMS_DIR / name``.
ORGANISMS_DIR = Path(__file__).resolve().parents[2] / "data" / "organisms"


def load_model(source="organism", *, device: str | torch.device = "cpu", dtype: torch.dtype | None = None) -> VideoModel:
    """Load a model adapter.

    Args:
        source: ``"organism"`` (the bundled maze organism), ``"walker"`` (the bundled walking
            organism, ``maze-walk-tiny``), the name of a bundled organism
            (a folder of ``data/organisms``, e.g. ``"maze-walk-tiny"``), a folder holding an
            organism (``organism.json`` or ``walker.json``) or a diffusers pipeline
            (``model_index.json``), or a pipeline object.
        device: where the model runs.
        dtype: weight dtype (default: float32 for the organism, the folder's own for pipelines).

    Raises:
        InputError: the folder does not exist or holds neither an organism nor a supported pipeline.
    """
    from interp.models.maze_organism import OrganismModel

    if not isinstance(source, (str, Path)):
        return _adapter_for(type(source).__name__)(source).to(device)
    if str(source) == "walker":
        source = "maze-walk-tiny"
    if str(source) == "organism":
        from interp.organism.model import DEFAULT_ORGANISM

        source = DEFAULT_ORGANISM
    path = Path(source)
    bundled = ORGANISMS_DIR / str(source)
    if not path.is_dir() and "/" not in str(source) and bundled.is_dir():
        path = bundled
    if not path.is_dir():
        raise InputError(f"model folder {str(path)!r} does not exist (give 'organism' or a local diffusers folder)")
    if (path / "organism.json").is_file():
        organism = load_organism(path, device=device, dtype=dtype or torch.float32)
        return OrganismModel(organism, name=path.name).to(device)
    if (path / "walker.json").is_file():
        from interp.models.walker import WalkerModel
        from interp.organism.walk_model import WalkOrganism

        with _damaged_files_named(path):
            walker = WalkOrganism.from_pretrained(path, device=device, dtype=dtype or torch.float32)
        return WalkerModel(walker, name=path.name).to(device)
    index = path / "model_index.json"
    if not index.is_file():
        raise InputError(f"{str(path)!r} is not a diffusers model folder: it has no model_index.json")
    adapter = _adapter_for(check_model_index(index)["_class_name"])
    from diffusers import DiffusionPipeline

    kwargs = {"local_files_only": True}
    # Components saved as [null, null] (a folder without text encoders, used with prompt embeddings).
    index_json = check_model_index(index)
    kwargs.update({k: None for k, v in index_json.items() if isinstance(v, list) and v[0] is None})
    if dtype is not None:
        kwargs["torch_dtype"] = dtype
    with _damaged_files_named(path):
        pipe = DiffusionPipeline.from_pretrained(path, **kwargs).to(device)
    return adapter(pipe, name=path.name).to(device)


def load_organism(path, *, device="cpu", dtype: torch.dtype = torch.float32):
    """``MazeOrganism.from_pretrained``, with a damaged folder reported as an :class:`InputError`."""
    from interp.organism.model import MazeOrganism

    path = Path(path)
    with _damaged_files_named(path):
        return MazeOrganism.from_pretrained(path, device=device, dtype=dtype)


@contextmanager
def _damaged_files_named(path: Path):
    """Turn a loader's failure on truncated or malformed files into one :class:`InputError` naming ``path``.

    Loaders (diffusers, safetensors, json) raise many types for a damaged file; none of them is
    the user's fault in a way the message would explain, so the folder is named instead.
    """
    try:
        yield
    except (InputError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as err:  # noqa: BLE001 - see the docstring
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot load the model in {str(path)!r}: a file in it is damaged or incomplete "
                         f"({type(err).__name__}: {reason[:200]})") from None
