"""Figures of the seed-ensemble study, drawn from its report (:func:`interp.ensemble.study.summarise`).

Accuracies are exact-solve percentages with 95% Wilson intervals; every panel names n. Each
function writes one PNG at ``path``; :func:`study_figures` writes those the report has data for
(:func:`study_figure_list`: each with its draw function, for :func:`interp.experiment.draw`).
"""

from __future__ import annotations

from pathlib import Path

from interp.ensemble.study import ADAPTIVE_SEEDS
from interp.viz.figure import finish, pyplot

OPERATOR_COLOURS = {"x0_renoise": "tab:red", "x0_median": "tab:purple", "x0_mean": "tab:orange", "xt_mean": "tab:brown"}
GROUP_COLOURS = ("tab:red", "tab:purple", "tab:blue", "tab:green")


def _errors(rows: list[dict]) -> list[list[float]]:
    """Error bar lengths below and above each row's value, in points."""
    return [[100 * (r["value"] - r["ci95"][0]) for r in rows], [100 * (r["ci95"][1] - r["value"]) for r in rows]]


def _accuracy_panel(ax, rows: list[dict], curve: list[dict], vote_seeds: int) -> None:
    """One group: every method's accuracy against NFE."""
    def line(method, **style):
        rs = sorted((r for r in rows if r["method"] == method), key=lambda r: r["nfe"])
        if rs:
            ax.errorbar([r["nfe"] for r in rs], [100 * r["value"] for r in rs], yerr=_errors(rs), capsize=2, **style)

    single = next(r for r in rows if r["method"] == "single seed")
    ax.errorbar([single["nfe"]], [100 * single["value"]], capsize=2, fmt="ks", label="single seed",
                yerr=_errors([single]))
    line("self-consistency", fmt="-o", color="tab:blue", label="self-consistency (vote of K)")
    line("best-of-K (verifier, upper bound)", fmt="--", color="tab:gray", label="best-of-K (verifier, upper bound)")
    line("more steps", fmt="-^", color="tab:green", label="one seed, K x steps")
    for method, colour, label in (("cold start", "tab:olive", "one seed, noise std 1/sqrt(K) (control)"),
                                  ("cooled seed", "tab:pink", "one seed, noise part x 1/sqrt(K) at the merge step "
                                                               "(control)")):
        cold = [r for r in rows if r["method"] == method]
        if cold:
            ax.scatter([r["nfe"] for r in cold], [100 * r["value"] for r in cold], color=colour, marker="v",
                       label=label, zorder=3)
        for r in cold:
            ax.annotate(f"K={r['k']}" + (f", step {r['step']}" if "step" in r else ""), (r["nfe"], 100 * r["value"]),
                        textcoords="offset points", xytext=(4, -3), fontsize=6, color=colour)
    for op, colour in OPERATOR_COLOURS.items():
        rs = sorted((r for r in rows if r["method"] == f"merge {op}" and r.get("scope") == "all"),
                    key=lambda r: r["nfe"])
        if rs:
            ax.scatter([r["nfe"] for r in rs], [100 * r["value"] for r in rs], color=colour, marker="D",
                       label=f"merge {op}", zorder=3)
    ax.plot([c["mean_nfe"] for c in curve], [100 * c["accuracy"] for c in curve], ":x", color="tab:cyan",
            label=f"adaptive (2-seed probe, then vote of {vote_seeds})")


def accuracy_vs_nfe_figure(report: dict, groups: dict, path, *, num_steps: int, vote_seeds: int) -> None:
    """One panel per group: accuracy against transformer forwards per maze (log scale), every method;
    ``vote_seeds`` names the vote the adaptive policy escalates to."""
    import matplotlib.ticker

    plt = pyplot()
    names = list(groups)
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        _accuracy_panel(ax, [r for r in report["rows"] if r["group"] == name], report["adaptive"][name], vote_seeds)
        ax.set_xscale("log")
        # ticks at 1, 2, 3, 5 x 10^n: a panel spanning less than a decade still has numbers on its axis
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("transformer forwards per maze (NFE, log scale)")
        ax.set_ylabel("exact-solve accuracy (%)")
        ax.set_title(f"{name} mazes (n={groups[name]['n']})")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(f"Seed ensemble vs baselines: accuracy against compute ({num_steps} steps; 95% Wilson intervals)")
    finish(fig, path, dpi=120, bbox_inches="tight")


def start_temperature_figure(report: dict, groups: dict, path, *, num_steps: int) -> None:
    """One seed's accuracy against the std of its starting noise, one line per group."""
    plt = pyplot()
    starts = [r for r in report["rows"] if r["method"] in ("single seed", "cold start", "colder start")]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for name, colour in zip(groups, GROUP_COLOURS):
        pts = sorted((r.get("std", 1.0), r) for r in starts if r["group"] == name)
        ax.errorbar([std for std, _ in pts], [100 * r["value"] for _, r in pts], yerr=_errors([r for _, r in pts]),
                    fmt="-o", capsize=2, color=colour, label=f"{name} (n={groups[name]['n']})")
    finish(fig, path, ax=ax, xlabel="std of the starting noise x_T (1 = the sampler's; 1/sqrt(K) = a mean of K seeds)",
           ylabel="exact-solve accuracy, one seed (%)", legend={"fontsize": 8}, grid=True,
           title=f"One seed started colder ({num_steps} steps; 95% Wilson intervals)")


def merge_step_screen_figure(report: dict, groups: dict, path) -> None:
    """Screening accuracy of every operator against its merge step at K=3, beside the screened mazes' one seed."""
    plt = pyplot()
    screen = report["screen"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for op, colour in OPERATOR_COLOURS.items():
        pts = sorted((int(k.split("step ")[1]), 100 * v) for k, v in report["screened"].items()
                     if k.startswith(op + " "))
        if pts:
            ax.plot(*zip(*pts), "-o", color=colour, label=op)
    single = 100 * groups[screen["group"]]["correct"][:screen["n"], 0].mean()  # the screened mazes' one seed
    ax.axhline(single, color="k", ls="--", label="single seed")
    finish(fig, path, ax=ax, xlabel="merge step (0 = first of the schedule)", ylabel="exact-solve accuracy (%)",
           title=f"Merge operator x step, K=3, {screen['group']}", n=screen["n"], legend={"fontsize": 8}, grid=True)


def study_figure_list(report: dict, groups: dict, cfg: dict, out) -> list:
    """``(file name, draw function)`` of each of the study's PNGs in ``out``: accuracy against NFE
    always; the colder starts when any ran; the merge-step screen when one ran."""
    out = Path(out)
    figures = [("accuracy_vs_nfe.png", lambda: accuracy_vs_nfe_figure(
        report, groups, out / "accuracy_vs_nfe.png", num_steps=cfg["num_steps"],
        vote_seeds=min(ADAPTIVE_SEEDS, cfg["kmax"])))]
    if any(r["method"] in ("cold start", "colder start") for r in report["rows"]):
        figures.append(("start_temperature.png", lambda: start_temperature_figure(
            report, groups, out / "start_temperature.png", num_steps=cfg["num_steps"])))
    if report.get("screened"):
        figures.append(("merge_step_screen.png", lambda: merge_step_screen_figure(
            report, groups, out / "merge_step_screen.png")))
    return figures


def study_figures(report: dict, groups: dict, cfg: dict, out) -> list[str]:
    """Write the study's PNGs (:func:`study_figure_list`) into ``out`` and return their names."""
    names = []
    for name, draw in study_figure_list(report, groups, cfg, out):
        draw()
        names.append(name)
    return names
