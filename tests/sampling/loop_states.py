"""The private loop's own per-step states: an oracle read below the executor.

Tests of the loop, and tests that check the executor's ``collect`` against the loop, read
:class:`~interp.sampling.StepState` s straight from :func:`interp.sampling.denoise` through the
loop's ``after_step`` hook, with nothing edited.
"""

from interp.sampling import denoise


class _Recorder:
    def __init__(self):
        self.states = []

    def wants(self, kind, branch, step):
        return False

    def after_step(self, state):
        self.states.append(state)


def loop_states(model, inputs, **options) -> list:
    """Every step's :class:`~interp.sampling.StepState` of an unedited run (``options`` go to ``denoise``)."""
    recorder = _Recorder()
    denoise(model, inputs, edits=recorder, **options)
    return recorder.states
