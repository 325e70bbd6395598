"""The experiment template: presets -> measure -> table -> verdict (the claims registry) -> figures -> write.

Every experiment runs through these steps, from a script of its own (``experiments/<name>.py``,
a thin entry point) or, for a claim read off the shared Chain-of-Steps samples, from its registry
entry alone (``measure = "module:function"``, run by :func:`run`):

* :func:`options` and :func:`parse`: the command line every experiment shares (``--preset``,
  ``--model``, ``--device``, ``--out``, ``--replot``, ``--overwrite``); an option left unset takes
  the preset's value; the output folder comes from configuration
  (:func:`interp.results.result_folder`, one folder per model) and is checked before any work;
* :func:`draw`: the figures, a plotting failure never costing the measured numbers;
* :func:`finish`: ``result.json``, judged by the registry (:func:`interp.results.write_result`), with
  the command that was run (:func:`stated_command`: the script and the arguments :func:`parse` parsed);
* :func:`replot_args` and :func:`rejudge`: ``--replot`` rebuilds a written record's figures and
  verdict from the record alone (``--from-raw`` where an experiment keeps a raw record).

    python -m interp.experiment working_memory --preset cpu
    python -m interp.experiment working_memory --preset gpu --replot
    python experiments/layer_swap.py --preset cpu --model walker     # -> experiments/results/walker/cpu/layer_swap/

Example:
    >>> [name for name in runnable()][:2]
    ['working_memory', 'self_correction']
    >>> args = parse(options("layer_swap", "a claim", {"cpu": {"count": 3}}), {"cpu": {"count": 3}},
    ...              ["--model", "walker"])
    >>> args.count, args.model, args.out.relative_to(RESULTS).as_posix()
    (3, 'walker', 'walker/cpu/layer_swap')
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from interp import registry
from interp.errors import InputError
from interp.paths import recorded_command, stated_path
from interp.results import OUTPUTS, RESULTS, ScriptParser, claim_output, model_name, result_folder, script_error  # noqa: F401

#: The model every experiment runs unless ``--model`` names another (its records keep their folders).
MODEL = "organism"


def options(name: str, description: str, presets: dict, *, prog: str | None = None) -> ScriptParser:
    """The options every experiment shares; a script adds its own, then calls :func:`parse`."""
    parser = ScriptParser(prog=prog, description=description)
    parser.set_defaults(name=name)
    parser.add_argument("--preset", choices=sorted(presets), default="cpu",
                        help="cpu: minutes on 2 cores (make reproduce); gpu: the published figures")
    parser.add_argument("--model", default=MODEL,
                        help="the model to run: organism (default), walker, or a model folder")
    parser.add_argument("--device", default=None, help="torch device (default: the preset's)")
    parser.add_argument("--out", default=None, help=f"output folder (default: {result_folder(name, 'gpu')} for gpu, "
                        f"{result_folder(name, 'cpu')} for cpu; another model's below its own folder)")
    parser.add_argument("--replot", action="store_true",
                        help="rebuild the figures and verdict of --out/result.json without running the model")
    return parser


def parse(parser, presets: dict, argv=None, *, outputs=OUTPUTS):
    """Parse ``argv``: every option left unset (and every preset setting without an option) takes
    the chosen preset's value, ``args.settings`` is the preset with the options given in its place
    (what the run uses and its record states), ``args.out`` the output folder, checked here before
    any work; ``args.argv`` the arguments parsed, for the record's command (:func:`stated_command`). Bad input:
    one line ``<script>: error: ...`` and exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
        args.argv = argv
        args.settings = dict(presets[args.preset])
        for key, value in args.settings.items():
            if getattr(args, key, None) is None:
                setattr(args, key, value)
            else:                       # an option given: the run uses it, and its record says so
                args.settings[key] = getattr(args, key)
        args.out = Path(args.out or result_folder(args.name, args.preset, args.model))
        claim_output(args, outputs)
    except InputError as err:
        raise SystemExit(script_error(err)) from None
    return args


def recorded(args) -> dict:
    """The settings a record states: every option of ``args`` (a path as text, relative to the repository
    root: :func:`interp.paths.recorded_path`), not the preset table."""
    return {k: stated_path(v) if isinstance(v, (str, Path)) else v for k, v in vars(args).items()
            if k not in ("settings", "replot", "argv")}


