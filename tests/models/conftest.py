"""Tiny random pipeline folders (with tiny text encoders) shared by the command-line tests."""

from __future__ import annotations

import json

import pytest

from interp.models.tiny_zoo import save_tiny_pipeline

from tiny_folders import GEOMETRY


@pytest.fixture(scope="session")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    pairs = root / "pairs.json"
    pairs.write_text(json.dumps([{"clean": "a red ball rolls left", "corrupt": "a blue ball rolls left"},
                                 {"clean": "a cat walks up", "corrupt": "a dog walks up"}]))
    return {name: save_tiny_pipeline(name, root / name) for name in GEOMETRY} | {"pairs": pairs}
