"""The claims only the walker can test: the maze out of view, and what each expert does.

The walker's condition repeats frame 0 (the maze) into every frame's channels, so the maze is in
view of every frame at every step. :func:`hide_maze` takes it out of view (its colour channels
set to the empty floor; the frame-0 mask kept), and :func:`occlusion_sweep` does so from step k
on for several k, starting each run from the clean run's own x_k: only the state carries what has
been drawn. :func:`memory_figures` and :func:`perception_action_figures` read the sweep;
:func:`specialisation_run` gives each expert's steps to the other (:func:`expert_steps`).
Answers are read by the walk scorer (:func:`interp.tasks.walk_score.score_walk`: route and walk).

Example:
    >>> from interp.tasks.walk import generate_walk_maze, walk_video
    >>> float(render_error(walk_video(generate_walk_maze(5, seed=0), "goal", 16)[None])[0])
    0.0
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager

import numpy as np
import torch

from interp.errors import InputError
from interp.stats import mean_ci, paired_difference, share

# held-out walk mazes: the same seed range as the maze claims, away from the card's table (0..)
FIRST_SEED = 500_000
HIDE = ("all", "later")       # the maze leaves every frame's view, or only frames 1.. (frame 0 keeps it)


def heldout(sizes, count: int) -> list:
    """``count`` held-out walk mazes per size, in size order."""
    from interp.organism.walk_data import heldout_walks

    return [w for size in sizes for w in heldout_walks(size, count, first_seed=FIRST_SEED)]


def prepare(model, walks, *, prompt: str = "goal", seeds) -> object:
    """The walker's inputs for ``walks`` (maze ``i`` gets noise seed ``seeds[i]``)."""
    from interp.organism.walk_eval import first_frames

    return model.prepare(first_frame=first_frames(walks, model.organism.config.px_per_unit), seeds=list(seeds),
                         prompt=prompt)


def hide_maze(model, inputs, frames: str = "all"):
    """``inputs`` with the maze out of view of ``frames`` (``"all"`` or ``"later"``: frames 1..): their
    condition colour channels set to the empty floor; latents, prompt and the frame-0 mask unchanged."""
    from interp.tasks.render import FLOOR
    from interp.tasks.walk import walk_palette_array

    if frames not in HIDE:
        raise InputError(f"frames {frames!r} is not valid: use one of {HIDE}")
    floor = np.broadcast_to(walk_palette_array()[FLOOR], (1, 1, 1, 3)).copy()
    colour = model.organism.frames_to_model(floor).reshape(3, 1, 1, 1)
    condition = inputs.latent_condition.clone()
    condition[:, :3, 0 if frames == "all" else 1:] = colour.to(condition)
    return dataclasses.replace(inputs, latent_condition=condition)


