"""The rally game's values of play against an independent policy evaluation: for fixed mixes, the values solve
V = r + P V (one linear system, numpy's solver), for both players' habits, the player's recommendation against
the opponent's habits, and the recommended pair; ``gain`` is what switching to the recommendation adds."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.rally.game import rally_game

from .pair import O, P, pair_table, values_of_play


@pytest.fixture(scope="module")
def game():
    return rally_game(pair_table(12, 3), P, O)



def test_values_of_play_solve_their_linear_systems(game):
    states = game.states
    observed = values_of_play(game, game.observed_row, game.observed_column)
    switch = values_of_play(game, game.recommendation.row_strategies, game.observed_column)
    realized = values_of_play(game, game.recommendation.row_strategies, game.recommendation.column_strategies)
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


@pytest.mark.parametrize("side", ["player", "opponent"])
def test_the_best_response_is_worth_what_the_game_solver_finds(game, side):
    """The best response (policy iteration on the process the other side's habits leave) is worth, state by
    state, what the stochastic-game solver finds for the same process written as games of one column (or row)."""
    from strategist import solve_stochastic_game
    from strategist.rally.policies import _trusted_arrays, best_response_policy

    other = game.observed_column if side == "player" else game.observed_row
    mixes = best_response_policy(game, other, side)
    xs, ys = (mixes, game.observed_column) if side == "player" else (game.observed_row, mixes)
    rewards_t, transitions_t, stand_in = _trusted_arrays(game, side)
    rewards, moves = [], []
    for r, t, y in zip(rewards_t, transitions_t, other):
        if side == "player":
            rewards.append((r @ y)[:, None])
            moves.append(np.einsum("abt,b->at", t, y)[:, None, :])
        else:
            rewards.append((y @ r)[None, :])
            moves.append(np.einsum("a,abt->bt", y, t)[None, :, :])
    reference = solve_stochastic_game(rewards, moves)
    np.testing.assert_allclose(values_of_play(game, xs, ys), reference.values, atol=1e-9)
    # pure where the side may choose; its habit where it has no shot or position it may choose
    assert any(stand_in) and not all(stand_in)
    habit = game.observed_row if side == "player" else game.observed_column
    for g, m in enumerate(mixes):
        assert np.allclose(m, habit[g]) if stand_in[g] else sorted(m)[-1] == 1.0
