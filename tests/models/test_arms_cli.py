"""``cos noise``, ``cos erase`` and ``cos swap`` on a prompt list or prompt pairs, from the command
line, on tiny random Wan2.2 (two experts) and LTX folders (the distances also on CogVideoX, which
samples by DDIM).

Oracles independent of the code: noise of std 0, the erasure of no token and a swap of a layer with
its own run are no edit at all (the output is the clean run's); an erasure at a step where sigma is
1 re-forms x_t as pure noise, which it already was; and the reported distances equal a direct torch
computation on the final latents of runs made here with the plain executor.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from interp.cli.main import main as cos

from tiny_folders import GEOMETRY

SHARED = {"wan22-a14b": dict(height=16, width=16, num_frames=5), "ltx": dict(height=32, width=32, num_frames=9),
          "cogvideox": dict(height=16, width=16, num_frames=5)}


def command(folders, name, experiment, out, *extra):
    code = cos([experiment, "--model", str(folders[name]), *GEOMETRY[name], "--num-steps", "3", *extra,
                "--out", str(out)])
    assert code == 0
    return json.loads((out / "result.json").read_text())


def arm(result, name):
    return next(a for a in result["arms"] if a["name"] == name)


@pytest.fixture(scope="module")
def prompts(folders, tmp_path_factory):
    path = tmp_path_factory.mktemp("prompts") / "prompts.json"
    path.write_text(json.dumps(["a red ball rolls left", "a cat walks up"]))
    return path


@pytest.mark.parametrize("name", ["wan22-a14b", "ltx"])
def test_edits_that_change_nothing_leave_the_clean_run(folders, prompts, name, tmp_path, capsys):
    noise = command(folders, name, "noise", tmp_path / "n", "--prompts", str(prompts), "--steps", "1",
                    "--std", "0,2", "--guidance", "3")
    np.testing.assert_allclose(arm(noise, "step1/std0")["clean_distance"]["values"], 0.0, atol=1e-5)
    assert min(arm(noise, "step1/std2")["clean_distance"]["values"]) > 1e-2
    swap = command(folders, name, "swap", tmp_path / "s", "--prompts", str(prompts), "--layers", "0",
                   "--steps", "1", "--partner", "self", "--guidance", "3")
    np.testing.assert_allclose(arm(swap, "step1/layer0")["clean_distance"]["values"], 0.0, atol=1e-5)
    assert (tmp_path / "s" / "arms.png").is_file() and swap["meta"]["family"].startswith(name[:3])
    # with itself as the partner there is no other side: no preference and no flip, and the line says distance
    assert arm(swap, "step1/layer0")["preference"]["value"] is None and arm(swap, "step1/layer0")["flip"]["value"] is None
    assert "; clean_distance: step1/layer0 0" in capsys.readouterr().out


def test_erase_of_nothing_and_at_pure_noise_are_identities(folders, prompts, tmp_path):
    result = command(folders, "wan22-a14b", "erase", tmp_path, "--prompts", str(prompts), "--steps", "0,1",
                     "--region", "none,all,frame:1")
    for unchanged in ("step0/all", "step0/frame:1", "step1/none"):   # sigma_0 = 1: (1 - sigma) x0 vanishes
        np.testing.assert_allclose(arm(result, unchanged)["clean_distance"]["values"], 0.0, atol=1e-5)
    assert min(arm(result, "step1/all")["relative_distance"]["values"]) > 1e-3


@pytest.mark.parametrize("name, guidance", [("wan22-a14b", "4"), ("cogvideox", "3")])
def test_distances_equal_a_direct_computation(folders, name, guidance, tmp_path):
    """Noise at step 1 on prompt pairs, re-run here with the executor: preference and distance by hand."""
    from interp.interventions import At, Intervention, Noise, run
    from interp.models import load_model
    from interp.tasks.input_pairs import InputPairTask

    result = command(folders, name, "noise", tmp_path, "--prompt-pairs", str(folders["pairs"]),
                     "--steps", "1", "--std", "1", "--guidance", guidance, "--noise-seed", "3")
    pairs = json.loads(folders["pairs"].read_text())
    model = load_model(str(folders[name]))
    task = InputPairTask([{"prompt": p["clean"]} for p in pairs], [{"prompt": p["corrupt"]} for p in pairs],
                         shared={**SHARED[name], "guidance_scale": float(guidance)})
    clean, corrupt = (task.inputs(model, which, [3, 4]) for which in ("clean", "corrupt"))
    a = run(model, clean, num_steps=3, progress=False).latents.double()
    b = run(model, corrupt, num_steps=3, progress=False).latents.double()
    x = run(model, clean, [Intervention(At("x_t", steps=[1]), Noise(1.0, 0))], num_steps=3,
            progress=False).latents.double()
    rms = lambda u, v: ((u - v) ** 2).flatten(1).mean(1).sqrt()  # noqa: E731
    expected = ((rms(x, b) - rms(x, a)) / rms(a, b)).numpy()
    got = arm(result, "step1/std1")
    np.testing.assert_allclose(got["clean_distance"]["values"], rms(x, a).numpy(), rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(got["preference"]["values"], expected, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(result["clean"]["preference"]["values"], 1.0)


def test_swap_with_the_pairs_partner_at_every_layer_of_one_step_moves_toward_it(folders, tmp_path):
    """The last block's output at the last step fixes the velocity there: the swapped run lands on
    the partner's final latents in the step's update, so its preference falls below the clean run's."""
    result = command(folders, "ltx", "swap", tmp_path, "--prompt-pairs", str(folders["pairs"]), "--steps", "2",
                     "--guidance", "3")
    last = arm(result, "step2/layer1")["preference"]["values"]
    assert all(v < 1 - 1e-3 for v in last)


