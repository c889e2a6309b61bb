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
    with pytest.raises(CheckpointError, match="not the current badminton vocabulary"):
        load_model(directory)
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
