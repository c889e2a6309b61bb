"""What the solvers can certify, and what they refuse: payoffs spanning more than an LP resolves, numeric
arguments that would switch a check off, games over the work limits, and the LP's dual path and its fallback."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import strategist.games.zero_sum as zero_sum
from strategist.errors import ComputationLimitError, InvalidGameError
from strategist.games import (best_response, equilibria, exploitation_frontier, is_equilibrium, safe_exploit,
                              solve_stochastic_game, solve_zero_sum, solve_zero_sum_batch)
from strategist.games.zero_sum import SolverFallbackWarning

from .conftest import assert_optimal, reference_column_lp, reference_value_positive_shift, span, tolerance


def exact_guarantees(a, x, y) -> tuple[Fraction, Fraction]:
    """minⱼ (xᵀA)ⱼ and maxᵢ (Ay)ᵢ of the float strategies, in rational arithmetic (no rounding at all)."""
    a = [[Fraction(float(v)) for v in row] for row in np.asarray(a)]
    x, y = [Fraction(float(p)) for p in x], [Fraction(float(p)) for p in y]
    rows, cols = range(len(a)), range(len(a[0]))
    return min(sum(x[i] * a[i][j] for i in rows) for j in cols), max(sum(a[i][j] * y[j] for j in cols) for i in rows)


# -- payoffs spanning more than the LP resolves ------------------------------------------------------------------
@pytest.mark.parametrize("big", [1e308, 1e12, 1e20])
def test_an_outlier_beside_small_payoffs_is_solved_exactly(big):
    """[[big, 2], [3, 4]]: x = (1/(big - 2 + 1)·…) puts a tiny weight on row 1, and the value is 4 - 2/(big - 1).
    On a [0, 1] scale the LP sees 2, 3 and 4 as equal and answered 3 with a row strategy guaranteeing 2."""
    a = [[big, 2.0], [3.0, 4.0]]
    sol = solve_zero_sum(a)
    true_value = Fraction(4) - Fraction(2) / (Fraction(big) - 1)   # x1 (big - 2) = x2, v = 4 - 2 x1
    assert sol.value == pytest.approx(float(true_value), abs=1e-12)
    row, column = exact_guarantees(a, sol.row_strategy, sol.column_strategy)
    assert float(row) == pytest.approx(float(true_value), abs=1e-12)
    assert float(column) == pytest.approx(float(true_value), abs=1e-12)
    assert sol.row_guarantee == pytest.approx(float(row), abs=1e-12)
    assert sol.method == "exact" and sol.duality_gap <= 1e-12
    batch = solve_zero_sum_batch(np.array([a, [[1.0, 0.0], [0.0, 1.0]]]))
    assert batch.value[0] == pytest.approx(float(true_value), abs=1e-12) and batch.value[1] == pytest.approx(0.5)
    assert batch.duality_gap[0] <= 1e-12


def test_a_large_game_spanning_more_than_the_solver_resolves_is_refused_in_one_line():
    a = np.random.default_rng(0).uniform(size=(30, 30))
    a[0, 0] = 1e308
    with pytest.raises(InvalidGameError, match="payoffs span more than the solver can certify") as caught:
        solve_zero_sum(a)
    assert "\n" not in str(caught.value) and "1e+308" in str(caught.value)
    with pytest.raises(InvalidGameError, match=r"^game 1: payoffs span more"):
        solve_zero_sum_batch(np.stack([np.eye(30), a]))


def test_safe_exploitation_refuses_what_its_lps_cannot_resolve():
    with pytest.raises(InvalidGameError, match="safe exploitation"):
        safe_exploit([[1e308, 2.0], [3.0, 4.0]], [0.0, 1.0], 0.0)


@pytest.mark.parametrize("a", [[[0.3, 0.7], [0.5 + 1e-12, 0.5]],                      # a near-saddle point
                               [[1, 0, 0.5 + 1e-13], [0, 1, 0.5 + 1e-13], [0.5, 0.5, 0.5]],
                               [[0.1 + 0.2, 0.7], [0.3, 0.2]]])                         # ties up to rounding
def test_games_at_the_edge_of_the_resolution_are_still_solved(a):
    sol = solve_zero_sum(a)
    assert_optimal(np.array(a), sol.row_strategy, sol.column_strategy, sol.value)


# -- numeric arguments -----------------------------------------------------------------------------------------------
BAD_TOLERANCES = [float("nan"), 0.0, -1e-9, 1.0, 2.0, float("inf"), True, None, "1e-9"]


@pytest.mark.parametrize("tol", BAD_TOLERANCES, ids=repr)
def test_a_tolerance_that_would_switch_the_certificate_off_is_refused(tol):
    with pytest.raises(InvalidGameError, match="tol"):
        solve_zero_sum([[0.3, 0.7], [0.6, 0.2]], tol=tol)
    with pytest.raises(InvalidGameError, match="tol"):
        solve_zero_sum_batch([[[0.3, 0.7], [0.6, 0.2]]], tol=tol)
    with pytest.raises(InvalidGameError, match="tol"):
        equilibria([[0.3, 0.7], [0.6, 0.2]], tol=tol)


@pytest.mark.parametrize("tol", [float("nan"), -1e-9, 1.0, None, "0"], ids=repr)
def test_tie_tolerances_are_checked(tol):
    with pytest.raises(InvalidGameError, match="tol"):
        best_response([[0.3, 0.7], [0.6, 0.2]], [0.5, 0.5], tol=tol)
    with pytest.raises(InvalidGameError, match="tol"):
        is_equilibrium([[0.3, 0.7], [0.6, 0.2]], [0.5, 0.5], [0.5, 0.5], tol=tol)
    assert best_response([[0.3, 0.7], [0.6, 0.2]], [0.5, 0.5], tol=0).actions == ("r1",)


@pytest.mark.parametrize("chunk", [0, -3, True, 2.5, "8", None], ids=repr)
def test_a_chunk_that_is_not_a_positive_whole_number_is_refused(chunk):
    """chunk=0 once left every value uninitialised (off by up to 1.32 on win probabilities)."""
    with pytest.raises(InvalidGameError, match="chunk"):
        solve_zero_sum_batch(np.random.default_rng(0).uniform(size=(50, 3, 3)), chunk=chunk)


def test_every_chunk_size_gives_the_single_game_values():
    games = np.random.default_rng(0).uniform(size=(50, 3, 3))
    reference = np.array([solve_zero_sum(g).value for g in games])
    for chunk in (1, 7, np.int64(50), 10 ** 9):
        np.testing.assert_allclose(solve_zero_sum_batch(games, chunk=chunk).value, reference, atol=1e-9)


def test_progress_must_be_callable_and_other_arguments_are_checked():
    with pytest.raises(InvalidGameError, match="progress"):
        solve_zero_sum_batch([[[1.0, 0.0], [0.0, 1.0]]], progress="yes")
    with pytest.raises(InvalidGameError, match="max_work"):
        equilibria([[1.0, 0.0], [0.0, 1.0]], max_work=0)
    with pytest.raises(InvalidGameError, match="points"):
        exploitation_frontier([[1.0, 0.0], [0.0, 1.0]], [0.5, 0.5], points=10 ** 7)


@pytest.mark.parametrize("payoffs, mix, margin", [([[5e-324]], [1.0], 0.1), ([[5e-324, 0.0], [0.0, 5e-324]],
                                                                            [1.0, 0.0], 1e300)])
def test_safe_exploitation_of_subnormal_payoffs_works(payoffs, mix, margin):
    """Once a floor of -inf reached scipy (ValueError) when the margin divided by payoffs of 5e-324 overflowed."""
    result = safe_exploit(payoffs, mix, margin)
    assert result.guarantee >= result.value - margin
    assert result.row_strategy.sum() == pytest.approx(1.0)


# -- work limits -----------------------------------------------------------------------------------------------------
def test_a_game_over_the_work_limit_is_refused_at_once_naming_the_limit():
    a = np.zeros((1000, 1000))
    start = time.perf_counter()
    with pytest.raises(ComputationLimitError, match="1,000,000 payoffs, over the limit of 250,000"):
        solve_zero_sum(a)
    with pytest.raises(ComputationLimitError, match="250,000"):
        safe_exploit(a, np.full(1000, 1e-3), 0.1)
    assert time.perf_counter() - start < 5.0
    assert solve_zero_sum(np.eye(500)).value == pytest.approx(1 / 500)    # at the limit: solved


def test_batch_and_stochastic_work_limits(monkeypatch):
    import strategist.games.batch as batch
    import strategist.games.stochastic as stochastic

    monkeypatch.setattr(batch, "MAX_BATCH_CELLS", 100)
    with pytest.raises(ComputationLimitError, match="over the limit of 100"):
        solve_zero_sum_batch(np.zeros((30, 2, 2)))
    monkeypatch.setattr(stochastic, "MAX_STATES", 2)
    rewards = [np.eye(2)] * 3
    with pytest.raises(ComputationLimitError, match="3 states, over the limit of 2"):
        solve_stochastic_game(rewards, [np.zeros((2, 2, 3))] * 3, discount=0.9)


# -- units -----------------------------------------------------------------------------------------------------------
PAYOFFS = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
                 elements=st.floats(-100, 100, allow_subnormal=False))


@settings(deadline=None)
@given(a=PAYOFFS, factor=st.sampled_from([1e-9, 1e9, 1e-300, 1e300]))
def test_results_do_not_depend_on_units(a, factor):
    """Payoffs ×1e-9 or ×1e9 (or ±1e300): the same optimal strategies, the value and safe exploitation's figures
    scaled, from the single solver and the batch alike."""
    ref, scaled = solve_zero_sum(a), solve_zero_sum(a * factor)
    assert_optimal(a, scaled.row_strategy, scaled.column_strategy, ref.value)
    assert scaled.value == pytest.approx(ref.value * factor, abs=tolerance(a) * factor)
    batch = solve_zero_sum_batch(np.stack([a * factor]))
    assert batch.value[0] == pytest.approx(ref.value * factor, abs=tolerance(a) * factor)
    q = np.full(a.shape[1], 1.0 / a.shape[1])
    plain, big = safe_exploit(a, q, 0.1 * span(a)), safe_exploit(a * factor, q, 0.1 * span(a) * factor)
    assert big.expected_payoff == pytest.approx(plain.expected_payoff * factor, abs=tolerance(a, 1e-7) * factor)
    assert big.guarantee == pytest.approx(plain.guarantee * factor, abs=tolerance(a, 1e-7) * factor)


# -- the LP's dual path, and the fallback that must say so (issue: a sign flip of the duals went unseen) -------------
GAMES = [np.random.default_rng(seed).uniform(-1, 1, size=shape) for seed, shape in
         enumerate([(2, 2), (3, 3), (4, 2), (2, 5), (5, 5), (6, 4)])] + \
        [np.random.default_rng(9).integers(-2, 3, size=(4, 4)).astype(float), np.array([[50.0, 80.0], [90.0, 20.0]])]


@pytest.mark.parametrize("a", GAMES, ids=lambda a: f"{a.shape[0]}x{a.shape[1]}")
def test_the_column_strategy_comes_from_the_row_lps_duals(a, monkeypatch, recwarn):
    """With the column player's LP made unavailable, every game still solves, by the duals alone, and correctly."""
    def unavailable(_):
        raise AssertionError("the column LP was used")

    monkeypatch.setattr(zero_sum, "_column_lp", unavailable)
    sol = solve_zero_sum(a)
    assert sol.method == "row LP"
    assert_optimal(a, sol.row_strategy, sol.column_strategy, sol.value)
    assert sol.value == pytest.approx(reference_column_lp(a)[0], abs=tolerance(a))
    assert not [w for w in recwarn if issubclass(w.category, SolverFallbackWarning)]


