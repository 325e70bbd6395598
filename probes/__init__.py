"""Linear probes for video diffusion transformers: estimators, targets, sweeps and reports.

``LogisticProbe`` and ``RidgeProbe`` follow the scikit-learn estimator contract and solve with
torch on CPU or GPU; :mod:`probes.targets` turns maze metadata into per-token labels;
:mod:`probes.sweep` fits one probe per (layer, step, branch, target) from a trace store with a
split by maze; :mod:`probes.report` turns the table into heatmaps and layer bands. The names a
first script needs are importable from here (targets, report and controls on first use;
the sweep function stays ``probes.sweep.sweep``: ``probes.sweep`` names its module).

Example:
    >>> from probes import LogisticProbe, RidgeProbe
    >>> LogisticProbe(C=0.5).get_params()["C"]
    0.5
"""

from interp.lazy import lazy_attributes
from probes.linear import LogisticProbe, RidgeProbe

# name -> module, imported on first access
_LAZY = {
    "unit_targets": "probes.targets",
    "token_values": "probes.targets",
    "TARGETS": "probes.targets",
    "SweepSettings": "probes.sweep",
    "write_report": "probes.report",
    "localise": "probes.report",
    "random_twin": "probes.controls",
}

__all__ = ["LogisticProbe", "RidgeProbe", *_LAZY]


__getattr__ = lazy_attributes(globals(), _LAZY)
