"""The random-model control: the same architecture with fresh random weights.

Probing a randomly initialised twin traced the same way tells how much a probe can read from
the input and the architecture alone (the first frame is fed to every token, so walls are
visible even to random weights). Selectivity against it is what the trained weights add.

Example:
    >>> from probes.controls import random_twin
    >>> random_twin("organism", "outputs/random_organism", seed=0)        # doctest: +SKIP
    PosixPath('outputs/random_organism')
"""

from __future__ import annotations

from pathlib import Path


def random_twin(source: str | Path, out: str | Path, *, seed: int = 0) -> Path:
    """Write a randomly initialised copy of an organism folder (same configs, new weights).

    Args:
        source: ``"organism"`` (the shipped one) or an organism folder.
        out: folder to write (loadable with ``load_model(out)`` and ``cos trace --model out``).
        seed: seed of the initialisation.
    """
    from interp.organism import DEFAULT_ORGANISM, MazeOrganism, build_organism

    path = DEFAULT_ORGANISM if str(source) == "organism" else Path(source)
    trained = MazeOrganism.from_pretrained(path)
    config = {k: v for k, v in trained.transformer.config.items() if not k.startswith("_")}
    twin = build_organism(trained.config, config, seed=seed)
    twin.config.name = f"{trained.config.name}-random-init-{seed}"
    out = Path(out)
    twin.save_pretrained(out)
    return out
