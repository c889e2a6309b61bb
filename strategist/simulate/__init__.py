"""A seeded badminton rally simulator that writes matches in ShuttleSet's layout.

``python -m strategist.simulate --seed 0 --matches 20 --out data/demo`` regenerates the shipped demo;
``--heights`` simulates the height mode (:data:`HEIGHT_PARAMETERS`), where the shots available and their
effect depend on how high the shuttle is taken.
"""

from strategist.simulate.layout import canonical_table, shuttleset_frames, write_shuttleset
from strategist.simulate.match import Match, Rally, simulate_match, simulate_matches
from strategist.simulate.model import (DEFAULT_PLAYERS, HEIGHT_PARAMETERS, HEIGHTS, HeightLaws, Player,
                                       SimulationParameters, error_probability, winner_probability)
from strategist.simulate.rally import Stroke, simulate_rally

__all__ = [
    "DEFAULT_PLAYERS", "HEIGHTS", "HEIGHT_PARAMETERS", "HeightLaws", "Match", "Player", "Rally",
    "SimulationParameters", "Stroke", "canonical_table",
    "error_probability", "shuttleset_frames", "simulate_match", "simulate_matches", "simulate_rally",
    "winner_probability", "write_shuttleset",
]
