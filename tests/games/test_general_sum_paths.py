"""General-sum helpers worked by hand: the work each method is estimated to need, the degeneracy test (a pure
strategy with several best responses, column by column and row by row, within tol × the larger payoff range),
and games where one player has a single action (the other's best replies within 1e-12 of the range)."""

from __future__ import annotations

import warnings
from math import comb

import numpy as np
import pytest

from strategist.games.general_sum import equilibria, estimated_work, is_degenerate


@pytest.mark.parametrize("m, n", [(1, 1), (2, 3), (3, 2), (4, 4), (5, 2)])
def test_estimated_work_by_hand(m, n):
    pairs = sum(comb(m, k) * comb(n, k) for k in range(1, min(m, n) + 1))
    assert estimated_work(m, n, "support_enumeration") == pairs
    assert estimated_work(m, n, "support") == pairs
    assert estimated_work(m, n, "support_enumeration", non_degenerate=False) == (2 ** m - 1) * (2 ** n - 1)
    assert estimated_work(m, n, "vertex") == comb(m + n, min(m, n))
    assert estimated_work(m, n, "lh") == estimated_work(m, n, "lemke-howson") == (m + n) * min(m, n)


def test_estimated_work_numbers():
    assert estimated_work(3, 3, "support_enumeration") == 9 + 9 + 1
    assert estimated_work(3, 2, "support_enumeration", False) == 7 * 3
    assert estimated_work(2, 4, "support_enumeration", False) == 3 * 15
    assert estimated_work(3, 2, "lemke_howson") == 10
    assert estimated_work(2, 3, "lemke_howson") == 10
    assert estimated_work(3, 2, "vertex_enumeration") == 10


B_PLAIN = np.array([[1.0, 0.0], [0.0, 1.0]])       # each row's best column unique
A_PLAIN = np.array([[1.0, 0.0], [0.0, 1.0]])       # each column's best row unique


def test_a_tie_below_the_best_of_another_column_is_degenerate():
    """Column 2 of A has both rows at 0: a tie for its best reply, though 0 is below the best of column 1."""
    a = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert is_degenerate(a, B_PLAIN)
    assert not is_degenerate(A_PLAIN, B_PLAIN)
    b = np.array([[1.0, 0.0], [0.0, 0.0]]).T        # row 2 of B: both columns 0
    assert is_degenerate(A_PLAIN, b)


def test_exact_ties_are_degenerate_with_no_tolerance():
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert is_degenerate(a, B_PLAIN, tol=0.0)
    assert is_degenerate(A_PLAIN, a.T, tol=0.0)
    assert not is_degenerate(A_PLAIN, B_PLAIN, tol=0.0)


def test_a_tie_is_of_two_not_three():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.5]])
    b = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.0]])
    assert is_degenerate(a, b)


def test_near_ties_within_tol_times_the_larger_range():
    """A near-tie of 1e-11 counts with tol 1e-12 when either matrix spans 100 (threshold 1e-10), not when
    both span 1; a near-tie of 1e-13 in payoffs spanning 1e-12 does not count (threshold 1e-24)."""
    near = np.array([[1.0, 0.0], [1.0 - 1e-11, 1.0]])
    assert not is_degenerate(near, B_PLAIN)
    assert is_degenerate(near, 100 * B_PLAIN)
    wide_near = np.array([[100.0, 0.0], [100.0 - 1e-11, 1.0]])
    assert is_degenerate(wide_near, B_PLAIN)
    assert not is_degenerate(A_PLAIN, near.T)
    assert is_degenerate(100 * A_PLAIN, near.T)
    assert is_degenerate(A_PLAIN, wide_near.T)
    tiny_near = np.array([[1e-12, 0.0], [1e-12 - 1e-13, 1e-12]])
    assert not is_degenerate(tiny_near, 1e-12 * B_PLAIN)
    assert not is_degenerate(1e-12 * A_PLAIN, tiny_near.T)


def _eqs(a, b=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return equilibria(a, b)


def test_one_row_lists_the_columns_best_replies_within_1e_12_of_the_range():
    # column payoffs 0, 1 and 1 - 1e-12 (to the last bit): both near-best columns are listed
    both = _eqs([[0.0, 0.0, 0.0]], [[0.0, 1.0, 1.0 - 1e-12]])
    assert [list(e.column_strategy) for e in both] == [[0, 1, 0], [0, 0, 1]]
    for gap in (1.5e-12, 1e-10):
        one = _eqs([[0.0, 0.0, 0.0]], [[0.0, 1.0, 1.0 - gap]])
        assert [list(e.column_strategy) for e in one] == [[0, 1, 0]]
        assert one[0].column_payoff == 1.0 and list(one[0].row_strategy) == [1.0]


def test_one_column_lists_the_rows_best_replies_within_1e_12_of_the_range():
    both = _eqs([[0.0], [1.0], [1.0 - 1e-12]], [[0.0], [0.0], [0.0]])
    assert [list(e.row_strategy) for e in both] == [[0, 1, 0], [0, 0, 1]]
    for gap in (1.5e-12, 1e-10):
        one = _eqs([[0.0], [1.0], [1.0 - gap]], [[0.0], [0.0], [0.0]])
        assert [list(e.row_strategy) for e in one] == [[0, 1, 0]]
        assert one[0].row_payoff == 1.0
