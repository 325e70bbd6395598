"""The layering of docs/architecture.md, enforced: no import climbs from a lower layer to a higher one.

Every module of ``interp``, ``probes`` and ``experiments`` is parsed with :mod:`ast`; every import
counts, at the top of a file or deferred inside a function, except those under ``if TYPE_CHECKING:``
(annotations only: they never run). A module's layer is that of the longest prefix in ``LAYERS``.
A module may import from its own layer and the layers below it, never from a layer above.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Bottom to top. A module may import from its own layer and the ones before it.
ORDER = ["foundations", "models + loop", "interventions", "capture / store", "task domain", "analyses", "template",
         "cli", "experiments"]

LAYERS = {
    # foundations: errors, site names, tokens, statistics, the output rule, input checks, plotting, process groups
    "interp": "foundations",
    "interp.errors": "foundations",
    "interp.sites": "foundations",
    "interp.tokens": "foundations",
    "interp.rows": "foundations",
    "interp.paths": "foundations",
    "interp.rawjson": "foundations",
    "interp.lazy": "foundations",
    "interp.outputs": "foundations",
    "interp.stats": "foundations",
    "interp.distributed": "foundations",
    "interp.validate": "foundations",
    "interp.viz": "foundations",
    # one file per family, the organism's network and weights, and the loop that drives them
    "interp.models": "models + loop",
    "interp.sampling": "models + loop",
    "interp.organism.model": "models + loop",
    "interp.organism.config": "models + loop",
    "interp.organism.walk_model": "models + loop",
    "interp.organism.walk_frames": "models + loop",
    # every causal edit, and nothing about any task
    "interp.interventions": "interventions",
    # recording a run into the trace store, and the store itself
    "interp.capture": "capture / store",
    "interp.store": "capture / store",
    # tasks, their scoring and the organism that solves them
    "interp.tasks": "task domain",
    "interp.organism": "task domain",
    "interp.metrics": "task domain",
    # what the experiments measure and decide
    "interp.causal": "analyses",
    "interp.ensemble": "analyses",
    "interp.reproduce": "analyses",
    "interp.results_page": "analyses",
    "interp.results": "analyses",
    "interp.registry": "analyses",
    "interp.rules": "analyses",
    "interp.viewer": "analyses",
    "probes": "analyses",
    # the experiment template: runs the analyses' measures on presets and writes their records (never imported by them)
    "interp.experiment": "template",
    "interp.cli": "cli",
    "experiments": "experiments",
}

#: Climbing imports that are known and being moved; each names why. Keep this list short.
KNOWN: set = set()


def layer_of(module: str, layers: dict[str, str] = LAYERS) -> str:
    """The layer of the longest prefix of ``module`` in ``layers``. The entry of ``interp`` itself
    covers only its ``__init__``, so that every new part of the library is placed on purpose."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in layers and (prefix != "interp" or module == "interp"):
            return layers[prefix]
    raise KeyError(f"{module} is in no layer: add it to LAYERS in tests/test_layering.py")


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of import nodes that sit under ``if TYPE_CHECKING:``."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for inner in ast.walk(child):
                    skip.add(id(inner))
    return skip


