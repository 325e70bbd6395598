"""Training: the flow-matching convention, the schedule, the data stream, a two-step run and its resume."""

import json

import numpy as np
import pytest
import torch

from interp.errors import InputError
from interp.organism import MazeOrganism, default_transformer_config
from interp.organism.data import EVAL_SEED_LIMIT, TRAIN_SEED_BASE, MazeStepDataset, training_batch
from interp.organism.train import TrainConfig, flow_matching_loss, lr_factor, shift_sigma, train
from interp.tasks import generate_maze, ground_truth_video

TINY = default_transformer_config(num_layers=1, num_attention_heads=2, attention_head_dim=12, ffn_dim=16, freq_dim=16)


def tiny_config(**kw):
    base = dict(total_steps=2, sizes=[4], size_weights=[1.0], tokens_per_batch=900, workers=0, log_every=1,
                warmup_steps=1, compile="none", transformer=TINY)
    base.update(kw)
    return TrainConfig(**base)


def test_target_is_the_velocity_whose_x0_hat_is_x0():
    cfg = tiny_config()
    from interp.organism import build_organism

    org = build_organism(cfg.organism_config(), TINY, seed=0)
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(3, 3, 4, 18, 18, generator=g) * 2 - 1
    eps = torch.randn(x0.shape, generator=g)
    sigma = torch.tensor([0.2, 0.5, 0.9])
    s = sigma.view(-1, 1, 1, 1, 1)

    def oracle(hidden, timestep, prompt):  # the v for which x_t - sigma v == x0
        assert torch.allclose(timestep, sigma * 1000)
        return (hidden[:, :3] - x0) / s

    assert float(flow_matching_loss(oracle, org, x0, sigma, eps)) < 1e-10
    wrong = lambda h, t, p: torch.zeros_like(x0)  # noqa: E731
    assert float(flow_matching_loss(wrong, org, x0, sigma, eps)) > 0.1


def test_schedule_warms_up_then_decays_to_the_floor():
    cfg = tiny_config(total_steps=1000, warmup_steps=100, min_lr_ratio=0.1)
    f = [lr_factor(k, cfg) for k in range(1000)]
    assert f[0] == pytest.approx(0.01) and max(f) == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(f[:100], f[1:100])) and all(a >= b for a, b in zip(f[100:], f[101:]))
    assert lr_factor(1000, cfg) == pytest.approx(0.1)


def test_shift_keeps_ends_and_favours_noise():
    s = torch.linspace(0, 1, 11)
    shifted = shift_sigma(s, 3.0)
    assert shifted[0] == 0 and shifted[-1] == 1 and torch.all(shifted[1:-1] > s[1:-1])
    assert torch.allclose(shift_sigma(s, 1.0), s)


def test_training_data_is_ground_truth_from_training_seeds():
    videos = training_batch(7, 4, 3, run_seed=0, num_frames=4, px_per_unit=2, palette="default", extra_openings=0.1)
    assert videos.shape == (3, 4, 18, 18, 3) and videos.dtype == np.uint8
    assert np.array_equal(videos, training_batch(7, 4, 3, run_seed=0, num_frames=4, px_per_unit=2,
                                                 palette="default", extra_openings=0.1))
    # each video is the renderer's ground truth for one of the maze's shortest routes
    for i, video in enumerate(videos):
        seed = TRAIN_SEED_BASE + 7 * 4096 + i
        assert seed >= EVAL_SEED_LIMIT
        maze = generate_maze(4, seed, extra_openings=0.1)
        assert any(np.array_equal(video, ground_truth_video(maze, 4, route_index=r)) for r in range(len(maze.routes)))
    ds = MazeStepDataset(run_seed=0, sizes=[4, 6], weights=[1, 1], tokens_per_batch=4000, num_frames=4,
                         px_per_unit=2, palette="default", extra_openings=0.1)
    assert ds.batch_size(6) * 4 * 13 * 13 <= 4000 < (ds.batch_size(6) + 1) * 4 * 13 * 13


def test_two_steps_then_resume(tmp_path):
    cfg = tiny_config()
    summary = train(cfg, tmp_path, progress=False, device="cpu")
    assert summary["step"] == 2 and summary["finished"]
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and all(np.isfinite(r["loss"]) for r in log)
    assert {p.name for p in (tmp_path / "state").iterdir()} == {
        "weights.safetensors", "ema.safetensors", "adamw.safetensors", "state.json"}
    assert (tmp_path / "loss.png").stat().st_size > 0
    shipped = MazeOrganism.from_pretrained(tmp_path / "organism")
    from interp.organism import build_organism

    init = build_organism(cfg.organism_config(), TINY, seed=cfg.seed)
    assert not all(torch.equal(p, q) for p, q in zip(init.parameters(), shipped.parameters()))

    cfg.total_steps = 3
    with pytest.raises(InputError, match="another training config"):
        train(cfg, tmp_path, progress=False, device="cpu")
    (tmp_path / "train_config.json").write_text(json.dumps(cfg.to_dict()))
    assert train(cfg, tmp_path, progress=False, device="cpu")["step"] == 3
    assert [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()] == [1, 2, 3]
