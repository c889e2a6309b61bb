"""The training loop on tiny networks: the loss it minimises (mean cross-entropy per stroke), the first step
against a hand-made AdamW step, the EMA of the weights, evaluations and early stopping, the time budget, a
non-finite loss, the checkpoint schedule and the record a run leaves in ``metrics_``."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

import strategist.opponent.train as train_module
from strategist.errors import ConfigurationError, OpponentModelError
from strategist.opponent import NeuralModel
from strategist.opponent.base import rally_frame
from strategist.opponent.checkpoint import read_tensors, unflatten_state
from strategist.opponent.train import DEFAULT_LR, lr_multiplier

from .conftest import planted_table

#: A network of a few hundred weights, no randomness in a step (no dropout, masking or player dropout).
PLAIN = dict(d_shot=4, d_area=2, d_player=2, d_height=2, hidden=4, batch_size=64, eval_every=1, patience=100,
             dropout=0.0, player_dropout=0.0, mask_rallies=0.0, mask_strokes=0.0, calibrate=False, warmup=0.5)


@pytest.fixture(scope="module")
def parts():
    torch.set_num_threads(1)
    table = planted_table(matches=6, rallies=3, seed=1)
    ids = sorted(table["match_id"].unique())
    return table[table["match_id"].isin(ids[:4])], table[table["match_id"].isin(ids[4:])]


def _mean_ce(model, table) -> float:
    """Mean cross-entropy per stroke of ``table`` under ``model``'s network (float64, from its logits)."""
    frame, logits = model.logits_table(table)
    targets = model.vocabulary.shot_codes(frame["shot"])
    z = torch.as_tensor(logits)
    return float(F.cross_entropy(z, torch.as_tensor(targets), reduction="mean"))


def _weights(model):
    return {k: v.detach().clone() for k, v in model.net.state_dict().items()}


@pytest.fixture(scope="module")
def start(parts):
    """The network before any step (no step taken: the best weights are the initial ones)."""
    return NeuralModel(**PLAIN, max_steps=0).fit(parts[0], valid=parts[1])


def test_no_step_leaves_the_initial_network_and_an_infinite_best_loss(start):
    assert start.metrics_["steps"] == 0 and start.metrics_["valid_loss"] == math.inf
    assert start.metrics_["curve"] == [] and start.metrics_["stopped"] == "max steps"


def test_the_first_step_is_adamw_on_the_mean_cross_entropy_per_stroke(parts, start):
    """One step on every training rally (one batch: batch_size above the rally count): the step's loss is the
    mean cross-entropy per stroke, and the weights move as torch's AdamW (its default lr 3e-3, weight decay 0.01)
    moves them from the same start with that loss's gradient, clipped to norm 1."""
    train, valid = parts
    seen = []
    one = NeuralModel(**PLAIN, max_steps=4).fit(train, valid=valid, max_steps=1, log=seen.append)
    assert one.config.max_steps == 4 and one.metrics_["max_steps"] == 1
    assert seen == one.metrics_["curve"] and [r["step"] for r in seen] == [1]
    assert seen[0]["train_loss"] == pytest.approx(_mean_ce(start, train), rel=1e-5)
    # the reference step
    ref = {k: v.clone() for k, v in _weights(start).items()}
    copy = NeuralModel(**PLAIN).build(start.players, start.norm)
    copy.load_state_dict(ref)
    from strategist.opponent.neural import batch_of, encode_table, to_tensors

    frame = start._check_table(train)
    data = to_tensors(encode_table(start._encoder, frame), "cpu")
    b = batch_of(data, torch.arange(len(data["lengths"])))
    copy.train()
    logits = copy(b)
    mask = b["target"] >= 0
    loss = F.cross_entropy(logits[mask], b["target"][mask])
    opt = torch.optim.AdamW(copy.parameters(), lr=DEFAULT_LR["adamw"] * lr_multiplier(1, 1, 0.5, "cosine", 0.05),
                            weight_decay=0.01)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(copy.parameters(), 1.0)
    opt.step()
    after = one.net.state_dict()
    # ema 0.995: the first step's EMA weight is min(0.995, 2/11), so the model keeps 2/11 of the start
    for k, v in copy.state_dict().items():
        expected = (2 / 11) * ref[k] + (9 / 11) * v
        torch.testing.assert_close(after[k], expected, rtol=1e-5, atol=1e-7)


