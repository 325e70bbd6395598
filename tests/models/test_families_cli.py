"""The causal commands (noise, erase, swap, patch, cos-metrics, ensemble) on tiny CogVideoX, HunyuanVideo (1.0 and 1.5) and Mochi folders.

CogVideoX samples by DDIM, runs both guidance branches in one batched call and reads prompts at
the text length its transformer fixes (16 tokens in the tiny config, 226 in the released ones);
HunyuanVideo encodes a prompt with two text encoders (a Llama decoder and CLIP) and embeds its
guidance; Mochi reads a T5 prompt with its attention mask and compresses time by 6. Oracles
independent of the code: the diffusers pipeline loaded from the same folder, given the same prompt
(final latents bitwise); noise of std 0 and a swap with the run's own values change nothing; the last step's estimate is the final output (CogVideoX's noise distances,
against a direct torch computation: tests/models/test_arms_cli.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from interp.cli.main import main as cos

from tiny_folders import GEOMETRY

FAMILIES = ["cogvideox", "hunyuan-video", "mochi"]
SIZE = dict(height=16, width=16, num_frames=5)


def command(folders, name, experiment, out, *extra, record="result.json"):
    assert cos([experiment, "--model", str(folders[name]), *GEOMETRY[name], "--num-steps", "3", *extra,
                "--out", str(out)]) == 0
    return json.loads((out / record).read_text())


def arm(result, name):
    return next(a for a in result["arms"] if a["name"] == name)


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompts") / "prompts.json"
    path.write_text(json.dumps(["a red ball rolls left", "a cat walks up"]))
    return path


@pytest.mark.parametrize("name, text_length", [("cogvideox", 16), ("hunyuan-video", 256), ("hunyuan-video-1.5", 1000)])
def test_a_prompt_is_encoded_and_sampled_as_the_pipeline_does(folders, name, text_length):
    """The pipeline gets the tiny CogVideoX's text length by hand: its default, 226, does not fit
    (HunyuanVideo 1.5's pipeline fixes its own length, 1000)."""
    from interp.interventions import run
    from interp.models import load_model

    model = load_model(str(folders[name]))
    size = dict(SIZE, height=32, width=32) if name == "hunyuan-video-1.5" else SIZE
    inputs = model.prepare(prompt="a red ball rolls left", seeds=[3], **size)
    assert inputs.cond["encoder_hidden_states"].shape[1] == text_length
    length = {} if name == "hunyuan-video-1.5" else {"max_sequence_length": text_length}
    expected = model.pipe(prompt="a red ball rolls left", num_inference_steps=2, **length,
                          generator=torch.Generator().manual_seed(3), output_type="latent", **size).frames
    result = run(model, inputs, num_steps=2, decode=False, progress=False)
    assert torch.equal(model.pipeline_latents(result.latents), expected)
    other = model.prepare(prompt="a blue ball rolls left", seeds=[3], **size)
    assert not torch.equal(other.cond["encoder_hidden_states"], inputs.cond["encoder_hidden_states"])


def test_prompt_embeddings_of_another_length_are_refused_by_cogvideox(folders):
    from interp.errors import InputError
    from interp.models import load_model

    model = load_model(str(folders["cogvideox"]))
    with pytest.raises(InputError, match="reads 16 .*max_text_seq_length"):
        model.prepare(prompt_embeds=torch.zeros(1, 20, 32), seeds=[0], guidance_scale=1.0, **SIZE)


@pytest.mark.parametrize("name", FAMILIES)
def test_noise_of_std_0_leaves_the_clean_run(folders, prompts, name, tmp_path):
    noise = command(folders, name, "noise", tmp_path, "--prompts", str(prompts), "--steps", "1",
                    "--std", "0,2", "--guidance", "3")
    np.testing.assert_allclose(arm(noise, "step1/std0")["clean_distance"]["values"], 0.0, atol=1e-5)
    assert min(arm(noise, "step1/std2")["clean_distance"]["values"]) > 1e-2
    assert noise["meta"]["family"] == name


@pytest.mark.parametrize("name", FAMILIES)
def test_a_swap_with_the_runs_own_values_leaves_it(folders, name, tmp_path):
    swap = command(folders, name, "swap", tmp_path, "--prompt-pairs", str(folders["pairs"]), "--layers", "0,1",
                   "--steps", "1", "--partner", "self", "--guidance", "3")
    for layer in (0, 1):
        np.testing.assert_allclose(arm(swap, f"step1/layer{layer}")["clean_distance"]["values"], 0.0, atol=1e-5)


@pytest.mark.parametrize("name", FAMILIES)
def test_the_last_steps_estimate_is_the_final_output(folders, name, tmp_path):
    steps = command(folders, name, "cos-metrics", tmp_path, "--prompt-pairs", str(folders["pairs"]),
                    "--guidance", "3", record="metrics.json")
    assert steps["per_step"]["distance_to_final"]["values"][-1] == [0.0, 0.0]
    np.testing.assert_allclose(steps["per_step"]["preference"]["values"][-1], 1.0, atol=1e-4)


@pytest.mark.parametrize("name", FAMILIES)
def test_swapping_the_partners_last_block_moves_the_run_toward_it(folders, name, tmp_path):
    """At the last step the last block's output in every branch sets the prediction but for the
    output head's conditioning on the timestep (and HunyuanVideo's pooled prompt), so the run
    leaves the clean output for the partner's."""
    result = command(folders, name, "swap", tmp_path, "--prompt-pairs", str(folders["pairs"]), "--steps", "2",
                     "--layers", "1", "--guidance", "3")
    assert all(v < 1 - 1e-3 for v in arm(result, "step2/layer1")["preference"]["values"])


def test_erase_runs_on_hunyuan_video_and_is_refused_on_cogvideox_before_any_run(folders, prompts, tmp_path, capsys):
    result = command(folders, "hunyuan-video", "erase", tmp_path / "h", "--prompts", str(prompts), "--steps", "0,1",
                     "--region", "none,all")
    for unchanged in ("step0/all", "step1/none"):  # sigma_0 = 1: the erased x0 has no weight in x_t
        np.testing.assert_allclose(arm(result, unchanged)["clean_distance"]["values"], 0.0, atol=1e-5)
    assert min(arm(result, "step1/all")["relative_distance"]["values"]) > 1e-3
    code = cos(["erase", "--model", str(folders["cogvideox"]), *GEOMETRY["cogvideox"], "--num-steps", "3",
                "--prompts", str(prompts), "--steps", "1", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and "cos erase re-forms x_t" in err and "cogvideox does not sample by (not flow matching)" in err
    assert "Traceback" not in err and not (tmp_path / "c" / "result.json").exists()


def test_image_pairs_are_refused_by_a_text_to_video_family(folders, tmp_path, capsys):
    from PIL import Image

    for which in ("clean", "corrupt"):
        Image.new("RGB", (16, 16)).save(tmp_path / f"{which}.png")
    (tmp_path / "images.json").write_text(json.dumps([{"clean": "clean.png", "corrupt": "corrupt.png"}]))
    code = cos(["noise", "--model", str(folders["hunyuan-video"]), *GEOMETRY["hunyuan-video"], "--num-steps", "2",
                "--image-pairs", str(tmp_path / "images.json"), "--prompt", "a maze", "--out", str(tmp_path / "o")])
    assert code == 2 and "not an image-to-video model" in capsys.readouterr().err


def test_a_folder_without_text_encoders_refuses_text_prompts(tmp_path, capsys):
    from interp.models.tiny_zoo import save_tiny_pipeline

    folder = save_tiny_pipeline("hunyuan-video", tmp_path / "bare", text_encoder=False)
    code = cos(["noise", "--model", str(folder), "--height", "16", "--width", "16", "--frames", "5", "--num-steps", "2",
                "--prompt", "a red ball", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "has no text_encoder or text_encoder_2" in err and "prompt embeddings" in err


@pytest.mark.parametrize("name, restores", [("cogvideox", True), ("hunyuan-video", False)])
def test_patching_the_last_blocks_tokens_from_the_clean_run(folders, name, restores, tmp_path):
    """With one step, the last block's output in both branches fixes CogVideoX's prediction (its
    output head reads only the timestep), so the patched run lands on the clean run; HunyuanVideo's
    head also reads the pooled prompt, so the corrupted prompt keeps part of its effect there."""
    from interp.interventions import PatchGrid

    assert cos(["patch", "--model", str(folders[name]), *GEOMETRY[name], "--prompt-pairs", str(folders["pairs"]),
                "--guidance", "3", "--num-steps", "1", "--layers", "0,1", "--out", str(tmp_path)]) == 0
    grid = PatchGrid.load(tmp_path)
    np.testing.assert_allclose(grid.clean["preference"], 1.0)
    np.testing.assert_allclose(grid.corrupt["preference"], -1.0)
    last = grid.normalised("preference")[0, 1, 0]  # region all, layer 1, step 0: one value per pair
    assert np.isfinite(grid.values["preference"]).all()
    if restores:
        np.testing.assert_allclose(last, 1.0, atol=1e-3)
    else:
        assert (last < 1 - 1e-3).all() and (last > -1).all()


def test_ensemble_on_cogvideox_merges_estimates_and_refuses_renoising_before_running(folders, tmp_path, capsys):
    common = ["ensemble", "--model", str(folders["cogvideox"]), "--prompt", "a red ball", *GEOMETRY["cogvideox"],
              "--k", "2", "--at", "1", "--num-steps", "3"]
    assert cos([*common, "--merge", "x0_mean", "--out", str(tmp_path / "mean")]) == 0
    assert json.loads((tmp_path / "mean" / "ensemble.json").read_text())["k"] == 2
    capsys.readouterr()
    assert cos([*common, "--merge", "x0_renoise", "--out", str(tmp_path / "renoise")]) == 2
    assert "use x0_mean or xt_mean" in capsys.readouterr().err
    assert not (tmp_path / "renoise" / "ensemble.json").exists()


#: HunyuanVideo 1.5's pipeline encodes every prompt at 1000 tokens: one prompt, no guidance, to stay quick.
H15 = ["--prompt", "a red ball", "--steps", "1", "--guidance", "1"]


def test_hunyuan_video_15_noise_from_the_command_line(folders, tmp_path):
    noise = command(folders, "hunyuan-video-1.5", "noise", tmp_path, *H15, "--std", "0,2")
    assert noise["meta"]["family"] == "hunyuan-video-1.5"
    np.testing.assert_allclose(arm(noise, "step1/std0")["clean_distance"]["values"], 0.0, atol=1e-5)
    assert arm(noise, "step1/std2")["clean_distance"]["values"][0] > 1e-2


def test_hunyuan_video_15_self_swap_from_the_command_line(folders, tmp_path):
    swap = command(folders, "hunyuan-video-1.5", "swap", tmp_path, *H15, "--layers", "1", "--partner", "self",
                   "--site", "attn1.out")
    np.testing.assert_allclose(arm(swap, "step1/layer1")["clean_distance"]["values"], 0.0, atol=1e-5)


def test_true_guidance_from_the_command_line_samples_as_the_pipeline_does(folders, prompts, tmp_path, capsys):
    """HunyuanVideo's --guidance is distilled; --true-cfg with --negative-prompt adds classifier-free
    guidance (a second call per step): the clean run equals the pipeline's with ``true_cfg_scale``.
    Without a negative prompt, or on a family without it, the option is refused in one line."""
    from interp.cli.main import parse
    from interp.cli.pair_inputs import task_from_args
    from interp.interventions import run
    from interp.models import load_model

    folder = str(folders["hunyuan-video"])
    args = parse(["noise", "--model", folder, *GEOMETRY["hunyuan-video"], "--prompt", "a red ball rolls left",
                  "--negative-prompt", "blurry", "--true-cfg", "3", "--guidance", "6", "--out", str(tmp_path / "o")])
    model = load_model(folder)
    inputs = task_from_args(args).inputs(model, "clean", [3])
    assert inputs.do_guidance
    result = run(model, inputs, num_steps=2, decode=False, progress=False)
    expected = model.pipe(prompt="a red ball rolls left", negative_prompt="blurry", true_cfg_scale=3.0,
                          guidance_scale=6.0, num_inference_steps=2, max_sequence_length=256,
                          generator=torch.Generator().manual_seed(3), output_type="latent", **SIZE).frames
    assert torch.equal(model.pipeline_latents(result.latents), expected)
    assert cos(["noise", "--model", folder, *GEOMETRY["hunyuan-video"], "--prompts", str(prompts), "--true-cfg", "3",
                "--out", str(tmp_path / "a")]) == 2
    assert "--true-cfg needs --negative-prompt" in capsys.readouterr().err
    assert cos(["noise", "--model", str(folders["cogvideox"]), *GEOMETRY["cogvideox"], "--prompts", str(prompts),
                "--negative-prompt", "blurry", "--true-cfg", "3", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "takes no true_cfg_scale" in err and "Traceback" not in err
