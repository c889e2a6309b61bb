"""What the recommendation guarantees at the lower bounds: a win probability in [0, 1] in every state, and where
the opponent hits with no shot the data trust (so plays its habit), the worst case of the player's positions
over every shot of the opponent (bounded by the LP of solve_zero_sum)."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.data.load import load_rallies
from strategist.data.shipped import shuttleset_dir
from strategist.games.zero_sum import solve_zero_sum
from strategist.rally.game import rally_game


@pytest.fixture(scope="module")
def game():
    """A real pair of the shipped ShuttleSet copy with many situations where the opponent has no trusted shot."""
    table = load_rallies(shuttleset_dir()).table
    return rally_game(table, "Viktor AXELSEN", "Anthony Sinisuka GINTING")


def _untrusted_opponent_states(game) -> list[int]:
    who = game.states["who"].to_numpy()
    return [g for g in range(len(who)) if who[g] == "opponent" and not np.any(game.structure.trusted[g])]


def test_every_guarantee_is_a_probability(game):
    """The pessimistic value of every state (player's and opponent's) lies in [0, 1]."""
    values = game.states["pessimistic_value"].to_numpy(float)
    assert np.isfinite(values).all() and (values >= -1e-9).all() and (values <= 1 + 1e-9).all()


def test_against_an_opponent_without_trusted_shots_the_guarantee_covers_every_shot(game):
    """Where the opponent hits with no trusted shot (and plays its habit): the player's positions guarantee at
    the lower bound their worst case over all the opponent's shots, and no more than the maximin of that game
    (the LP of solve_zero_sum); that worst case is the state's pessimistic value."""
    states = _untrusted_opponent_states(game)
    assert len(states) >= 20                                  # the pair has many such situations
    rec = game.recommendation
    for g in states:
        low = rec.stage_games[g]
        x = np.asarray(rec.row_strategies[g], dtype=float)
        worst = float((x @ low).min())
        assert game.states["pessimistic_value"].iat[g] == pytest.approx(worst, abs=1e-9), game.labels[g]
        assert worst <= solve_zero_sum(low).value + 1e-9, game.labels[g]
