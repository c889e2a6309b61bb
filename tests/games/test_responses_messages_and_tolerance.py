"""A best response names the opponent's mix when it refuses it, and an equilibrium is judged within the tolerance
times the payoffs' range (not divided by it)."""

from __future__ import annotations

import pytest

from strategist.errors import InvalidStrategyError
from strategist.games.responses import best_response, is_equilibrium


def test_a_bad_opponent_mix_is_named_as_such():
    with pytest.raises(InvalidStrategyError, match=r"^opponent mix: probabilities sum to 0\.5; expected 1$"):
        best_response([[1.0, 0.0], [0.0, 1.0]], [0.25, 0.25])


@pytest.mark.parametrize("tol, expected", [(0.05, True), (0.01, False)])
def test_an_equilibrium_is_judged_within_the_tolerance_times_the_range(tol, expected):
    """Payoffs 0 and 10 (range 10), x uniform, y = (0.52, 0.48): x earns 5 against y, the rows earn 4.8 and 5.2, so
    the row player gains 0.2 by deviating: within 0.05 × 10 = 0.5, not within 0.01 × 10 = 0.1."""
    game = [[0.0, 10.0], [10.0, 0.0]]
    assert is_equilibrium(game, [0.5, 0.5], [0.52, 0.48], tol=tol) is expected
