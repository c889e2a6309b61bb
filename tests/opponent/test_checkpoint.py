"""Saved models: round trip, damaged files, another vocabulary, no pickle anywhere."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from strategist.errors import CheckpointError
from strategist.opponent import FrequencyModel, NeuralModel, load_model
from strategist.opponent.checkpoint import flatten_state, unflatten_state

from .conftest import TINY


@pytest.fixture(scope="module")
def neural(sim_table):
    from strategist.opponent.split import select, split_matches

    split = split_matches(sim_table, test_fraction=0.2)
    return NeuralModel(max_steps=10, **TINY).fit(select(sim_table, split.train), valid=select(sim_table, split.valid))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, sim_table, markov, neural):
    dirs = {}
    for name, model in (("markov", markov), ("frequency", FrequencyModel(tune=False).fit(sim_table)),
                        ("neural", neural)):
        d = tmp_path_factory.mktemp(name)
        model.save(d)
        dirs[name] = (d, model)
    return dirs


@pytest.mark.parametrize("name", ["markov", "frequency", "neural"])
def test_round_trip_predicts_the_same(saved, sim_table, name, monkeypatch):
    directory, model = saved[name]
    # loading never unpickles
    def no_pickle(*args, **kwargs):
        raise AssertionError("unpickling during load")
    monkeypatch.setattr(pickle, "loads", no_pickle)
    monkeypatch.setattr(pickle, "load", no_pickle)
    monkeypatch.setattr(torch, "load", no_pickle)
    loaded = load_model(directory)
    assert type(loaded) is type(model)
    frame = sim_table[sim_table["match_id"] == sim_table["match_id"].iloc[-1]]
    np.testing.assert_allclose(loaded.predict_table(frame), model.predict_table(frame), rtol=1e-6, atol=1e-9)
    assert loaded.split_ == model.split_ and (name != "neural" or loaded.split_["train"])   # the matches it saw
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith(".")) == ["model.json",
                                                                                         "model.safetensors"]


def _copy(saved, name, tmp_path):
    import shutil

    directory = tmp_path / name
    shutil.copytree(saved[name][0], directory)
    return directory


@pytest.mark.parametrize("name", ["markov", "neural"])
def test_damaged_tensor_file_is_refused(saved, tmp_path, name):
    directory = _copy(saved, name, tmp_path)
    blob = bytearray((directory / "model.safetensors").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (directory / "model.safetensors").write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="damaged file"):
        load_model(directory)


def test_truncated_or_missing_files_are_refused(saved, tmp_path):
    directory = _copy(saved, "markov", tmp_path)
    text = (directory / "model.json").read_text()
    (directory / "model.json").write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match="damaged JSON"):
        load_model(directory)
    with pytest.raises(CheckpointError, match="no such file"):
        load_model(tmp_path / "nowhere")
    directory = _copy(saved, "frequency", tmp_path)
    (directory / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="cannot read"):
        load_model(directory)


def test_a_file_that_is_not_safetensors_is_refused(saved, tmp_path):
    import hashlib

    directory = _copy(saved, "markov", tmp_path)
    junk = b"\x80\x04not a safetensors file"
    (directory / "model.safetensors").write_bytes(junk)
    meta = json.loads((directory / "model.json").read_text())
    meta["sha256"] = hashlib.sha256(junk).hexdigest()
    (directory / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load_model(directory)


@pytest.mark.parametrize("name", ["markov", "neural"])
def test_another_vocabulary_is_refused(saved, tmp_path, name):
    directory = _copy(saved, name, tmp_path)
    meta = json.loads((directory / "model.json").read_text())
    meta["vocabulary"]["shots"] = meta["vocabulary"]["shots"][:-1] + ["hammer throw"]
    (directory / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not the current badminton vocabulary") as caught:
        load_model(directory)
    assert str(directory) in str(caught.value)                             # the message names the model's folder
    with pytest.raises(CheckpointError, match="a badminton model, not tennis"):
        load_model(saved[name][0], sport="tennis")


def test_optimizer_state_round_trips_without_pickle():
    from strategist.optim import SOAP

    net = torch.nn.Linear(3, 2)
    opt = SOAP(net.parameters(), lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        net(torch.randn(5, 3)).pow(2).sum().backward()
        opt.step()
    skeleton, tensors = flatten_state(opt.state_dict())
    json.dumps(skeleton)
    back = unflatten_state(json.loads(json.dumps(skeleton)), tensors)
    opt2 = SOAP(torch.nn.Linear(3, 2).parameters(), lr=1e-2)
    opt2.load_state_dict(back)
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    with pytest.raises(CheckpointError, match="without pickle"):
        flatten_state({"x": object()})


# -- untrusted checkpoints: the JSON checked against its schema before anything is allocated -------------------
def _tamper(saved, name, tmp_path, edit):
    """A copy of a saved model whose model.json was changed by ``edit(meta)``."""
    directory = _copy(saved, name, tmp_path)
    meta = json.loads((directory / "model.json").read_text())
    edit(meta)
    (directory / "model.json").write_text(json.dumps(meta))
    return directory


def _set(path, value):
    def edit(meta):
        node = meta
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


@pytest.mark.parametrize("name, path, value, field", [
    ("neural", ("state", "config", "hidden"), 10 ** 6, "state.config.hidden"),        # 12 TB of weights
    ("neural", ("state", "config", "layers"), 10 ** 5, "state.config.layers"),        # minutes of allocation
    ("neural", ("state", "config", "hidden"), "128", "state.config.hidden"),
    ("neural", ("state", "config", "hidden"), True, "state.config.hidden"),
    ("neural", ("state", "config", "d_player"), -3, "state.config.d_player"),
    ("neural", ("state", "config", "dropout"), float("nan"), "state.config.dropout"),
    ("neural", ("state", "config", "optimizer"), "__import__", "state.config.optimizer"),
    ("neural", ("state", "config", "colour"), 1, "state.config.colour"),
    ("neural", ("state", "players"), "Ann", "state.players"),
    ("neural", ("state", "players"), [1, 2], "state.players[0]"),
    ("neural", ("state", "norm", "std"), [1.0, 0.0, 1.0, 1.0], "state.norm.std[1]"),
    ("neural", ("state", "norm", "mean"), [0.0], "state.norm.mean"),
    ("neural", ("state", "temperature"), -1.0, "state.temperature"),
    ("neural", ("state",), [], "state"),
    ("neural", ("kind",), "oracle", "kind"),
    ("neural", ("vocabulary", "shots"), "lob", "vocabulary.shots"),
    ("neural", ("split",), {"train": "all"}, "split.train"),
    ("markov", ("state", "config", "order"), 10 ** 6, "state.config.order"),
    ("markov", ("state", "config", "beta"), -1.0, "state.config.beta"),
    ("markov", ("state", "fitted", "mix"), 2.0, "state.fitted.mix"),
    ("markov", ("state", "pop_keys"), [[0]], "state.pop_keys[0]"),
    ("markov", ("state", "pop_keys", 1), [1, [10 ** 9]], "state.pop_keys[1][key]"),
    ("markov", ("state", "pop_keys", 1), [7, [0]], "state.pop_keys[1][level]"),
    ("markov", ("state", "player_keys", 0), ["Nobody", 0, []], "state.player_keys[0][0]"),
    ("frequency", ("state", "pop_keys", 1), [1, ["rally", ["deep"]]], "state.pop_keys[1][key]"),
])
def test_a_tampered_field_is_one_checkpoint_error_naming_the_file_and_the_field(saved, tmp_path, name, path, value,
                                                                                  field):
    import time

    directory = _tamper(saved, name, tmp_path, _set(path, value))
    started = time.perf_counter()
    with pytest.raises(CheckpointError) as caught:
        load_model(directory)
    assert time.perf_counter() - started < 5
    assert str(directory) in str(caught.value) and repr(field) in str(caught.value), str(caught.value)


def test_a_json_nested_too_deep_or_too_large_is_refused(saved, tmp_path, monkeypatch):
    import strategist.opponent.checkpoint as checkpoint

    directory = _copy(saved, "markov", tmp_path)
    text = (directory / "model.json").read_text()
    (directory / "model.json").write_text(text[:-1] + ', "metrics_x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CheckpointError, match="nested too deep|damaged JSON"):
        load_model(directory)
    (directory / "model.json").write_text(text)
    meta = json.loads(text)
    deep = 1
    for _ in range(20):
        deep = [deep]
    meta["metrics"] = {"a": deep}
    (directory / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="'metrics"):
        load_model(directory)
    (directory / "model.json").write_text(text)
    monkeypatch.setattr(checkpoint, "MAX_TENSOR_BYTES", 100)
    with pytest.raises(CheckpointError, match="model.safetensors: cannot read .*more than the limit of 100"):
        load_model(directory)


def _rewrite_tensors(directory, change):
    """Change the tensor file (``change(tensors)``) and record its new hash, as a deliberate tamperer would."""
    import hashlib

    from safetensors.torch import load, save

    tensors = load((directory / "model.safetensors").read_bytes())
    change(tensors)
    blob = save(tensors)
    (directory / "model.safetensors").write_bytes(blob)
    meta = json.loads((directory / "model.json").read_text())
    meta["sha256"] = hashlib.sha256(blob).hexdigest()
    (directory / "model.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("name, change, message", [
    ("neural", lambda t: t["out.weight"].__setitem__((0, 0), float("nan")), "'out.weight' holds NaN"),
    ("neural", lambda t: t["gru.bias_hh_l0"].__setitem__(1, float("inf")), "'gru.bias_hh_l0' holds NaN or infinite"),
    ("neural", lambda t: t.__setitem__("out.weight", t["out.weight"][:, :3].contiguous()), "shape"),
    ("neural", lambda t: t.__setitem__("out.weight", t["out.weight"].double()), "dtype"),
    ("neural", lambda t: t.pop("mid.bias"), "missing \\['mid.bias'\\]"),
    ("neural", lambda t: t.__setitem__("evidence_counts", -t["evidence_counts"] - 1), "negative counts"),
    ("markov", lambda t: t["pop_counts"].__setitem__((0, 0), -5.0), "'pop_counts' holds negative counts"),
    ("markov", lambda t: t["player_counts"].__setitem__((0, 0), float("nan")), "'player_counts' holds NaN"),
    ("markov", lambda t: t["player_counts"].__setitem__((0, 0), -5.0), "'player_counts' holds negative counts"),
    ("markov", lambda t: t.__setitem__("pop_counts", t["pop_counts"][:-1].contiguous()), "shape"),
])
def test_weights_and_counts_are_checked_finite_non_negative_and_shaped_as_declared(saved, tmp_path, name, change,
                                                                                   message):
    directory = _copy(saved, name, tmp_path)
    _rewrite_tensors(directory, change)
    with pytest.raises(CheckpointError, match=message) as caught:
        load_model(directory)
    assert str(directory / "model.safetensors") in str(caught.value)


def test_only_regular_files_are_opened(saved, tmp_path):
    import os
    import time

    directory = _copy(saved, "markov", tmp_path)
    (directory / "model.safetensors").unlink()
    os.mkfifo(directory / "model.safetensors")
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="model.safetensors: cannot read \\(not a regular file \\(a FIFO\\)\\)"):
        load_model(directory)                             # a plain read would wait for a writer for ever
    assert time.perf_counter() - started < 5
    (directory / "model.safetensors").unlink()
    (directory / "model.safetensors").symlink_to("/dev/zero")
    with pytest.raises(CheckpointError, match="a character device"):
        load_model(directory)
    (directory / "model.json").unlink()
    (directory / "model.json").symlink_to("/dev/zero")
    with pytest.raises(CheckpointError, match="model.json: cannot read"):
        load_model(directory)
    # a symlink to a regular file is a regular file
    good = _copy(saved, "markov", tmp_path / "good")
    linked = tmp_path / "linked"
    linked.mkdir()
    for part in ("model.json", "model.safetensors"):
        (linked / part).symlink_to(good / part)
    assert load_model(linked).kind == "markov"


def test_a_model_of_an_older_format_is_refused_with_the_reason(saved, tmp_path):
    directory = _tamper(saved, "markov", tmp_path, _set(("version",), 1))
    with pytest.raises(CheckpointError, match="version '1'; expected .* version 2 .*retrain"):
        load_model(directory)


@pytest.mark.parametrize("skeleton, message", [
    ({"__dtype__": "load"}, "dtype 'load' is not one of"),
    ({"__dtype__": "float32", "x": 1}, "expected one of __tensor__"),
    ({"__tensor__": "nowhere"}, "names no tensor"),
    ({"__float__": "1e5"}, "expected 'nan', 'inf' or '-inf'"),
    ({"__dict__": [[{"__tuple__": [[1]]}, 2]]}, "a key must be"),
    ({"__dict__": [[1]]}, "pairs"),
    ({"__wat__": 1}, "unknown tag"),
])
def test_an_optimizer_state_skeleton_is_checked_node_by_node(skeleton, message):
    with pytest.raises(CheckpointError, match=message):
        unflatten_state(skeleton, {}, "train_state.json")
    deep = 1
    for _ in range(200):
        deep = [deep]
    with pytest.raises(CheckpointError, match="nested deeper"):
        unflatten_state(deep, {}, "train_state.json")
    assert unflatten_state({"__dtype__": "bfloat16"}, {}) is torch.bfloat16


def test_a_tampered_training_state_is_refused_before_resuming(sim_table, tmp_path):
    from strategist.opponent.split import select, split_matches

    split = split_matches(sim_table, test_fraction=0.2)
    train, valid = select(sim_table, split.train), select(sim_table, split.valid)
    out = tmp_path / "run"
    NeuralModel(**dict(TINY, max_steps=4)).fit(train, valid=valid, out=out)
    original = (out / "train_state.json").read_text()

    def resume_after(edit):
        meta = json.loads(original)
        edit(meta)
        (out / "train_state.json").write_text(json.dumps(meta))
        return NeuralModel(**dict(TINY, max_steps=8)).fit(train, valid=valid, out=out)

    def dtype_anywhere(meta):
        meta["optimizer"] = {"__dict__": [["state", {"__dtype__": "nn"}]]}

    for edit, message in ((dtype_anywhere, "dtype 'nn' is not one of"),
                          (_set(("state", "step"), -1), "'state.step'"),
                          (_set(("state", "best_step"), 10 ** 8), "'state.best_step'"),
                          (_set(("config", "hidden"), 10 ** 6), "'config.hidden'"),
                          (_set(("optimizer",), {"__dict__": [["state", {"__dict__": []}], ["param_groups", [{"__dict__": [
                              ["params", [0]]]}]]]}), "field 'optimizer': does not fit")):
        with pytest.raises(CheckpointError, match=message) as caught:
            resume_after(edit)
        assert "train_state.json" in str(caught.value)
