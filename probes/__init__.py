"""Linear probes for video diffusion transformers: estimators, targets, sweeps and reports.

``LogisticProbe`` and ``RidgeProbe`` follow the scikit-learn estimator contract and solve with
torch on CPU or GPU; :mod:`probes.targets` turns maze metadata into per-token labels;
:mod:`probes.sweep` fits one probe per (layer, step, branch, target) from a trace store with a
split by maze; :mod:`probes.report` turns the table into heatmaps and layer bands.

Example:
    >>> from probes import LogisticProbe, RidgeProbe
    >>> LogisticProbe(C=0.5).get_params()["C"]
    0.5
"""

from probes.linear import LogisticProbe, RidgeProbe

__all__ = ["LogisticProbe", "RidgeProbe"]
