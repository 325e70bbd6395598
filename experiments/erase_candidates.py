"""Erase early candidates: are the routes an early x0_hat draws live alternatives?

At step s the clean run's x0_hat draws candidate units (floor units whose route colour amount in
the final frame is at least ``--threshold``). Three arms erase the same number k of units per
maze (set to floor colour in x0_hat, x_t re-formed at the same noise level with the run's own
noise, the model continues; :func:`interp.causal.erase.erase_run`):

* ``unchosen``: candidates the clean run's final answer does not paint;
* ``chosen``: the early trace of the route the clean run chose (candidates it paints);
* ``control``: random floor units that are no candidate and not on the final answer (set to the
  floor colour they nearly have already: a far smaller edit);
* ``matched``: the control's units changed by the chosen arm's own colour distances, unit by
  unit and pixel by pixel, in a random colour direction (:func:`interp.causal.erase.matched_change`):
  the same number of units moved as far as erasing the chosen trace moves them.

In the representation: the ``route`` probe's direction (a logistic probe fitted on clean runs of
other mazes at (``--probe-layer``, ``--probe-step``)) is projected out of the candidate tokens
there, against a random direction. Outcomes: the final answer changes (painted units differ from
the clean run's), changes to another valid route (the scorer's valid route), or breaks (the clean
answer was a valid route and this one is not).

Example::

    python experiments/erase_candidates.py --preset cpu
    python experiments/erase_candidates.py --preset gpu --device cuda
"""

from __future__ import annotations

import sys
import time

import numpy as np

PRESETS = {
    "cpu": dict(sizes=[5], count=3, steps=[2], probe_count=3, batch=64, device="cpu", dtype="float32"),
    "gpu": dict(sizes=[5, 7, 9], count=200, steps=[2, 8], probe_count=64, batch=1536, device="cuda",
                dtype="bfloat16"),
}
CLAIM = ("Early denoising steps hold several candidate routes at once, live alternatives that later steps "
         "prune and choose among (multi-path exploration, then pruning).")


def add_options(p):
    from interp.causal.maze_runs import maze_options

    maze_options(p, first_seed=20_000)
    p.add_argument("--sizes", type=int, nargs="+", default=None)
    p.add_argument("--count", type=int, default=None, help="mazes per size")
    p.add_argument("--steps", type=int, nargs="+", default=None, help="erase steps")
    p.add_argument("--min-routes", type=int, default=2, help="keep mazes with at least this many shortest routes")
    p.add_argument("--threshold", type=float, default=0.15, help="route colour amount that makes a candidate")
    p.add_argument("--probe-layer", type=int, default=6)
    p.add_argument("--probe-step", type=int, default=2)
    p.add_argument("--probe-count", type=int, default=None, help="mazes the route probe is fitted on")


def validate(args, model):
    from interp.errors import InputError, check_range

    check_range("--num-steps", args.num_steps, 1, 1000)
    for s in args.steps + [args.probe_step]:
        if not 0 <= s < args.num_steps:
            raise InputError(f"step {s} is outside the schedule: choose 0..{args.num_steps - 1}")
    check_range("--probe-layer", args.probe_layer, 0, model.num_layers - 1)
    check_range("--count", args.count, 2, 100_000)
    check_range("--probe-count", args.probe_count, 1, 100_000)
    if not 0 < args.threshold < 1:
        raise InputError(f"--threshold {args.threshold} is out of range: choose a number in (0, 1)")


def fit_route_probe(model, args, size):
    """The route probe's direction at (probe layer, probe step), fitted on clean runs of other mazes."""
    from probes import LogisticProbe
    from probes.targets import unit_targets

    from interp.causal.maze_runs import clean_run, maze_inputs

    site = f"blocks.{args.probe_layer}.resid_post"
    mazes, inputs = maze_inputs(model, size=size, count=args.probe_count, first_seed=args.first_seed + 500_000)
    cache = clean_run(model, inputs, [site], num_steps=args.num_steps, steps=[args.probe_step],
                      end_step=args.probe_step + 1, decode=False).cache
    x = cache.get(site, args.probe_step).float().cpu().numpy()                 # [B, F*U*U, D]
    frames = x.shape[1] // mazes[0].units ** 2
    y = np.stack([np.tile(unit_targets(m)["route"].reshape(-1), frames) for m in mazes])
    keep = y >= 0
    probe = LogisticProbe(C=1.0, standardize=True, class_weight="balanced").fit(x[keep], y[keep])
    accuracy = float(probe.score(x[keep], y[keep]))
    return np.asarray(probe.coef_).reshape(-1), accuracy


