"""Training the neural model: it learns a planted pattern, resumes exactly, adapts in-match, runs under DDP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from strategist.errors import CheckpointError, ConfigurationError
from strategist.opponent import MarkovModel, NeuralModel, load_model
from strategist.opponent.evaluate import evaluate
from strategist.opponent.train import lr_multiplier, resolve_device

from .conftest import TINY


def test_a_short_run_learns_the_planted_pattern(planted_model, planted_split):
    train, _, test = planted_split
    neural = evaluate(planted_model, test, only_held_out=False)
    markov = evaluate(MarkovModel(order=2).fit(train), test, only_held_out=False)
    # the next shot is set by the previous landing area, which only the neural model sees
    assert neural["top1"] > 0.95, neural
    assert markov["top1"] < 0.6
    assert neural["log_loss"] < 0.5 * markov["log_loss"]
    assert planted_model.metrics_["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    curve = planted_model.metrics_["curve"]
    assert curve[-1]["valid_loss"] < curve[0]["valid_loss"]


def test_unknown_player_and_empty_history(planted_model):
    p = planted_model.predict_proba(None, {"player": "Stranger", "opponent": "Ann"})
    assert p.attrs["source"] == "population" and not p.attrs["known_player"]
    assert p["short service"] > 0.9 and p.sum() == pytest.approx(1.0)


def test_single_predictions_equal_the_table_path(planted_model, planted_split):
    from strategist.opponent.base import positions_in_rally, rally_frame

    frame = rally_frame(planted_split[2]).iloc[:60]
    frame = frame[frame["rally_id"].isin(frame["rally_id"].unique()[:-1])]
    probs = planted_model.predict_table(frame)
    pos = positions_in_rally(frame)
    for row in range(len(frame)):
        hist = frame.iloc[row - pos[row]:row]
        ctx = {"player": frame["hitter"].iloc[row], "opponent": frame["opponent"].iloc[row],
               "stroke": int(pos[row]) + 1, "server": frame["server"].iloc[row]}     # no score: none recorded
        p = planted_model.predict_proba(hist, ctx)
        np.testing.assert_allclose(p.to_numpy(), probs[row], rtol=1e-4, atol=1e-6)


def test_in_match_offsets_learn_a_new_habit(planted_model, planted_split):
    from strategist.opponent.base import rally_frame

    test = rally_frame(planted_split[2])
    match = test[test["match_id"] == test["match_id"].iloc[0]].copy()
    # in this match every serve is answered with a clear, which training never showed
    match["shot"] = match["shot"].astype(object)
    match.loc[match["stroke"] == 2, "shot"] = "clear"
    match["shot"] = match["shot"].astype("string")
    rallies = match["rally_id"].unique()
    first = match[match["rally_id"] == rallies[-1]]
    ctx = {"player": first["hitter"].iloc[1], "opponent": first["hitter"].iloc[0]}
    before = planted_model.predict_proba(first.iloc[:1], ctx)["clear"]
    planted_model.update(match[match["rally_id"].isin(rallies[:-1])])
    after = planted_model.predict_proba(first.iloc[:1], ctx)
    planted_model.reset()
    assert after.attrs["adapted"]
    # the network is sure of this pattern, so a player-wide offset moves it by a factor, not to certainty
    assert after["clear"] > 5 * before
    assert planted_model.predict_proba(first.iloc[:1], ctx)["clear"] == pytest.approx(before)


def test_logit_offset_is_the_penalised_optimum():
    from strategist.opponent.neural import _softmax, fit_logit_offset

    rng = np.random.default_rng(0)
    z = rng.normal(size=(40, 5))
    y = rng.integers(0, 5, size=40)
    b = fit_logit_offset(z, y, 2.0, steps=8)
    grad = (_softmax(z + b) - np.eye(5)[y]).sum(0) + 2.0 * b
    assert np.abs(grad).max() < 1e-8
    y[:] = 3
    assert fit_logit_offset(z, y, 2.0)[3] > 1.0


def _params(model):
    return {k: v.clone() for k, v in model.net.state_dict().items()}


@pytest.mark.parametrize("optimizer", ["adamw", "soap", "kfac"])
def test_interrupted_run_resumes_without_losing_or_repeating_a_step(planted_split, tmp_path, optimizer):
    train, valid, _ = planted_split
    cfg = dict(TINY, optimizer=optimizer, max_steps=12, eval_every=4, checkpoint_every=4, ema=0.9)
    whole = NeuralModel(**cfg).fit(train, valid=valid)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        NeuralModel(**cfg).fit(train, valid=valid, out=out, _interrupt_at=6)
    assert (out / "train_state.json").is_file() and not (out / "model.json").exists()
    resumed = NeuralModel(**cfg).fit(train, valid=valid, out=out)
    assert resumed.metrics_["steps"] == 12
    assert [c["step"] for c in resumed.metrics_["curve"]] == [4, 8, 12]
    for k, v in _params(whole).items():          # bit for bit: the same steps on the same numbers
        torch.testing.assert_close(_params(resumed)[k], v, rtol=0, atol=0)
    np.testing.assert_array_equal([c["valid_loss"] for c in resumed.metrics_["curve"]],
                                  [c["valid_loss"] for c in whole.metrics_["curve"]])
    loaded = load_model(out)
    torch.testing.assert_close(_params(loaded)["out.weight"], _params(resumed)["out.weight"])


def test_resume_refuses_another_configuration(planted_split, tmp_path):
    train, valid, _ = planted_split
    out = tmp_path / "run"
    NeuralModel(**dict(TINY, max_steps=4)).fit(train, valid=valid, out=out)
    with pytest.raises(CheckpointError, match="another configuration"):
        NeuralModel(**dict(TINY, max_steps=4, hidden=8)).fit(train, valid=valid, out=out)
    NeuralModel(**dict(TINY, max_steps=4, hidden=8)).fit(train, valid=valid, out=out, resume=False)


def test_schedule_and_device():
    assert lr_multiplier(1, 100, 0.1, "cosine", 0.0) == pytest.approx(0.1)
    assert lr_multiplier(10, 100, 0.1, "cosine", 0.0) == pytest.approx(1.0)
    assert lr_multiplier(100, 100, 0.1, "cosine", 0.05) == pytest.approx(0.05)
    assert lr_multiplier(55, 100, 0.1, "cosine", 0.0) == pytest.approx(0.5)
    assert lr_multiplier(50, 100, 0.1, "wsd", 0.0) == 1.0
    assert lr_multiplier(100, 100, 0.1, "wsd", 0.0) == pytest.approx(0.0)
    with pytest.raises(ConfigurationError):
        lr_multiplier(50, 100, 0.1, "step", 0.0)
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ConfigurationError, match="CUDA is not available"):
            resolve_device("cuda")


def test_every_optimizer_takes_finite_steps(planted_split):
    train, valid, _ = planted_split
    for name in ("shampoo", "muon"):
        model = NeuralModel(**dict(TINY, optimizer=name, max_steps=5)).fit(train, valid=valid)
        assert math.isfinite(model.metrics_["valid_loss"])


def test_the_default_optimizer_is_the_one_the_committed_benchmark_chose():
    import json
    from pathlib import Path

    from strategist.opponent.neural import NeuralConfig
    from strategist.opponent.train import DEFAULT_OPTIMIZER, OPTIMIZERS

    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "opponent.json"
    chosen = json.loads(results.read_text())["optimizers"]["default"]
    assert DEFAULT_OPTIMIZER == chosen and NeuralConfig().optimizer == chosen and chosen in OPTIMIZERS


def test_each_optimizers_default_learning_rate_is_the_best_of_its_benchmark_grid():
    import json
    from pathlib import Path

    from strategist.opponent.train import DEFAULT_LR, OPTIMIZERS

    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "opponent.json"
    best = json.loads(results.read_text())["optimizers"]["best_lr"]
    assert set(best) == set(OPTIMIZERS) == set(DEFAULT_LR)
    assert all(DEFAULT_LR[name] == pytest.approx(best[name], rel=1e-12) for name in OPTIMIZERS)


def test_the_default_model_is_the_one_the_committed_benchmark_found_best():
    """``DEFAULT_MODEL`` names the kind of the committed benchmark's ``default_model``, and that kind is the one
    its rule picks from the recorded figures (the lowest log-loss with only the shots known)."""
    import json
    from pathlib import Path

    from strategist.opponent import DEFAULT_MODEL, KINDS, parse_kind

    results = json.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "opponent.json")
                         .read_text())
    chosen = results["default_model"]
    assert chosen["kind"] == min(chosen["log_loss"], key=chosen["log_loss"].get)
    shots_only = {name: c["conditions"]["shots"]["log_loss"] for name, c in results["count_models"].items()
                  if name in chosen["log_loss"]}
    assert all(chosen["log_loss"][name] == v for name, v in shots_only.items())
    assert DEFAULT_MODEL == chosen["kind"] and parse_kind(DEFAULT_MODEL)[0] in KINDS
