"""The depth chain's true values are refused, by name, for the simulator with heights (where a state's value
depends on how high the shuttle is taken), instead of failing inside the simulator."""

import pytest

from strategist.errors import EstimationError
from strategist.rally.truth import true_state_values
from strategist.simulate import HEIGHT_PARAMETERS, SimulationParameters


def test_heights_are_refused_with_the_function_to_use():
    """HEIGHT_PARAMETERS: one EstimationError naming the exact game's function; without heights: six values."""
    players = [p.name for p in HEIGHT_PARAMETERS.players[:2]]
    with pytest.raises(EstimationError, match=r"without heights.*strategist\.simulate\.exact\.true_game"):
        true_state_values(HEIGHT_PARAMETERS, *players)
    values = true_state_values(SimulationParameters(), *players)
    assert len(values) == 8 and all(0.0 < v < 1.0 for v in values.values())
