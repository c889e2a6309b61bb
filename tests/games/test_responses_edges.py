"""Best responses and the equilibrium check at their edges: exact ties at zero tolerance, tolerances relative to
the payoff range, a refused opponent mix named as such, and the row player by default."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.errors import StrategistError
from strategist.games import MatrixGame, best_response, safe_exploit
from strategist.games.responses import guarantee, is_equilibrium

PENNIES = MatrixGame([[1.0, -1.0], [-1.0, 1.0]])


def test_exact_ties_are_best_responses_at_zero_tolerance():
    assert best_response(PENNIES, [0.5, 0.5], tol=0.0).indices == (0, 1)
    assert best_response(PENNIES, [0.5, 0.5], player="column", tol=0.0).indices == (0, 1)
    assert is_equilibrium(PENNIES, [0.5, 0.5], [0.5, 0.5], tol=0.0)
    assert not is_equilibrium(PENNIES, [0.6, 0.4], [0.5, 0.5], tol=0.0)


@pytest.mark.parametrize("scale", [1e6, 1e-6])
def test_tolerances_are_relative_to_the_payoff_range(scale):
    """Payoffs 0..1 scaled by 1e6 or 1e-6, two actions 5e-10 of the range apart: tied at the default 1e-9."""
    a = np.array([[1.0, 0.0], [1.0 - 5e-10, 0.0], [0.0, 1.0]]) * scale
    game = MatrixGame(a)
    assert best_response(game, [1.0, 0.0]).indices == (0, 1)
    assert best_response(game, [1.0, 0.0], tol=1e-10).indices == (0,)
    b = MatrixGame(np.array([[0.0, 5e-10, 1.0], [1.0, 1.0, 0.0]]) * scale)   # columns 5e-10 apart for the minimiser
    assert best_response(b, [1.0, 0.0], player="column").indices == (0, 1)
    # a pair within 5e-10 of the range of an equilibrium (x earns v - 5e-10 against column 1) passes at 1e-9
    near = MatrixGame(np.array([[1.0, 0.0], [0.0, 1.0]]) * scale)
    x = np.array([0.5 + 2.5e-10, 0.5 - 2.5e-10])
    assert is_equilibrium(near, x, [0.5, 0.5]) and not is_equilibrium(near, x, [0.5, 0.5], tol=1e-11)


def test_a_bad_opponent_mix_is_refused_as_the_opponent_mix():
    for call in (lambda: best_response(PENNIES, [0.5, 0.6]), lambda: safe_exploit(PENNIES, [1.2, -0.2], 0.1)):
        with pytest.raises(StrategistError, match="opponent mix"):
            call()


def test_a_strategys_guarantee_is_the_row_players_by_default():
    x = np.array([0.7, 0.3])
    assert guarantee(PENNIES, x) == guarantee(PENNIES, x, "row") == pytest.approx(-0.4)
    assert guarantee(PENNIES, x, "column") == pytest.approx(0.4)
