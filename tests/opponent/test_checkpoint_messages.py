"""What a refused checkpoint says: the exact file it names (the description, the tensor file), the path of the
node of an optimizer state and its depth whatever holds it (list, tuple, dict key or value), the untrusted texts
it quotes cut to their limits; and the metrics a loaded model keeps."""

from __future__ import annotations

import json

import pytest
import torch

from strategist.errors import CheckpointError
from strategist.opponent import FrequencyModel, load_model
from strategist.opponent.checkpoint import (MAX_STATE_DEPTH, atomic_write_bytes, check_vocabulary,
                                            unflatten_state)
import strategist.opponent.checkpoint as checkpoint


@pytest.fixture(scope="module")
def saved(tmp_path_factory, sim_table):
    directory = tmp_path_factory.mktemp("frequency")
    model = FrequencyModel(tune=False).fit(sim_table)
    model.metrics_ = {"log_loss": 1.25, "note": "by hand"}
    model.save(directory)
    return directory


def _copy(saved, tmp_path):
    import shutil

    shutil.copytree(saved, tmp_path / "m")
    return tmp_path / "m"


def test_the_temporary_file_is_hidden_beside_the_target_and_ends_in_tmp(tmp_path, monkeypatch):
    seen = []
    real = checkpoint.os.replace

    def spy(src, dst):
        seen.append((src, dst))
        real(src, dst)
    monkeypatch.setattr(checkpoint.os, "replace", spy)
    atomic_write_bytes(tmp_path / "model.json", b"{}")
    (src, dst), = seen
    name = src.rsplit("/", 1)[-1]
    assert name.startswith(".model.json.") and name.endswith(".tmp") and src.startswith(str(tmp_path) + "/")
    assert dst == tmp_path / "model.json"


def test_a_loaded_model_keeps_its_recorded_metrics_or_none(saved, tmp_path):
    assert load_model(saved).metrics_ == {"log_loss": 1.25, "note": "by hand"}
    directory = _copy(saved, tmp_path)
    meta = json.loads((directory / "model.json").read_text())
    meta["metrics"] = None
    (directory / "model.json").write_text(json.dumps(meta))
    assert load_model(directory).metrics_ == {}


def test_a_field_refused_by_the_schema_names_the_description_file(saved, tmp_path):
    directory = _copy(saved, tmp_path)
    meta = json.loads((directory / "model.json").read_text())
    meta["kind"] = "oracle"
    (directory / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError) as caught:
        load_model(directory)
    assert str(caught.value).startswith(f"{directory / 'model.json'}: field 'kind'")


def test_tensors_that_do_not_fit_a_count_model_name_the_tensor_file(saved, tmp_path):
    import hashlib

    from safetensors.torch import load, save

    directory = _copy(saved, tmp_path)
    tensors = load((directory / "model.safetensors").read_bytes())
    name = sorted(tensors)[0]
    tensors[name] = tensors[name].double() if tensors[name].dtype != torch.float64 else tensors[name].float()
    blob = save(tensors)
    (directory / "model.safetensors").write_bytes(blob)
    meta = json.loads((directory / "model.json").read_text())
    meta["sha256"] = hashlib.sha256(blob).hexdigest()
    (directory / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError) as caught:
        load_model(directory)
    assert str(caught.value).startswith(f"{directory / 'model.safetensors'}: tensor {name!r}: dtype")


def test_a_damaged_vocabulary_names_the_file_it_came_from():
    with pytest.raises(CheckpointError) as caught:
        check_vocabulary({"vocabulary": {"sport": "badminton", "shots": "lob", "areas": []}}, "run/train_state.json")
    assert str(caught.value).startswith("run/train_state.json: field 'vocabulary")


# -- the depth of an optimizer state, whatever holds each level -----------------------------------------------------
def _tuples(n):
    out = 1
    for _ in range(n):
        out = {"__tuple__": [out]}
    return out


def _dicts(n):
    out = 1
    for _ in range(n):
        out = {"__dict__": [["k", out]]}
    return out


def _keyed(n):
    """A one-entry dict whose key is a tuple nested so that its innermost number lies ``n`` levels down."""
    key = 1
    for _ in range(n - 1):
        key = {"__tuple__": [key]}
    return {"__dict__": [[key, 0]]}


@pytest.mark.parametrize("make", [_tuples, _dicts, _keyed], ids=["tuples", "dict values", "dict keys"])
def test_every_kind_of_node_counts_one_level(make):
    unflatten_state(make(MAX_STATE_DEPTH), {})
    with pytest.raises(CheckpointError, match=f"nested deeper than {MAX_STATE_DEPTH}"):
        unflatten_state(make(MAX_STATE_DEPTH + 1), {})


def test_a_bad_node_inside_a_key_names_the_keys_path():
    with pytest.raises(CheckpointError) as caught:
        unflatten_state({"__dict__": [["a", 1], [{"__dtype__": "nope"}, 2]]}, {}, "t.json")
    assert str(caught.value).startswith("t.json: field 'optimizer.k1': dtype 'nope' is not one of")


@pytest.mark.parametrize("skeleton, quoted, limit", [
    ({"__dtype__": "d" * 60}, "d", 40),
    ({"__float__": "f" * 60}, "f", 40),
    ({"__" + "t" * 60: 1}, "_", 40),
    ({"__tensor__": "n" * 100}, "n", 80),
])
def test_texts_from_the_file_are_quoted_cut_to_their_limit(skeleton, quoted, limit):
    with pytest.raises(CheckpointError) as caught:
        unflatten_state(skeleton, {}, "t.json")
    text = str(caught.value)
    cut = next(iter(skeleton.values())) if quoted != "_" else next(iter(skeleton))
    assert repr(cut[:limit]) in text and repr(cut[:limit + 1]) not in text


def test_flattened_tensors_are_named_by_their_path_in_tuples_and_keys():
    from strategist.opponent.checkpoint import flatten_state

    a, b, c = torch.ones(1), torch.zeros(1), torch.ones(2)
    skeleton, tensors = flatten_state({"pair": (a, b), c: 1}, "s")
    assert set(tensors) == {"s.0.0", "s.0.1", "s.k1"}
    assert tensors["s.0.1"] is b and tensors["s.k1"] is c
    with pytest.raises(CheckpointError, match="^cannot store a object at s.k0 without pickle$"):
        flatten_state({object(): 1}, "s")
