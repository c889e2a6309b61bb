"""The rally game's values of play against an independent policy evaluation: for fixed mixes, the values solve
V = r + P V (one linear system, numpy's solver), for both players' habits, the player's recommendation against
the opponent's habits, and the recommended pair; ``gain`` is what switching to the recommendation adds."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.rally.game import rally_game

from .pair import O, P, pair_table


@pytest.fixture(scope="module")
def game():
    return rally_game(pair_table(12, 3), P, O)


def _evaluate(game, xs, ys) -> np.ndarray:
    """V(s) = xₛᵀ rₛ yₛ + Σ_s' xₛᵀ Pₛ(s') yₛ V(s'): P(the player wins the rally) from each state."""
    size = len(game.rewards)
    a, r = np.eye(size), np.zeros(size)
    for s in range(size):
        x, y = np.asarray(xs[s], float), np.asarray(ys[s], float)
        r[s] = x @ game.rewards[s] @ y
        a[s] -= np.einsum("i,ijk,j->k", x, game.transitions[s], y)
    return np.linalg.solve(a, r)


def test_values_of_play_solve_their_linear_systems(game):
    states = game.states
    observed = _evaluate(game, game.observed_row, game.observed_column)
    switch = _evaluate(game, game.recommendation.row_strategies, game.observed_column)
    realized = _evaluate(game, game.recommendation.row_strategies, game.recommendation.column_strategies)
    np.testing.assert_allclose(states["observed_value"], observed, atol=1e-9)
    np.testing.assert_allclose(states["switch_value"], switch, atol=1e-9)
    np.testing.assert_allclose(states["value"], realized, atol=1e-9)
    np.testing.assert_allclose(states["gain"], switch - observed, atol=1e-9)
    assert ((observed >= 0) & (observed <= 1)).all() and np.ptp(observed) > 0.05


def test_the_player_gains_by_switching_where_the_recommendation_departs_from_habit(game):
    """Against the opponent's habits, the player's recommendation (solved at the lower bounds) is worth at least
    their habit, up to the estimate's uncertainty, from the serve; departures from habit exist in this pair."""
    states = game.states
    serve = (states["phase"] == "serve").to_numpy() & (states["who"] == "player").to_numpy()
    assert serve.any() and (states.loc[serve, "gain"] > -0.02).all()
    departed = states["basis"] != "habit"
    assert departed.any()
