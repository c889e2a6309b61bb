"""Checkpoint files: atomic writes that leave no temporary file, the tensor and JSON pair as written, every kind of
damage refused with the file named, and optimizer states flattened to JSON and rebuilt node by node."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
import torch

import strategist.opponent.checkpoint as checkpoint
from strategist.errors import CheckpointError
from strategist.opponent.checkpoint import (DTYPES, atomic_write_bytes, flatten_state, read_tensors, unflatten_state,
                                            write_tensors)


# -- atomic files -------------------------------------------------------------------------------------------------
def test_an_atomic_write_creates_the_folder_and_leaves_only_the_file(tmp_path):
    """The folder is created, the bytes land under the final name, and no temporary file stays beside it."""
    target = tmp_path / "a" / "b" / "model.json"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["model.json"]


def test_a_failed_atomic_write_keeps_the_old_file_and_removes_its_temporary(tmp_path, monkeypatch):
    """When the rename fails the old content stays and the temporary file is deleted; the error propagates."""
    target = tmp_path / "model.json"
    target.write_bytes(b"old")

    def broken(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(checkpoint.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


# -- the tensor and JSON pair ---------------------------------------------------------------------------------------
def test_written_tensors_and_json_read_back_with_the_hash_of_the_tensor_file(tmp_path):
    """write_tensors stores tensors (numpy arrays and lists converted), then a sorted, indented JSON that records
    the tensor file's name and SHA-256; read_tensors returns both as written."""
    tensors = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3).t(), "n": np.array([1, 2], dtype=np.int64),
               "l": [0.5, 1.5]}
    write_tensors(tmp_path, "state", tensors, {"b": 1, "a": [1, 2]})
    blob = (tmp_path / "state.safetensors").read_bytes()
    text = (tmp_path / "state.json").read_text()
    meta = json.loads(text)
    assert meta == {"a": [1, 2], "b": 1, "tensor_file": "state.safetensors",
                    "sha256": hashlib.sha256(blob).hexdigest()}
    assert text == json.dumps(meta, indent=1, sort_keys=True)
    back, meta2 = read_tensors(tmp_path, "state")
    assert meta2 == meta
    assert torch.equal(back["w"], torch.arange(6, dtype=torch.float32).reshape(2, 3).t())
    assert torch.equal(back["n"], torch.tensor([1, 2])) and torch.equal(back["l"], torch.tensor([0.5, 1.5],
                                                                                                   dtype=torch.float64))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.safetensors"]


@pytest.mark.parametrize("text, message", [
    (b"\xff\xfe{", "damaged JSON"),
    (b"[1, 2]", "not a checkpoint description \\(no sha256 of its tensor file\\)"),
    (b'{"sha256": 5}', "not a checkpoint description"),
    (b"[" * 100_000 + b"]" * 100_000, "damaged JSON"),
])
def test_a_damaged_description_is_refused_naming_its_file(tmp_path, text, message):
    """A description that is not UTF-8 JSON, not an object, without a text sha256 or nested too deep is refused
    with the JSON file's path."""
    write_tensors(tmp_path, "model", {"x": torch.zeros(2)}, {})
    (tmp_path / "model.json").write_bytes(text)
    with pytest.raises(CheckpointError, match=message) as caught:
        read_tensors(tmp_path, "model")
    assert str(caught.value).startswith(str(tmp_path / "model.json") + ": ")


def test_a_missing_description_names_the_folder(tmp_path):
    """Without its JSON the folder is said not to be a saved model; a dangling link is read (and refused) instead."""
    with pytest.raises(CheckpointError) as caught:
        read_tensors(tmp_path, "model")
    assert str(caught.value) == (f"{tmp_path / 'model.json'}: no such file; is {tmp_path} a saved opponent "
                                 "model?")
    (tmp_path / "model.json").symlink_to(tmp_path / "gone.json")
    with pytest.raises(CheckpointError, match="model.json: cannot read \\(no such file\\)"):
        read_tensors(tmp_path, "model")


