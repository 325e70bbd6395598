"""Token maps from a store: values against direct numpy computations, files, CLI errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interp.cli.main import main
from interp.errors import InputError
from interp.store import TraceStore
from interp.viz.maps import TokenPCA, frame_energy, place, sample_maps, token_norms


def test_norms_and_energy_against_numpy(planted):
    with TraceStore.open(planted[0]) as store:
        sid = store.sample_ids()[0]
        grid = store.token_grid("blocks.0.resid_post")
        X = store.read(sid, "blocks.0.resid_post", steps=[1])[0]
    maps = token_norms(X, grid)
    f, h, w = grid[17]
    assert maps[f, h, w] == pytest.approx(np.linalg.norm(X[17].astype(np.float64)))
    energy = frame_energy(X, grid)
    assert energy[2] == pytest.approx(np.linalg.norm(X[grid[:, 0] == 2], axis=1).mean())
    # the planted wall signal makes wall tokens louder on layer 0
    walls = planted[1][0].walls
    assert np.nanmean(maps[:, walls]) > np.nanmean(maps[:, ~walls])


def test_pca_is_fitted_once_across_steps():
    rng = np.random.default_rng(0)
    direction = rng.normal(size=8)
    steps = [rng.normal(size=(200, 8)) + k * 3 * direction for k in range(3)]
    pca = TokenPCA.fit(steps)
    # the component that separates the steps is the first; colours keep their meaning across steps
    assert abs(pca.components[0] @ direction) / np.linalg.norm(direction) > 0.95
    red = [pca.colours(x)[:, 0].mean() for x in steps]
    assert red[0] < red[1] < red[2]
    # the same tokens get the same colour whichever step set they are coloured with
    np.testing.assert_allclose(pca.colours(steps[1][:5]), pca.colours(steps[1])[:5])


def test_place_compacts_strided_grids():
    grid = np.array([[0, 0, 0], [0, 0, 2], [0, 2, 0], [0, 2, 2]])
    np.testing.assert_array_equal(place(np.arange(4.0), grid)[0], [[0, 1], [2, 3]])
    with pytest.raises(InputError, match="pooled"):
        place(np.arange(2.0), np.array([[0, -1, -1], [1, -1, -1]]))


def test_sample_maps_writes_every_figure(planted, tmp_path):
    with TraceStore.open(planted[0]) as store:
        paths = sample_maps(store, store.sample_ids()[1], tmp_path, layers=[0, 2], progress=False)
    names = {p.name for p in paths.values()}
    assert {"norm_layer0.png", "pca_layer2.png", "pca_layer2.gif", "energy.png", "norm_vs_step.png", "maps.json",
            "layer_frame_step0.png", "layer_frame_step1.png"} <= names
    assert all(p.stat().st_size > 1000 for p in paths.values() if p.suffix in (".png", ".gif"))
    summary = json.loads((tmp_path / "maps.json").read_text())
    assert len(summary["frame_energy"]["0"]) == 2 and len(summary["frame_energy"]["0"][0]) == 3


def test_cli_maps(planted, tmp_path, capsys):
    out = tmp_path / "maps"
    assert main(["maps", str(planted[0]), "--layers", "1", "--steps", "1", "--out", str(out)]) == 0
    assert (out / "pca_layer1.png").is_file()
    bad = tmp_path / "bad"
    assert main(["maps", str(planted[0]), "--layers", "5", "--out", str(bad)]) == 2
    assert "unknown layers [5]" in capsys.readouterr().err
    assert main(["maps", str(planted[0]), "--sample", "nope", "--out", str(bad)]) == 2
    assert "unknown sample 'nope'" in capsys.readouterr().err
    assert not bad.exists()
