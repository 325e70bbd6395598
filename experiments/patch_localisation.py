"""Patching localisation: which (layer, step) of a clean run, patched into a corrupted one, restores the clean route?

Runs the patching sweep of ``cos patch`` (:func:`interp.causal.pair_patch.patch_pairs`) on
minimal maze pairs (one wall changed), read at the patched step's x0_hat, and judges the grid with
:func:`interp.reproduce.localisation.patch_claim`.

    python experiments/patch_localisation.py --preset cpu
    python experiments/patch_localisation.py --preset gpu --from experiments/results/organism_patching_64/direct
    python experiments/patch_localisation.py --preset gpu --model walker --pairs 64 --regions changed

``--from DIR`` judges a grid that ``cos patch --read-at patched`` already wrote into ``DIR`` (the
published one: 64 pairs, every layer and step, one H200) instead of running the sweep again;
``--final DIR`` gives the same grid read in the final video (``--read-at final``), which the
controlled figures (:func:`interp.reproduce.localisation.patch_claim_controlled`: past block 0, in
the final video) read. Without ``--from`` the script runs both reads; ``--pairs``, ``--steps`` and
``--regions`` set the sweep's (the rule reads the first half of the steps swept, so sweep the
whole schedule). On the walker the pairs are drawn with the agent on the start and the clean
maze's key in both mazes, and the route is read in the last frame, where the walk ends.
"""

import sys

import json
import shutil
import time
from pathlib import Path

from interp.reproduce.localisation import patch_claim, patch_claim_controlled
from interp.experiment import finish, options, parse, replotted

NAME = "patch_localisation"
# the published grid's own record lacks its command (cos patch ran through python -m): as docs/patching.md gives it
GRID_COMMANDS = {"experiments/results/organism_patching_64/direct": (
    "cos patch --device cuda --dtype bfloat16 --pairs 64 --steps 0-19 --region all,changed --read-at patched "
    "--batch-size 1536 --out experiments/results/organism_patching_64/direct"),
    "experiments/results/organism_patching_64/final": (
    "cos patch --device cuda --dtype bfloat16 --pairs 64 --steps 0-19 --region all,changed --read-at final "
    "--batch-size 1536 --out experiments/results/organism_patching_64/final")}
# the sweep of cos patch --read-at patched on minimal wall pairs of 5x5 mazes (seeds from 910000), every layer
PRESETS = {"cpu": {"pairs": 4, "steps": [0, 6, 12], "regions": "all,changed", "batch_size": 96, "device": "cpu"},
           "gpu": {"pairs": 32, "steps": list(range(0, 20, 2)), "regions": "all,changed", "batch_size": 1536,
                   "device": "cuda"}}
SWEPT = ("steps", "regions", "batch_size")       # the preset's settings of the sweep itself


def sweep(work: Path, settings: dict, device: str, command: str, read_at: str = "patched", model: str = "organism") -> None:
    """The patching grid of ``settings`` (a preset's) into ``work`` (what ``cos patch --read-at READ_AT`` writes there)."""
    import datetime
    import platform

    from interp.causal.pair_patch import OUTPUTS, patch_pairs, save_patch_study
    from interp.models import load_model
    from interp.outputs import claim_folder
    from interp.tasks import make_pairs
    from interp.tasks.maze_task import MazePairTask

    pairs = make_pairs(5, settings["pairs"], 910_000, kind="wall")
    settings = {key: settings[key] for key in SWEPT}
    claim_folder(work, OUTPUTS, overwrite=True)
    record = dict(command=command, date=datetime.date.today().isoformat(), machine=platform.node(), device=device,
                  world_size=1, dtype="float32", pairs={"size": 5, "kind": "wall", "seed": 910_000})
    loaded = load_model(model, device=device)
    task = MazePairTask(pairs, settings.pop("regions"))
    study = patch_pairs(loaded, task, read_at=read_at, record=record,
                        num_steps=loaded.organism.config.num_inference_steps, **settings)
    save_patch_study(work, study)


if __name__ == "__main__":
    started = time.perf_counter()
    argv = sys.argv[1:]
    source = final = None
    if "--from" in argv:  # an existing cos patch output folder
        at = argv.index("--from")
        source, argv = Path(argv[at + 1]), argv[:at] + argv[at + 2:]
    if "--final" in argv:  # the same grid read in the final video
        at = argv.index("--final")
        final, argv = Path(argv[at + 1]), argv[:at] + argv[at + 2:]
    parser = options(NAME, __doc__.splitlines()[0], PRESETS)
    parser.add_argument("--pairs", type=int, default=None, help="minimal wall pairs of 5x5 mazes (default: the preset's)")
    parser.add_argument("--steps", type=int, nargs="+", default=None, help="steps patched (default: the preset's)")
    parser.add_argument("--regions", default=None, help="regions patched: all,changed (default: the preset's)")
    args = parse(parser, PRESETS, argv)
    if replotted(args):
        raise SystemExit(0)
    from interp.paths import recorded_command, recorded_path
    from interp.results import work_folder

    work = source or work_folder(NAME, args.model)
    if source is None:
        final = work_folder(NAME + "_final", args.model)
        command = recorded_command(["python", "experiments/patch_localisation.py", *sys.argv[1:]])
        for read_at, folder in (("patched", work), ("final", final)):
            sweep(folder, args.settings, args.device, command, read_at=read_at, model=args.model)

    def shown(folder: Path) -> str:
        """A folder as the record names it: below the checkout, relative to it (never the machine's path)."""
        return recorded_path(folder)

    args.out.mkdir(parents=True, exist_ok=True)
    images = []
    for png in sorted(work.glob("patch_*.png")):
        shutil.copy(png, args.out / png.name)
        images.append(png.name)
    summary = json.loads((work / "result.json").read_text())
    meta = summary["meta"]
    record = patch_claim(summary)
    record["images"] = images
    final_summary = json.loads((final / "result.json").read_text()) if final else None
    controlled = patch_claim_controlled(summary, final_summary)
    record["figures"].update(controlled["figures"])
    record["reading"] += " " + controlled["why"]
    if final_summary is not None:
        fmeta = final_summary["meta"]
        record["extra"]["grid_final"] = {"folder": shown(final), "command": fmeta.get("command") or GRID_COMMANDS.get(shown(final)),
                                         "seconds": fmeta.get("seconds"), "device": fmeta.get("device"),
                                         "dtype": fmeta.get("dtype")}
    # the record states the run that measured the grid: its command, device, dtype and seconds
    if source is not None:        # the grids were measured by earlier runs: count their time
        record["seconds"] = float(meta.get("seconds") or 0.0) + float(
            (final_summary or {}).get("meta", {}).get("seconds") or 0.0)
    record["extra"]["grid"] = {"folder": shown(source or work), "command": meta.get("command") or GRID_COMMANDS.get(str(source)),
                               "seconds": meta.get("seconds"), "device": meta.get("device"), "dtype": meta.get("dtype")}
    if source is not None:
        args.device = "NVIDIA H200 (cuda)" if meta.get("device") == "cuda" else args.device
    record["settings"] = {key: args.settings[key] for key in ("pairs", *SWEPT)} if source is None else {}
    if source is None and args.model != "organism":
        from interp.models import load_model
        from interp.reproduce.shared_samples import walker_prompt

        record["settings"].update(walker_prompt(load_model(args.model)))
    # the command as run: --from and --final too, which the script reads before parse()
    finish(NAME, args, started, record, dtype=meta.get("dtype") or "float32", shared=False, argv=sys.argv[1:])
