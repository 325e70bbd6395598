"""Write docs/notebooks/*.ipynb from the cells below and execute them in place (outputs kept for the site).

    .venv/bin/python tests/docs/make_notebooks.py [tour probes patching ensemble]

The notebooks are the source readers open; this script only keeps their first version
reproducible. ``tests/docs/test_notebooks.py`` executes them afresh.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "docs" / "notebooks"
SETUP = ("import warnings, torch\n"
         "warnings.filterwarnings('ignore', message='IProgress')   # tqdm's notebook bar needs ipywidgets\n"
         "torch.set_num_threads(2)")

CELLS = {
    "tour": [
        ("md", "# Tour: trace a maze, the step x frame grid, read the store\n\n"
               "The bundled organism solves a 5x5 maze in 20 denoising steps on a CPU. We watch its clean-video "
               "estimate $\\hat x_0$ at every step, record its activations into a trace store, and read the store "
               "back twice: with plain `h5py` and with the reader."),
        ("code", SETUP),
        ("code", "import numpy as np\nimport interp\n\n"
                 "model = interp.load_model('organism')\n"
                 "maze = interp.generate_maze(5, seed=0)\n"
                 "inputs = model.prepare(first_frame=interp.render_maze(maze, upto=0), seeds=[0])\n"
                 "result = interp.run(model, inputs, interp.observe('x0'), num_steps=20, progress=False)\n"
                 "x0 = result.trajectory('x0')[:, 0]                      # [step, RGB, frame, H, W]\n"
                 "interp.score_video(result.video[0], maze).exact"),
        ("md", "## The step x frame grid\n\nRows are denoising steps, columns are frames: the reasoning unfolds "
               "down the rows (Chain-of-Steps), not along the columns."),
        ("code", "from IPython.display import Image\n"
                 "from interp.metrics.cos import model_space_to_uint8\n"
                 "from interp.viz import step_frame_grid\n\n"
                 "frames = model_space_to_uint8(x0.permute(0, 2, 3, 4, 1).numpy())   # [S, F, H, W, 3]\n"
                 "steps = [0, 1, 2, 4, 8, 19]\n"
                 "Image(filename=str(step_frame_grid(frames[steps], steps, 'outputs/tour/grid.png', min_cell=64)))"),
        ("md", "The Chain-of-Steps metrics of this trajectory: candidate routes per step, the commitment step."),
        ("code", "m = interp.cos_metrics(frames, maze)\n"
                 "m.candidates.tolist(), m.commitment_step, m.perception_step, m.action_step"),
        ("md", "## Capture into a trace store\n\n`interp.trace` runs the model and streams the chosen sites into HDF5 (it is `interp.capture.capture`)."),
        ("code", "spec = interp.CaptureSpec.make(['resid_post', 'x0'], layers=[2, 6, 11], steps=[0, 5, 19])\n"
                 "interp.trace(model, inputs, spec, 'outputs/tour/trace.h5', num_steps=20, sample_ids=['maze5-seed0'],\n"
                 "               tasks=[{'maze': maze.to_dict()}], progress=False);"),
        ("md", "### With plain h5py\n\nThe store is ordinary HDF5: any tool can read it."),
        ("code", "import h5py\n\n"
                 "with h5py.File('outputs/tour/trace.h5', 'r') as f:             # the index: one link per sample\n"
                 "    print(sorted(f.attrs), list(f['samples']))\n"
                 "    sample = f['samples/maze5-seed0']                         # followed into its own file\n"
                 "    sample.visititems(lambda name, obj: print(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)\n"
                 "    x = sample['sites/blocks.6.resid_post/cond'][:]            # [step, token, width]\n"
                 "x.shape, x.dtype"),
        ("md", "### With the reader"),
        ("code", "with interp.TraceStore.open('outputs/tour/trace.h5') as store:\n"
                 "    print(store.sites(), store.steps())\n"
                 "    acts = store.read('maze5-seed0', 'blocks.6.resid_post', branch='cond')   # [S, T, D]\n"
                 "acts.shape"),
    ],
    "probes": [
        ("md", "# Probes: where does the organism hold the walls, and where the route?\n\n"
               "We trace a few held-out mazes, then fit linear probes per (layer, step) with a split by maze. "
               "Eight mazes are far too few for conclusions (the probe report refuses verdicts below five test "
               "mazes); `experiments/probe_localisation.py` runs the real thing."),
        ("code", SETUP),
        ("code", "import numpy as np\nimport interp\nfrom interp.organism.evaluate import first_frames\n\n"
                 "model = interp.load_model('organism')\n"
                 "mazes = [interp.generate_maze(5, seed=20_000 + i) for i in range(8)]\n"
                 "inputs = model.prepare(first_frame=first_frames(mazes, model.organism), seeds=list(range(8)))\n"
                 "spec = interp.CaptureSpec.make(['resid_post', 'x0'], layers=[0, 3, 6, 9, 11], steps=[0, 10, 19])\n"
                 "interp.trace(model, inputs, spec, 'outputs/probes_nb/trace.h5', num_steps=20,\n"
                 "               sample_ids=[f'maze{i}' for i in range(8)],\n"
                 "               tasks=[{'maze': m.to_dict()} for m in mazes], save_video=False, progress=False);"),
        ("md", "## One probe by hand\n\nLabels come from the maze (`probes.targets`), read out at each token."),
        ("code", "from probes import LogisticProbe\nfrom probes.targets import token_values, unit_targets\n\n"
                 "with interp.TraceStore.open('outputs/probes_nb/trace.h5') as store:\n"
                 "    grid = store.token_grid('blocks.6.resid_post')\n"
                 "    X = [store.read(f'maze{i}', 'blocks.6.resid_post', branch='cond', steps=[10])[0] for i in range(8)]\n"
                 "y = [token_values(unit_targets(m)['route'], grid) for m in mazes]   # -1 where undefined\n"
                 "train = np.concatenate(X[:6]), np.concatenate(y[:6])\n"
                 "test = np.concatenate(X[6:]), np.concatenate(y[6:])\n"
                 "keep_train, keep_test = train[1] >= 0, test[1] >= 0\n"
                 "probe = LogisticProbe(C=0.1).fit(train[0][keep_train], train[1][keep_train])\n"
                 "round(probe.score(test[0][keep_test], test[1][keep_test]), 3)"),
        ("md", "## A sweep over layers and steps"),
        ("code", "from probes.sweep import sweep\n\n"
                 "with interp.TraceStore.open('outputs/probes_nb/trace.h5') as store:\n"
                 "    rows = sweep(store, ['wall', 'route'], progress=False)\n"
                 "for target in ('wall', 'route'):\n"
                 "    print(target, [(r['layer'], r['step'], round(r['score'], 2)) for r in rows\n"
                 "                   if r['target'] == target and r['branch'] == 'cond' and r['step'] == 10])"),
    ],
    "patching": [
        ("md", "# Patching: which layer and step carry the answer?\n\n"
               "A minimal pair is two mazes that differ in one wall, with different shortest routes. We run the "
               "corrupted maze and paste in activations from the clean run at one (layer, step); if the output moves "
               "towards the clean route, that activation carries the difference."),
        ("code", SETUP),
        ("code", "import interp\nfrom interp.tasks.maze_task import PairMetric\n"
                 "from interp.organism.evaluate import first_frames\n\n"
                 "model = interp.load_model('organism')\n"
                 "pairs = interp.make_pairs(5, 2, 910_000)\n"
                 "def inputs(which):\n"
                 "    frames = first_frames([getattr(p, which) for p in pairs], model.organism)\n"
                 "    return model.prepare(first_frame=frames, seeds=[0, 1])\n"
                 "clean, corrupt = inputs('clean'), inputs('corrupt')\n"
                 "metric = PairMetric(pairs)"),
        ("md", "## One patch by hand\n\nCache the clean run's residual stream at layer 6, step 0, and patch it "
               "into the corrupted run."),
        ("code", "site = 'blocks.6.resid_post'\n"
                 "cache = interp.run_with_cache(model, clean, [site], steps=[0], num_steps=20, progress=False).cache\n"
                 "patch = interp.Intervention(interp.At(site, steps=[0]), interp.Patch('clean'))\n"
                 "patched = interp.run(model, corrupt, [patch], sources={'clean': cache}, num_steps=20, progress=False)\n"
                 "plain = interp.run(model, corrupt, num_steps=20, progress=False)\n"
                 "{'patched': metric(patched.video, [0, 1]), 'corrupted': metric(plain.video, [0, 1])}"),
        ("md", "## A sweep\n\n`patch_sweep` does this for every cell of layers x steps x regions, reading each "
               "cell at the patched step's $\\hat x_0$ (one forward per cell)."),
        ("code", "import os\nfrom IPython.display import Image\nfrom interp.viz.patching import plot_grid\n\n"
                 "os.makedirs('outputs/patching_nb', exist_ok=True)\n"
                 "from interp.tasks.maze_task import changed_region\n"
                 "changed = changed_region(pairs, model.token_grid(clean.latents.shape), px_per_unit=2,\n"
                 "                         pixels_per_token=model.pixels_per_token)\n"
                 "grid = interp.patch_sweep(model, clean, corrupt, metric, layers=[0, 3, 6, 9, 11], steps=[0, 8],\n"
                 "                          regions={'all': interp.Tokens.all(), 'changed': changed}, num_steps=20,\n"
                 "                          read_at='patched', progress=False)\n"
                 "Image(filename=str(plot_grid(grid, 'preference', 'outputs/patching_nb/preference.png')))"),
        ("md", "Patching **all** tokens and reading the same step's $\\hat x_0$ restores the clean run by "
               "construction: it is the sanity bound. The **changed** region (the tokens of the units where the two "
               "mazes differ) is the informative one. The hand patch above read the *final* video instead: one "
               "step's residual stream, even with every token, is overwritten by the later steps of the corrupted "
               "run."),
    ],
    "ensemble": [
        ("md", "# Seed ensemble: merge several seeds early, continue as one\n\n"
               "Observation 7 of the paper: run the model from K seeds, merge their states during the first steps, "
               "then continue as one trajectory. Here on two 7x7 mazes, K = 3, merging x_t at step 0."),
        ("code", SETUP),
        ("code", "import numpy as np\nimport interp\nfrom interp.ensemble import ensemble_run\n"
                 "from interp.organism.evaluate import first_frames\n\n"
                 "model = interp.load_model('organism')\n"
                 "mazes = [interp.generate_maze(7, seed=s) for s in range(2)]\n"
                 "k = 3\n"
                 "inputs = model.prepare(first_frame=np.repeat(first_frames(mazes, model.organism), k, axis=0),\n"
                 "                       seeds=list(range(len(mazes) * k)))     # rows i*k .. i*k+k-1: maze i\n"
                 "out = ensemble_run(model, inputs, k=k, operator='xt_mean', steps=[0], num_steps=20)\n"
                 "out.video.shape, out.nfe"),
        ("md", "Each merged trajectory is scored like any single run:"),
        ("code", "[bool(interp.score_video(v, m).exact) for v, m in zip(out.video, mazes)]"),
        ("md", "The merge itself is an ordinary intervention (`interp.Merge` at `x_t`), so it can be captured, "
               "saved as JSON and combined with other edits; `experiments/seed_ensemble.py` compares operators and "
               "step windows with baselines at matched compute."),
    ],
}


def build(name: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in CELLS[name]]
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    path = NOTEBOOKS / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    for name in sys.argv[1:] or list(CELLS):
        print(build(name))
