"""Where the zero-sum solver draws its lines: HiGHS's tighter tolerances when its defaults leave the certificate
open (for the row LP's retry and for the column player's LP), and the gaps accepted exactly at their limits —
``tol`` on the LP's certificate, the allowed gap in the payoffs' own units, and the pure security levels'."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest

from strategist.errors import InvalidGameError
from strategist.games import zero_sum
from strategist.games.zero_sum import SolverFallbackWarning, allowed_gap, near_scale, solve_zero_sum

#: No saddle point (row 1 earns at least 10000001, column 1 concedes at most 10000002), and its entries differ
#: by 1e-7 of their range: HiGHS's default feasibility tolerance (1e-7) returns the pure pair, whose duality
#: gap is 1 (1e-7 of the range, over ``tol``). By the 2 × 2 formulas: x₀ = (d − c)/(a + d − b − c) = 6/10000008,
#: y₀ = (d − b)/(a + d − b − c) = 1/10000008, value (ad − bc)/(a + d − b − c) = 10000002·10000007/10000008.
CLOSE_CALL = [[0.0, 10000002.0], [10000007.0, 10000001.0]]
CLOSE_X0, CLOSE_Y0 = 6 / 10000008, 1 / 10000008
CLOSE_VALUE = float(Fraction(10000002 * 10000007, 10000008))


def test_a_row_lp_left_open_by_the_default_tolerances_is_solved_again_with_tighter_ones():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SolverFallbackWarning)
        sol = solve_zero_sum(CLOSE_CALL)
    assert sol.method == "row LP"
    np.testing.assert_allclose(sol.row_strategy, [CLOSE_X0, 1 - CLOSE_X0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(sol.column_strategy, [CLOSE_Y0, 1 - CLOSE_Y0], rtol=0, atol=1e-10)
    assert sol.value == pytest.approx(CLOSE_VALUE, rel=1e-15)
    assert sol.duality_gap <= 1e-9 * 10000007


def test_the_column_players_lp_runs_with_the_tighter_tolerances(monkeypatch):
    """With the row LP's duals unusable, the column strategy is the column player's LP's: with HiGHS's defaults it
    would be the pure column 1 (conceding 10000002, 1e-7 of the range above the value), with the tighter ones it
    is the optimal mix."""
    real = zero_sum._row_lp

    def without_duals(a, options=None):
        x, y = real(a, options)
        return x, np.full_like(y, np.nan)

    monkeypatch.setattr(zero_sum, "_row_lp", without_duals)
    with pytest.warns(SolverFallbackWarning):
        sol = solve_zero_sum(CLOSE_CALL)
    assert sol.method == "column LP"
    np.testing.assert_allclose(sol.column_strategy, [CLOSE_Y0, 1 - CLOSE_Y0], rtol=0, atol=1e-10)
    assert sol.column_guarantee == pytest.approx(CLOSE_VALUE, rel=1e-15)


def _answering(monkeypatch, x, y):
    """The row LP answers (x, y) whatever it is asked; returns the list of its calls' options."""
    calls = []

    def row_lp(a, options=None):
        calls.append(options)
        return np.array(x, dtype=float), np.array(y, dtype=float)

    monkeypatch.setattr(zero_sum, "_row_lp", row_lp)
    return calls


def test_a_certificate_exactly_at_tol_is_accepted_at_the_first_solve(monkeypatch):
    """Matching pennies on [0, 1]: x = (½, ½) earns ½ everywhere, y = (¼, ¾) concedes ¾: a gap of exactly ¼ (all
    sums exact in binary). With tol = ¼ the pair passes: no second solve, no column LP, no error; the payoffs
    being resolvable, the final answer is then the exact one."""
    calls = _answering(monkeypatch, [0.5, 0.5], [0.25, 0.75])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SolverFallbackWarning)
        sol = solve_zero_sum([[1.0, 0.0], [0.0, 1.0]], tol=0.25)
    assert calls == [None]
    assert sol.method == "exact" and sol.value == 0.5 and sol.duality_gap == 0.0


