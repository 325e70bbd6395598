"""The figures of the two localisation experiments: linear probes by layer, and activation patching.

Probes (observation 6, first half: early layers hold the scene, middle-to-late layers the
reasoning) read ``localisation.json`` of ``cos probe``; patching reads the ``result.json`` of
``cos patch`` (which cell of layer x step moves the corrupted run's route towards the clean one).

Their verdicts are the registry's (``experiments/claims.toml``): the probe rule reads the onset
layers, the patching rule the grid's cells (:func:`strong_cells`), both recorded in ``result.json``.

Example:
    >>> loc = {"primary": "selectivity", "selectivity": {"families": {"cond/perception": {"band": [2, 3],
    ...        "peak_layer": 3}, "cond/reasoning": {"band": [7, 8], "peak_layer": 10}}, "targets": {}}}
    >>> figures = probe_claim(loc, n_mazes=24)["figures"]
    >>> figures["perception_onset_layer_vs_twin"]["value"], figures["reasoning_onset_layer_vs_twin"]["value"]
    (2, 7)
"""

from __future__ import annotations

import numpy as np


def _family(result: dict, name: str) -> dict | None:
    """The cond-branch family ``name`` with its ``onset_layer`` (first layer of its band)."""
    for key, value in result.get("families", {}).items():
        if key.endswith("/" + name):
            band = value.get("band") or []
            return {**value, "onset_layer": value.get("onset_layer", band[0] if band else None)}
    return None


def probe_claim(localisation: dict, *, n_mazes: int) -> dict:
    """Perception targets become decodable in earlier layers than reasoning targets.

    Figures: each family's onset and peak layer against every control in the report (random-weight
    twin, shuffled labels), and the best selectivity of each decodable target.
    """
    controls = [k for k in ("selectivity", "selectivity_shuffle") if k in localisation]
    figures, earlier = {}, []
    for key in controls:
        result = localisation[key]
        perception, reasoning = _family(result, "perception"), _family(result, "reasoning")
        label = "twin" if key == "selectivity" else "shuffled"
        for name, fam in (("perception", perception), ("reasoning", reasoning)):
            if fam:
                figures[f"{name}_onset_layer_vs_{label}"] = {"value": fam.get("onset_layer"), "n": n_mazes}
                if fam.get("onset_ci95"):  # bootstrap over test mazes (probes.report.onset_intervals)
                    figures[f"{name}_onset_layer_vs_{label}"].update(
                        ci95=fam["onset_ci95"], decodable_share=fam.get("decodable_share"))
                figures[f"{name}_peak_layer_vs_{label}"] = {"value": fam.get("peak_layer"), "n": n_mazes}
        ok = bool(perception and reasoning and perception.get("onset_layer") is not None
                  and reasoning.get("onset_layer") is not None and perception["onset_layer"] < reasoning["onset_layer"])
        earlier.append(ok)
    for key, target in localisation.get(localisation.get("primary", "selectivity"), {}).get("targets", {}).items():
        if target.get("decodable"):
            figures[f"best_selectivity_{key.replace('/', '_')}"] = {"value": target["best_selectivity"],
                                                                    "layer": target.get("peak_layer"), "n": n_mazes}
    text = "; ".join(f"against the {'random twin' if k == 'selectivity' else 'shuffled labels'}: perception onset "
                     f"layer {figures.get(f'perception_onset_layer_vs_{l}', {}).get('value')} "
                     f"(95% CI {figures.get(f'perception_onset_layer_vs_{l}', {}).get('ci95')}) vs reasoning "
                     f"{figures.get(f'reasoning_onset_layer_vs_{l}', {}).get('value')} "
                     f"(95% CI {figures.get(f'reasoning_onset_layer_vs_{l}', {}).get('ci95')})"
                     for k, l in zip(controls, ["twin" if c == "selectivity" else "shuffled" for c in controls]))
    why = (f"{text} (onset: first layer of the band within 90% of the best selectivity; n={n_mazes} held-out mazes, "
           f"a quarter of them test mazes). Intervals: percentile bootstrap over the test mazes (one split), the "
           f"same resample in every cell; None where the run kept no replicates.")
    return {"reading": why, "figures": figures}


