"""Localisation report: which layer bands carry perception, reasoning and consolidation.

The rule (stated in every report it writes):

1. *selectivity* of a probe = its held-out score minus a control's score on the same
   (branch, layer, step, target): the randomly initialised model's when the sweep had one
   (``selectivity``), else the shuffled-label control's (``selectivity_shuffle``);
2. a target's *layer profile* ``s(l)`` = its selectivity averaged over the probed steps;
3. the target's *band* = the layers with ``s(l) >= frac * max_l s(l)`` (default ``frac = 0.9``);
   its *onset* is the band's first layer; a target whose best ``s(l)`` is below
   ``min_selectivity`` (default 0.05) is reported as *not decodable*;
4. a family's band (perception, reasoning, consolidation) applies the same rule to the mean of
   its decodable targets' profiles, each divided by its own maximum;
5. the *step onset* of a target = the first step at which the selectivity at its peak layer
   reaches ``frac`` of that layer's best over steps (when in the denoising the answer appears);
6. *relative depth* = layer / ``depth``, the model's last block index (``num_layers - 1``) when
   known, else the deepest layer in the table; it is left out when that is layer 0;
7. with fewer than ``min_test_mazes`` (default 5) held-out mazes the bootstrap interval over
   test mazes means little: no target is called decodable or not (``decodable`` is None), the
   report says so, and ``cos probe`` warns.

Example:
    >>> rows = [{"branch": "cond", "layer": l, "step": 0, "target": "wall", "family": "perception",
    ...          "score": 0.5 + 0.1 * l, "selectivity_shuffle": 0.1 * l} for l in range(4)]
    >>> localise(rows)["targets"]["cond/wall"]["band"]
    [3]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interp.errors import InputError, check_range
from interp.outputs import write_json, write_text
from interp.viz.figure import finish, pyplot
from probes.targets import TARGETS

FAMILY_ORDER = ("perception", "reasoning", "consolidation")
#: fewer held-out mazes than this and no target is called decodable (the bootstrap has too little to resample)
MIN_TEST_MAZES = 5
#: readable names of the selectivity columns (colour bars, axis labels)
SELECTIVITY_LABELS = {
    "selectivity": "selectivity: score minus the random-model control's",
    "selectivity_shuffle": "selectivity: score minus the shuffled-label control's",
}


def sample_counts(rows: list[dict]) -> dict:
    """Held-out mazes and tokens behind the table's scores (smallest over its cells; tokens: median)."""
    mazes = [int(r["n_test_samples"]) for r in rows if "n_test_samples" in r]
    tokens = [int(r["n_test_tokens"]) for r in rows if "n_test_tokens" in r]
    return {"test_mazes": min(mazes) if mazes else None, "train_mazes": min((int(r["n_train_samples"]) for r in rows
            if "n_train_samples" in r), default=None), "test_tokens_median": int(np.median(tokens)) if tokens else None}


def n_label(counts: dict) -> str:
    """``n = 3 test mazes (9 train), 1200 test tokens per cell`` for figure titles."""
    if counts.get("test_mazes") is None:
        return "n unknown"
    return (f"n = {counts['test_mazes']} held-out mazes ({counts['train_mazes']} for training), "
            f"{counts['test_tokens_median']} held-out tokens per cell (median)")


def selectivity_key(rows: list[dict]) -> str:
    """``selectivity`` (vs the random model) when present, else ``selectivity_shuffle``."""
    if any(np.isfinite(r.get("selectivity", np.nan)) for r in rows):
        return "selectivity"
    return "selectivity_shuffle"


def grid_of(rows: list[dict], branch: str, target: str, key: str) -> tuple[list[int], list[int], np.ndarray]:
    """``(layers, steps, values [L, S])`` of one target (NaN where a cell is missing)."""
    mine = [r for r in rows if r["branch"] == branch and r["target"] == target]
    layers = sorted({r["layer"] for r in mine})
    steps = sorted({r["step"] for r in mine})
    values = np.full((len(layers), len(steps)), np.nan)
    for r in mine:
        values[layers.index(r["layer"]), steps.index(r["step"])] = r.get(key, np.nan)
    return layers, steps, values


def _band(profile: np.ndarray, layers: list[int], frac: float) -> list[int]:
    best = np.nanmax(profile)
    return [l for l, v in zip(layers, profile) if np.isfinite(v) and v >= frac * best]


