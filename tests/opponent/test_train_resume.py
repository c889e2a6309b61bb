"""Resuming a training run from its checkpoint on tiny networks: the same steps as a run never stopped, a run
that ended by its step count or time budget goes on when asked for more, an early-stopped run does not, and a
checkpoint of other data, another configuration or other players is refused."""

from __future__ import annotations

import json

import pytest
import torch

from strategist.errors import CheckpointError
from strategist.opponent import NeuralModel

from .conftest import planted_table

PLAIN = dict(d_shot=4, d_area=2, d_player=2, d_height=2, hidden=4, batch_size=8, eval_every=2, patience=100,
             checkpoint_every=2, calibrate=False, ema=0.5)


@pytest.fixture(scope="module")
def parts():
    torch.set_num_threads(1)
    table = planted_table(matches=6, rallies=3, seed=2)
    ids = sorted(table["match_id"].unique())
    return table[table["match_id"].isin(ids[:4])], table[table["match_id"].isin(ids[4:])]


def _weights(model):
    return {k: v.detach().clone() for k, v in model.net.state_dict().items()}


def _same(a, b):
    for k, v in _weights(a).items():
        torch.testing.assert_close(_weights(b)[k], v, rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def whole(parts):
    """Six steps never stopped (random masking and dropout on: their draws must resume too)."""
    return NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], max_steps=6)


def test_an_interrupted_run_resumes_to_the_same_weights_and_curve(parts, whole, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=6, _interrupt_at=3)
    saved = json.loads((tmp_path / "train_state.json").read_text())
    assert saved["state"]["step"] == 3 and saved["state"]["stopped"] is None
    assert not (tmp_path / "model.json").exists()
    resumed = NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=6)
    assert resumed.metrics_["steps"] == 6 and [r["step"] for r in resumed.metrics_["curve"]] == [2, 4, 6]
    _same(whole, resumed)
    assert [r["valid_loss"] for r in resumed.metrics_["curve"]] == pytest.approx(
        [r["valid_loss"] for r in whole.metrics_["curve"]], rel=1e-6)
    assert resumed.metrics_["best_step"] == whole.metrics_["best_step"]


def test_a_run_that_reached_its_steps_goes_on_when_given_more(parts, whole, tmp_path):
    """A finished run of 4 steps resumed with max_steps 6 takes steps 5 and 6 of the same run (the schedule's
    length is part of the configuration a resume may change)."""
    first = NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4)
    assert first.metrics_["stopped"] == "max steps"
    more = NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=6)
    assert more.metrics_["steps"] == 6 and more.metrics_["stopped"] == "max steps"
    assert [r["step"] for r in more.metrics_["curve"]] == [2, 4, 6]
    again = NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=6)
    assert again.metrics_["steps"] == 6 and [r["step"] for r in again.metrics_["curve"]] == [2, 4, 6]
    _same(more, again)


def test_a_run_stopped_by_its_time_budget_goes_on(parts, tmp_path):
    first = NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=6, time_budget=0.0)
    assert first.metrics_["stopped"] == "time budget" and first.metrics_["steps"] == 1
    rest = NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=6)
    assert rest.metrics_["steps"] == 6 and rest.metrics_["stopped"] == "max steps"


def test_an_early_stopped_run_stays_stopped(parts, tmp_path):
    cfg = dict(PLAIN, lr=1e-12, patience=0, eval_every=1)        # too small a step to improve by 1e-5
    first = NeuralModel(**cfg).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=10)
    assert first.metrics_["stopped"] == "early stopping" and first.metrics_["steps"] == 2
    again = NeuralModel(**cfg).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=20)
    assert again.metrics_["stopped"] == "early stopping" and again.metrics_["steps"] == 2
    assert again.metrics_["best_step"] == 1 and len(again.metrics_["curve"]) == 2


def test_without_resume_the_checkpoint_is_ignored_and_overwritten(parts, whole, tmp_path):
    NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4)
    fresh = NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=6, resume=False)
    _same(whole, fresh)
    assert json.loads((tmp_path / "train_state.json").read_text())["state"]["step"] == 6