def strong_cells(cells, *, min_effect: float = 0.5, narrower: bool = True):
    """``(verdict, best cell, strong cells)`` of a patching grid's ``cells`` (see :func:`patch_claim`).

    ``narrower`` reads only regions other than ``all`` (patching every token and reading the same
    step's x0_hat hands the rest of the step the clean activations wholesale: an upper bound, not
    localisation); without it every region counts.
    """
    every = [c for c in cells if c["preference"] is not None]
    cells = ([c for c in every if c["region"] != "all"] or every) if narrower else every
    steps = sorted({c["step"] for c in cells})
    best = max(cells, key=lambda c: c["preference"])
    strong = [c for c in cells if c["preference"] >= min_effect and c["ci95"][0] is not None and c["ci95"][0] > 0]
    late = steps[len(steps) // 2] if steps else 0
    if strong and min(c["step"] for c in strong) < late:
        verdict = "holds"
    elif strong:
        verdict = "partly"
    else:
        verdict = "does not hold"
    return verdict, best, strong


def patch_claim(summary: dict, *, min_effect: float = 0.5) -> dict:
    """Where in layer x step does the clean route's information live? (patching clean into corrupted).

    Figures: the strongest cell of regions narrower than ``all`` (patching every token hands the
    rest of the step the clean activations wholesale: an upper bound, not localisation), the
    strongest per step, and the all-token mean; the grid's cells go into ``extra`` for the rule.
    """
    every = [c for c in summary["cells"] if c["preference"] is not None]
    cells = [c for c in every if c["region"] != "all"] or every
    sanity = [c["preference"] for c in every if c["region"] == "all"]
    steps = sorted({c["step"] for c in cells})
    n = summary["n_pairs"]
    by_step = {}
    for step in steps:
        top = max((c for c in cells if c["step"] == step), key=lambda c: c["preference"])
        by_step[step] = top
    _, best, strong = strong_cells(summary["cells"], min_effect=min_effect)
    figures = {"best_cell_preference": {"value": best["preference"], "ci95": best["ci95"], "n": n,
                                        "layer": best["layer"], "step": best["step"], "region": best["region"]}}
    for step, cell in by_step.items():
        figures[f"best_at_step{step}"] = {"value": cell["preference"], "ci95": cell["ci95"], "n": n,
                                          "layer": cell["layer"], "region": cell["region"]}
    if sanity:
        figures["all_tokens_mean_preference"] = {"value": round(float(np.mean(sanity)), 4), "n": n}
    layers_strong = sorted({c["layer"] for c in strong})
    why = (f"Patching clean activations into the corrupted run (read at the patched step's x0_hat) restores at most "
           f"{best['preference']:.2f} of the clean route preference (95% CI {best['ci95']}), at layer {best['layer']}, "
           f"step {best['step']}, region {best['region']} (n={n} pairs; patching all tokens instead "
           f"restores {figures.get('all_tokens_mean_preference', {}).get('value')} on average). Cells restoring >= {min_effect}: "
           f"{len(strong)}, at layers {layers_strong or 'none'}. At the first layers the changed units' tokens still hold the changed wall itself, "
           f"so restoring there is expected; past layer {max(layers_strong) if layers_strong else '-'} patching those "
           f"tokens alone no longer restores the route: the difference has spread to other tokens.")
    return {"reading": why, "figures": figures,
            "extra": {"n_pairs": n, "cells": summary["cells"], "mean_preference_by_step": {str(s): float(np.mean([c["preference"] for c in cells if c["step"] == s]))
                                                  for s in steps}}}


def _early_narrow(summary: dict, *, min_layer: int) -> list[dict]:
    """Cells of regions narrower than all tokens, at layers >= ``min_layer``, in the first half of the patched steps."""
    steps = sorted({c["step"] for c in summary["cells"]})
    late = steps[len(steps) // 2] if steps else 0
    return [c for c in summary["cells"] if c["region"] != "all" and c["preference"] is not None
            and c["ci95"][0] is not None and c["layer"] >= min_layer and c["step"] < late]


def patch_claim_controlled(direct: dict, final: dict | None, *, min_effect: float = 0.5, min_layer: int = 1) -> dict:
    """The patching claim read where it cannot hold by construction: past the first block, and in the final video.

    At block 0 the changed units' tokens still hold the changed wall itself, and a read at the
    patched step's x0_hat shows an effect the later steps may undo. So only cells of regions
    narrower than all tokens, at layers ``>= min_layer``, in the first half of the patched steps
    count (figures ``best_early_past_block0_patched_step`` and ``..._final_video``: the strongest
    such cell of each read); a cell is strong when it restores at least ``min_effect`` of the clean
    route preference with a 95% interval above 0. ``holds`` when the strongest such cell in the
    **final** video (``final``: ``cos patch --read-at final``) is strong; ``partly`` when only the
    one at the patched step's x0_hat (``direct``) is; ``does not hold`` otherwise.
    """
    figures, parts, strong = {}, [], {}
    for name, summary in (("patched_step", direct), ("final_video", final)):
        if summary is None:
            continue
        cells = _early_narrow(summary, min_layer=min_layer)
        n = summary["n_pairs"]
        if cells:
            best = max(cells, key=lambda c: c["preference"])
            figures[f"best_early_past_block0_{name}"] = {
                "value": best["preference"], "ci95": best["ci95"], "n": n, "layer": best["layer"],
                "step": best["step"], "region": best["region"]}
            strong[name] = best["preference"] >= min_effect and best["ci95"][0] > 0
            parts.append(f"read at the {name.replace('_', ' ')}: best {best['preference']:.3f} (95% CI {best['ci95']}) "
                         f"at layer {best['layer']}, step {best['step']}, region {best['region']}, n={n} pairs")
        alls = [c["preference"] for c in summary["cells"] if c["region"] == "all" and c["preference"] is not None]
        if alls:
            figures[f"all_tokens_max_{name}"] = {"value": round(float(max(alls)), 4), "n": n}
    in_final, in_direct = strong.get("final_video", False), strong.get("patched_step", False)
    verdict = "holds" if in_final else "partly" if in_direct else "does not hold"
    why = (f"Cells of the changed region at layers >= {min_layer} (past block 0, whose tokens still hold the changed "
           f"wall), first half of the steps: " + "; ".join(parts) + f". Rule: holds if the best such cell restores >= "
           f"{min_effect} (CI above 0) in the final video; partly if only at the patched step's x0_hat."
           + (" Final video not measured." if final is None else "")
           + (" The effect is transient: the later steps read the corrupted maze from the condition again and undo "
              "it." if in_direct and not in_final else ""))
    return {"verdict": verdict, "why": why, "figures": figures}