def localise(rows: list[dict], *, frac: float = 0.9, min_selectivity: float = 0.05, key: str | None = None,
             num_layers: int | None = None, min_test_mazes: int = MIN_TEST_MAZES, depth_from: str | None = None) -> dict:
    """Apply the rule of this module to a sweep table; returns a JSON-able dict.

    ``key`` picks the selectivity column (default: :func:`selectivity_key`); ``num_layers`` is the
    model's number of blocks (relative depth is measured against its last one); ``depth_from``
    says where that number came from (written into the report).
    """
    if not rows:
        raise InputError("the probe table is empty: nothing to localise")
    check_range("frac", frac, 0.0, 1.0)
    all_layers = sorted({r["layer"] for r in rows})
    if num_layers is not None and (num_layers < 1 or num_layers <= all_layers[-1]):
        raise InputError(f"num_layers {num_layers} is too small for probed layer {all_layers[-1]}")
    key = key or selectivity_key(rows)
    depth = num_layers - 1 if num_layers is not None else all_layers[-1]
    counts = sample_counts(rows)
    powered = counts["test_mazes"] is None or counts["test_mazes"] >= min_test_mazes
    out = {"rule": {"selectivity": key, "frac": frac, "min_selectivity": min_selectivity,
                    "profile": "mean over steps", "depth": depth,
                    "depth_from": depth_from or ("the model's last block" if num_layers is not None
                                                 else "the deepest probed layer"),
                    "min_test_mazes": min_test_mazes},
           "n": counts, "enough_test_mazes": powered, "targets": {}, "families": {}}
    profiles: dict[tuple[str, str], list] = {}

    def relative(band: list[int]):
        return [round(band[0] / depth, 3), round(band[-1] / depth, 3)] if depth > 0 else None
    for branch in sorted({r["branch"] for r in rows}):
        for target in dict.fromkeys(r["target"] for r in rows if r["branch"] == branch):
            layers, steps, values = grid_of(rows, branch, target, key)
            scores = grid_of(rows, branch, target, "score")[2]
            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    profile = np.nanmean(values, axis=1)
            family = TARGETS[target].family if target in TARGETS else "other"
            entry = {"branch": branch, "target": target, "family": family,
                     "layers": layers, "profile": [None if not np.isfinite(v) else round(float(v), 4) for v in profile]}
            if not np.isfinite(profile).any() or np.nanmax(profile) < min_selectivity:
                entry.update(decodable=False if powered else None, band=[], peak_layer=None, onset_layer=None, step_onset=None,
                             best_selectivity=None if not np.isfinite(profile).any() else round(float(np.nanmax(profile)), 4))
            else:
                peak = int(np.nanargmax(profile))
                band = _band(profile, layers, frac)
                row = values[peak]
                step_onset = next((s for s, v in zip(steps, row) if np.isfinite(v) and v >= frac * np.nanmax(row)), None)
                entry.update(decodable=True if powered else None, band=band, peak_layer=layers[peak],
                             onset_layer=band[0], step_onset=step_onset,
                             best_selectivity=round(float(profile[peak]), 4),
                             best_score=round(float(np.nanmax(scores[peak])), 4), relative_depth=relative(band))
                profiles.setdefault((branch, family), []).append((layers, profile / np.nanmax(profile)))
            out["targets"][f"{branch}/{target}"] = entry
    for (branch, family), items in profiles.items():
        layers = items[0][0]
        mean = np.nanmean(np.stack([p for _, p in items]), axis=0)
        band = _band(mean, layers, frac)
        out["families"][f"{branch}/{family}"] = {
            "branch": branch, "family": family, "targets": len(items), "band": band,
            "peak_layer": layers[int(np.nanargmax(mean))], "profile": [round(float(v), 4) for v in mean],
            "relative_depth": relative(band),
        }
    return out


CONTROL_REPLICATES = {"selectivity": "_boot_random", "selectivity_shuffle": "_boot_shuffle"}


def onset_intervals(rows: list[dict], *, key: str, frac: float = 0.9, min_selectivity: float = 0.05,
                    level: float = 0.95, **options) -> dict:
    """Bootstrap intervals over test mazes of every target's and family's onset layer.

    Each row must carry ``_boot`` (its score in each bootstrap replicate, the same resampled test
    mazes in every cell: :func:`probes.scoring.bootstrap_replicates`) and the control's replicates
    for ``key`` (``_boot_random`` for ``selectivity``, ``_boot_shuffle`` for ``selectivity_shuffle``).
    Replicate ``b``'s table is localised by :func:`localise` with the same rule; the onset's interval
    is the percentile interval over the replicates where the target (family) is decodable, and
    ``decodable_share`` says in how many it was. Returns ``{"n_boot", "targets": {name: {...}},
    "families": {name: {...}}}`` (empty when the rows carry no replicates).
    """
    control = CONTROL_REPLICATES[key]
    usable = [r for r in rows if "_boot" in r and control in r]
    if not usable or len(usable) < len(rows):
        return {}
    n_boot = min(len(r["_boot"]) for r in rows)
    onsets: dict[tuple[str, str], list] = {}
    for b in range(n_boot):
        table = [{**{k: v for k, v in r.items() if not k.startswith("_")}, "score": float(r["_boot"][b]),
                  key: float(r["_boot"][b]) - float(r[control][b])} for r in rows]
        result = localise(table, frac=frac, min_selectivity=min_selectivity, key=key, **options)
        for kind in ("targets", "families"):
            for name, entry in result[kind].items():
                onset = entry.get("onset_layer", entry["band"][0] if entry.get("band") else None)
                onsets.setdefault((kind, name), []).append(onset)
    tail = (1.0 - level) / 2.0
    out = {"n_boot": n_boot, "level": level, "targets": {}, "families": {}}
    for (kind, name), values in onsets.items():
        found = np.array([v for v in values if v is not None], float)
        entry = {"decodable_share": round(len(found) / n_boot, 4)}
        if found.size:
            lo, hi = np.quantile(found, [tail, 1.0 - tail])
            entry.update(onset_ci95=[float(lo), float(hi)], onset_median=float(np.median(found)))
        out[kind][name] = entry
    return out