def test_a_checkpoint_of_other_data_is_refused(parts, tmp_path):
    NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=2)
    fewer = parts[0][parts[0]["rally"] != 3]
    with pytest.raises(CheckpointError, match="trained on other data; use another --out or resume=False"):
        NeuralModel(**PLAIN).fit(fewer, valid=parts[1], out=tmp_path, max_steps=4)


def test_a_checkpoint_of_another_configuration_or_other_players_is_refused(parts, tmp_path):
    NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=2)
    with pytest.raises(CheckpointError, match=r"another configuration \(\['ema', 'lr'\]\)"):
        NeuralModel(**dict(PLAIN, ema=0.6, lr=0.1)).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4)
    renamed = parts[0].assign(hitter=parts[0]["hitter"].replace({"Ann": "Zoe"}),
                              opponent=parts[0]["opponent"].replace({"Ann": "Zoe"}))
    with pytest.raises(CheckpointError, match=r"another configuration \(players\)"):
        NeuralModel(**PLAIN).fit(renamed, valid=parts[1], out=tmp_path, max_steps=4)
    # a setting the checkpoint does not record (an older version's) is taken as the same
    meta = json.loads((tmp_path / "train_state.json").read_text())
    del meta["config"]["valid_hidden_weight"]
    (tmp_path / "train_state.json").write_text(json.dumps(meta))
    assert NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4).metrics_["steps"] == 4


def _edit_state(out, edit):
    meta = json.loads((out / "train_state.json").read_text())
    edit(meta)
    (out / "train_state.json").write_text(json.dumps(meta))


def test_a_damaged_training_state_names_its_file_and_field(parts, tmp_path):
    NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=2)
    _edit_state(tmp_path, lambda m: m["state"].update(step=-1))
    with pytest.raises(CheckpointError) as caught:
        NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4)
    assert str(caught.value).startswith(f"{tmp_path / 'train_state.json'}: field 'state.step'")


def test_a_training_state_of_another_sport_is_refused(parts, tmp_path):
    """The vocabulary recorded must be the model's sport's: a state claiming tennis's vocabulary is refused even
    though its tensors have the badminton network's shapes."""
    from strategist.opponent.base import Vocabulary

    NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=2)
    _edit_state(tmp_path, lambda m: m.update(vocabulary=Vocabulary.of("tennis").to_json()))
    with pytest.raises(CheckpointError) as caught:
        NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4)
    assert str(caught.value) == f"{tmp_path / 'train_state.json'}: a tennis model, not badminton"
    _edit_state(tmp_path, lambda m: m["vocabulary"].update(sport="badminton", shots=["lob"]))
    with pytest.raises(CheckpointError) as caught:
        NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4)
    assert str(caught.value).startswith(f"{tmp_path / 'train_state.json'}: the checkpoint's vocabulary is not")


def test_a_damaged_optimizer_state_or_tensor_file_names_its_file(parts, tmp_path):
    import hashlib

    from safetensors.torch import load, save

    NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=2)
    original = (tmp_path / "train_state.json").read_text()
    _edit_state(tmp_path, lambda m: m.update(optimizer={"__dict__": [["state", {"__dtype__": "nn"}]]}))
    with pytest.raises(CheckpointError) as caught:
        NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4)
    assert str(caught.value).startswith(f"{tmp_path / 'train_state.json'}: field 'optimizer.0': dtype 'nn'")
    (tmp_path / "train_state.json").write_text(original)
    tensors = load((tmp_path / "train_state.safetensors").read_bytes())
    tensors["ema.out.bias"] = tensors["ema.out.bias"][:-1].contiguous()
    blob = save(tensors)
    (tmp_path / "train_state.safetensors").write_bytes(blob)
    _edit_state(tmp_path, lambda m: m.update(sha256=hashlib.sha256(blob).hexdigest()))
    with pytest.raises(CheckpointError) as caught:
        NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], out=tmp_path, max_steps=4)
    assert str(caught.value).startswith(f"{tmp_path / 'train_state.safetensors'}: tensor 'ema.out.bias': shape")
