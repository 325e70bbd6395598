"""The generic task: pairs of inputs a user gives (prompts, or first-frame images) for any model.

A pair is two sets of ``model.prepare`` arguments that differ where the user wants to know what
the model does with the difference: two prompts (``prompt``), or two first frames (``image``,
with one shared prompt). Each pair's two runs share their noise seed. The metric is
:class:`~interp.tasks.interface.Distance` of the final latents unless the user gives one (a
user's metric scores decoded videos, or latents if it has ``reads = "latents"``).

Without partners (``corrupt=None``, :meth:`InputPairTask.from_prompt_list`) the task is a list of
single inputs (``paired`` is False): what noise and erasure change is measured against each
input's own clean run, and a swap takes another input's values.

Files:
    prompts: a JSON list of strings;
    prompt pairs: a JSON list of ``{"clean": "a red ball rolls left", "corrupt": "a blue ball rolls left"}``;
    image pairs: a JSON list of ``{"clean": "clean.png", "corrupt": "corrupt.png"}`` (paths relative
    to the JSON file).

Example:
    >>> task = InputPairTask([{"prompt": "a red ball"}], [{"prompt": "a blue ball"}])
    >>> task.num_pairs(), task.describe()["kind"]
    (1, 'prompts')
"""

from __future__ import annotations

import inspect

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from interp.errors import InputError
from interp.tasks.interface import Distance, Metric, checked_metric


@dataclass
class InputPairTask:
    """Pairs of ``prepare`` arguments; ``shared`` goes to every ``prepare`` call.

    Attributes:
        clean, corrupt: one dict of ``prepare`` arguments per pair (``prompt=`` or ``image=``);
            ``corrupt`` is ``None`` for single inputs.
        shared: arguments every run takes (size, frames, guidance, negative prompt, a shared prompt).
        region_names: regions to patch: ``all`` and ``frame:K`` (the tokens of latent frame K).
        user_metric: a function with the :data:`~interp.tasks.interface.Metric` signature, or ``None``
            for :class:`~interp.tasks.interface.Distance` of the final latents.
        kind: ``prompts`` or ``images``, for the record.
    """

    clean: list[dict]
    corrupt: list[dict] | None
    shared: dict = field(default_factory=dict)
    region_names: tuple[str, ...] = ("all",)
    user_metric: object = None
    kind: str = "prompts"
    name: str = "input-pairs"

    def __post_init__(self):
        if self.corrupt is None and self.clean:
            return
        if not self.clean or len(self.clean) != len(self.corrupt):
            raise InputError(f"need as many clean as corrupted inputs, at least one: got {len(self.clean)} and "
                             f"{len(self.corrupt)}")

    @property
    def paired(self) -> bool:
        """Whether every input has a corrupted partner."""
        return self.corrupt is not None

    @classmethod
    def from_prompt_list(cls, prompts: Sequence[str], **options) -> InputPairTask:
        """Single inputs, one per prompt (no corrupted partners)."""
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise InputError("give at least one prompt, each a string")
        return cls([{"prompt": p} for p in prompts], None, kind="prompts", **options)

    @classmethod
    def from_prompts_file(cls, path, **options) -> InputPairTask:
        """Single inputs from a JSON list of prompts."""
        prompts = _read_json(path)
        if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
            raise InputError(f"prompt file {str(path)!r} must be a JSON list of prompt strings")
        return cls.from_prompt_list(prompts, **options)

    @classmethod
    def from_prompt_file(cls, path, **options) -> InputPairTask:
        pairs = _read_pairs(path)
        return cls([{"prompt": p["clean"]} for p in pairs], [{"prompt": p["corrupt"]} for p in pairs],
                   kind="prompts", **options)

    @classmethod
    def from_image_file(cls, path, **options) -> InputPairTask:
        from PIL import Image

        from interp.validate import check_image_file

        root = Path(path).parent
        pairs = _read_pairs(path)
        members = {"clean": [], "corrupt": []}
        for pair in pairs:
            for which in members:
                image = root / pair[which]
                if not image.is_file():
                    raise InputError(f"image {str(image)!r} named in {path} does not exist")
                check_image_file(image)
                members[which].append({"image": Image.open(image).convert("RGB")})
        return cls(members["clean"], members["corrupt"], kind="images", **options)

    def num_pairs(self) -> int:
        return len(self.clean)

    def inputs(self, model, which: str, seeds: Sequence[int]):
        """One row per pair: its ``which`` member (``"clean"`` or ``"corrupt"``) with seed ``seeds[p]``."""
        from interp.models.base import cat_inputs

        if which == "corrupt" and not self.paired:
            raise InputError("these inputs have no corrupted partners: give pairs (--prompt-pairs, --image-pairs)")
        if self.kind == "images" and not getattr(model, "image_to_video", False):
            raise InputError(f"{model.name} is not an image-to-video model: give it prompts, not first frames")
        accepted = inspect.signature(model.prepare).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
            unknown = sorted(set(self.shared) - set(accepted))
            if unknown:
                raise InputError(f"{model.name} takes no {', '.join(unknown)}: its inputs are "
                                 f"{', '.join(k for k in accepted if k != 'self')}")
        members = {"clean": self.clean, "corrupt": self.corrupt}[which]
        if len(seeds) != len(members):
            raise InputError(f"need one seed per pair: got {len(seeds)} for {len(members)} pairs")
        return cat_inputs([model.prepare(**self.shared, **member, seeds=[int(seed)])
                           for member, seed in zip(members, seeds)])

    def regions(self, model, inputs) -> dict:
        from interp.interventions import Tokens

        frames = model.token_grid(inputs.latents.shape)[0]
        out = {}
        for name in self.region_names:
            if name == "all":
                out[name] = Tokens.all()
            elif name.startswith("frame:") and name[6:].isdigit() and int(name[6:]) < frames:
                out[name] = Tokens.in_frames(int(name[6:]))
            else:
                raise InputError(f"unknown region {name!r}: valid are all and frame:K with K in 0..{frames - 1}")
        return out

    def metric(self, model, clean_run, corrupt_run) -> Metric:
        if self.user_metric is not None:
            return checked_metric(self.user_metric)
        return Distance(clean_run.latents, None if corrupt_run is None else corrupt_run.latents, reads="latents")

    def describe(self) -> dict:
        texts = lambda members: [m.get("prompt", "<image>") for m in members]  # noqa: E731
        return {"task": self.name, "kind": self.kind, "pairs": self.num_pairs(),
                "clean": texts(self.clean), "corrupt": texts(self.corrupt) if self.paired else None,
                "shared": {k: v for k, v in self.shared.items() if isinstance(v, (str, int, float, type(None)))},
                "metric": getattr(self.user_metric, "__name__", "latent_distance")}


def _read_json(path):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"input file {str(path)!r} is not JSON: {err}") from None


def _read_pairs(path) -> list[dict]:
    pairs = _read_json(path)
    if not isinstance(pairs, list) or not pairs or not all(
            isinstance(p, dict) and isinstance(p.get("clean"), str) and isinstance(p.get("corrupt"), str) for p in pairs):
        raise InputError(f"pair file {str(path)!r} must be a JSON list of {{\"clean\": ..., \"corrupt\": ...}} strings")
    return pairs
