"""The neural model with inputs missing: the masking of training, the inputs a prediction reports, its
evidence, its temperature, the per-player offsets of the table path, and the weights' version counter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from strategist.opponent import MarkovModel, NeuralModel, rally_frame
from strategist.opponent.base import positions_in_rally
from strategist.opponent.evaluate import evaluate
from strategist.opponent.neural import (MASKABLE, _softmax, batch_of, encode_table, fit_logit_offset,
                                        choose_temperature, fit_temperature, hide_all, mask_inputs,
                                        temperature_interval, to_tensors)

from .conftest import TINY
from .temperature_data import bootstrap_refits, clustered

STROKE_FIELDS = ("wing", "landing_height", "hitter_area", "opponent_area", "hitter_x", "hitter_y", "opponent_x",
                 "opponent_y")


def _without(table: pd.DataFrame, columns, after: int = 0) -> pd.DataFrame:
    """``table`` with ``columns`` emptied on the strokes numbered above ``after``."""
    out = rally_frame(table).copy()
    late = (out["stroke"] > after).to_numpy()
    for c in columns:
        out.loc[late, c] = np.nan if out[c].dtype == "float64" else pd.NA
    return out


@pytest.fixture(scope="module")
def planted_parts(planted_split):
    return planted_split


@pytest.fixture(scope="module")
def masked_model(masked_planted_model):
    return masked_planted_model


def _batch(model, table):
    frame = rally_frame(table)
    data = to_tensors(encode_table(model._encoder, frame), "cpu")
    return batch_of(data, torch.arange(len(data["lengths"])))


def test_masking_hides_each_field_from_a_stroke_on_and_sets_its_missing_code(masked_model, planted_parts):
    rng = np.random.default_rng(2)
    rich = rally_frame(planted_parts[0]).copy()        # every field recorded on every stroke
    n = len(rich)
    rich = rich.assign(wing=rng.choice(["forehand", "backhand"], n), landing_height=rng.choice(["high", "low"], n),
                       hitter_x=rng.normal(size=n), hitter_y=rng.normal(size=n), opponent_x=rng.normal(size=n),
                       opponent_y=rng.normal(size=n), hitter_score=rng.integers(0, 21, n),
                       opponent_score=rng.integers(0, 21, n))
    b = _batch(masked_model, rich)
    torch.manual_seed(0)
    m = mask_inputs(b, 1.0, 0.0)
    valid = b["target"] >= 0
    steps = torch.arange(b["target"].shape[1])[None, :].expand_as(b["target"])
    hidden_area = (m["area"] == 0) & (b["area"] != 0)
    assert hidden_area.any() and not hidden_area[:, 0].any()
    # once hidden in a rally, hidden to its end (a suffix), the rest untouched
    for r in range(b["target"].shape[0]):
        cols = torch.nonzero(hidden_area[r] & valid[r]).flatten()
        if len(cols):
            later = valid[r] & (steps[r] >= cols[0]) & (b["area"][r] != 0)
            assert hidden_area[r][later].all()
    kept = ~hidden_area & (b["area"] != 0)
    assert torch.equal(m["area"][kept], b["area"][kept])
    # a hidden score is zero with its indicator set; a hidden position likewise; the others as recorded
    assert not (b["ctx"][..., 2][valid] == 1).any() and not (b["num"][..., 4:6][valid] == 1).any()
    gone = m["ctx"][..., 2] == 1
    assert gone.any() and torch.all(m["ctx"][..., :2][gone] == 0)
    assert torch.equal(m["ctx"][..., :2][~gone], b["ctx"][..., :2][~gone])
    gone = m["num"][..., 4] == 1
    assert gone.any() and torch.all(m["num"][..., :2][gone] == 0) and not gone[:, 0].any()
    assert torch.equal(m["num"][..., :2][~gone], b["num"][..., :2][~gone])
    # nothing hidden when nothing is asked; every maskable field hidden by hide_all
    assert mask_inputs(b, 0.0, 0.0) is b
    h = hide_all(b)
    assert torch.all(h["area"][:, 1:] == 0) and torch.all(h["ctx"][..., 2] == 1)
    assert torch.all(h["num"][:, 1:, 4:6] == 1) and torch.all(h["num"][:, 1:, :4] == 0)
    assert torch.equal(h["shot"], b["shot"]) and torch.equal(h["num"][..., 6], b["num"][..., 6])
    # the share of masked rallies follows mask_rallies
    torch.manual_seed(1)
    some = mask_inputs(b, 0.3, 0.0)
    changed = ((some["area"] == 0) & (b["area"] != 0)).any(1).float().mean()
    assert 0.1 < float(changed) < 0.35            # 0.3 x (½ all fields + ½ x ½ this field on its own)
    assert len(MASKABLE) == 6


def test_a_model_trained_with_masking_keeps_its_head_when_landing_areas_go_missing(masked_model, planted_parts,
                                                                                  planted_model):
    """The planted pattern (the next shot follows the last landing area) is learnt; with the areas gone after
    the second stroke the masked model falls back to what the shots say (the Markov model's level) instead of
    reading the missing area as an area it knows; a model trained without masking does not."""
    train, valid, test = planted_parts
    blind = _without(test, ["landing_area"], after=2)
    markov = evaluate(MarkovModel(order=2).fit(train), blind, only_held_out=False)
    full = evaluate(masked_model, test, only_held_out=False)
    masked = evaluate(masked_model, blind, only_held_out=False)
    unmasked = evaluate(planted_model, blind, only_held_out=False)
    assert full["top1"] > 0.9
    assert masked["log_loss"] < markov["log_loss"] + 0.05
    assert unmasked["log_loss"] > masked["log_loss"] + 0.2


def test_a_prediction_reports_the_inputs_it_used(untrained_neural, sim_table):
    table = rally_frame(sim_table).iloc[:40].copy()
    model = untrained_neural(table)
    pos = positions_in_rally(table)
    row = int(np.flatnonzero(pos == 3)[0])
    ctx = {"player": table["hitter"].iloc[row], "opponent": table["opponent"].iloc[row]}
    bare = table.iloc[row - 3:row][["shot", "hitter", "opponent"]]
    assert model.predict(bare, ctx).inputs == ("shot", "hitter", "server", "player", "opponent")
    with_areas = table.iloc[row - 3:row][["shot", "hitter", "opponent", "landing_area"]]
    assert "landing_area" in model.predict(with_areas, ctx).inputs
    full = table.iloc[row - 3:row].assign(wing="forehand", landing_height="high", hitter_x=1.0, hitter_y=2.0)
    used = model.predict(full, dict(ctx, score=(3, 4))).inputs
    assert {"wing", "landing_height", "positions", "score"} <= set(used)
    stranger = model.predict(bare, {"player": "Nobody", "opponent": "Else"})
    assert "player" not in stranger.inputs and stranger.source == "population"


def test_evidence_counts_the_players_training_strokes_in_the_context(masked_model, planted_parts):
    """``n`` of a player seen in training: that player's training strokes after the same shot (a pandas count)."""
    train = rally_frame(planted_parts[0])
    prev = train.groupby("rally_id", sort=False)["shot"].shift(1)
    frame = rally_frame(planted_parts[2])
    row = int(np.flatnonzero(positions_in_rally(frame) == 2)[0])
    player, last = frame["hitter"].iloc[row], frame["shot"].iloc[row - 1]
    p = masked_model.predict(frame.iloc[row - 2:row], {"player": player})
    want = int(((train["hitter"] == player) & (prev == last)).sum())
    assert p.n == want > 0 and p.source == "player"
    serve = masked_model.predict(None, {"player": player})
    assert serve.n == int(((train["hitter"] == player) & prev.isna()).sum()) > 0
    stranger = masked_model.predict(frame.iloc[row - 2:row], {"player": "Stranger"})
    assert stranger.n == int((prev == last).sum()) and stranger.source == "population"


def test_temperature_minimises_the_log_loss_and_is_applied(masked_model, planted_parts):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 6)) * 3
    y = np.array([rng.choice(6, p=_softmax(row / 2.5)) for row in z])
    t = fit_temperature(z, y)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 4001))
    losses = [np.mean(-np.log(_softmax(z / g)[np.arange(len(y)), y])) for g in grid]
    assert t == pytest.approx(grid[int(np.argmin(losses))], rel=2e-3)
    assert fit_temperature(z / 2, y) == pytest.approx(t / 2, rel=1e-3)         # the same fit in other units
    cal = masked_model.metrics_["calibration"]
    assert cal["temperature"] == masked_model.temperature_ and cal["n"] > 100
    assert cal["temperature"] == (cal["fitted_temperature"] if cal["applied"] else 1.0)
    if cal["matches"] < 3:                        # the planted data's few validation matches: not applied
        assert not cal["applied"] and cal["interval"] == [None, None]
    else:
        assert cal["applied"] == (not cal["interval"][0] <= 1 <= cal["interval"][1])
    assert cal["valid_log_loss_after"] <= cal["valid_log_loss_before"] + 1e-12
    saved = masked_model.temperature_
    try:
        masked_model.temperature_ = 1.0
        _, unscaled = masked_model.logits_table(planted_parts[2])
        masked_model.temperature_ = 1.7
        _, raw = masked_model.logits_table(planted_parts[2])
    finally:
        masked_model.temperature_ = saved
    np.testing.assert_allclose(raw, unscaled / 1.7, rtol=1e-12)


