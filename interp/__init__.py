"""cos-interp: open up video diffusion transformers while they reason.

The package is organised by concept: ``interp.tasks`` makes and scores problems,
``interp.models`` knows architectures, ``interp.sampling`` runs the denoising loop,
``interp.capture`` and ``interp.store`` record traces, ``interp.organism`` is the bundled
maze-solving Wan model. Linear probes live in the sibling package ``probes``.
"""

from interp.errors import InputError

__version__ = "0.1.0"
__all__ = ["InputError", "__version__"]