def test_the_weights_kept_are_the_ema_of_the_steps_at_the_best_evaluation(parts):
    """With an evaluation after every step, the raw weights W_s of each step are seen through ``log``; the
    model's final weights are the EMA e_s = d_s e_(s-1) + (1 - d_s) W_s, d_s = min(ema, (1 + s)/(10 + s)), at the
    step the run reports best."""
    train, valid = parts
    raw = []
    holder = {}

    def log(record):
        raw.append(_weights(holder["model"]))
    model = NeuralModel(**dict(PLAIN, ema=0.3, lr=0.05))
    holder["model"] = model
    start = NeuralModel(**dict(PLAIN, ema=0.3, lr=0.05), max_steps=0).fit(train, valid=valid)
    model.fit(train, valid=valid, max_steps=4, log=log)
    ema = _weights(start)
    history = []
    for s, w in enumerate(raw, start=1):
        d = min(0.3, (1 + s) / (10 + s))
        ema = {k: d * ema[k] + (1 - d) * w[k] for k in ema}
        history.append(ema)
    best = model.metrics_["best_step"]
    assert 1 <= best <= 4
    for k, v in _weights(model).items():
        torch.testing.assert_close(v, history[best - 1][k], rtol=1e-5, atol=1e-7)
    # no EMA: the weights kept are the raw weights of the best step
    raw.clear()
    model = NeuralModel(**dict(PLAIN, ema=0.0, lr=0.05))
    holder["model"] = model
    model.fit(train, valid=valid, max_steps=3, log=log)
    for k, v in _weights(model).items():
        torch.testing.assert_close(v, raw[model.metrics_["best_step"] - 1][k])


def test_the_validation_loss_weighs_recorded_and_hidden_inputs(parts):
    """Each evaluation scores the EMA weights on the validation strokes as recorded and with every maskable input
    hidden (the landing areas: the only recorded one here), weighed 1 - w and w; the best is the lowest."""
    train, valid = parts
    model = NeuralModel(**dict(PLAIN, valid_hidden_weight=0.25, lr=0.02)).fit(train, valid=valid, max_steps=3)
    curve = model.metrics_["curve"]
    best = min(curve, key=lambda r: r["valid_loss"])
    assert model.metrics_["best_step"] == best["step"] and model.metrics_["valid_loss"] == best["valid_loss"]
    recorded = _mean_ce(model, valid)
    blind = rally_frame(valid).copy()
    blind["landing_area"] = None
    hidden = _mean_ce(model, blind)
    assert best["valid_loss_recorded_inputs"] == pytest.approx(recorded, rel=1e-5)
    assert best["valid_loss_shots_only"] == pytest.approx(hidden, rel=1e-5)
    assert best["valid_loss"] == pytest.approx(0.75 * recorded + 0.25 * hidden, rel=1e-5)
    assert abs(recorded - hidden) > 1e-4                     # so the weighing can be told apart
    # weight 0: the hidden inputs are not scored at all
    only = NeuralModel(**dict(PLAIN, valid_hidden_weight=0.0, lr=0.02)).fit(train, valid=valid, max_steps=2)
    assert all(r["valid_loss_shots_only"] is None and r["valid_loss"] == r["valid_loss_recorded_inputs"]
               for r in only.metrics_["curve"])


def test_a_network_that_stops_improving_stops_after_patience_evaluations(parts):
    """lr 0: the weights never move, so the first evaluation is the best and each later one counts; with
    patience 2 the third evaluation without progress stops the run (step 4 of 20)."""
    train, valid = parts
    model = NeuralModel(**dict(PLAIN, lr=0.0, patience=2)).fit(train, valid=valid, max_steps=20)
    m = model.metrics_
    assert m["stopped"] == "early stopping" and m["steps"] == 4 and m["best_step"] == 1
    assert [r["step"] for r in m["curve"]] == [1, 2, 3, 4]
    assert len({r["valid_loss"] for r in m["curve"]}) == 1


