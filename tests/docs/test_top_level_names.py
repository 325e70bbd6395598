"""``import interp`` stays light, and every name it offers resolves to the documented object."""

import subprocess
import sys


def test_import_interp_does_not_import_torch():
    done = subprocess.run([sys.executable, "-c", "import sys, interp; print('torch' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_every_exported_name_resolves():
    import interp
    import probes
    from interp.capture import capture
    from interp.interventions import patch_sweep, run_with_cache

    for module in (interp, probes):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
    assert interp.trace is capture and interp.patch_sweep is patch_sweep and interp.run_with_cache is run_with_cache