def test_the_temperatures_interval_is_the_bootstrap_of_the_fit_over_the_matches():
    """Reference: each replicate refitted by :func:`fit_temperature` on the matches' rows repeated by the
    same multinomial counts the function draws."""
    z, y, matches = clustered(1.4, matches=8, per_match=150)
    low, high = temperature_interval(z, y, matches, level=0.8, replicates=60, seed=3)
    refits = bootstrap_refits(z, y, matches, replicates=60, seed=3)
    assert low == pytest.approx(np.percentile(refits, 10), rel=3e-3)
    assert high == pytest.approx(np.percentile(refits, 90), rel=3e-3)
    assert low < fit_temperature(z, y) < high


def test_a_temperature_is_applied_only_where_the_validation_matches_agree_on_it():
    sharp = choose_temperature(*clustered(2.0))
    assert sharp["applied"] and sharp["interval"][0] > 1
    assert sharp["temperature"] == sharp["fitted_temperature"] == pytest.approx(2.0, rel=0.1)
    honest = choose_temperature(*clustered(1.0))
    low, high = honest["interval"]
    assert not honest["applied"] and low < 1 < high and honest["temperature"] == 1.0
    assert honest["fitted_temperature"] != 1.0 and "disagree" in honest["reason"]
    z, y, matches = clustered(2.0)
    few = choose_temperature(z, y, matches % 2)
    assert not few["applied"] and few["temperature"] == 1.0 and few["interval"] == [None, None]
    assert "2 validation match(es)" in few["reason"]


