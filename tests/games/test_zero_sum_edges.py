"""The zero-sum solver's less travelled paths: duals HiGHS may return that cannot be the column strategy, the
scale an answer is judged against, exact guarantees of an exactly solved game, and a large game certified
by its pure security strategies."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest

from strategist.games import zero_sum
from strategist.games.zero_sum import SolverFallbackWarning, near_scale, solve_zero_sum

#: Both rows win one column each; the third column gives the row player 1 whatever it plays, so the column
#: player's optimal mix is (½, ½, 0), and so is the row player's (½, ½).
GAME = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]


def _with_duals(monkeypatch, y):
    """The row LP answers the optimal x with ``y`` as its duals (as a solver's output may look)."""
    def row_lp(a, options=None):
        return np.array([0.5, 0.5]), np.array(y, dtype=float)

    monkeypatch.setattr(zero_sum, "_row_lp", row_lp)


@pytest.mark.parametrize("duals, why", [
    ([0.5, 0.5, -1e-3], "an entry clearly negative (below -1e-7 of the largest)"),
    ([0.5, 0.5, -1.5e-7], "an entry just below -1e-7"),
])
def test_duals_with_a_negative_entry_give_way_to_the_column_players_lp(monkeypatch, duals, why):
    _with_duals(monkeypatch, duals)
    with pytest.warns(SolverFallbackWarning):
        sol = solve_zero_sum(GAME)
    assert sol.method == "column LP", why
    np.testing.assert_allclose(sol.column_strategy, [0.5, 0.5, 0.0], atol=1e-9)
    assert sol.value == pytest.approx(0.5)


@pytest.mark.parametrize("first", [[0.5, np.nan, 0.5], [0.0, 0.0, 0.0]])
def test_unusable_duals_give_way_at_once_not_after_a_second_solve(monkeypatch, first):
    """Duals that are not finite or sum to 0 are not retried with tighter tolerances: the column player's LP
    answers at once (here the tighter solve would have given usable duals)."""
    def row_lp(a, options=None):
        return np.array([0.5, 0.5]), np.array(first if options is None else [0.5, 0.5, 0.0], dtype=float)

    monkeypatch.setattr(zero_sum, "_row_lp", row_lp)
    with pytest.warns(SolverFallbackWarning):
        sol = solve_zero_sum(GAME)
    assert sol.method == "column LP"
    np.testing.assert_allclose(sol.column_strategy, [0.5, 0.5, 0.0], atol=1e-9)


@pytest.mark.parametrize("duals, why", [
    ([0.5, 0.5, -1e-7], "exactly -1e-7 of the largest entry (1): rounding, kept"),
    ([3.0, 3.0, -2e-7], "-2e-7 against entries of 3: within -1e-7 of the largest, kept"),
    ([0.5, 0.5, -5e-8], "a rounding-size negative entry: clipped to 0"),
    ([2.0, 2.0, 0.0], "duals of any total: normalised to sum to 1"),
])
def test_usable_duals_are_the_column_strategy_clipped_and_normalised(monkeypatch, duals, why):
    _with_duals(monkeypatch, duals)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SolverFallbackWarning)
        sol = solve_zero_sum(GAME)
    assert sol.method == "row LP", why
    assert (sol.column_strategy >= 0).all() and sol.column_strategy.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(sol.column_strategy, [0.5, 0.5, 0.0], rtol=0, atol=1e-15)
    assert sol.duality_gap == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("payoffs, near", [
    ([[0, 10], [10, 0]], 10.0),                   # lo = 0, hi = 10, median |a| = 5: the upper security level
    ([[0, 0, 100], [-100, -100, 0]], 50.0),      # lo = hi = 0: the median |payoff| of 0, 0, 0, 100, 100, 100
    ([[0, 8], [0, 8], [0, 8]], 4.0),             # lo = 0; hi = the columns' maxima's min = 0; median 4
    ([[-1, -30], [-2, -40], [-3, -50]], 30.0),   # lo = -30 (the global min is -50), hi = min(-1, -30) = -30
])
def test_near_scale_is_the_largest_of_the_security_levels_and_the_median(payoffs, near):
    """Hand-worked: max(|max_i min_j a_ij|, |min_j max_i a_ij|, median |a_ij|)."""
    assert near_scale(np.asarray(payoffs, dtype=float)) == near


def test_an_exact_certificate_on_payoffs_near_zero_keeps_the_lp_answer():
    """All payoffs near the value are 0 (lo = hi = median = 0): the LP's pair certifies with gap 0 and is
    returned as the LP's; nothing needs the pure or exact fallbacks."""
    sol = solve_zero_sum([[0, 0, 0], [0, 0, 0], [0, 0, 1]])
    assert sol.method == "row LP" and sol.duality_gap == 0.0 and sol.value == 0.0


def test_an_exactly_solved_game_reports_the_exact_guarantees_of_its_floats():
    """1e308 beside payoffs below 1: the LP cannot resolve them, rational arithmetic solves the game. The
    guarantees, gap and value are those of the returned floats computed without rounding (Fractions)."""
    payoffs = [[1e308, 0.2, 0.05], [0.3, 0.4, 0.1], [0.0, 0.1, 0.5]]
    sol = solve_zero_sum(payoffs)
    assert sol.method == "exact"
    a = [[Fraction(v) for v in row] for row in payoffs]
    x, y = [Fraction(v) for v in sol.row_strategy], [Fraction(v) for v in sol.column_strategy]
    lo = min(sum(x[i] * a[i][j] for i in range(3)) for j in range(3))
    hi = max(sum(a[i][j] * y[j] for j in range(3)) for i in range(3))
    assert float(lo) != float(hi)                 # the case where the two guarantees round apart
    assert sol.row_guarantee == float(lo) and sol.column_guarantee == float(hi)
    assert sol.duality_gap == float(hi - lo) > 0
    assert sol.value == float((lo + hi) / 2)


def test_a_large_game_the_lp_cannot_resolve_is_certified_by_its_pure_security_strategies():
    """7 × 7, one payoff of 1e308: too many kernels for rational arithmetic, and the LP sees every other
    payoff as 0. Row 5 guarantees 4, column 5 concedes at most 4 + 4e-8: within 1e-6 of the payoffs near the
    value, so the pure pair is the answer (value the midpoint, gap 4e-8)."""
    rng = np.random.default_rng(0)
    n, r = 7, 5
    a = rng.uniform(1, 3, (n, n))
    a[r, :] = rng.uniform(5, 9, n)
    a[:, r] = rng.uniform(0, 3, n)
    a[r, r], a[n - 1, r], a[r, n - 1], a[0, 1] = 4.0, 4 + 4e-8, 4.5, 1e308
    sol = solve_zero_sum(a)
    assert sol.method == "pure"
    np.testing.assert_array_equal(sol.row_strategy, np.eye(n)[r])
    np.testing.assert_array_equal(sol.column_strategy, np.eye(n)[r])
    assert sol.row_guarantee == 4.0 and sol.column_guarantee == pytest.approx(4 + 4e-8, rel=1e-15)
    assert sol.value == pytest.approx(4 + 2e-8, rel=1e-15) and sol.duality_gap == pytest.approx(4e-8, rel=1e-6)