def test_an_improvement_below_the_tolerance_does_not_count(parts, monkeypatch):
    """A validation loss must fall by more than 1e-5 to be a new best: losses falling by 1e-6 an evaluation
    leave the first as the best and stop the run; falling by 1e-4 they keep improving."""
    train, valid = parts
    for drop, stopped in ((1e-6, "early stopping"), (1e-4, "max steps")):
        losses = iter([1.0 - drop * i for i in range(20)])
        monkeypatch.setattr(train_module, "evaluate_loss", lambda net, data: next(losses))
        model = NeuralModel(**dict(PLAIN, valid_hidden_weight=0.0, patience=1)).fit(train, valid=valid,
                                                                                    max_steps=5)
        assert model.metrics_["stopped"] == stopped
        assert model.metrics_["best_step"] == (1 if stopped == "early stopping" else 5)


def test_evaluations_follow_the_schedule_and_the_last_step(parts):
    train, valid = parts
    model = NeuralModel(**dict(PLAIN, eval_every=3)).fit(train, valid=valid, max_steps=7)
    assert [r["step"] for r in model.metrics_["curve"]] == [3, 6, 7]


def test_a_time_budget_stops_after_the_step_that_spends_it(parts):
    train, valid = parts
    model = NeuralModel(**dict(PLAIN, eval_every=50)).fit(train, valid=valid, max_steps=30, time_budget=0.0)
    assert model.metrics_["stopped"] == "time budget" and model.metrics_["steps"] == 1
    assert model.metrics_["curve"] == []                        # no evaluation was due at step 1
    model = NeuralModel(**dict(PLAIN, eval_every=50)).fit(train, valid=valid, max_steps=3, time_budget=1e9)
    assert model.metrics_["stopped"] == "max steps" and model.metrics_["steps"] == 3


def test_a_non_finite_loss_stops_the_run_and_is_evaluated(parts, monkeypatch):
    """An infinite learning rate ruins the weights in its first step: the next loss is not finite, the run
    stops there and evaluates at once (no evaluation was due)."""
    train, valid = parts
    model = NeuralModel(**dict(PLAIN, eval_every=100, lr=math.inf, warmup=0.0)).fit(train, valid=valid,
                                                                                   max_steps=10)
    m = model.metrics_
    assert m["stopped"] == "non-finite loss" and m["steps"] == 2
    assert [r["step"] for r in m["curve"]] == [2]


def test_checkpoints_follow_their_schedule_and_the_end(parts, tmp_path, monkeypatch):
    """checkpoint_every 2 of 5 steps: written after steps 2 and 4 and once more at the end (step 5, stopped by
    the step count); an early stop writes at its step too. The saved optimizer holds the last step's lr."""
    train, valid = parts
    steps = []
    real = train_module._save_train_state

    def spy(out, model, cfg, optimizer, ema, best, state, fingerprint):
        steps.append((state["step"], state["stopped"]))
        real(out, model, cfg, optimizer, ema, best, state, fingerprint)
    monkeypatch.setattr(train_module, "_save_train_state", spy)
    NeuralModel(**dict(PLAIN, checkpoint_every=2, eval_every=10)).fit(train, valid=valid, out=tmp_path / "a",
                                                                      max_steps=5)
    assert steps == [(2, None), (4, None), (5, "max steps")]
    tensors, meta = read_tensors(tmp_path / "a", "train_state")
    groups = unflatten_state(meta["optimizer"], tensors)["param_groups"]
    assert groups[0]["lr"] == pytest.approx(DEFAULT_LR["adamw"] * lr_multiplier(5, 5, 0.5, "cosine", 0.05))
    assert (tmp_path / "a" / "model.json").is_file()
    steps.clear()
    NeuralModel(**dict(PLAIN, checkpoint_every=100, lr=0.0, patience=0)).fit(train, valid=valid,
                                                                             out=tmp_path / "b", max_steps=9)
    assert steps == [(2, "early stopping"), (2, "early stopping")]


