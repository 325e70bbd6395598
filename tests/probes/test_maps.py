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


@pytest.fixture
def saved_figures(monkeypatch):
    """Keep each figure the map functions save, to read its titles and ticks."""
    import interp.viz.maps as maps_module

    figures = []
    real_save = maps_module._save

    def keep(fig, path):
        figures.append(fig)
        return real_save(fig, path)

    monkeypatch.setattr(maps_module, "_save", keep)
    return figures


def test_curves_have_titles_integer_step_ticks_and_n(tmp_path, saved_figures):
    from interp.viz.maps import plot_energy, plot_norm_vs_step

    energy = {0: np.ones((3, 4)), 5: 2 * np.ones((3, 4))}
    plot_energy(energy, [0, 1, 2], tmp_path / "energy.png", title="s: ")
    plot_norm_vs_step(energy, [0, 1, 2], tmp_path / "norm.png", title="s: ")
    energy_fig, norm_fig = saved_figures
    assert "n = 1" in energy_fig._suptitle.get_text()
    step_bar = [ax for ax in energy_fig.axes if ax.get_ylabel() == "denoising step"][0]
    assert all(float(t).is_integer() for t in step_bar.get_yticks())
    (ax,) = norm_fig.axes
    assert ax.get_title() and "n = 1" in ax.get_title()
    assert all(float(t).is_integer() for t in ax.get_xticks())
    legend = ax.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1  # beside the data


def test_norm_maps_offer_one_scale_per_step(tmp_path, saved_figures):
    from interp.viz.maps import plot_step_frame_maps

    maps = np.stack([np.full((2, 3, 3), 100.0), np.full((2, 3, 3), 1.0)])  # a late step with tiny norms
    maps[1, 0, 0, 0] = 2.0
    plot_step_frame_maps(maps, [0, 19], tmp_path / "per_step.png", title="t", scale="step")
    fig = saved_figures[-1]
    late = [ax for ax in fig.axes if ax.get_ylabel() == "step 19"][0]
    assert late.images[0].get_clim() == (1.0, 2.0)  # its own range, not 1..100
    assert "one scale per step" in fig._suptitle.get_text()
    with pytest.raises(InputError, match="colour scale 'row'"):
        plot_step_frame_maps(maps, [0, 19], tmp_path / "x.png", title="t", scale="row")


def test_pca_animation_is_labelled(tmp_path):
    from PIL import Image

    from interp.viz.maps import steps_animation

    maps = np.random.default_rng(0).random((2, 3, 4, 4, 3))
    path = steps_animation(maps, tmp_path / "pca.gif", steps=[0, 7], title="PCA colours of layer 3", cell=16)
    with Image.open(path) as gif:
        assert gif.n_frames == 2
        header = np.asarray(gif.convert("RGB"))[:26]
    assert (header < 128).any()  # text drawn above the maps