def run_size(model, args, size, rng, direction):
    import torch

    from interp.tasks import maze_answers as M
    from interp.causal.erase import erase_run, matched_change, project_run, random_direction
    from interp.causal.maze_runs import chunks, clean_run, loop_value, maze_inputs, to_frames
    from interp.causal.verdicts import ERASE_ARMS, ERASE_OUTCOMES
    from interp.tasks.walk_score import scorer_for

    palette = model.organism.config.palette
    scorer = scorer_for(model)        # a walker's answers are read as walks (route and walk)
    px, frames_n = model.organism.config.px_per_unit, model.organism.config.num_frames
    fill = model.organism.frames_to_model(torch.tensor(
        [[[list(__import__("interp.tasks.render", fromlist=["palette_array"]).palette_array(palette)[0])]]],
        dtype=torch.uint8))[0, :, 0, 0]                                        # floor colour [3]
    wanted = sorted(set(args.steps) | {args.probe_step})
    rows = {(s, a): {k: [] for k in ERASE_OUTCOMES} for s in args.steps for a in ERASE_ARMS}
    probe_rows = {a: {k: [] for k in ERASE_OUTCOMES} for a in ("probe", "random")}
    eligible = {s: 0 for s in args.steps}
    mazes_all, inputs_all = maze_inputs(model, size=size, count=args.count, first_seed=args.first_seed,
                                        min_routes=args.min_routes)
    clean_exact = []
    for chunk in chunks(args.count, max(1, args.batch // len(ERASE_ARMS))):
        mazes = [mazes_all[i] for i in chunk]
        inputs = inputs_all.take(list(chunk))
        clean = clean_run(model, inputs, ["x_t", "x0"], num_steps=args.num_steps, steps=wanted)
        ref, ref_painted = M.outcomes(clean.video, mazes, palette=palette, scorer=scorer)
        clean_exact += ref.exact.tolist()
        chosen = np.stack([np.isin(np.arange(m.units ** 2), [u[0] * m.units + u[1] for u in p]).reshape(m.units, m.units)
                           for m, p in zip(mazes, ref_painted)])
        like = inputs.latents
        for s in wanted:
            x_t, x0 = loop_value(clean.cache, "x_t", s, like), loop_value(clean.cache, "x0", s, like)
            cand = M.candidates(to_frames(model, x0), mazes, args.threshold, palette)
            if s in args.steps:
                picks, take = [], []
                for i, m in enumerate(mazes):
                    floor = M.floor_units(m)
                    sets = {"unchosen": cand[i] & ~chosen[i], "chosen": cand[i] & chosen[i],
                            "control": floor & ~cand[i] & ~chosen[i]}
                    arms, k = M.equal_arms(sets, rng)
                    if k:
                        take.append(i)
                        picks.append(arms)
                eligible[s] += len(take)
                if take:
                    plain = [a for a in ERASE_ARMS if a != "matched"]
                    units = np.stack([p[a] for a in plain for p in picks])           # arm-major
                    order = [i for _ in ERASE_ARMS for i in take]
                    mask = torch.as_tensor(M.pixel_mask(units, num_frames=frames_n, px=px))
                    values = fill.reshape(-1).float().expand(mask.shape + (fill.numel(),)).clone()
                    pairs = [M.paired_tokens(p["chosen"], p["control"], num_frames=frames_n, px=px) for p in picks]
                    m_mask, m_values = matched_change(x0[take], pairs, fill, seed=1000 * size + s)
                    mask = torch.cat([mask, m_mask])
                    values = torch.cat([values.to(m_values), m_values])
                    out = erase_run(model, inputs.take(order), step=s, mask=mask, fill=values,
                                    x_t=x_t[order], x0=x0[order], num_steps=args.num_steps)
                    res, _ = M.outcomes(out.video, [mazes[i] for i in order], [ref_painted[i] for i in order],
                                        ref.valid[order], palette, scorer)
                    for j, a in enumerate(ERASE_ARMS):
                        part = slice(j * len(take), (j + 1) * len(take))
                        rows[(s, a)]["changed"] += res.changed[part].tolist()
                        rows[(s, a)]["changed_valid"] += (res.changed[part] & res.valid[part]).tolist()
                        rows[(s, a)]["broke"] += (ref.valid[take] & ~res.valid[part]).tolist()
            if s == args.probe_step and direction is not None:
                has = [i for i in range(len(mazes)) if cand[i].any()]
                if has:
                    # the block tokens covering the candidates (the walker's temporal patch packs 4 frames)
                    mask = M.unit_block_mask(model, cand[has], like.shape)
                    order = has + has
                    dirs = {"probe": direction, "random": random_direction(torch.as_tensor(direction), seed=size)}
                    for name, d in dirs.items():
                        out = project_run(model, inputs.take(has, latents=x_t[has]), layer=args.probe_layer, step=s,
                                          mask=mask, direction=d, num_steps=args.num_steps, start_step=s)
                        res, _ = M.outcomes(out.video, [mazes[i] for i in has], [ref_painted[i] for i in has],
                                            ref.valid[has], palette, scorer)
                        probe_rows[name]["changed"] += res.changed.tolist()
                        probe_rows[name]["changed_valid"] += (res.changed & res.valid).tolist()
                        probe_rows[name]["broke"] += (ref.valid[has] & ~res.valid).tolist()
    return rows, probe_rows, eligible, clean_exact


def figures(record, args, out):
    from interp.causal.plots import erase_outcomes_figure, probe_projection_figure

    table = record["figures"]
    return [
        ("erase_outcomes.png", lambda: erase_outcomes_figure(
            table, out / "erase_outcomes.png", sizes=args.sizes, steps=args.steps, num_steps=args.num_steps)),
        ("probe_projection.png", lambda: probe_projection_figure(
            table, out / "probe_projection.png", sizes=args.sizes, layer=args.probe_layer, step=args.probe_step))]


def verdict(table, args, control="control"):
    from interp.causal.verdicts import erase_verdict

    return erase_verdict(table, sizes=args.sizes, steps=args.steps, num_steps=args.num_steps, control=control)


def matched_verdict(table, args) -> dict:
    """The verdict against the matched control (same units moved by the same colour distance), beside the plain one."""
    v, why = verdict(table, args, control="matched")
    return {"matched_verdict": {"verdict": v, "why": why,
                                "rule": "as the plain rule, with the matched control in place of the floor-units control"}}


def measure(args) -> dict:
    import torch

    from interp.causal.maze_runs import load
    from interp.stats import share

    t0 = time.time()
    torch.manual_seed(0)
    model = load(args.model, args.device, args.dtype)
    validate(args, model)
    rng = np.random.default_rng(0)
    table, extra = {}, {"eligible": {}, "probe_accuracy": {}, "clean_exact": {}}
    for size in args.sizes:
        try:
            direction, acc = fit_route_probe(model, args, size)
        except ImportError as err:  # the probe package needs scikit-learn
            print(f"warning: route probe arm skipped ({err})", file=sys.stderr)
            direction, acc = None, float("nan")
        extra["probe_accuracy"][str(size)] = round(acc, 4)
        rows, probe_rows, eligible, clean_exact = run_size(model, args, size, rng, direction)
        extra["eligible"][str(size)] = eligible
        table[f"{size}/clean_exact"] = share(clean_exact)
        for (s, arm), values in rows.items():
            for outcome, flags in values.items():
                table[f"{size}/step{s}/{arm}/{outcome}"] = share(flags)
        for arm, values in probe_rows.items():
            for outcome, flags in values.items():
                table[f"{size}/probe/{arm}/{outcome}"] = share(flags)
        print(f"{size}x{size}: done in {time.time() - t0:.0f} s", flush=True)
    _, why = verdict(table, args)
    return {"figures": table, "reading": why, "device": model.device, **extra, **matched_verdict(table, args)}


def main(argv=None):
    from interp.experiment import Experiment

    return Experiment("erase_candidates", CLAIM, PRESETS, measure, figures, options=add_options,
                      description=__doc__.split("\n")[0]).main(argv)


if __name__ == "__main__":
    from interp.results import script_main

    sys.exit(script_main(main))
