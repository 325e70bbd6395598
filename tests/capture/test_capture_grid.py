"""The step x frame grid: x0_hat read back from a store, and every cell where it belongs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from interp.capture import CaptureSpec, capture
from interp.errors import InputError
from tests.sampling.loop_states import loop_states
from interp.store import TraceStore
from interp.viz import step_frame_grid, steps_gif
from interp.viz.steps_grid import _LABEL_H, _LABEL_W, _PAD, x0_from_store


def test_x0_from_store_rebuilds_the_latents(organism, tmp_path):
    model, inputs = organism
    states = {s.step: s.x0[0].clone() for s in loop_states(model, inputs, num_steps=5, decode=False, progress=False)}
    capture(model, inputs, CaptureSpec.make(["x0"], dtype="float32"), tmp_path / "t.h5", num_steps=5, progress=False)
    with TraceStore.open(tmp_path / "t.h5") as store:
        latents, steps, sigmas = x0_from_store(store, store.sample_ids()[0], [1, 4])
        assert steps == [1, 4] and len(sigmas) == 2 and sigmas[0] > sigmas[1]
        np.testing.assert_array_equal(latents[0], states[1].numpy())
        np.testing.assert_array_equal(latents[1], states[4].numpy())
        with pytest.raises(InputError, match="step 9 was not captured"):
            x0_from_store(store, store.sample_ids()[0], [9])
    capture(model, inputs, CaptureSpec.make(["x0"], tokens="frame_mean"), tmp_path / "p.h5", num_steps=5,
            progress=False)
    with TraceStore.open(tmp_path / "p.h5") as store, pytest.raises(InputError, match="tokens=all"):
        x0_from_store(store, store.sample_ids()[0])


def test_grid_places_every_cell(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (3, 4, 10, 12, 3), dtype=np.uint8)  # steps, frames, H, W
    path = step_frame_grid(frames, [0, 5, 9], tmp_path / "grid.png", min_cell=20)  # upscaled x2
    image = np.asarray(Image.open(path).convert("RGB"))
    h, w = 20, 24
    for i in range(3):
        for j in range(4):
            y = _LABEL_H + i * (h + _PAD) + _PAD
            x = _LABEL_W + j * (w + _PAD) + _PAD
            cell = image[y : y + h, x : x + w]
            np.testing.assert_array_equal(cell, frames[i, j].repeat(2, 0).repeat(2, 1))
    gif = Image.open(steps_gif(frames, [0, 5, 9], tmp_path / "a.gif"))
    assert gif.n_frames == 3
    with pytest.raises(InputError, match="uint8"):
        step_frame_grid(frames.astype(np.float32), [0, 5, 9], tmp_path / "bad.png")
    with pytest.raises(InputError, match="2 step labels for 3 rows"):
        step_frame_grid(frames, [0, 5], tmp_path / "bad.png")