def _scores(videos, walks, prompt: str, px: int) -> dict:
    """Per video: walk exact, route exact, and the last frame's walls equal the maze's (and another maze's)."""
    from interp.tasks.walk import base_labels, decode_walk_labels
    from interp.tasks.render import WALL
    from interp.tasks.walk_score import score_walk

    exact, route, walls, walls_other = [], [], [], []
    for i, (video, walk) in enumerate(zip(videos, walks)):
        s = score_walk(video, walk, prompt)
        exact.append(s.exact)
        route.append(s.exact_route)
        drawn = decode_walk_labels(video[-1], video.shape[1] // px)[0] == WALL
        walls.append(bool((drawn == (base_labels(walk) == WALL)).all()))
        other = walks[(i + 1) % len(walks)]          # shuffled labels: the next maze of the batch (same size)
        walls_other.append(bool((drawn == (base_labels(other) == WALL)).all()))
    return {"exact": exact, "route": route, "walls": walls, "walls_other": walls_other}


def occlusion_sweep(model, walks, *, ks, prompt: str = "goal", num_steps: int = 20, batch: int = 300,
                    noise_seed: int = 0, hide=HIDE, later_ks=None, progress: bool = True) -> dict:
    """Scores of the clean run and of the maze hidden from step ``k`` on, per maze.

    Returns ``{"clean": scores, (frames, k): scores}`` with ``scores`` lists over ``walks``
    (:func:`_scores`). Each hidden run restarts at step ``k`` from the clean run's x_k, so up to
    step ``k`` it is the clean run. ``later_ks``: the steps of the ``"later"`` arm (default ``ks``).
    """
    from tqdm.auto import tqdm

    from interp.interventions import observe, run
    from interp.tasks.maze_trajectories import same_size_batches

    ks = sorted(int(k) for k in ks)
    if not ks or ks[0] < 0 or ks[-1] >= num_steps:
        raise InputError(f"hide steps {ks} must lie in 0..{num_steps - 1}")
    steps_of = {frames: ks if frames != "later" or later_ks is None else sorted(set(later_ks) & set(ks))
                for frames in hide}
    px = model.organism.config.px_per_unit
    out: dict = {}
    batches = list(same_size_batches(walks, batch))
    bar = tqdm(total=len(batches) * (1 + sum(len(v) for v in steps_of.values())), desc="hiding the maze",
               disable=not progress)
    for lo, chunk in batches:
        inputs = prepare(model, chunk, prompt=prompt, seeds=[noise_seed + lo + i for i in range(len(chunk))])
        clean = run(model, inputs, observe("x_t", steps=[k for k in ks if k > 0]), num_steps=num_steps,
                    progress=False)
        _extend(out, "clean", _scores(clean.video, chunk, prompt, px))
        bar.update()
        for frames in hide:
            for k in steps_of[frames]:
                start = inputs.latents if k == 0 else clean.at("x_t", k).to(inputs.latents)
                hidden = dataclasses.replace(hide_maze(model, inputs, frames), latents=start)
                video = run(model, hidden, num_steps=num_steps, start_step=k, progress=False).video
                _extend(out, (frames, k), _scores(video, chunk, prompt, px))
                bar.update()
    bar.close()
    return out


def _extend(out: dict, key, scores: dict) -> None:
    for name, values in scores.items():
        out.setdefault(key, {}).setdefault(name, []).extend(values)


def memory_figures(sweep: dict, *, ks, num_steps: int = 20) -> tuple[dict, dict]:
    """Figures of the memory claim and of its negative control (the maze hidden from step 0).

    ``kept_hidden_half``: of the mazes walked exactly in the clean run, the share still walked
    exactly with the maze hidden from every frame from step ``num_steps // 2`` on.
    """
    chosen = np.array(sweep["clean"]["exact"], bool)
    if not chosen.any():
        raise InputError("no maze was walked exactly in the clean run: nothing to keep")
    half = num_steps // 2
    figures = {"clean_exact": share(chosen)}
    for frames, prefix in (("all", "kept_hidden"), ("later", "kept_later_hidden")):
        for k in ks:
            if (frames, k) in sweep:
                figures[f"{prefix}_step{k}"] = share(np.array(sweep[(frames, k)]["exact"], bool)[chosen])
    if f"kept_hidden_step{half}" not in figures or "kept_hidden_step0" not in figures:
        raise InputError(f"the sweep needs steps 0 and {half} with the maze hidden from every frame")
    figures["kept_hidden_half"] = figures[f"kept_hidden_step{half}"]
    negative = {"kept_hidden_half": figures["kept_hidden_step0"]}
    return figures, negative


def _first_kept(flags: np.ndarray, ks, num_steps: int) -> np.ndarray:
    """Per maze, the first hide step from which ``flags`` stays true at every later hide step and
    unhidden (column ``num_steps``); ``num_steps + 1`` where it is never kept."""
    steps = list(ks) + [num_steps]
    first = np.full(flags.shape[0], num_steps + 1)
    kept = np.ones(flags.shape[0], bool)
    for j in range(len(steps) - 1, -1, -1):
        kept &= flags[:, j]
        first = np.where(kept, steps[j], first)
    return first


def perception_action_figures(sweep: dict, *, ks, num_steps: int = 20) -> tuple[dict, dict]:
    """Figures of the perception-before-action claim and of its shuffled-labels control."""
    chosen = np.array(sweep["clean"]["exact"], bool)
    if not chosen.any():
        raise InputError("no maze was walked exactly in the clean run: no walk to order")

    def table(key):
        cols = [np.array(sweep[("all", k)][key], bool) for k in ks] + [np.array(sweep["clean"][key], bool)]
        return np.stack(cols, 1)[chosen]

    action = _first_kept(table("exact"), ks, num_steps)

    def figures_for(walls_key):
        perception = _first_kept(table(walls_key), ks, num_steps)
        return {"share_perception_first": share(perception < action), "share_action_first": share(action < perception),
                "share_tied": share(action == perception), "perception_step": mean_ci(perception),
                "action_step": mean_ci(action)}

    return figures_for("walls"), figures_for("walls_other")


@contextmanager
def expert_steps(model, high_steps, num_steps: int = 20):
    """Run the high-noise expert at ``high_steps`` only and the low-noise one at every other step."""
    from interp.sampling import schedule

    _, timesteps, _ = schedule(model, num_steps)
    step_of = {float(t): i for i, t in enumerate(timesteps)}
    high, low = model.spec.expert_names
    high_steps = set(int(s) for s in high_steps)

    def expert_for(timestep):
        step = step_of.get(float(timestep))
        if step is None:
            raise InputError(f"timestep {float(timestep)} is not one of the {num_steps}-step schedule's")
        return high if step in high_steps else low

    model.expert_for = expert_for
    try:
        yield model
    finally:
        del model.expert_for


def default_high_steps(model, num_steps: int = 20) -> list[int]:
    """The steps the shipped switch gives the high-noise expert (timestep at or above the boundary)."""
    from interp.sampling import schedule

    _, timesteps, _ = schedule(model, num_steps)
    return [i for i, t in enumerate(timesteps) if float(t) >= model.boundary_timestep]


def specialisation_arms(model, num_steps: int = 20) -> dict:
    """``{arm: high-noise steps}``: the shipped switch, each matched edit, each expert alone."""
    high = default_high_steps(model, num_steps)
    moved = list(range(high[-1] + 1, min(num_steps, high[-1] + 1 + len(high))))
    return {"both": high, "without_high": [], "without_low": high + moved, "high_alone": list(range(num_steps))}


def render_error(videos) -> np.ndarray:
    """Per video, the mean distance (RGB units, 0-441) of its pixels to the nearest walk palette colour."""
    from interp.tasks.walk import walk_palette_array

    pal = walk_palette_array().astype(np.float32)
    out = []
    for video in np.asarray(videos):
        px = video.reshape(-1, 3).astype(np.float32)
        out.append(np.sqrt(((px[:, None, :] - pal) ** 2).sum(-1)).min(1).mean())
    return np.array(out)


def specialisation_run(model, walks, *, prompt: str = "goal", num_steps: int = 20, batch: int = 300,
                       noise_seed: int = 0, progress: bool = True) -> dict:
    """Per arm of :func:`specialisation_arms`: route right, walk exact and rendering error per maze."""
    from tqdm.auto import tqdm

    from interp.interventions import run
    from interp.tasks.maze_trajectories import same_size_batches

    px = model.organism.config.px_per_unit
    arms = specialisation_arms(model, num_steps)
    out = {arm: {"route": [], "exact": [], "render": []} for arm in arms}
    batches = list(same_size_batches(walks, batch))
    bar = tqdm(total=len(batches) * len(arms), desc="expert arms", disable=not progress)
    for lo, chunk in batches:
        inputs = prepare(model, chunk, prompt=prompt, seeds=[noise_seed + lo + i for i in range(len(chunk))])
        for arm, high in arms.items():
            with expert_steps(model, high, num_steps):
                video = run(model, inputs, num_steps=num_steps, progress=False).video
            scores = _scores(video, chunk, prompt, px)
            out[arm]["route"] += scores["route"]
            out[arm]["exact"] += scores["exact"]
            out[arm]["render"] += render_error(video).tolist()
            bar.update()
    bar.close()
    return out


def specialisation_figures(arms: dict) -> dict:
    """The claim's two paired differences, and every arm's shares and rendering error beside."""
    route = {a: np.array(v["route"], float) for a, v in arms.items()}
    render = {a: np.array(v["render"], float) for a, v in arms.items()}
    figures = {"route_specialisation": paired_difference(route["without_low"], route["without_high"]),
               "render_specialisation": paired_difference(render["without_low"], render["without_high"])}
    for arm, v in arms.items():
        figures[f"route_{arm}"] = share(np.array(v["route"], bool))
        figures[f"exact_{arm}"] = share(np.array(v["exact"], bool))
        figures[f"render_error_{arm}"] = mean_ci(render[arm])
    return figures


def random_twin(model, seed: int = 0):
    """The walker with both experts re-initialised (same architecture, prompt table and switch)."""
    from diffusers import WanTransformer3DModel

    from interp.models.walker import WalkerModel
    from interp.organism.walk_model import WalkOrganism

    organism = model.organism
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        experts = [WanTransformer3DModel.from_config(organism.expert(n).config) for n in model.spec.expert_names]
    finally:
        torch.random.set_rng_state(state)
    twin = WalkOrganism(*experts, organism.prompt_table.detach().clone(), organism.config)
    return WalkerModel(twin.to(device=model.device, dtype=model.dtype).eval(), name=f"{model.name}-random")