@pytest.mark.parametrize("extra, message", [
    ([], "needs inputs"),
    (["--prompts", "PROMPTS", "--partner", "pair"], "needs pairs"),
    (["--prompts", "PROMPTS", "--site", "nope"], "--site nope"),
])
def test_bad_swap_options_are_one_line_errors(folders, prompts, tmp_path, capsys, extra, message):
    extra = [str(prompts) if e == "PROMPTS" else e for e in extra]
    code = cos(["swap", "--model", str(folders["ltx"]), *GEOMETRY["ltx"], "--num-steps", "2", *extra,
                "--out", str(tmp_path)])
    assert code == 2 and message in capsys.readouterr().err


def test_image_pairs_erase_of_nothing_is_the_clean_run_and_of_a_frame_is_not(folders, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    for which in ("clean", "corrupt"):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(tmp_path / f"{which}.png")
    (tmp_path / "images.json").write_text(json.dumps([{"clean": "clean.png", "corrupt": "corrupt.png"}]))
    result = command(folders, "wan21-i2v", "erase", tmp_path / "out", "--image-pairs", str(tmp_path / "images.json"),
                     "--prompt", "a maze", "--steps", "1", "--region", "none,frame:1")
    assert result["meta"]["task"]["kind"] == "images"
    np.testing.assert_allclose(arm(result, "step1/none")["clean_distance"]["values"], 0.0, atol=1e-5)
    np.testing.assert_allclose(arm(result, "step1/none")["preference"]["values"], 1.0, atol=1e-4)
    assert arm(result, "step1/frame:1")["clean_distance"]["values"][0] > 1e-3


def test_noise_in_a_frame_alone_runs_no_step_arm(folders, prompts, tmp_path):
    result = command(folders, "ltx", "noise", tmp_path, "--prompt", "a red ball", "--noise-frames", "0,1",
                     "--std", "0.5")
    assert [a["name"] for a in result["arms"]] == ["frame0/std0.5", "frame1/std0.5"]
    assert result["n_inputs"] == 1 and result["meta"]["task"]["corrupt"] is None


def test_erasing_is_refused_where_sampling_is_not_flow_matching():
    """CogVideoX samples by DDIM: re-forming x_t as (1 - sigma) x0 + sigma noise would be wrong there."""
    import torch

    from interp.causal.erase import erase_edit
    from interp.errors import InputError
    from interp.models.tiny_zoo import tiny_model

    model, inputs = tiny_model("cogvideox")
    x = torch.zeros_like(inputs.latents)
    with pytest.raises(InputError, match="not flow matching"):
        erase_edit(model, inputs, step=1, mask=np.zeros((1, x[0, 0].numel()), bool), fill=0.0, x_t=x, x0=x,
                   num_steps=3)
