"""Raw measurements survive a round trip through tagged JSON with their types."""

import json

import numpy as np

from interp import rawjson


def test_round_trip_keeps_tuple_keys_arrays_and_bytes(tmp_path):
    raw = {("9x9", "xt_mean", 3, "0", "all"): np.array([True, False]),
           "spread": {(2, 2): np.array([0.5, 0.25], np.float32)},
           "answers": [[b"\x00\xff", None]], "window": (0, 3), 8: np.int64(7), "plain": {"a": [1.5, "b"]}}
    back = rawjson.decode(json.loads(json.dumps(rawjson.encode(raw))))
    assert list(back) == list(raw)
    key = ("9x9", "xt_mean", 3, "0", "all")
    assert back[key].dtype == bool and back[key].tolist() == [True, False]
    assert back["spread"][(2, 2)].dtype == np.float32 and back["spread"][(2, 2)].tolist() == [0.5, 0.25]
    assert back["answers"] == [[b"\x00\xff", None]] and back["window"] == (0, 3)
    assert back[8] == 7 and type(back[8]) is int and back["plain"] == {"a": [1.5, "b"]}


def test_a_gzipped_file_reads_back(tmp_path):
    raw = {"groups": {"5x5": {"correct": np.zeros((2, 3), bool)}}, "cfg": {"groups": [("5x5", 5, None, 4)]}}
    rawjson.dump(raw, tmp_path / "raw.json.gz")
    back = rawjson.load(tmp_path / "raw.json.gz")
    assert back["groups"]["5x5"]["correct"].shape == (2, 3) and back["cfg"]["groups"] == [("5x5", 5, None, 4)]
