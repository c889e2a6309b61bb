"""The recommendation's fixed point when it cycles: a stage game whose optimal mix flips with the values it
leads to, and the values with the mix. The rounds stop at a two-round cycle, the two mixes are averaged where
they flip, the values are those of the averaged play, and the output says so. A round that flips one state's
mix every time stands in for such a stage game (on ShuttleSet one pair did this before each side's mix came
from its own game)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import strategist.rally.game as rally_module
from strategist.rally.game import _average_cycle, rally_game

from .pair import O, P, flipping_rounds, pair_table, values_of_play


def test_two_rounds_mixes_are_averaged_where_they_differ():
    this = ([np.array([1.0, 0.0]), np.array([0.2, 0.8])], [np.array([0.0, 1.0, 0.0])])
    before = ([np.array([0.0, 1.0]), np.array([0.2, 0.8])], [np.array([0.0, 0.0, 1.0])])
    xs, ys, changed = _average_cycle(this, before)
    np.testing.assert_allclose(xs[0], [0.5, 0.5])
    assert xs[1] is this[0][1]                             # unchanged mixes are kept as they are
    np.testing.assert_allclose(ys[0], [0.0, 0.5, 0.5])
    assert changed == (0,)                                 # state 0 changed for one player or both


@pytest.fixture(scope="module")
def cycling():
    """The pair's game with a round whose opponent mix at one state (where the opponent keeps its habit, so
    no tie-keeping touches it) flips between its first two positions every round."""
    real = rally_module._pessimistic_round
    flipped = {}

    def flipping(*args):
        low, high, rows, cols, xs, ys, values = real(*args)
        if "state" not in flipped:
            flipped["state"] = next(g for g in range(len(ys)) if cols[g] and len(ys[g]) >= 2)
        g = flipped["state"]
        flipped["rounds"] = flipped.get("rounds", 0) + 1
        ys = list(ys)
        ys[g] = np.eye(len(ys[g]))[flipped["rounds"] % 2]
        return low, high, rows, cols, xs, ys, values

    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        patch.setattr(rally_module, "_pessimistic_round", flipping)
        patch.setattr(rally_module, "REJUDGEMENTS", 0)            # one pass: the flip stands for its cycle
        game = rally_game(pair_table(12, 3), P, O)
    return game, flipped, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_cycling_recommendation_stops_at_the_cycle_and_says_so(cycling):
    game, flipped, messages = cycling
    rec, g = game.recommendation, flipped["state"]
    assert not rec.converged and rec.iterations == flipped["rounds"] < 10   # stopped at the cycle
    assert rec.alternating == (g,)
    assert any("alternates between two mixes" in m and game.labels[g] in m for m in messages)
    assert game.to_dict()["recommendation"]["alternating"] == [game.labels[g]]
    np.testing.assert_allclose(rec.column_strategies[g][:2], [0.5, 0.5])     # the two positions' average


def test_the_values_are_those_of_the_averaged_play(cycling):
    game, _, _ = cycling
    rec = game.recommendation
    realized = values_of_play(game, rec.row_strategies, rec.column_strategies)
    np.testing.assert_allclose(rec.realized, realized, atol=1e-9)
    np.testing.assert_allclose(game.states["value"], realized, atol=1e-9)


def _flipped_game(table, flipping):
    """The pair's game with ``flipping`` standing in for each round; the flipped mixes are no stage game's
    optimum, so the rule that keeps last round's optimal mix is off."""
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        patch.setattr(rally_module, "_pessimistic_round", flipping)
        patch.setattr(rally_module, "_keep_optimal", lambda xs, ys, *rest, **kw: (xs, ys))
        patch.setattr(rally_module, "REJUDGEMENTS", 0)
        return rally_game(table, P, O)


def test_an_averaged_player_mix_reports_what_it_guarantees():
    """A round flipping the player's mix between two shots at a state where the player departs from the habit:
    the recommendation's value there is what the average of the two guarantees at the lower bound (the worst
    column of the averaged mix), not what the last round's mix did."""
    table = pair_table(12, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = rally_game(table, P, O)
    rec0 = plain.recommendation
    g = next(k for k, who in enumerate(plain.states["who"])
             if who == "player" and not rec0.row_habit[k] and np.asarray(plain.structure.trusted[k]).sum() >= 2)
    first, second = np.flatnonzero(plain.structure.trusted[g])[:2]
    flipping = flipping_rounds(g, first, second)          # a departure: its mix flips between two shots

    game = _flipped_game(table, flipping)
    rec = game.recommendation
    assert g in rec.alternating and not rec.row_habit[g]       # (the values it leads to may flip others)
    x = rec.row_strategies[g]
    np.testing.assert_allclose(x[[first, second]], [0.5, 0.5])
    low = np.where(np.asarray(game.structure.trusted[g])[:, None], rec.stage_games[g], -1.0)
    assert rec.values[g] == pytest.approx(float((x @ low).min()), abs=1e-12)


def test_an_averaged_position_mix_reports_what_it_guarantees_against_the_trusted_shots_only():
    """The mirror of the test above where the player receives: a round that makes the player leave the habit
    at a state where the opponent plays some shots too rarely to be trusted and flips the player's position
    between the first two. The value there is the averaged mix's worst column among the trusted shots: the
    untrusted ones are out of the game (here they would pull it lower)."""
    table = pair_table(12, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = rally_game(table, P, O)
    half = np.array([0.5, 0.5, 0.0])

    def discriminates(k):
        trusted = np.asarray(plain.structure.trusted[k])
        low = plain.recommendation.stage_games[k]
        return (plain.states["who"].iat[k] == "opponent" and 0 < trusted.sum() < len(trusted)
                and len(low) == 3 and (half @ low).min() < (half @ low[:, trusted]).min() - 0.01)

    g = next(k for k in range(len(plain.labels)) if discriminates(k))
    real = rally_module._pessimistic_round
    rounds = []

    def flipping(*args):
        low, high, rows, cols, xs, ys, values = real(*args)
        rounds.append(1)
        rows, xs = rows.copy(), list(xs)
        rows[g] = False
        xs[g] = np.eye(len(xs[g]))[len(rounds) % 2]
        return low, high, rows, cols, xs, ys, values

    game = _flipped_game(table, flipping)
    rec = game.recommendation
    assert g in rec.alternating
    np.testing.assert_allclose(rec.row_strategies[g], half)
    trusted = np.asarray(game.structure.trusted[g])
    assert rec.values[g] == pytest.approx(float((half @ rec.stage_games[g][:, trusted]).min()), abs=1e-12)
