"""The grid-then-golden-section maximiser: it refines only inside the two cells beside the best grid point,
and a maximum at the first grid point is refined toward that end."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.estimation.shrinkage import refine_grid_maximum

GRID = np.arange(11.0)          # 0, 1, ..., 10


def _parabola_with_spikes(x):
    """-(x − 5)² (best grid point 5) with, between grid points, narrow dips to −5 in (4.80, 4.90) and
    (5.10, 5.20) and narrow spikes to 10 in (3.65, 3.75) and (6.25, 6.35). The spikes lie outside the cells
    beside 5 ([4, 6]); a search that strayed into [3, 4] or [6, 7] would be drawn to them by the dips."""
    x = np.asarray(x, float)
    dip = ((x > 4.80) & (x < 4.90)) | ((x > 5.10) & (x < 5.20))
    spike = ((x > 3.65) & (x < 3.75)) | ((x > 6.25) & (x < 6.35))
    return np.where(spike, 10.0, np.where(dip, -5.0, -(x - 5.0) ** 2))


def test_the_search_stays_inside_the_two_cells_beside_the_best_grid_point():
    values = _parabola_with_spikes(GRID)
    assert values.argmax() == 5
    best = refine_grid_maximum(_parabola_with_spikes, GRID, values, 40)
    assert 4.0 <= best <= 6.0
    assert best == pytest.approx(5.0, abs=1e-6)


def test_a_maximum_at_the_first_grid_point_is_refined_toward_that_end():
    """f = −(x − 0.3)² on 0..10: the best grid point is the first one, the maximiser lies in its one cell."""
    def f(x):
        return -(np.asarray(x, float) - 0.3) ** 2

    best = refine_grid_maximum(f, GRID, f(GRID), 40)
    assert best == pytest.approx(0.3, abs=1e-6)


def test_a_batch_is_refined_element_by_element():
    """Two maximisers at once, 2.6 and 8.2: every batch element keeps its own grid cell."""
    centres = np.array([2.6, 8.2])

    def f(x):
        return -(np.asarray(x, float) - centres) ** 2

    values = -(GRID[None, :] - centres[:, None]) ** 2
    best = refine_grid_maximum(f, GRID, values, 40)
    np.testing.assert_allclose(best, centres, atol=1e-6)
