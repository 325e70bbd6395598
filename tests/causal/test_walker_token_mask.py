"""The block tokens that cover maze units on the shipped walker, whose temporal patch packs 4 video frames
into one token frame (16 frames, 4 token frames): against the network's own patch embedding as oracle.

The oracle changes the pixels of the chosen units (in the chosen video frames) in the input of the
walker's patch embedding and lists the tokens whose embedding moves; the mask the erase experiment
projects the route probe on (:func:`interp.tasks.maze_answers.unit_block_mask`) must be exactly those.
A mask with one token frame per video frame (16 x U x U tokens) cannot match.
"""

import numpy as np
import pytest
import torch

from interp.models import load_model
from interp.organism.evaluate import first_frames
from interp.tasks import generate_maze
from interp.tasks.maze_answers import unit_block_mask


@pytest.fixture(scope="module")
def walker():
    model = load_model("walker")
    maze = generate_maze(5, seed=20_000)
    inputs = model.prepare(first_frame=first_frames([maze, maze], model.organism), seeds=[0, 1])
    return model, inputs.latents.shape, maze.units


def moved_tokens(model, latent_shape, units, frames=None) -> np.ndarray:
    """Bool ``[B, T]``: the tokens whose patch embedding changes when the units' pixels change."""
    expert = model.transformer
    batch, _, num_frames, height, width = latent_shape
    px = model.organism.config.px_per_unit
    base = torch.zeros((batch, expert.config.in_channels, num_frames, height, width))
    edited = base.clone()
    for b, grid in enumerate(units):
        for r, c in np.argwhere(grid):
            for f in range(num_frames) if frames is None else frames:
                edited[b, :3, f, r * px:(r + 1) * px, c * px:(c + 1) * px] = 1.0   # the noisy video's channels
    with torch.no_grad():
        delta = (expert.patch_embedding(edited) - expert.patch_embedding(base)).abs().amax(1)   # [B, F', H', W']
    return (delta > 1e-6).reshape(batch, -1).numpy()


def test_the_walker_packs_four_video_frames_into_a_token_frame(walker):
    model, shape, units = walker
    assert shape[2] == 16 and model.patch_size[0] == 4 and model.token_grid(shape)[0] == 4


@pytest.mark.parametrize("frames", [None, [0], [5, 6], [3, 4], [15]])
def test_unit_mask_covers_exactly_the_tokens_the_units_pixels_reach(walker, frames):
    model, shape, size = walker
    rng = np.random.default_rng(0)
    units = rng.random((2, size, size)) < 0.2
    units[1] = False
    units[1, 3, 4] = True                                   # one unit alone
    mask = unit_block_mask(model, units, shape, frames=frames)
    oracle = moved_tokens(model, shape, units, frames)
    assert mask.shape == oracle.shape == (2, int(np.prod(model.token_grid(shape))))
    assert np.array_equal(mask, oracle)
    # a unit's token frame is the video frame // 4: frames 3 and 4 reach token frames 0 and 1
    token_frames = {int(t) for t in np.nonzero(mask[1].reshape(4, size, size))[0]}
    assert token_frames == ({0, 1, 2, 3} if frames is None else {f // 4 for f in frames})