@pytest.mark.parametrize("duals", ["nan", "negative", "zero"])
def test_unusable_duals_fall_back_to_the_column_lp_and_say_so(monkeypatch, duals):
    real = zero_sum._row_lp

    def spoiled(a, options=None):
        x, y = real(a, options)
        return x, {"nan": np.full_like(y, np.nan), "negative": -y, "zero": np.zeros_like(y)}[duals]

    monkeypatch.setattr(zero_sum, "_row_lp", spoiled)
    a = GAMES[4]
    with pytest.warns(SolverFallbackWarning, match="column player's LP"):
        sol = solve_zero_sum(a)
    assert sol.method == "column LP" and sol.to_dict()["method"] == "column LP"
    assert_optimal(a, sol.row_strategy, sol.column_strategy, sol.value)
    assert sol.value == pytest.approx(reference_value_positive_shift(a), abs=tolerance(a))


def test_duals_that_fail_the_certificate_twice_fall_back_to_the_column_lp(monkeypatch):
    """Duals that are a probability vector but not optimal (uniform, in a game where the optimal column mix is
    not): the certificate fails with HiGHS's defaults and with tighter tolerances, so the column LP decides."""
    real = zero_sum._row_lp
    calls = []

    def uniform_duals(a, options=None):
        calls.append(options)
        x, y = real(a, options)
        return x, np.full_like(y, 1.0 / len(y))

    monkeypatch.setattr(zero_sum, "_row_lp", uniform_duals)
    a = np.array([[50.0, 80.0], [90.0, 20.0]])    # the column player covers the line 0.6, not 0.5
    with pytest.warns(SolverFallbackWarning):
        sol = solve_zero_sum(a)
    assert len(calls) == 2 and sol.method == "column LP"
    np.testing.assert_allclose(sol.column_strategy, [0.6, 0.4], atol=1e-9)
    assert sol.value == pytest.approx(62.0, abs=1e-7)