def test_the_size_limit_of_the_description_is_its_own(tmp_path, monkeypatch):
    """The JSON is read under MAX_JSON_BYTES (exactly the limit accepted), the tensors under MAX_TENSOR_BYTES."""
    write_tensors(tmp_path, "model", {"x": torch.zeros(2)}, {})
    size = (tmp_path / "model.json").stat().st_size
    monkeypatch.setattr(checkpoint, "MAX_JSON_BYTES", size)
    monkeypatch.setattr(checkpoint, "MAX_TENSOR_BYTES", (tmp_path / "model.safetensors").stat().st_size)
    assert read_tensors(tmp_path, "model")[1]["tensor_file"] == "model.safetensors"
    monkeypatch.setattr(checkpoint, "MAX_JSON_BYTES", size - 1)
    with pytest.raises(CheckpointError, match=f"model.json: cannot read \\({size:,} bytes, more than the limit"):
        read_tensors(tmp_path, "model")


def test_a_hash_mismatch_names_the_tensor_file_and_the_description(tmp_path):
    """A tensor file whose SHA-256 is not the recorded one is refused as damaged, naming both files."""
    write_tensors(tmp_path, "model", {"x": torch.zeros(2)}, {})
    write_tensors(tmp_path / "other", "model", {"x": torch.ones(2)}, {})
    (tmp_path / "model.safetensors").write_bytes((tmp_path / "other" / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError) as caught:
        read_tensors(tmp_path, "model")
    assert str(caught.value) == (f"{tmp_path / 'model.safetensors'}: damaged file (its SHA-256 differs from the one "
                                 "recorded in model.json)")


# -- optimizer states without pickle --------------------------------------------------------------------------------
def test_a_nested_state_flattens_to_json_and_back():
    """Dicts (with number, text, tuple and None keys), tuples, lists, dtypes, numpy arrays and scalars, and
    non-finite floats survive flatten_state, JSON and unflatten_state; tensors are named by their path."""
    tree = {"state": {0: {"step": torch.tensor(3.0), "exp": np.arange(3.0)}},
            "groups": [{"lr": 0.1, "betas": (0.9, 0.99), "flag": True, "name": "g", "none": None}],
            ("a", 1): torch.float16, None: [np.int64(7), np.float32(0.5)],
            "odd": [math.inf, -math.inf, math.nan, 1.5]}
    skeleton, tensors = flatten_state(tree, "s")
    assert sorted(tensors) == ["s.0.0.0", "s.0.0.1"]
    assert skeleton["__dict__"][0][0] == "state"
    back = unflatten_state(json.loads(json.dumps(skeleton)), tensors)
    assert back["state"][0]["step"] is tensors["s.0.0.0"] and float(back["state"][0]["step"]) == 3.0
    assert torch.equal(back["state"][0]["exp"], torch.arange(3.0, dtype=torch.float64))
    assert back["groups"] == [{"lr": 0.1, "betas": (0.9, 0.99), "flag": True, "name": "g", "none": None}]
    assert back[("a", 1)] is torch.float16
    assert back[None] == [7, 0.5] and type(back[None][0]) is int
    assert back["odd"][:2] == [math.inf, -math.inf] and math.isnan(back["odd"][2]) and back["odd"][3] == 1.5
    assert set(back) == set(tree)


def test_every_listed_dtype_round_trips_by_name():
    """Each dtype of DTYPES is stored by its name without ``torch.`` and read back as the same dtype."""
    assert sorted(DTYPES) == sorted(["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
                                     "uint8", "bool", "complex64", "complex128"])
    for name, dtype in DTYPES.items():
        skeleton, _ = flatten_state(dtype)
        assert skeleton == {"__dtype__": name}
        assert unflatten_state(skeleton, {}) is dtype


def test_the_skeleton_may_be_sixteen_deep_not_seventeen():
    """A skeleton nested MAX_STATE_DEPTH (16) lists deep is read; one more level is refused naming its path."""
    def nested(n):
        out = 1
        for _ in range(n):
            out = [out]
        return out
    assert unflatten_state(nested(16), {}) == nested(16)
    with pytest.raises(CheckpointError) as caught:
        unflatten_state(nested(17), {}, "train_state.json")
    assert str(caught.value) == ("train_state.json: field 'optimizer" + "[0]" * 17 + "': nested deeper than 16")


def test_the_skeleton_may_have_at_most_the_node_limit(monkeypatch):
    """A skeleton of exactly MAX_STATE_NODES nodes is read; one more node is refused with the limit named."""
    monkeypatch.setattr(checkpoint, "MAX_STATE_NODES", 4)
    assert unflatten_state([1, 2, 3], {}) == [1, 2, 3]                  # the list and its three items
    with pytest.raises(CheckpointError, match="field 'optimizer\\[3\\]': more than 4 entries"):
        unflatten_state([1, 2, 3, 4], {})


@pytest.mark.parametrize("skeleton, field, message", [
    ({"__tensor__": 3}, "optimizer", "names no tensor of the file ('3')"),
    ({"__tensor__": "t"}, "optimizer", "names no tensor of the file ('t')"),
    ({"__dict__": "pairs"}, "optimizer", "expected a list of [key, value] pairs"),
    ({"__dict__": [[1, 2, 3]]}, "optimizer", "expected a list of [key, value] pairs"),
    ({"__dict__": [[[1], 2]]}, "optimizer.k0", "a key must be a number, a text or a tuple"),
    ({"__dict__": [[{"__tuple__": [[1]]}, 2]]}, "optimizer.k0", "a key must be a number, a text or a tuple of them"),
    ({"__tuple__": {"a": 1}}, "optimizer", "expected a list"),
    ({"__tuple__": [1, {"__float__": "2"}]}, "optimizer[1]", "expected 'nan', 'inf' or '-inf', got '2'"),
    ({"__dtype__": "Tensor"}, "optimizer", "dtype 'Tensor' is not one of ['bfloat16', 'bool', 'complex128'"),
    ({}, "optimizer", "expected one of __tensor__, __dict__, __tuple__, __dtype__, __float__"),
    ({"__float__": "nan", "x": 1}, "optimizer", "expected one of __tensor__"),
    ({"__set__": [1]}, "optimizer", "unknown tag '__set__'"),
    ([1, {"__dict__": [["k", {"__wat__": 0}]]}], "optimizer[1].0", "unknown tag '__wat__'"),
])
def test_a_malformed_skeleton_node_is_refused_naming_its_path(skeleton, field, message):
    """Every malformed node is one CheckpointError naming the file, the node's path and what was expected."""
    with pytest.raises(CheckpointError) as caught:
        unflatten_state(skeleton, {"s.0": torch.zeros(1)}, "run/train_state.json")
    assert str(caught.value).startswith(f"run/train_state.json: field {field!r}: {message}"), str(caught.value)


def test_a_named_tensor_and_the_default_file_name():
    """A tensor node returns the named tensor itself; without a name the error says 'training state'."""
    t = torch.ones(2)
    assert unflatten_state({"__tuple__": [{"__tensor__": "s.0"}]}, {"s.0": t})[0] is t
    with pytest.raises(CheckpointError, match="^training state: field 'optimizer': unexpected set"):
        unflatten_state({1, 2}, {})


def test_an_unstorable_object_names_its_path():
    """flatten_state refuses an object it cannot store without pickle, naming its type and path."""
    with pytest.raises(CheckpointError, match="^cannot store a object at s.0.1 without pickle$"):
        flatten_state({"a": [1, object()]})
    with pytest.raises(CheckpointError, match="^cannot store a complex at p without pickle$"):
        flatten_state(1j, "p")
