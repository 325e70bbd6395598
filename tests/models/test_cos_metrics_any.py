"""``cos cos-metrics`` on any model: inputs run from a tiny folder, or a store ``cos trace`` wrote.

Oracles: the distances equal a direct torch computation on a trajectory observed here; the last
step's estimate is the final output (distance 0, preference 1); a user's metric gets each step's
decoded video.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from interp.cli.main import main as cos

from tiny_folders import GEOMETRY


def metrics(folders, name, out, *extra):
    assert cos(["cos-metrics", "--model", str(folders[name]), *GEOMETRY[name], "--num-steps", "4", *extra,
                "--out", str(out)]) == 0
    return json.loads((out / "metrics.json").read_text())


def test_prompt_pairs_on_two_experts_against_a_direct_computation(folders, tmp_path):
    from interp.interventions import observe, run
    from interp.models import load_model
    from interp.tasks.input_pairs import InputPairTask

    record = metrics(folders, "wan22-a14b", tmp_path, "--prompt-pairs", str(folders["pairs"]), "--guidance", "4",
                     "--tolerance", "0.5")
    pairs = json.loads(folders["pairs"].read_text())
    model = load_model(str(folders["wan22-a14b"]))
    task = InputPairTask([{"prompt": p["clean"]} for p in pairs], [{"prompt": p["corrupt"]} for p in pairs],
                         shared=dict(height=16, width=16, num_frames=5, guidance_scale=4.0))
    out = run(model, task.inputs(model, "clean", [0, 1]), observe("x0"), num_steps=4, progress=False)
    other = run(model, task.inputs(model, "corrupt", [0, 1]), num_steps=4, progress=False).latents.double()
    x0, final = out.trajectory("x0").double(), out.latents.double()
    rms = lambda a, b: ((a - b) ** 2).flatten(1).mean(1).sqrt()  # noqa: E731
    distance = torch.stack([rms(x, final) for x in x0]).numpy()
    np.testing.assert_allclose(record["per_step"]["distance_to_final"]["values"], distance, rtol=1e-4, atol=1e-6)
    preference = torch.stack([(rms(x, other) - rms(x, final)) / rms(final, other) for x in x0]).numpy()
    np.testing.assert_allclose(record["per_step"]["preference"]["values"], preference, rtol=1e-4, atol=1e-5)
    assert record["per_step"]["relative_to_final"]["values"][0] == [1.0, 1.0]
    np.testing.assert_allclose(record["per_step"]["preference"]["values"][-1], 1.0, atol=1e-4)
    relative = distance / distance[0]
    expected = [next(s for s in range(4) if (relative[s:, b] <= 0.5).all()) for b in range(2)]
    assert record["per_input"]["commitment_step"] == expected
    assert (tmp_path / "cos_metrics.png").is_file()


def test_a_prompt_list_with_a_users_metric_of_decoded_steps(folders, tmp_path, monkeypatch):
    (tmp_path / "prompts.json").write_text(json.dumps(["a red ball", "a cat walks up"]))
    (tmp_path / "mine.py").write_text("import numpy as np\ndef mean_level(videos, rows):\n"
                                      "    return {'mean_level': np.asarray(videos, float).reshape(len(rows), -1).mean(1)}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    record = metrics(folders, "ltx", tmp_path / "out", "--prompts", str(tmp_path / "prompts.json"),
                     "--metric", "mine:mean_level")
    values = np.array(record["per_step"]["mean_level"]["values"])
    assert values.shape == (4, 2) and ((values >= 0) & (values <= 255)).all()
    assert "preference" not in record["per_step"] and record["task"]["kind"] == "prompts"


def test_a_store_without_mazes_gets_distances_to_its_last_step(folders, tmp_path):
    from interp.store import TraceStore
    from interp.viz.steps_grid import x0_from_store

    store = tmp_path / "t.h5"
    assert cos(["trace", "--model", str(folders["ltx"]), "--prompt", "a red ball", *GEOMETRY["ltx"],
                "--num-steps", "3", "--seeds", "0,1", "--sites", "x0", "--out", str(store)]) == 0
    assert cos(["cos-metrics", str(store), "--out", str(tmp_path / "m")]) == 0
    record = json.loads((tmp_path / "m" / "metrics.json").read_text())
    with TraceStore.open(store) as opened:
        x0 = [x0_from_store(opened, sid)[0].astype(np.float64) for sid in opened.sample_ids()]
    expected = [[float(np.sqrt(((x[s] - x[-1]) ** 2).mean())) for x in x0] for s in range(3)]
    np.testing.assert_allclose(record["per_step"]["distance_to_final"]["values"], expected, rtol=1e-5, atol=1e-7)
    assert record["per_step"]["distance_to_final"]["values"][-1] == [0.0, 0.0]
