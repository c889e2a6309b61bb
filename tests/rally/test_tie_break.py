"""Ties at a lower bound are broken by the point estimates: where several of the player's mixes guarantee the
same at the bound, the recommendation is the one of them worth most on the point estimates, whatever the order
of the rows (which of several optimal mixes a solver returns is otherwise arbitrary)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from strategist.rally.game import _pessimistic_round

#: z and the payoffs are binary fractions, so the bound Q − z·σ is exact and the tie is exact.
Z = 2.0
#: Rows 0 and 1 are equal at the lower bound (1/4 everywhere); on the point estimates row 0 guarantees 1/2 and
#: row 1 3/8; row 2 (the habit) guarantees 1/8 on both.
POINT = np.array([[0.5, 0.625], [0.375, 0.75], [0.125, 0.125]])
LOW = np.array([[0.25, 0.25], [0.25, 0.25], [0.125, 0.125]])


def _round(order):
    order = list(order)
    q = POINT[order]
    sd = (POINT - LOW)[order] / Z
    habit = np.zeros(3)
    habit[order.index(2)] = 1.0
    out = _pessimistic_round([q], [sd], Z, np.array([True]), [np.ones(3, bool)], ([habit], [np.array([0.5, 0.5])]),
                             np.array([False]), np.array([False]))
    low, _, rows, _, xs, _, values = out
    return low[0], rows[0], xs[0], values[0]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_tie_at_the_bound_goes_to_the_row_better_on_the_estimates(order):
    """Rows tied at the bound: the mix is the row whose point guarantee is higher, in every row order; it still
    guarantees the bound's value, and departing from the habit (worth less at the point) is what is advised."""
    low, habit_kept, x, value = _round(order)
    assert (low == LOW[list(order)]).all()              # the tie is exact
    assert not habit_kept
    best = list(order).index(0)
    assert x[best] == pytest.approx(1.0, abs=1e-6)
    assert value == pytest.approx(0.25, abs=1e-9)


def test_the_recommendation_does_not_depend_on_how_stages_are_padded(monkeypatch):
    """A real pair's game solved with every stage padded to one shape per orientation (more dominated padding,
    other optimal mixes returned at ties) recommends the same mixes and values as with the default padding."""
    import strategist.rally.game as rally_module
    from strategist.data.load import load_rallies
    from strategist.data.shipped import shuttleset_dir

    table = load_rallies(shuttleset_dir()).table
    pair = ("Viktor AXELSEN", "Anthony Sinisuka GINTING")
    default = rally_module.rally_game(table, *pair)
    monkeypatch.setattr(rally_module, "_shape_kind", lambda shape: shape[0] >= shape[1])
    padded = rally_module.rally_game(table, *pair)
    columns = ["value", "value_low", "value_high", "pessimistic_value", "switch_value", "equilibrium_value"]
    np.testing.assert_allclose(padded.states[columns].to_numpy(float), default.states[columns].to_numpy(float),
                               atol=1e-9)
    for a, b in zip(padded.recommendation.row_strategies, default.recommendation.row_strategies):
        np.testing.assert_allclose(a, b, atol=1e-6)
    for a, b in zip(padded.recommendation.column_strategies, default.recommendation.column_strategies):
        np.testing.assert_allclose(a, b, atol=1e-6)
