"""The random-model control: same architecture and settings, fresh weights."""

from __future__ import annotations

import torch

from interp.organism import MazeOrganism, OrganismConfig, build_organism, default_transformer_config
from probes.controls import random_twin


def test_random_twin_keeps_architecture_and_changes_weights(tmp_path):
    tcfg = default_transformer_config(num_layers=2, num_attention_heads=2, attention_head_dim=12,
                                      ffn_dim=16, freq_dim=16)
    build_organism(OrganismConfig(num_frames=3), tcfg, seed=0).save_pretrained(tmp_path / "trained")
    random_twin(tmp_path / "trained", tmp_path / "twin", seed=5)
    trained = MazeOrganism.from_pretrained(tmp_path / "trained")
    twin = MazeOrganism.from_pretrained(tmp_path / "twin")
    public = lambda cfg: {k: v for k, v in cfg.items() if not k.startswith("_")}  # noqa: E731
    assert public(twin.transformer.config) == public(trained.transformer.config)
    assert twin.config.num_frames == 3 and twin.config.name.endswith("random-init-5")
    params = dict(trained.transformer.named_parameters())
    changed = [n for n, p in twin.transformer.named_parameters() if not torch.equal(p, params[n])]
    assert len(changed) > len(params) // 2


def test_the_walkers_random_twin_is_a_walker_folder_with_new_expert_weights(tmp_path):
    import torch

    from interp.models import load_model
    from probes.controls import random_twin

    twin = load_model(str(random_twin("walker", tmp_path / "twin", seed=0)))
    real = load_model("walker")
    assert type(twin) is type(real) and twin.organism.config.name.endswith("random-init-0")
    for name in ("transformer", "transformer_2"):
        a = twin.organism.expert(name).blocks[0].attn1.to_q.weight
        assert a.shape == real.organism.expert(name).blocks[0].attn1.to_q.weight.shape
        assert not torch.equal(a, real.organism.expert(name).blocks[0].attn1.to_q.weight)
    assert torch.equal(twin.organism.prompt_table, real.organism.prompt_table)      # the prompt table kept