def test_gradients_are_clipped_to_the_norm_asked(parts, start):
    """Clipped to norm 1e-12 the gradient is far below AdamW's epsilon, so the weights barely move; without
    clipping (0) they move by about the learning rate."""
    train, valid = parts
    base = _weights(start)

    def moved(clip):
        m = NeuralModel(**dict(PLAIN, clip=clip, ema=0.0, weight_decay=0.0, lr=0.01, warmup=0.0))
        m.fit(train, valid=valid, max_steps=1)
        return max(float((v - base[k]).abs().max()) for k, v in _weights(m).items())
    assert moved(1e-12) < 1e-5
    assert moved(0.0) == pytest.approx(0.01, rel=0.05)


def test_the_run_reports_its_device_world_split_and_seconds(parts, tmp_path):
    train, valid = parts
    model = NeuralModel(**PLAIN).fit(train, valid=valid, max_steps=2, out=tmp_path)
    m = model.metrics_
    assert m["device"] == "cpu" and m["world_size"] == 1 and m["calibration"] is None
    assert m["train_seconds"] >= 0 and m["train_cpu_seconds"] >= 0
    assert m["train_seconds"] == round(m["train_seconds"], 3)
    assert model.split_ == {"train": sorted(train["match_id"].unique()), "valid": sorted(valid["match_id"].unique())}
    saved = json.loads((tmp_path / "model.json").read_text())
    assert saved["split"] == model.split_ and saved["metrics"]["steps"] == 2
    given = {"train": ["x"], "valid": ["y"]}
    assert NeuralModel(**PLAIN).fit(train, valid=valid, max_steps=1, split=given).split_ == given


def test_validation_matches_come_from_the_split_rule_when_not_given(parts):
    """Without ``valid`` the table is split by the split rule (no test part, a tenth for validation)."""
    from strategist.opponent.split import split_matches

    table = pd.concat(parts)                                    # six matches: one for validation
    model = NeuralModel(**PLAIN).fit(table, max_steps=1)
    rule = split_matches(table, test_fraction=0.0, valid_fraction=0.1)
    assert model.split_ == {"train": sorted(rule.train), "valid": sorted(rule.valid)}
    assert len(rule.valid) == 1
    with pytest.raises(OpponentModelError, match="no validation matches"):
        NeuralModel(**PLAIN).fit(table, valid=table.iloc[:0], max_steps=1)
    with pytest.raises(OpponentModelError, match="no validation matches"):
        NeuralModel(**PLAIN).fit(parts[0], max_steps=1)          # four matches: none for validation


def test_an_unknown_optimizer_is_refused_before_training(parts):
    with pytest.raises(ConfigurationError, match="optimizer 'sgd'"):
        NeuralModel(**dict(PLAIN, optimizer="sgd")).fit(*parts[:1], valid=parts[1], max_steps=1)
    assert NeuralModel(**dict(PLAIN, optimizer="AdamW")).fit(parts[0], valid=parts[1], max_steps=1).fitted_


def test_threads_sets_torchs_cpu_threads(parts):
    before = torch.get_num_threads()
    try:
        NeuralModel(**PLAIN).fit(parts[0], valid=parts[1], max_steps=1, threads=2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("optimizer", ["kfac", "muon", "shampoo", "soap"])
def test_every_optimizer_steps_on_the_mean_cross_entropy(parts, start, optimizer):
    """The first step's loss is the mean cross-entropy per stroke whatever the optimizer (K-FAC's own backward
    included), and the steps move the weights to finite values."""
    train, valid = parts
    model = NeuralModel(**dict(PLAIN, optimizer=optimizer, ema=0.0)).fit(train, valid=valid, max_steps=2)
    first = model.metrics_["curve"][0]
    assert first["train_loss"] == pytest.approx(_mean_ce(start, train), rel=1e-5)
    weights, base = _weights(model), _weights(start)
    assert all(torch.isfinite(v).all() for v in weights.values())
    assert max(float((v - base[k]).abs().max()) for k, v in weights.items()) > 1e-4
