"""After training: the temperature fitted on the validation strokes that follow another stroke of their rally,
applied only where the validation matches agree on it, with the log-loss and ECE before and after; and the
pieces a step is made of (the share of a global batch a process takes, players dropped to the unknown player,
the mean validation loss, the process group a plain run does without)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import strategist.opponent.train as train_module
from strategist.errors import ConfigurationError
from strategist.opponent import NeuralModel, rally_frame
from strategist.opponent.base import positions_in_rally
from strategist.opponent.evaluate import scores
from strategist.opponent.neural import NeuralConfig, _softmax, batch_of, choose_temperature, encode_table, to_tensors
from strategist.opponent.train import _hide_at_random, _rank_and_world, _share, evaluate_loss, init_distributed

from .conftest import planted_table

CFG = dict(d_shot=4, d_area=2, d_player=2, d_height=2, hidden=4, batch_size=16, eval_every=2, lr=0.05,
           dropout=0.0)


@pytest.fixture(scope="module")
def parts():
    torch.set_num_threads(1)
    table = planted_table(matches=9, rallies=3, seed=5)
    ids = sorted(table["match_id"].unique())
    return table[table["match_id"].isin(ids[:5])], table[table["match_id"].isin(ids[5:])]


@pytest.fixture(scope="module")
def calibrated(parts):
    return NeuralModel(**CFG, seed=4).fit(parts[0], valid=parts[1], max_steps=4)


def test_the_temperature_is_fitted_on_strokes_after_the_first_of_their_rally(calibrated, parts):
    """Reference: the model's logits at temperature 1 on the validation strokes with a stroke before them, the
    choice of :func:`choose_temperature` over their matches (level 0.9, at least 3 matches, the run's seed)."""
    cal = calibrated.metrics_["calibration"]
    frame = rally_frame(parts[1])
    scored = positions_in_rally(frame) >= 1
    kept = calibrated.temperature_
    try:
        calibrated.temperature_ = 1.0
        _, z = calibrated.logits_table(frame)
    finally:
        calibrated.temperature_ = kept
    y = calibrated.vocabulary.shot_codes(frame["shot"])[scored]
    want = choose_temperature(z[scored], y, frame["match_id"].to_numpy()[scored], 0.9, 3, seed=4)
    assert cal["n"] == int(scored.sum()) < len(frame)
    assert cal["matches"] == 4 and cal["interval"][0] is not None
    for key in ("temperature", "fitted_temperature", "applied", "reason"):
        assert cal[key] == want[key], key
    assert cal["interval"] == pytest.approx(want["interval"], rel=1e-12)
    assert calibrated.temperature_ == want["temperature"]
    before, after = scores(_softmax(z[scored]), y), scores(_softmax(z[scored] / want["temperature"]), y)
    assert cal["valid_log_loss_before"] == pytest.approx(before["log_loss"], rel=1e-12)
    assert cal["valid_log_loss_after"] == pytest.approx(after["log_loss"], rel=1e-12)
    assert cal["valid_ece_before"] == pytest.approx(before["ece"], rel=1e-12)
    assert cal["valid_ece_after"] == pytest.approx(after["ece"], rel=1e-12)


def test_a_fitted_temperature_that_the_matches_agree_on_is_applied(parts, monkeypatch):
    """With an interval that excludes 1 the fitted temperature becomes the model's divisor, and the log-loss
    after is that of the logits divided by it."""
    monkeypatch.setattr(train_module, "CALIBRATION_LEVEL", 0.01)     # a narrow interval: it excludes 1
    model = NeuralModel(**CFG).fit(parts[0], valid=parts[1], max_steps=4)
    cal = model.metrics_["calibration"]
    assert cal["applied"] and model.temperature_ == cal["fitted_temperature"] == cal["temperature"] != 1.0
    assert cal["valid_log_loss_after"] < cal["valid_log_loss_before"]


def test_no_validation_stroke_after_a_first_leaves_the_temperature_at_one(parts):
    firsts = rally_frame(parts[1])
    firsts = firsts[positions_in_rally(firsts) == 0]
    model = NeuralModel(**CFG).fit(parts[0], valid=firsts, max_steps=2)
    assert model.metrics_["calibration"] == {"temperature": 1.0, "n": 0, "applied": False,
                                             "reason": "no validation stroke to fit it on"}
    assert model.temperature_ == 1.0


def test_a_process_takes_its_share_of_the_global_batch(parts):
    model = NeuralModel(**CFG)
    model.build(["Ann", "Bea", "Cat", "Dia"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    data = to_tensors(encode_table(model._encoder, rally_frame(parts[0])), "cpu")
    b = batch_of(data, torch.arange(7))
    assert _share(b, 1, 0) is b
    first, second = _share(b, 2, 0), _share(b, 2, 1)
    lengths = b["lengths"].tolist()
    assert first["lengths"].tolist() == lengths[:4] and second["lengths"].tolist() == lengths[4:]
    assert first["shot"].shape == (4, max(lengths[:4])) and second["shot"].shape == (3, max(lengths[4:]))
    assert torch.equal(second["target"], b["target"][4:, :max(lengths[4:])])
    assert torch.equal(first["num"], b["num"][:4, :max(lengths[:4])])


def test_players_are_dropped_to_the_unknown_player_with_player_dropout(parts):
    model = NeuralModel(**CFG)
    model.build(["Ann", "Bea", "Cat", "Dia"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    data = to_tensors(encode_table(model._encoder, rally_frame(parts[0])), "cpu")
    b = batch_of(data, torch.arange(len(data["lengths"])))
    valid = b["target"] >= 0
    plain = NeuralConfig(mask_rallies=0.0, mask_strokes=0.0, player_dropout=0.0)
    assert _hide_at_random(b, plain) is b
    gone = _hide_at_random(b, NeuralConfig(mask_rallies=0.0, mask_strokes=0.0, player_dropout=1.0))
    assert not gone["player"].any() and not gone["opponent"].any() and b["player"][valid].all()
    torch.manual_seed(0)
    half = _hide_at_random(b, NeuralConfig(mask_rallies=0.0, mask_strokes=0.0, player_dropout=0.5))
    for key in ("player", "opponent"):
        dropped = (half[key] == 0)[valid].float().mean()
        assert 0.35 < float(dropped) < 0.65
        kept = half[key] != 0
        assert torch.equal(half[key][kept], b[key][kept])
    assert not torch.equal(half["player"] == 0, half["opponent"] == 0)        # drawn apart
    masked = _hide_at_random(b, NeuralConfig(mask_rallies=1.0, mask_strokes=0.0, player_dropout=0.0))
    assert (masked["area"] != b["area"]).any()


def test_the_validation_loss_is_the_mean_cross_entropy_per_stroke_in_evaluation_mode(parts):
    torch.manual_seed(0)
    model = NeuralModel(**dict(CFG, dropout=0.5))
    model.build(["Ann", "Bea", "Cat", "Dia"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    frame = rally_frame(parts[1])
    data = to_tensors(encode_table(model._encoder, frame), "cpu")
    model.net.train()
    loss = evaluate_loss(model.net, data, batch=3)
    assert not model.net.training
    model.fitted_ = True
    _, z = model.logits_table(frame)
    y = model.vocabulary.shot_codes(frame["shot"])
    want = float(F.cross_entropy(torch.as_tensor(z), torch.as_tensor(y)))
    assert loss == pytest.approx(want, rel=1e-5)
    assert evaluate_loss(model.net, data) == pytest.approx(want, rel=1e-5)
    empty = {k: v[:0] for k, v in data.items()}
    assert evaluate_loss(model.net, empty) == 0.0


def test_a_plain_run_is_one_process_without_a_process_group(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert _rank_and_world() == (0, 1)
    assert init_distributed(torch.device("cpu")) is False
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert init_distributed(torch.device("cpu")) is False


def test_the_global_batch_must_divide_among_the_processes(parts, monkeypatch):
    """Three processes cannot share a global batch of 8 rallies, two not the 15 rallies of a batch larger than the
    table; three can share 15 (only the check runs here: the process group is faked, and the run stops at the
    first thing that needs a real one)."""
    n = len(rally_frame(parts[0])["rally_id"].unique())
    assert n == 15
    monkeypatch.setattr(train_module, "_rank_and_world", lambda: (0, 3))
    with pytest.raises(ConfigurationError, match="batch_size 8 is not divisible by the 3 processes"):
        NeuralModel(**dict(CFG, batch_size=8)).fit(parts[0], valid=parts[1], max_steps=1)
    with pytest.raises(Exception) as caught:
        NeuralModel(**dict(CFG, batch_size=10 ** 4)).fit(parts[0], valid=parts[1], max_steps=1)
    assert not isinstance(caught.value, ConfigurationError)
    monkeypatch.setattr(train_module, "_rank_and_world", lambda: (0, 2))
    with pytest.raises(ConfigurationError, match="batch_size 15 is not divisible by the 2 processes"):
        NeuralModel(**dict(CFG, batch_size=10 ** 4)).fit(parts[0], valid=parts[1], max_steps=1)
