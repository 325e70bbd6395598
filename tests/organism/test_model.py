"""MazeOrganism: inputs laid out as Wan I2V expects, one transformer call, exact save/load."""

import numpy as np
import pytest
import torch

from interp.errors import InputError
from interp.organism import MazeOrganism, OrganismConfig, build_organism, default_transformer_config

TINY = default_transformer_config(num_layers=2, num_attention_heads=2, attention_head_dim=12, ffn_dim=32,
                                  freq_dim=16)


@pytest.fixture(scope="module")
def organism():
    return build_organism(OrganismConfig(sizes_trained=[4]), TINY, seed=0).eval()


def test_condition_layout(organism):
    first = torch.rand(2, 3, 18, 18) * 2 - 1
    cond = organism.condition(first, num_frames=5)
    assert cond.shape == (2, 4, 5, 18, 18)
    for f in range(5):  # the first frame, repeated over every frame
        assert torch.equal(cond[:, :3, f], first)
    assert torch.all(cond[:, 3, 0] == 1) and torch.all(cond[:, 3, 1:] == 0)


def test_velocity_is_one_raw_transformer_call(organism):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 18, 18, generator=g)
    cond = organism.condition(torch.rand(2, 3, 18, 18, generator=g) * 2 - 1)
    prompt = organism.prompt_embeds(2)
    t = torch.tensor([250.0, 900.0])
    with torch.no_grad():
        ours = organism.velocity(x, t, cond, prompt)
        raw = organism.transformer(hidden_states=torch.cat([x, cond], 1), timestep=t,
                                   encoder_hidden_states=prompt).sample
    assert torch.equal(ours, raw)
    with torch.no_grad():  # a scalar timestep means the same value for every sample
        assert torch.equal(organism.velocity(x, 250.0, cond, prompt)[0], organism.velocity(x, t, cond, prompt)[0])


def test_prompt_embeds_is_the_table_row(organism):
    emb = organism.prompt_embeds(3, task="maze")
    assert emb.shape == (3, 4, 32)
    assert torch.equal(emb[2], organism.prompt_table[0])
    with pytest.raises(InputError, match="unknown task 'sokoban'"):
        organism.prompt_embeds(1, task="sokoban")


def test_pixel_conversions_round_trip():
    frames = np.random.default_rng(0).integers(0, 256, (2, 3, 6, 8, 3), dtype=np.uint8)
    x = MazeOrganism.frames_to_model(frames)
    assert x.shape == (2, 3, 3, 6, 8) and x.min() >= -1 and x.max() <= 1
    assert np.array_equal(MazeOrganism.model_to_frames(x).numpy(), frames)
    assert MazeOrganism.frames_to_model(frames[:, 0]).shape == (2, 3, 6, 8)
    with pytest.raises(InputError, match="uint8"):
        MazeOrganism.frames_to_model(frames.astype(np.float32))


def test_bad_inputs_name_the_value(organism):
    with pytest.raises(InputError, match=r"\[B, 3, H, W\]"):
        organism.condition(torch.zeros(1, 4, 18, 18))
    with pytest.raises(InputError, match="not divisible"):
        organism.condition(torch.zeros(1, 3, 17, 18))
    with pytest.raises(InputError, match="do not match"):
        organism.velocity(torch.zeros(1, 3, 4, 18, 18), 1.0, organism.condition(torch.zeros(1, 3, 18, 18), 5),
                          organism.prompt_embeds(1))
    with pytest.raises(InputError, match="unknown organism config keys"):
        OrganismConfig.from_dict({"px_per_unit": 2, "colour": "red"})


def test_build_is_seeded():
    a, b, c = (build_organism(OrganismConfig(), TINY, seed=s) for s in (1, 1, 2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_save_and_load_round_trip(organism, tmp_path):
    organism.save_pretrained(tmp_path, dtype=None)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "config.json", "diffusion_pytorch_model.safetensors", "organism.json", "prompt_table.safetensors"]
    loaded = MazeOrganism.from_pretrained(tmp_path)
    assert loaded.config == organism.config
    for (n, p), (m, q) in zip(organism.state_dict().items(), loaded.state_dict().items()):
        assert n == m and torch.equal(p, q)
    with pytest.raises(InputError, match="missing"):
        MazeOrganism.from_pretrained(tmp_path / "transformer")


def test_bf16_storage_halves_size_and_stays_close(organism, tmp_path):
    organism.save_pretrained(tmp_path / "bf16")
    organism.save_pretrained(tmp_path / "fp32", dtype=None)
    size = lambda d: (d / "transformer" / "diffusion_pytorch_model.safetensors").stat().st_size  # noqa: E731
    assert size(tmp_path / "bf16") < 0.6 * size(tmp_path / "fp32")
    loaded = MazeOrganism.from_pretrained(tmp_path / "bf16")
    for p, q in zip(organism.parameters(), loaded.parameters()):
        assert q.dtype == torch.float32
        torch.testing.assert_close(p, q, rtol=1e-2, atol=1e-2)
