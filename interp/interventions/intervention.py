"""An intervention is where (:class:`At`) + what (an action); a list of them is plain JSON.

Example:
    >>> from interp.interventions import At, Intervention, Scale, dumps, loads
    >>> edits = [Intervention(At("blocks.1.resid_post", steps=[0]), Scale(0.5))]
    >>> loads(dumps(edits)) == edits
    True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from interp.errors import InputError
from interp.interventions.actions import Action, action_from_dict
from interp.interventions.where import At


@dataclass
class Intervention:
    """Do ``do`` at ``at``."""

    at: At
    do: Action

    def to_dict(self) -> dict:
        return {"at": self.at.to_dict(), "do": self.do.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> Intervention:
        if not isinstance(data, dict) or "at" not in data or "do" not in data:
            raise InputError(f"an intervention is {{'at': ..., 'do': ...}}; got {str(data)[:80]!r}")
        try:
            return cls(At.from_dict(data["at"]), action_from_dict(data["do"]))
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(f"cannot read intervention {str(data)[:80]!r}: {err}") from None

    def __eq__(self, other) -> bool:
        return isinstance(other, Intervention) and self.to_dict() == other.to_dict()


def dumps(interventions: Sequence[Intervention]) -> str:
    """The interventions as a JSON list."""
    return json.dumps([i.to_dict() for i in interventions], sort_keys=True)


def loads(text: str) -> list[Intervention]:
    """Interventions from a JSON list written by :func:`dumps`."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise InputError(f"interventions are not valid JSON: {err}") from None
    if not isinstance(data, list):
        raise InputError("interventions must be a JSON list")
    return [Intervention.from_dict(item) for item in data]
