"""The rational-arithmetic solver's kernels: how many a game has (where the size limit falls), singular and
degenerate kernels on the way to the answer, and hand-solved games whose optimal pair it must return exactly."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest

from strategist.games.exact import MAX_KERNELS, kernel_count, solve_exact


def _fractions(payoffs):
    return [[Fraction(v) for v in row] for row in payoffs]


def _guarantees(payoffs, x, y):
    """(minⱼ (xᵀA)ⱼ, maxᵢ (Ay)ᵢ) of the returned floats, in exact arithmetic."""
    a = _fractions(payoffs)
    fx, fy = [Fraction(float(p)) for p in x], [Fraction(float(p)) for p in y]
    m, n = len(a), len(a[0])
    return (min(sum(fx[i] * a[i][j] for i in range(m)) for j in range(n)),
            max(sum(a[i][j] * fy[j] for j in range(n)) for i in range(m)))


@pytest.mark.parametrize("m, n", [(1, 1), (1, 5), (2, 3), (3, 3), (6, 6), (4, 10), (7, 7)])
def test_the_kernel_count_is_every_square_submatrix(m, n):
    """Σₖ C(m, k)·C(n, k) over k ≥ 1 is C(m + n, m) − 1 (Vandermonde's identity, k = 0 left out)."""
    assert kernel_count(m, n) == comb(m + n, m) - 1


def test_kernel_counts_worked_by_hand():
    assert kernel_count(1, 1) == 1                      # the one entry
    assert kernel_count(2, 3) == 2 * 3 + 1 * 3          # six 1 × 1 kernels, three 2 × 2
    assert kernel_count(6, 6) == 923                    # as the module says


def test_a_game_of_exactly_max_kernels_kernels_is_solved_and_one_more_is_not():
    """4 × 10 has C(14, 4) − 1 = 1000 kernels, the limit itself: it is solved (here at its saddle point, row 0
    against column 0); 4 × 11 has 1364 and is left to the caller (None)."""
    assert kernel_count(4, 10) == MAX_KERNELS
    a = np.full((4, 10), 5.0)
    a[0, :] = 3.0 + np.arange(10)         # row 0 earns at least 3 ...
    a[1:, 0] = [1.0, 2.0, 0.0]            # ... and column 0 concedes at most 3: a saddle point at (0, 0)
    x, y, value = solve_exact(a)
    assert value == 3
    np.testing.assert_array_equal(x, np.eye(4)[0])
    np.testing.assert_array_equal(y, np.eye(10)[0])
    assert kernel_count(4, 11) > MAX_KERNELS
    assert solve_exact(np.zeros((4, 11))) is None


@pytest.mark.parametrize("payoffs, i, j", [
    ([[7.0]], 0, 0),                                  # one entry: the value itself
    ([[4.0, 2.0, 9.0]], 0, 1),                        # one row: the column player takes its smallest entry
    ([[1.0, 2.0], [0.0, 3.0]], 0, 0),                 # row 0 earns >= 1, column 0 concedes <= 1
])
def test_a_saddle_point_is_found_on_its_one_by_one_kernel(payoffs, i, j):
    x, y, value = solve_exact(np.array(payoffs))
    m, n = np.shape(payoffs)
    assert value == Fraction(payoffs[i][j])
    np.testing.assert_array_equal(x, np.eye(m)[i])
    np.testing.assert_array_equal(y, np.eye(n)[j])


def test_a_singular_kernel_on_the_way_is_skipped():
    """Rows 0 and 1 agree on columns 0 and 1, so the first 2 × 2 kernel's bordered systems are singular; the
    answer lies on columns 0 and 2. By hand: column 0 concedes exactly 1 whatever the row player does (y =
    e₀), and x = (2/3, 1/3) earns 1, 1, 1, 2 against the four columns: value 1."""
    payoffs = [[1.0, 1.0, 0.0, 3.0], [1.0, 1.0, 3.0, 0.0]]
    x, y, value = solve_exact(np.array(payoffs))
    assert value == 1
    np.testing.assert_allclose(x, [2 / 3, 1 / 3], rtol=0, atol=1e-16)
    np.testing.assert_array_equal(y, [1.0, 0.0, 0.0, 0.0])
    lo, hi = _guarantees(payoffs, x, y)
    assert hi == 1 and abs(lo - 1) < Fraction(1, 10 ** 15)


def test_an_optimal_strategy_with_a_zero_weight_inside_its_kernel_is_accepted():
    """Column 0 pays 0 against both rows, so the column player's only optimal strategy is e₀ (from 2b − c ≤ 0
    and 2c − b ≤ 0, b = c = 0) and the value is 0; the row player's optimal x are those with 2x₀ − x₁ ≥ 0 and
    2x₁ − x₀ ≥ 0. No 1 × 1 kernel is a saddle point, and on every 2 × 2 kernel holding column 0 the column
    strategy has weight 0 on the kernel's other column: such a kernel must be accepted."""
    payoffs = [[0.0, 2.0, -1.0], [0.0, -1.0, 2.0]]
    x, y, value = solve_exact(np.array(payoffs))
    assert value == 0
    np.testing.assert_array_equal(y, [1.0, 0.0, 0.0])
    assert (x >= 0).all() and x.sum() == pytest.approx(1.0, abs=1e-15)
    assert 2 * x[0] - x[1] >= -1e-15 and 2 * x[1] - x[0] >= -1e-15
    assert _guarantees(payoffs, x, y)[1] == 0


def test_a_kernel_whose_column_side_has_negative_weights_is_passed_over():
    """Hand-solved: x = (1/3, 2/3) earns (−1/3, −2/3, −2/3) and y = (0, 2/3, 1/3) concedes (−2/3, −2/3), so the
    value is −2/3; both are unique (column 2 forces x₀ ≤ 1/3 and column 1 x₁ ≤ 2/3; row 0 forces y₀ ≤ 2y₂ − 2/3
    and row 1 y₀ + y₁ ≥ 2/3, so y₀ = 0, y₂ = 1/3). Kernels on the way have a valid row side but a column
    side with negative weights."""
    payoffs = [[1.0, 0.0, -2.0], [-1.0, -1.0, 0.0]]
    x, y, value = solve_exact(np.array(payoffs))
    assert value == Fraction(-2, 3)
    np.testing.assert_allclose(x, [1 / 3, 2 / 3], rtol=0, atol=1e-16)
    np.testing.assert_allclose(y, [0.0, 2 / 3, 1 / 3], rtol=0, atol=1e-16)
    assert y[0] == 0.0