@dataclass
class Experiment:
    """One experiment on the template, run by :meth:`main` (a script's whole ``main``).

    Attributes:
        name: the claim's name in the registry (its ``result.json`` is judged by the registry's rule).
        claim: the statement tested, in one sentence.
        presets: preset name -> settings (every option left unset takes the preset's value).
        measure: ``measure(args)`` runs the model and returns the figures table (``figures``), the
            experiment's reading of it in words (``reading``), the ``device`` it ran on, and any
            other measurement recorded beside them (a figure is rebuilt from the record alone).
        figures: ``figures(record, args, out)``: ``(file name, draw function)`` of every figure, drawn
            from a record (or what ``measure`` returned) by :func:`draw` (with ``raw``:
            ``figures(record, args, out, raw)``).
        options: ``options(parser)`` adds the experiment's own options (``--help`` shows them).
        description: the command line's one-line description.
        raw: for an experiment that keeps its raw measurements, their file in the output folder
            (:mod:`interp.rawjson`, e.g. ``raw.json.gz``). ``measure`` then returns the raw
            measurements, written there first, and ``summarise`` makes the record from them;
            ``--from-raw PATH`` redoes the record from another raw file, and ``--replot`` from the
            folder's own (keeping the written record's command, date and machine).
        summarise: ``summarise(raw, args)``: what ``measure`` returns without ``raw`` (``figures``,
            ``reading``, ``device`` and the rest of the record; ``dtype``, ``seconds`` and
            ``settings`` fill the record's fields of those names).
    """

    name: str
    claim: str
    presets: dict
    measure: Callable[..., dict]
    figures: Callable[..., list]
    options: Callable | None = None
    description: str = ""
    raw: str | None = None
    summarise: Callable[..., dict] | None = None

    def parse(self, argv=None):
        from interp.results import OUTPUTS as RECORD

        parser = options(self.name, self.description, self.presets)
        if self.raw:
            parser.add_argument("--from-raw", default=None, help=f"redo the record from a {self.raw} written by a run "
                                "(--replot: the one in --out)")
        if self.options is not None:
            self.options(parser)
        return parse(parser, self.presets, argv, outputs=(*RECORD, self.raw) if self.raw else OUTPUTS)

    def command(self, argv=None) -> str:
        """The command that made a record, as run from the repository root."""
        return stated_command(f"experiments/{self.name}.py", argv)

    def main(self, argv=None) -> int:
        """Preset -> measure -> figures table -> figures -> ``result.json`` judged by the registry;
        ``--replot``: figures and verdict again from the written record, nothing run."""
        from interp.results import write_result

        started = time.time()
        args = self.parse(argv)
        if self.raw:
            return self._from_raw(args, argv)
        if args.replot:
            record = replot_args(args, args.out)
            draw(self.figures(record, args, args.out))
            rejudge(args.out, record)
            return 0
        measured = dict(self.measure(args))
        table, reading, device = measured.pop("figures"), measured.pop("reading"), measured.pop("device")
        args.out.mkdir(parents=True, exist_ok=True)
        images = draw(self.figures({"figures": table, **measured}, args, args.out))
        write_result(args.out, name=self.name, claim=self.claim, why=reading, figures=table, preset=args.preset,
                     images=images, device=str(device), seconds=time.time() - started, settings=recorded(args),
                     command=self.command(argv), extra=measured)
        print(f"{args.out}/result.json: {read_verdict(args.out)}")
        return 0

    def _from_raw(self, args, argv) -> int:
        """measure -> raw file -> summarise -> figures -> ``result.json``; ``--replot`` / ``--from-raw``:
        the same from a raw file, nothing run."""
        from interp import rawjson
        from interp.results import write_result

        kept = {}
        if args.replot:  # the record's own measurement, rebuilt: it keeps its preset, command, date, machine, device,
            # model and the negative control embedded in it
            record = replot_args(args, args.out)
            args.from_raw = args.from_raw or str(args.out / self.raw)
            args.preset = record["preset"]
            kept = {key: record[key] for key in ("command", "date", "machine", "device", "model", "negative")
                    if key in record}
        if args.from_raw:
            raw = rawjson.load(args.from_raw)
        else:
            raw = self.measure(args)
        args.out.mkdir(parents=True, exist_ok=True)
        if not args.from_raw:
            rawjson.dump(raw, args.out / self.raw)   # every measurement, so the record can be redone offline
        summary = dict(self.summarise(raw, args))
        table, reading, device = summary.pop("figures"), summary.pop("reading"), summary.pop("device")
        fields = {key: summary.pop(key) for key in ("dtype", "seconds", "settings") if key in summary}
        images = draw(self.figures({"figures": table, **summary}, args, args.out, raw))
        write_result(args.out, name=self.name, claim=self.claim, why=reading, figures=table, preset=args.preset,
                     images=images, device=kept.pop("device", str(device)), model=kept.pop("model", model_name(args.model)),
                     command=kept.pop("command", self.command(argv)), extra={**summary, **kept}, **fields)
        print(f"{args.out}/result.json: {read_verdict(args.out)}")
        return 0


def draw(figures) -> list[str]:
    """Call each ``(file name, draw function)``; return the names drawn. A plotting failure (e.g. no
    matplotlib on a compute node) is reported and skipped: the numbers in result.json stay, and
    ``--replot`` draws the figures later from them."""
    done = []
    for name, fn in figures:
        try:
            fn()
            done.append(name)
        except Exception as err:  # noqa: BLE001 - a figure must never cost the measured numbers
            print(f"warning: figure {name} not drawn ({type(err).__name__}: {err}); rerun with --replot",
                  file=sys.stderr)
    return done


def replot_args(args, folder) -> dict:
    """The settings of an earlier ``result.json`` in ``folder`` set on ``args``, and the record, for ``--replot``."""
    path = Path(folder) / "result.json"
    if not path.is_file():
        raise InputError(f"--replot needs {path}: run the experiment first")
    record = json.loads(path.read_text())
    for key, value in record.get("settings", {}).items():
        if key not in ("replot", "out"):
            setattr(args, key, value)
    return record