def test_the_table_path_applies_each_players_in_match_offset(untrained_neural, sim_table):
    """Kills: ``predict_table`` ignoring the offsets ``update`` fitted. Reference: the offset of the Newton
    solve on the match's logits, added by hand."""
    frame = rally_frame(sim_table)
    masked_model = untrained_neural(frame)
    match = frame[frame["match_id"] == frame["match_id"].iloc[0]]
    rallies = match["rally_id"].unique()
    seen, later = match[match["rally_id"].isin(rallies[:-2])], match[match["rally_id"].isin(rallies[-2:])]
    masked_model.reset()
    try:
        _, z = masked_model.logits_table(seen)
        masked_model.update(seen)
        _, z_later = masked_model.logits_table(later)
        want = z_later.copy()
        codes = masked_model.vocabulary.shot_codes(seen["shot"])
        for player in seen["hitter"].unique():
            rows = (seen["hitter"] == player).to_numpy()
            b = fit_logit_offset(z[rows], codes[rows], masked_model.config.adapt_l2)
            want[(later["hitter"] == player).to_numpy()] += b
        np.testing.assert_allclose(masked_model.predict_table(later), _softmax(want), rtol=1e-6, atol=1e-9)
        assert not np.allclose(_softmax(z_later), _softmax(want), atol=1e-3)
    finally:
        masked_model.reset()


def test_the_weights_version_moves_on_every_step_and_load(planted_parts):
    train, valid, _ = planted_parts
    model = NeuralModel(max_steps=3, **TINY)
    config = model.config
    model.fit(train, valid=valid, max_steps=5)
    assert model.config is config and model.config.max_steps == 3          # the run's override is not written back
    assert model.metrics_["max_steps"] == 5 and model.metrics_["steps"] == 5
    net = model.net
    before = net.version
    assert before >= 5                                                        # a step each, and the loads
    net.load_state_dict(net.state_dict())
    assert net.version == before + 1
    p = model.predict(None, {"player": train["hitter"].iloc[0]})
    assert model._folded.fresh(net)
    net.weights_changed()
    assert not model._folded.fresh(net)
    np.testing.assert_allclose(model.predict(None, {"player": train["hitter"].iloc[0]}).probabilities,
                               p.probabilities)
