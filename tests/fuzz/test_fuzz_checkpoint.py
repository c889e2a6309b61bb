"""Fuzzing saved models and training states: any field of their JSON replaced by any JSON value loads, or is
refused with a :class:`~strategist.errors.CheckpointError` — never another exception, a hang or a huge
allocation — and a model that loads predicts finite probabilities."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategist.errors import CheckpointError

TINY = dict(d_shot=8, d_area=4, d_player=4, hidden=16, batch_size=16, eval_every=5, checkpoint_every=5,
            patience=100, warmup=0.1)

#: JSON values that have broken loaders: huge, negative and fractional numbers, NaN, text, nesting, nothing.
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                    st.sampled_from([0, 1, -1, 10 ** 6, 10 ** 5, 2 ** 31, 2 ** 63, -2 ** 63]),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                    st.sampled_from(["", "float32", "nn", "__import__", "../../etc/passwd", "\x00", "𝟘"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def _paths(node, prefix=()):
    """Every path to a value inside a JSON document (objects by key, lists by index)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node[:6]):                    # long key lists: their first entries
            yield from _paths(value, prefix + (i,))


def _replace(document, path, value):
    if not path:
        return value
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Saved frequency, Markov and (tiny) neural models of simulated matches, with their JSON's paths."""
    from strategist.opponent import FrequencyModel, MarkovModel, NeuralModel
    from strategist.opponent.split import select, split_matches
    from strategist.simulate import canonical_table, simulate_matches

    table = canonical_table(simulate_matches(matches=10, seed=5))
    split = split_matches(table, test_fraction=0.2)
    models = {"frequency": FrequencyModel(tune=False).fit(table), "markov": MarkovModel(order=2).fit(table),
              "neural": NeuralModel(max_steps=5, **TINY).fit(select(table, split.train),
                                                             valid=select(table, split.valid))}
    out = {}
    for kind, model in models.items():
        directory = tmp_path_factory.mktemp(kind)
        model.save(directory)
        meta = json.loads((directory / "model.json").read_text())
        out[kind] = (directory, meta, sorted(set(_paths(meta)), key=repr))
    return out, select(table, split.test).iloc[:60]


def _load_tampered(directory: Path, document) -> object:
    from strategist.opponent import load_model

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "model"
        shutil.copytree(directory, copy)
        (copy / "model.json").write_text(json.dumps(document))
        return load_model(copy)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_a_saved_model_with_any_field_replaced_loads_or_is_a_checkpoint_error(saved, data):
    models, frame = saved
    kind = data.draw(st.sampled_from(sorted(models)), label="kind")
    directory, meta, paths = models[kind]
    path = data.draw(st.sampled_from(paths), label="path")
    value = data.draw(VALUES, label="value")
    document = _replace(json.loads(json.dumps(meta)), path, value)
    try:
        model = _load_tampered(directory, document)
    except CheckpointError:
        return
    probs = model.predict_table(frame)
    assert np.isfinite(probs).all() and np.allclose(probs.sum(1), 1.0)


@pytest.fixture(scope="module")
def resumable(tmp_path_factory):
    """A training run's folder and what resuming it needs (the model, run state and data of a fresh start)."""
    import torch

    from strategist.opponent import NeuralModel
    from strategist.opponent.split import select, split_matches
    from strategist.opponent.train import TRAIN_STATE, _frames, _start
    from strategist.simulate import canonical_table, simulate_matches

    table = canonical_table(simulate_matches(matches=10, seed=6))
    split = split_matches(table, test_fraction=0.2)
    train, valid = select(table, split.train), select(table, split.valid)
    out = tmp_path_factory.mktemp("run")
    NeuralModel(max_steps=3, **TINY).fit(train, valid=valid, out=out)
    meta = json.loads((out / f"{TRAIN_STATE}.json").read_text())

    def fresh():
        model = NeuralModel(max_steps=3, **TINY)
        train_frame, valid_frame = _frames(model, train, valid)
        return model, _start(model, model.config, torch.device("cpu"), 0, 1, train_frame, valid_frame)

    return out, meta, sorted(set(_paths(meta)), key=repr), fresh


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_a_training_state_with_any_field_replaced_resumes_or_is_a_checkpoint_error(resumable, data):
    from strategist.opponent.train import TRAIN_STATE, _load_train_state

    out, meta, paths, fresh = resumable
    path = data.draw(st.sampled_from(paths), label="path")
    value = data.draw(VALUES, label="value")
    document = _replace(json.loads(json.dumps(meta)), path, value)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "run"
        shutil.copytree(out, copy)
        (copy / f"{TRAIN_STATE}.json").write_text(json.dumps(document))
        model, run = fresh()
        try:
            state, _ = _load_train_state(copy, model, run.cfg, run.optimizer, run.ema, run.fingerprint)
        except CheckpointError:
            return
    assert isinstance(state["step"], int) and state["step"] >= 0