def test_a_certificate_exactly_at_the_allowed_gap_keeps_the_lps_pair(monkeypatch):
    """lo = 1e-6 (row 0), hi = 1e-6 (column 0), median |a| = 1: the allowed gap is 1e-6·1 (+2e-323, lost in
    rounding). Row 1 earns min(0, 1, 1) = 0 and column 0 concedes max(1e-6, 0, 0) = 1e-6: a gap of exactly the
    allowed one, so that pair is the answer (not the pure security pair, row 0)."""
    payoffs = np.array([[1e-6, 1.0, 1.0], [0.0, 1.0, 1.0], [0.0, -1.0, -1.0]])
    assert near_scale(payoffs) == 1.0 and allowed_gap(1.0) == 1e-6
    _answering(monkeypatch, [0.0, 1.0, 0.0], [1.0, 0.0, 0.0])
    sol = solve_zero_sum(payoffs, tol=1e-6)      # on the [0, 1] scale the gap is 5e-7
    assert sol.method == "row LP"
    np.testing.assert_array_equal(sol.row_strategy, [0.0, 1.0, 0.0])
    assert (sol.row_guarantee, sol.column_guarantee, sol.duality_gap) == (0.0, 1e-6, 1e-6)


def test_security_levels_a_few_subnormals_apart_are_a_saddle_point(monkeypatch):
    """lo = max(min(1, 0), min(0, 2e-323)) = 0 and hi = min(max(1, 0), max(0, 2e-323)) = 2e-323: the levels are
    within the rounding allowance of 2e-323 (1e-12 of the payoffs near the value underflows to 0), so when the
    LP's pair fails (gap 1e-10 here) the pure security pair is returned — not the exact solution."""
    _answering(monkeypatch, [1.0, 0.0], [1e-10, 1.0 - 1e-10])
    sol = solve_zero_sum([[1.0, 0.0], [0.0, 2e-323]])
    assert sol.method == "pure"
    np.testing.assert_array_equal(sol.row_strategy, [1.0, 0.0])
    np.testing.assert_array_equal(sol.column_strategy, [0.0, 1.0])
    assert sol.row_guarantee == 0.0 and sol.column_guarantee == 2e-323


def test_a_large_game_whose_security_levels_are_exactly_the_allowed_gap_apart_is_solved_pure(monkeypatch):
    """7 × 7 (3431 kernels: no exact solve). Row 0 is the only one with an entry above 0 in column 0 (1e-6), so
    lo = 0 and hi = 1e-6; 41 of the 49 |entries| are 1, so the payoffs near the value are 1 and the allowed gap is
    1e-6: exactly hi − lo. The LP's pair fails (gap 1e-5) and the pure pair is the answer, not a refusal."""
    payoffs = np.ones((7, 7))
    payoffs[:, 0] = 0.0
    payoffs[0, 0], payoffs[0, 1] = 1e-6, 0.0
    assert near_scale(payoffs) == 1.0
    _answering(monkeypatch, np.eye(7)[0], [1 - 1e-5, 1e-5, 0, 0, 0, 0, 0])
    sol = solve_zero_sum(payoffs, tol=1e-4)
    assert sol.method == "pure"
    np.testing.assert_array_equal(sol.row_strategy, np.eye(7)[0])
    np.testing.assert_array_equal(sol.column_strategy, np.eye(7)[0])
    assert (sol.row_guarantee, sol.column_guarantee) == (0.0, 1e-6)


def test_a_large_game_whose_security_levels_are_further_apart_is_refused(monkeypatch):
    """The same game with column 0's top entry at 2e-6: hi − lo is twice the allowed gap, so it is refused."""
    payoffs = np.ones((7, 7))
    payoffs[:, 0] = 0.0
    payoffs[0, 0], payoffs[0, 1] = 2e-6, 0.0
    _answering(monkeypatch, np.eye(7)[0], [1 - 1e-5, 1e-5, 0, 0, 0, 0, 0])
    with pytest.raises(InvalidGameError, match="payoffs span more than the solver can certify"):
        solve_zero_sum(payoffs, tol=1e-4)
