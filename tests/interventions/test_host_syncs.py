"""The patching sweep reads nothing back from its tensors inside the denoising steps.

On a GPU every read of a tensor's values by the host (``.item()``, ``.tolist()``, ``.cpu()``,
``bool(t)``, ``torch.equal``...) makes the host wait for the device. The oracle here is a
:class:`~torch.overrides.TorchFunctionMode` that records every such call, with the stack it came
from, while a small sweep runs on the CPU: inside a denoising step there must be none, however many
steps are patched, and after the reference runs the only reads are the decodes of the videos the
metric scores (one per scored batch). A run that reads a value inside a step shows the recorder
sees such reads.
"""

from __future__ import annotations

import copy
import sys

import pytest
import torch
from torch.overrides import TorchFunctionMode

from interp.interventions import Apply, At, Intervention, run
from interp.interventions import patch_cells, patching
from interp.sampling import schedule
from tests.interventions.test_patch_fast import STEPS, setup, sweep  # noqa: F401 (setup is a fixture)

READS = {torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.cpu, torch.Tensor.numpy, torch.Tensor.__bool__,
         torch.Tensor.__int__, torch.Tensor.__float__, torch.Tensor.__index__, torch.nonzero, torch.Tensor.nonzero,
         torch.equal, torch.Tensor.__format__, torch.Tensor.__repr__}
SAMPLING = sys.modules[schedule.__module__].__file__


class HostReads(TorchFunctionMode):
    """Every read of a tensor's values as ``(phase, kind, "file:line < ..." of the innermost frames)``:
    phase ``cells`` (the sweep's cells) or ``setup`` (before them); kind ``decode`` (decoding a
    video), ``step`` (inside a denoising step) or ``other``."""

    def __init__(self):
        super().__init__()
        self.reads = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        to_host = func is torch.Tensor.to and "cpu" in (*args[1:], kwargs.get("device"))  # .to("cpu")
        if func in READS or to_host:
            self.reads.append(_where(sys._getframe(1)))
        return func(*args, **kwargs)

    def count(self, phase: str, kind: str) -> int:
        return len(self.trails(phase, kind))

    def trails(self, phase: str, kind: str) -> list[str]:
        return [trail for p, k, trail in self.reads if (p, k) == (phase, kind)]


def _where(frame) -> tuple[str, str, str]:
    names, trail = [], []
    while frame is not None:
        code = frame.f_code
        names.append((code.co_name, code.co_filename))
        if "/interp/" in code.co_filename and len(trail) < 4:
            trail.append(f"{code.co_filename.rsplit('/interp/', 1)[-1]}:{frame.f_lineno}")
        frame = frame.f_back
    if any(name in ("decode", "decode_float") for name, _ in names):
        kind = "decode"
    elif any(name == "denoise" and file == SAMPLING for name, file in names):
        kind = "step"
    else:
        kind = "other"
    cells = any((name == "step" and file == patch_cells.__file__) or (name == "_rerun" and file == patching.__file__)
                for name, file in names)
    return "cells" if cells else "setup", kind, " < ".join(trail)


@pytest.mark.parametrize("read_at", ["final", "patched"])
@pytest.mark.parametrize("options", [{}, dict(reuse_layers=False, share_states=False), dict(reuse_prefix=False)],
                         ids=["fast", "plain", "naive"])
def test_no_read_inside_a_step_however_many_steps_are_patched(setup, read_at, options):  # noqa: F811
    decodes = {}
    for steps in ([1, 3], list(range(STEPS))):
        with HostReads() as recorder:
            sweep(setup, steps=steps, read_at=read_at, **options)
        for phase in ("setup", "cells"):
            inside = recorder.trails(phase, "step")
            assert not inside, f"{len(inside)} reads inside denoising steps ({phase}), e.g. {inside[:3]}"
        other = recorder.trails("cells", "other")
        assert not other, f"{len(other)} reads in the cells besides decoding, e.g. {other[:3]}"
        decodes[len(steps)] = recorder.count("cells", "decode")
    # The cells decode their scored batches only, the same number at each patched step.
    assert decodes[2] > 0 and decodes[STEPS] * 2 == decodes[2] * STEPS


def test_the_recorder_sees_a_read_inside_a_step(setup):  # noqa: F811
    """Negative control: an edit that reads a value at one step gives one read there per step edited."""
    model, _, _, corrupt, _ = setup
    reading = Intervention(At("blocks.1.resid_post", steps=[1, 2]), Apply(lambda x, ctx: x * float(x.abs().max())))
    with HostReads() as recorder:
        run(model, corrupt, [reading], num_steps=STEPS, decode=False, progress=False)
    assert recorder.count("setup", "step") == 2


def test_x0_coefficients_read_on_the_host_equal_the_device_values(setup):  # noqa: F811
    """The host copy of the sigmas travels with each copy of a schedule and follows a new schedule."""
    model = setup[0]
    scheduler, timesteps, _ = schedule(model, STEPS)
    for step in range(STEPS):
        expected = (1.0, float(scheduler.sigmas[step]) - float(scheduler.sigmas[-1]))
        assert model.x0_coefficients(scheduler, step, timesteps[step]) == expected
    other = copy.deepcopy(scheduler)
    model.set_timesteps(other, STEPS + 3)
    with HostReads() as recorder:
        model.x0_coefficients(scheduler, 1, timesteps[1])
    assert recorder.reads == []   # the copy's host sigmas were read when the schedule was made
    assert model.x0_coefficients(other, 1, other.timesteps[1]) == (1.0, float(other.sigmas[1]) - float(other.sigmas[-1]))
    assert model.x0_coefficients(other, 1, None) != model.x0_coefficients(scheduler, 1, None)