def imports_of(source: str, module: str) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every import of ``source`` (top-level and deferred)."""
    tree = ast.parse(source)
    skip = _type_checking_only(tree)
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from interp import cli`` imports the submodule interp.cli
            found += [(f"{base}.{alias.name}" if alias.name != "*" else base, node.lineno) for alias in node.names]
    return found


def climbing(modules: dict[str, str], layers: dict[str, str] = LAYERS, known=None) -> list[str]:
    """Every import (module name -> source) that reaches a higher layer, as readable lines."""
    known = KNOWN if known is None else known
    bad = []
    for module, source in sorted(modules.items()):
        here = ORDER.index(layer_of(module, layers))
        for target, line in imports_of(source, module):
            if target.split(".")[0] not in {m.split(".")[0] for m in layers}:
                continue  # a third-party or standard module
            target = _owning(target, modules)
            there = ORDER.index(layer_of(target, layers))
            if there > here and (module, target) not in known:
                bad.append(f"{module}:{line} ({ORDER[here]}) imports {target} ({ORDER[there]})")
    return bad


def _owning(target: str, modules: dict[str, str]) -> str:
    """``interp.tasks.render.PALETTES`` -> ``interp.tasks.render``: the longest prefix that is a module."""
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in modules:
            return ".".join(parts[:n])
    return target


@functools.cache
def repository_modules() -> dict[str, str]:
    out = {}
    for top in ("interp", "probes", "experiments"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path.read_text()
    return out


def test_no_import_climbs():
    bad = climbing(repository_modules())
    assert not bad, "imports that climb the layers:\n" + "\n".join(bad)


#: Scripts that still import the CLI (none: they call the library as the commands do).
CLI_USERS_KNOWN: set = set()


def test_nothing_outside_the_cli_imports_it():
    """The library and the scripts share code through the library, never through ``interp.cli``."""
    modules = repository_modules()
    users = sorted(f"{m}:{line}" for m, source in modules.items()
                   if not m.startswith("interp.cli") and m not in CLI_USERS_KNOWN
                   for target, line in imports_of(source, m) if target == "interp.cli" or target.startswith("interp.cli."))
    assert not users, f"imports of interp.cli outside it: {users}"
    still = {m for m in CLI_USERS_KNOWN if any(t == "interp.cli" or t.startswith("interp.cli.")
                                                 for t, _ in imports_of(modules[m], m))}
    assert still == CLI_USERS_KNOWN, f"no longer import interp.cli (drop them from the list): {CLI_USERS_KNOWN - still}"


def _mentions(pattern: str, skip: str) -> list[str]:
    """``module:line`` of every line of a module (``skip``: the module, or the package, allowed) matching ``pattern``."""
    import re

    found = re.compile(pattern)
    return [f"{m}:{n}" for m, source in sorted(repository_modules().items()) if m != skip and not m.startswith(skip + ".")
            for n, line in enumerate(source.splitlines(), 1) if found.search(line)]


def test_no_step_callback_outside_the_executor():
    """One way to run a model: nothing passes an ``on_step=`` callback (the loop's sites are read with ``Collect``)."""
    assert _mentions(r"\bon_step\s*=", "interp.interventions.executor") == []    # perception_step= is no callback


def test_no_module_outside_the_cli_names_it():
    """Not even as ``python -m interp.cli.main`` in a child process: a script runs ``cos`` or calls the library."""
    assert _mentions(r"\binterp\.cli\b", "interp.cli") == []


@pytest.mark.parametrize("line, pattern, allowed", [
    ("    out = sample(model, x, on_step=watch)", r"\bon_step\s*=", "interp.interventions.executor"),
    ("run([sys.executable, '-m', 'interp.cli.main'])", r"\binterp\.cli\b", "interp.cli")])
def test_the_text_checks_find_what_they_look_for(line, pattern, allowed, monkeypatch):
    modules = {**repository_modules(), "experiments.extra": line + "\n"}
    monkeypatch.setitem(globals(), "repository_modules", lambda: modules)
    assert _mentions(pattern, allowed) == ["experiments.extra:1"]


def test_every_module_has_a_layer():
    for module in repository_modules():
        layer_of(module)


def test_known_exceptions_still_climb():
    """An exception that no longer climbs is removed from ``KNOWN`` (the list only shrinks)."""
    lines = climbing(repository_modules(), known={})
    stale = [pair for pair in KNOWN if not any(line.startswith(pair[0] + ":") and f" imports {pair[1]} " in line
                                               for line in lines)]
    assert not stale, f"no longer climbing: remove {stale} from KNOWN"


def import_cycles(modules: dict[str, str]) -> list[list[str]]:
    """Every set of modules that import one another in a circle (top-level and deferred imports alike)."""
    graph = {m: {_owning(t, modules) for t, _ in imports_of(source, m)} & set(modules) - {m}
             for m, source in modules.items()}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(m):                       # Tarjan's strongly connected components
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for t in sorted(graph[m]):
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in on_stack:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            part = []
            while True:
                t = stack.pop()
                on_stack.discard(t)
                part.append(t)
                if t == m:
                    break
            if len(part) > 1:
                cycles.append(sorted(part))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    return cycles


def test_no_import_circles():
    assert import_cycles(repository_modules()) == []


# --- the checker, checked ---------------------------------------------------------------------
SYNTHETIC_LAYERS = {"pkg": "foundations", "pkg.model": "models + loop", "pkg.cli": "cli"}


def test_a_climbing_import_fails_the_check():
    modules = {
        "pkg": "",
        "pkg.model": "import torch\nfrom pkg import errors\n",
        "pkg.cli": "from pkg.model import run\n",
        "pkg.errors": "def f():\n    from pkg.model import run   # deferred: counts too\n",
    }
    bad = climbing(modules, SYNTHETIC_LAYERS, known={})
    assert bad == ["pkg.errors:2 (foundations) imports pkg.model (models + loop)"]


@pytest.mark.parametrize("line", ["from pkg import cli", "import pkg.cli", "from .cli import main",
                                  "from pkg.cli import main as m"])
def test_every_spelling_of_an_import_counts(line):
    modules = {"pkg": "", "pkg.model": line + "\n", "pkg.cli": ""}
    assert climbing(modules, SYNTHETIC_LAYERS, known={}) == [f"pkg.model:1 (models + loop) imports pkg.cli (cli)"]


def test_type_checking_imports_do_not_count():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.cli import main\n"
    assert climbing({"pkg": "", "pkg.model": source, "pkg.cli": ""}, SYNTHETIC_LAYERS, known={}) == []


def test_an_import_circle_is_found_even_when_deferred():
    modules = {"pkg": "", "pkg.a": "from pkg.b import run\n", "pkg.b": "def f():\n    import pkg.a\n",
               "pkg.c": "from pkg import a\n"}
    assert import_cycles(modules) == [["pkg.a", "pkg.b"]]


def test_an_analysis_that_imports_the_template_climbs():
    """The template runs the analyses (``interp.experiment`` -> ``interp.reproduce``), never the reverse."""
    modules = {**repository_modules(),
               "interp.reproduce.extra": "def f():\n    from interp.experiment import finish\n",
               "interp.causal.extra": "import interp.experiment.walker\n"}
    bad = [line for line in climbing(modules) if ".extra:" in line]
    assert bad == ["interp.causal.extra:1 (analyses) imports interp.experiment.walker (template)",
                   "interp.reproduce.extra:2 (analyses) imports interp.experiment (template)"]
    assert not [line for line in climbing(repository_modules()) if line.startswith("interp.experiment")]