def plot_heatmaps(rows: list[dict], path: str | Path, *, key: str | None = None, title: str = "") -> Path:
    """One layer x step heatmap of selectivity per (branch, target), shared colour scale."""
    plt = pyplot()

    key = key or selectivity_key(rows)
    panels = [(b, t) for b in sorted({r["branch"] for r in rows})
              for t in dict.fromkeys(r["target"] for r in rows if r["branch"] == b)]
    cols = min(4, len(panels))
    nrows = -(-len(panels) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 3.0 * nrows), squeeze=False, layout="constrained")
    values = [v for v in (r.get(key, np.nan) for r in rows) if np.isfinite(v)]
    lim = max(0.05, max(abs(v) for v in values)) if values else 1.0
    image = None
    for ax, (branch, target) in zip(axes.ravel(), panels):
        layers, steps, grid = grid_of(rows, branch, target, key)
        image = ax.imshow(grid, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim,
                          extent=(-0.5, len(steps) - 0.5, -0.5, len(layers) - 0.5), interpolation="nearest")
        ax.set_xticks(range(len(steps)), [str(s) for s in steps], fontsize=6)
        ax.set_yticks(range(len(layers)), [str(l) for l in layers], fontsize=6)
        ax.set_title(f"{target} ({branch})", fontsize=9)
        ax.set_xlabel("denoising step", fontsize=7)
        ax.set_ylabel("layer", fontsize=7)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.7, label=SELECTIVITY_LABELS.get(key, key).replace(": ", ":\n"))
    fig.suptitle(f"{title or 'Probe selectivity per layer and denoising step'}\n{n_label(sample_counts(rows))}",
                 fontsize=9)
    return finish(fig, path, dpi=110, bbox_inches="tight", tight=False)


def plot_profiles(result: dict, path: str | Path) -> Path:
    """Layer profiles (selectivity averaged over steps) of every target, bands shaded."""
    import matplotlib.ticker

    plt = pyplot()

    fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    colours = {"perception": "tab:blue", "reasoning": "tab:orange", "consolidation": "tab:green"}
    styles = ["-", "--", ":", "-."]
    seen: dict[str, int] = {}
    for name, entry in result["targets"].items():
        fam = entry["family"]
        k = seen.get(fam, 0)
        seen[fam] = k + 1
        prof = [np.nan if v is None else v for v in entry["profile"]]
        ax.plot(entry["layers"], prof, styles[k % 4], marker="o", ms=3, color=colours.get(fam, "gray"), label=name)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("layer (block index)")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel(SELECTIVITY_LABELS.get(result["rule"]["selectivity"], result["rule"]["selectivity"])
                  .replace(": ", ":\n") + "\n(mean over steps)", fontsize=8)
    ax.set_title(f"Layer profile of each target (colour: family)\n{n_label(result.get('n', {}))}", fontsize=9)
    # outside the axes, so the legend never covers a curve
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, title="branch/target",
              title_fontsize=7)
    return finish(fig, path, dpi=110, bbox_inches="tight", tight=False)


def _fmt_band(band: list[int]) -> str:
    if not band:
        return "-"
    runs, start = [], band[0]
    for a, b in zip(band, band[1:] + [None]):
        if b is None or b != a + 1:
            runs.append(f"{start}" if start == a else f"{start}-{a}")
            if b is not None:
                start = b
    return ", ".join(runs)


