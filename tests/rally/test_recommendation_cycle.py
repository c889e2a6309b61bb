"""The recommendation's fixed point when it cycles: a stage game whose optimal mix flips with the values it
leads to, and the values with the mix. Found on real data (Viktor AXELSEN v Kodai NARAOKA, fitted on ShuttleSet
without the README's held-out matches): the opponent's position after the player's low net shot at the front
flips between front and middle every round. The rounds stop at the cycle, the two mixes are averaged there,
the values are those of the averaged play, and the output says so."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pytest

import strategist
from strategist.rally.game import _average_cycle, rally_game

from .test_rally_values import _evaluate

STATE = "player: rally after net shot (low, front)"


def test_two_rounds_mixes_are_averaged_where_they_differ():
    this = ([np.array([1.0, 0.0]), np.array([0.2, 0.8])], [np.array([0.0, 1.0, 0.0])])
    before = ([np.array([0.0, 1.0]), np.array([0.2, 0.8])], [np.array([0.0, 0.0, 1.0])])
    xs, ys, changed = _average_cycle(this, before)
    np.testing.assert_allclose(xs[0], [0.5, 0.5])
    assert xs[1] is this[0][1]                             # unchanged mixes are kept as they are
    np.testing.assert_allclose(ys[0], [0.0, 0.5, 0.5])
    assert changed == (0,)                                 # state 0 changed for one player or both


@pytest.fixture(scope="module")
def cycling(shuttleset_strokes):
    table = strategist.load_rallies(shuttleset_strokes).table
    ids = sorted(table["match_id"].unique(), key=lambda m: hashlib.sha1(str(m).encode("utf-8")).hexdigest())
    held = set(ids[:round(0.2 * len(ids))])
    train = table[~table["match_id"].isin(held)].reset_index(drop=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        game = rally_game(train, "Viktor AXELSEN", "Kodai NARAOKA")
    return game, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_cycling_recommendation_stops_at_the_cycle_and_says_so(cycling):
    game, messages = cycling
    rec = game.recommendation
    assert not rec.converged and rec.iterations < 10          # stopped at the cycle, not after 60 rounds
    assert [game.labels[g] for g in rec.alternating] == [STATE]
    assert any("alternates between two mixes" in m and STATE in m for m in messages)
    assert game.to_dict()["recommendation"]["alternating"] == [STATE]
    # the opponent's positions there: the two pure answers' average
    assert game.equilibrium(STATE)["opponent"] == pytest.approx({"front": 0.5, "middle": 0.5})


def test_the_values_are_those_of_the_averaged_play(cycling):
    game, _ = cycling
    rec = game.recommendation
    realized = _evaluate(game, rec.row_strategies, rec.column_strategies)
    np.testing.assert_allclose(rec.realized, realized, atol=1e-9)
    np.testing.assert_allclose(game.states["value"], realized, atol=1e-9)
