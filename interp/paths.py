"""Where the repository's files live, from configuration and never the working folder.

``ROOT`` is the checkout this package was imported from; ``RESULTS`` is its
``experiments/results`` unless ``COS_RESULTS`` names another folder.

Example:
    >>> (ROOT / "interp" / "paths.py").is_file()
    True
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# a checkout's experiments/results, or COS_RESULTS
RESULTS = Path(os.environ.get("COS_RESULTS", ROOT / "experiments" / "results"))

__all__ = ["ROOT", "RESULTS"]
