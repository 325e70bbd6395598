"""The random-model control: the same architecture with fresh random weights.

Probing a randomly initialised twin traced the same way tells how much a probe can read from
the input and the architecture alone (the first frame is fed to every token, so walls are
visible even to random weights). Selectivity against it is what the trained weights add.

:func:`sweep_with_control` probes a trace and, given one, its control, after checking that the
control can serve as one (traced the same way, on the same samples, by other weights).

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
        source: ``"organism"`` (the shipped one), ``"walker"`` (both experts re-initialised, the prompt
            table and switch kept: :func:`interp.reproduce.walker_claims.random_twin`) or an organism folder.
        out: folder to write (loadable with ``load_model(out)`` and ``cos trace --model out``).
        seed: seed of the initialisation.
    """
    from interp.organism import DEFAULT_ORGANISM, MazeOrganism, build_organism
    from interp.organism.walk_model import CONFIG_FILE, WALK_NAME

    if str(source) in ("walker", WALK_NAME) or (Path(source) / CONFIG_FILE).is_file():
        import dataclasses

        from interp.models import load_model
        from interp.reproduce.walker_claims import random_twin as walker_twin

        twin = walker_twin(load_model(str(source)), seed=seed).organism
        twin.config = dataclasses.replace(twin.config, name=f"{twin.config.name}-random-init-{seed}")
        twin.save_pretrained(Path(out))
        return Path(out)
    path = DEFAULT_ORGANISM if str(source) == "organism" else Path(source)
    trained = MazeOrganism.from_pretrained(path)
    config = {k: v for k, v in trained.transformer.config.items() if not k.startswith("_")}
    twin = build_organism(trained.config, config, seed=seed)
    twin.config.name = f"{trained.config.name}-random-init-{seed}"
    out = Path(out)
    twin.save_pretrained(out)
    return out


def check_control(store, control) -> None:
    """Raise :class:`~interp.errors.InputError` unless trace store ``control`` can be ``store``'s control:
    the same capture spec and samples, and another model's weights."""
    from interp.errors import InputError

    trace, other = str(store.path), str(control.path)
    if control.attrs.get("spec") != store.attrs.get("spec"):
        raise InputError(f"control {other!r} was not traced the same way as {trace!r} "
                         "(its capture spec differs): trace the random model with the same options")
    if set(control.sample_ids()) != set(store.sample_ids()):
        raise InputError(f"control {other!r} does not hold the same samples as {trace!r}: "
                         "trace the random model on the same tasks and seeds")
    if control.attrs.get("fingerprint") == store.attrs.get("fingerprint"):
        raise InputError(f"control {other!r} holds the same model as {trace!r}: "
                         "the control must be a randomly initialised model")


def sweep_with_control(store, targets, *, control=None, **options) -> list[dict]:
    """:func:`probes.sweep.sweep` of ``store``; with a ``control`` store (checked by
    :func:`check_control`), each row also holds the control's score and the selectivity.

    The control is probed with the main trace's labels, so output-based targets stay the trained
    model's answers. ``options`` go to :func:`~probes.sweep.sweep` (layers, steps, branches, settings).
    """
    from probes.sweep import attach_control, sweep

    if control is not None:
        check_control(store, control)
    rows = sweep(store, targets, **options)
    if control is not None:
        attach_control(rows, sweep(control, targets, label_store=store, **options))
    return rows