def rejudge(folder, record: dict | None = None) -> dict:
    """Re-judge the record in ``folder`` (``record``: as read from there) by the claims registry and
    store it; what a script would have said is not used (the registry's rule judges)."""
    from interp.outputs import write_json

    if record is None:
        return registry.rejudge(folder)
    if registry.registered(record.get("name", "")):
        record = registry.judge_record(record)
        write_json(Path(folder) / "result.json", record, default=float)
    return record


def stated_command(script: str, argv=None) -> str:
    """The command that made a record, as run from the repository root: ``python SCRIPT`` (a script's
    path, or ``-m MODULE ...``) and the arguments it was given (``argv``; default: this process's),
    every absolute path as a record states it (:func:`interp.paths.recorded_command`)."""
    return recorded_command(["python", *script.split(), *(sys.argv[1:] if argv is None else argv)])


def finish(name: str, args, started: float, record: dict, *, dtype: str = "float32", shared: bool = True,
           script: str | None = None, argv=None) -> Path:
    """Write ``result.json`` for a claim summary (``figures``, ``reading``, ``images``, ``extra``, see
    :mod:`interp.reproduce.claims`), judged by the claims registry, and print the verdict. ``shared``:
    the record was made from the preset's settings, so they are recorded. The record's command is
    ``python SCRIPT`` (default: ``experiments/NAME.py``) with ``argv`` (default: the arguments
    :func:`parse` parsed, ``args.argv``; a script that reads some options itself gives them all)."""
    import platform

    from interp.results import write_result

    device = args.device
    if device.startswith("cuda"):
        import torch

        device = torch.cuda.get_device_name(0)
    record = dict(record)
    settings = {"preset": args.preset, "device": args.device, "dtype": dtype, **(args.settings if shared else {}),
                **record.pop("settings", {})}
    stated = stated_command(script or f"experiments/{name}.py", args.argv if argv is None else argv)
    folder = write_result(args.out, name=name, preset=args.preset, device=device, dtype=dtype, settings=settings,
                          seconds=record.pop("seconds", 0.0) + time.perf_counter() - started, command=stated,
                          model=model_name(getattr(args, "model", MODEL)), **record)
    print(f"{name}: {read_verdict(folder)} ({platform.node()}, {time.perf_counter() - started:.0f} s)", file=sys.stdout)
    return folder


def read_verdict(folder) -> str:
    """``verdict (n=...): why`` of the record in ``folder``."""
    record = json.loads((Path(folder) / "result.json").read_text())
    return f"{record['verdict']} (n={record.get('n_verdict')}): {record['why']}"


def replotted(args) -> bool:
    """For an experiment whose figures come from its samples: ``--replot`` re-judges the written record."""
    if args.replot:
        try:
            record = rejudge(args.out)
        except InputError as err:
            raise SystemExit(script_error(err)) from None
        print(f"{record['name']}: {record['verdict']} (n={record.get('n_verdict')}), re-judged from {args.out}/result.json")
    return args.replot


def runnable(path=None) -> list[str]:
    """Claims of the registry that the template runs (their latest entry names a ``measure``)."""
    return [name for name in registry.names(path) if registry.latest(name, path).measure]


def measure_function(entry):
    """The function ``entry.measure`` names (``"module:function"``)."""
    module, _, function = entry.measure.partition(":")
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as err:
        raise InputError(f"claim {entry.name}: measure {entry.measure!r} cannot be imported ({err})") from None


def run(name: str, argv=None) -> int:
    """Run claim ``name`` from its registry entry (``argv``: the options of :func:`options`)."""
    from interp.reproduce.shared_samples import PRESETS, samples_for, walker_prompt

    entry = registry.latest(name)
    if not entry.measure:
        raise InputError(f"claim {name} has no measure in the registry: run experiments/{name}.py")
    started = time.perf_counter()
    args = parse(options(name, entry.statement, PRESETS, prog=f"python -m interp.experiment {name}"), PRESETS, argv)
    if replotted(args):
        return 0
    fn = measure_function(entry)
    from interp.models import load_model

    model = load_model(args.model, device=args.device)
    samples = samples_for(args, model)
    chosen = samples if entry.samples == "all" else samples[float(entry.samples or 0.5)]
    record = dict(fn(chosen, args.out))
    prompt = walker_prompt(model)          # a walker: its prompt, and its final answers read by the walk scorer
    if prompt:
        record["settings"] = {**record.get("settings", {}), **prompt}
        record["reading"] = (record.get("reading", "") + f" A final answer is right when the walk scorer calls it "
                             f"exact (route and walk, to the target of the prompt {prompt['prompt']!r}).")
    finish(name, args, started, record, script=f"-m interp.experiment {name}")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        print(f"usage: python -m interp.experiment NAME [--preset cpu|gpu] [--model M] [--device D] [--out DIR] "
              f"[--replot]\nNAME: {', '.join(runnable())}", file=sys.stderr)
        return 2
    try:
        return run(argv[0], argv[1:])
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

