"""What ``cos view`` writes, checked against the store and the results it reads (no browser)."""

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from interp.cli.main import main
from interp.interventions.patching import PatchGrid
from interp.store import TraceStore
from interp.viewer import build_viewer, view

ROOT = Path(__file__).resolve().parents[2]
PATCH = ROOT / "experiments/results/organism_patching_64/direct"
PROBES = ROOT / "experiments/results/probe_localisation"


def chunk(path: Path):
    """The JSON inside a ``COS_VIEWER.loaded(kind, key, {...});`` chunk."""
    text = path.read_text()
    head = text.index(",", text.index(",") + 1) + 1
    return json.loads(text[head:text.rindex(")")])


@pytest.fixture(scope="module")
def built(tiny_trace, tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "viewer"
    info = build_viewer(tiny_trace, out, patch=PATCH, probes=PROBES, progress=False)
    return tiny_trace, out, info


def test_pictures_are_the_stores_x0_and_token_norms(built):
    trace, out, info = built
    assert info["index"].is_file() and info["samples"] == 2
    manifest = chunk(out / "data/manifest.js")
    assert manifest["sites"] == ["blocks.2.resid_post", "blocks.6.resid_post"] and manifest["x0_pixels"]
    sample = chunk(out / "data/s1/sample.js")
    with TraceStore.open(trace) as store:
        sample_id = store.sample_ids()[1]
        x0 = store.read(sample_id, "x0")                       # [S, T, 3] in [-1, 1]
        grid = store.token_grid("x0")
        layer6 = store.read(sample_id, "blocks.6.resid_post")  # [S, T, D]
        block_grid = store.token_grid("blocks.6.resid_post")
        sigmas = store.meta(sample_id)["sigmas"]
    assert sample["id"] == sample_id and sample["sigmas"] == pytest.approx(sigmas)
    f, h, w = (int(grid[:, i].max()) + 1 for i in range(3))
    expected = ((np.clip(x0, -1, 1) + 1) * 127.5).round().astype(np.uint8).reshape(len(x0), f, h, w, 3)
    sprite = np.asarray(Image.open(out / "data/s1" / sample["x0"]["file"]))
    assert sprite.shape == (len(x0) * h, f * w, 3)
    step, frame = 2, 1  # row = step, column = frame
    assert np.abs(sprite[step * h:(step + 1) * h, frame * w:(frame + 1) * w].astype(int)
                  - expected[step, frame]).max() <= 1
    # the norm map's brightest token is where numpy's own norm is largest, and the range is its range
    norms = np.linalg.norm(layer6.astype(np.float64), axis=-1)  # [S, T]
    info6 = sample["sites"]["blocks.6.resid_post"]
    assert info6["norm"]["range"] == pytest.approx([norms.min(), norms.max()], abs=1e-3)
    s, t = np.unravel_index(norms.argmax(), norms.shape)
    fr, r, c = block_grid[t]
    ch, cw = info6["norm"]["cell"]
    picture = np.asarray(Image.open(out / "data/s1" / info6["norm"]["file"])).astype(int)
    brightest = picture[s * ch + r, fr * cw + c]
    assert brightest.sum() == picture.reshape(-1, 3).sum(1).max()
    assert info6["mean_norm"][s][fr] == pytest.approx(norms[s][block_grid[:, 0] == fr].mean(), abs=1e-3)


def test_patching_and_probe_chunks_hold_the_results(built):
    _, out, _ = built
    patch = chunk(out / "data/patch.js")
    grid = PatchGrid.load(PATCH)
    assert patch["n_pairs"] == len(grid.coords["pair"]) and patch["regions"] == grid.coords["region"]
    expected = grid.normalised("preference")
    got = np.array(patch["metrics"]["preference"]["matrix"], dtype=float)
    assert np.allclose(got, expected, atol=1e-4, equal_nan=True)
    # per-pair values average back to the cell
    pairs = np.array(patch["metrics"]["preference"]["pairs"], dtype=float)
    assert np.allclose(np.nanmean(pairs, -1), expected, atol=1e-3, equal_nan=True)
    assert (out / "data/patch_effects.png").is_file()
    rows = json.loads((PROBES / "probes.json").read_text())["rows"]
    probes = chunk(out / "data/probes.js")
    row = next(r for r in rows if r["branch"] == "cond" and r["target"] == "route")
    panel = probes["panels"]["cond/route"]
    cell = panel["values"]["score"][panel["layers"].index(row["layer"])][panel["steps"].index(row["step"])]
    assert cell == pytest.approx(row["score"], abs=1e-4)
    assert "control_shuffle" in panel["values"] and "selectivity_shuffle" in panel["values"]


def test_cos_metrics_match_the_cos_metrics_command(built, tmp_path):
    trace, out, _ = built
    assert main(["cos-metrics", str(trace), "--out", str(tmp_path / "m")]) == 0
    reference = json.loads((tmp_path / "m/metrics.json").read_text())["samples"]
    for index, sample_id in enumerate(reference):
        got = chunk(out / f"data/s{index}/sample.js")["cos"]
        for key in ("candidates", "commitment_step", "perception_step", "action_step", "wrong"):
            assert got[key] == reference[sample_id][key], key
    # given the command's file, the viewer shows that file's numbers
    again = build_viewer(trace, tmp_path / "v2", cos=tmp_path / "m/metrics.json", progress=False)
    assert chunk(again["out"] / "data/s0/sample.js")["cos"]["candidates"] == reference[next(iter(reference))]["candidates"]


def test_refuses_to_replace_a_viewer_without_overwrite(built, capsys):
    trace, out, _ = built
    before = (out / "data/manifest.js").read_bytes()
    assert main(["view", str(trace), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--overwrite" in err and str(out) in err
    assert (out / "data/manifest.js").read_bytes() == before
    assert main(["view", str(trace), "--out", str(out), "--overwrite"]) == 0
    assert "file://" in capsys.readouterr().out
    assert not list(out.parent.glob(f".{out.name}.building-*")) and not list(out.glob(".old-*"))
    assert main(["view", str(trace), "--out", str(out / "x"), "--patch", str(out / "nowhere")]) == 2


def test_view_serves_the_page_on_loopback(built, tmp_path):
    trace, _, _ = built
    viewer = view(trace, tmp_path / "served")
    try:
        assert viewer.url.startswith("http://127.0.0.1:")
        assert f'src="{viewer.url}"' in viewer._repr_html_()
        with urllib.request.urlopen(viewer.url, timeout=10) as response:
            assert b"cos-interp trace viewer" in response.read()
        with urllib.request.urlopen(viewer.url.replace("index.html", "data/manifest.js"), timeout=10) as response:
            assert response.read().startswith(b"COS_VIEWER.loaded(")
    finally:
        viewer.close()


def test_interp_view_is_the_viewer():
    import interp
    from interp.viewer import view as direct

    assert interp.view is direct


def test_probe_maps_score_each_sample_with_probes_fitted_on_the_others(tiny_trace, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from probes.labels import label_matrix

    out = build_viewer(tiny_trace, tmp_path / "v", probe_map="route", progress=False)["out"]
    assert chunk(out / "data/manifest.js")["probe_map"]["target"] == "route"
    site = "blocks.6.resid_post"
    with TraceStore.open(tiny_trace) as store:
        ids = store.sample_ids()
        labels = label_matrix(store, ids, ["route"], store.token_grid(site))["route"]
        X = [store.read(i, site) for i in ids]
    for test in (0, 1):  # two samples, two folds: each is scored by a probe fitted on the other alone
        train = 1 - test
        y = np.tile(labels[train], len(X[train]))
        keep = y >= 0
        oracle = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))
        oracle.fit(X[train].reshape(-1, X[train].shape[-1])[keep], y[keep])
        mask = labels[test] >= 0
        expected = [float((oracle.predict(x[mask]) == labels[test][mask]).mean()) for x in X[test]]
        got = chunk(out / f"data/s{test}/sample.js")["sites"][site]["probe"]["score"]
        assert got == pytest.approx(expected, abs=0.03)
    assert main(["view", str(tiny_trace), "--out", str(tmp_path / "w"), "--probe-map", "open_sides"]) == 2