def markdown(result: dict, *, title: str = "Probe localisation", source: str = "") -> str:
    """The written result: the rule, a table per target and family, and one line per family."""
    rule = result["rule"]
    lines = [f"# {title}", ""]
    if source:
        lines += [f"Source: `{source}`", ""]
    n = result.get("n", {})
    if not result.get("enough_test_mazes", True):
        lines += [f"> **Warning:** only {n['test_mazes']} held-out maze(s); at least {rule['min_test_mazes']} are "
                  "needed for the bootstrap intervals to mean anything, so no target is called decodable or not. "
                  "Trace more mazes or raise `--test-fraction`.", ""]
    if n.get("test_mazes") is not None:
        lines += [f"Data: {n_label(n)}.", ""]
    lines += [
        f"Rule: selectivity = held-out score minus control (`{rule['selectivity']}`); layer profile = "
        f"{rule['profile']}; band = layers whose profile is at least {rule['frac']:.0%} of the target's best; "
        f"targets whose best profile is below {rule['min_selectivity']} count as not decodable.",
        "",
        "| target | family | decodable | best selectivity | best score | peak layer | band | step onset |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, e in result["targets"].items():
        verdict = {True: "yes", False: "no", None: "not assessed"}[e["decodable"]]
        lines.append(f"| {name} | {e['family']} | {verdict} | {e['best_selectivity']} | "
                     f"{e.get('best_score', '-')} | {e['peak_layer'] if e['peak_layer'] is not None else '-'} | "
                     f"{_fmt_band(e['band'])} | {e['step_onset'] if e['step_onset'] is not None else '-'} |")
    lines += ["", "| family | targets | band | peak layer | relative depth |", "|---|---|---|---|---|"]
    for name, f in sorted(result["families"].items(), key=lambda kv: FAMILY_ORDER.index(kv[1]["family"])
                          if kv[1]["family"] in FAMILY_ORDER else 9):
        depth = "-" if f["relative_depth"] is None else f"{f['relative_depth'][0]:.2f}-{f['relative_depth'][1]:.2f}"
        lines.append(f"| {name} | {f['targets']} | {_fmt_band(f['band'])} | {f['peak_layer']} | {depth} |")
    lines.append("")
    lines.append(f"Relative depth = layer / {rule['depth']} ({rule['depth_from']}).")
    lines.append("")
    for name, f in result["families"].items():
        lines.append(f"- **{f['family']}** ({f['branch']}): layers {_fmt_band(f['band'])}, peak at layer "
                     f"{f['peak_layer']}.")
    return "\n".join(lines) + "\n"


#: The files :func:`write_report` writes (patterns), for the output check before a run.
OUTPUTS = ("localisation.json", "report.md", "heatmaps*.png", "profiles*.png")


def write_report(rows: list[dict], out_dir: str | Path, *, frac: float = 0.9, min_selectivity: float = 0.05,
                 title: str = "Probe localisation", source: str = "", num_layers: int | None = None,
                 min_test_mazes: int = MIN_TEST_MAZES, depth_from: str | None = None) -> dict[str, Path]:
    """Write ``localisation.json``, ``heatmaps.png``, ``profiles.png`` and ``report.md``.

    The primary result uses :func:`selectivity_key`; when the table also has the other control,
    the report adds its localisation (``*_shuffle`` files, a second section of ``report.md``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    primary = selectivity_key(rows)
    keys = [primary] + [k for k in ("selectivity_shuffle",) if k != primary
                        and any(np.isfinite(r.get(k, np.nan)) for r in rows)]
    paths = {"json": out / "localisation.json", "markdown": out / "report.md"}
    results, texts = {}, []
    for k in keys:
        suffix = "" if k == primary else "_shuffle"
        result = localise(rows, frac=frac, min_selectivity=min_selectivity, key=k, num_layers=num_layers,
                          min_test_mazes=min_test_mazes, depth_from=depth_from)
        intervals = onset_intervals(rows, key=k, frac=frac, min_selectivity=min_selectivity, num_layers=num_layers,
                                    min_test_mazes=min_test_mazes, depth_from=depth_from)
        for kind in ("targets", "families") if intervals else ():
            for name, entry in result[kind].items():
                entry.update(intervals[kind].get(name, {}))
        if intervals:
            result["onset_bootstrap"] = {"n_boot": intervals["n_boot"], "level": intervals["level"],
                                         "over": "test mazes, the same resample in every cell"}
        results[k] = result
        paths[f"heatmaps{suffix}"] = plot_heatmaps(rows, out / f"heatmaps{suffix}.png", key=k)
        paths[f"profiles{suffix}"] = plot_profiles(result, out / f"profiles{suffix}.png")
        heading = title if k == primary else f"{title}: against shuffled labels"
        texts.append(markdown(result, title=heading, source=source if k == primary else ""))
    write_json(paths["json"], {"primary": primary, **results}, indent=1)
    write_text(paths["markdown"], "\n".join(texts).replace("\n# ", "\n## ") if len(texts) > 1 else texts[0])
    return paths
