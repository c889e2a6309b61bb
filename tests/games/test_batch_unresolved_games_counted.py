"""Every game of a batch that the rescaled solve cannot resolve is counted among the LP fallbacks."""

from __future__ import annotations

import numpy as np

from strategist import solve_zero_sum, solve_zero_sum_batch

#: An outlier of -1e9 beside payoffs below 1: on [1, 2] the cells near the value merge (see test_batch_paths).
OUTLIER = -np.array([[1e9, 0.0, 0.0], [0.0, 0.6, 0.4], [0.0, 0.3, 0.7]])


def test_each_unresolved_game_is_one_more_fallback():
    games = np.stack([OUTLIER, np.eye(3), OUTLIER * 2.0, OUTLIER.T.copy()])
    result = solve_zero_sum_batch(games)
    assert result.lp_fallbacks == 3
    for b in (0, 2, 3):
        assert result.value[b] == solve_zero_sum(games[b]).value
