"""Zero-sum solving on hand-solved games, degenerate games and transformed games; the certificate."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import strategist
from strategist import MatrixGame, solve_zero_sum
from strategist.errors import SolverError

from .conftest import (EVERT_NAVRATILOVA, assert_optimal, column_guarantee, reference_column_lp,
                       reference_value_positive_shift, row_guarantee)

EXACT = 1e-9


def check_solution(payoffs, value, x=None, y=None, tol=EXACT):
    """Solve, then compare with a hand-derived value (and strategies, where they are unique)."""
    sol = solve_zero_sum(payoffs)
    assert sol.value == pytest.approx(value, abs=tol)
    if x is not None:
        np.testing.assert_allclose(sol.row_strategy, x, atol=tol, rtol=0)
    if y is not None:
        np.testing.assert_allclose(sol.column_strategy, y, atol=tol, rtol=0)
    assert_optimal(payoffs, sol.row_strategy, sol.column_strategy, value)
    return sol


# ---------------------------------------------------------------------------------------------- hand-solved
def test_evert_navratilova(evert_navratilova):
    # Evert mixes p on the line: 50p + 90(1 − p) = 80p + 20(1 − p)  =>  p = 0.7, value 62.
    # Navratilova covers the line with q: 50q + 80(1 − q) = 90q + 20(1 − q)  =>  q = 0.6, value 62.
    sol = check_solution(evert_navratilova, 62.0, [0.7, 0.3], [0.6, 0.4])
    assert sol.row_mix == pytest.approx({"down the line": 0.7, "cross-court": 0.3}, abs=EXACT)
    assert sol.column_mix == pytest.approx({"cover line": 0.6, "cover cross-court": 0.4}, abs=EXACT)
    assert sol.game is evert_navratilova


def test_matching_pennies():
    check_solution([[1, -1], [-1, 1]], 0.0, [0.5, 0.5], [0.5, 0.5])


def test_rock_paper_scissors():
    rps = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]
    check_solution(rps, 0.0, np.full(3, 1 / 3), np.full(3, 1 / 3))


def test_two_by_three_with_a_dominated_column():
    # Column 3 (6, 5) is worse for the minimising column player than column 1 (2, 4) in both rows: drop it.
    # On [[2, 5], [4, 1]]: row 2p + 4(1 − p) = 5p + (1 − p)  =>  p = 1/2, value 3;
    #                      column 2q + 5(1 − q) = 4q + (1 − q)  =>  q = 2/3, value 3.
    # Column 3 against x = (1/2, 1/2) gives 5.5 ≥ 3, so the column player never uses it.
    check_solution([[2, 5, 6], [4, 1, 5]], 3.0, [0.5, 0.5], [2 / 3, 1 / 3, 0.0])


def test_three_by_two_with_a_dominated_row():
    # Row 3 (1, 0) is dominated by row 1 (2, 4): drop it.
    # On [[2, 4], [5, 1]]: row 2p + 5(1 − p) = 4p + (1 − p)  =>  p = 2/3, value 3;
    #                      column 2q + 4(1 − q) = 5q + (1 − q)  =>  q = 1/2, value 3.
    check_solution([[2, 4], [5, 1], [1, 0]], 3.0, [2 / 3, 1 / 3, 0.0], [0.5, 0.5])


def test_saddle_point():
    # Row minima (2, 0, 1): maximin 2 at row 1. Column maxima (5, 2, 4): minimax 2 at column 2.
    # Equal, so (row 1, column 2) is a saddle point with value 2; it is the only optimal pair because
    # column 2 = (2, 0, 1) forces x₁ = 1 for a guarantee of 2, and row 1 = (3, 2, 4) forces y₂ = 1.
    check_solution([[3, 2, 4], [1, 0, 2], [5, 1, 3]], 2.0, [1, 0, 0], [0, 1, 0])


def test_win_probability_matrix_is_accepted_as_it_is():
    # The constant-sum game (A, 1 − A) has the zero-sum game's equilibria: value 0.62, mixes 0.7 / 0.6.
    check_solution([[0.50, 0.80], [0.90, 0.20]], 0.62, [0.7, 0.3], [0.6, 0.4])


def test_one_by_n_and_m_by_one():
    # A single row: the column player picks the smallest entry. A single column: the row player the largest.
    check_solution([[3, 1, 2]], 1.0, [1.0], [0, 1, 0])
    check_solution([[3], [1], [2]], 3.0, [1, 0, 0], [1.0])
    check_solution([[-4.5]], -4.5, [1.0], [1.0])


def test_constant_matrix():
    sol = check_solution(np.full((2, 3), 7.0), 7.0)
    assert sol.duality_gap == 0.0
    # every strategy is optimal; the returned pair guarantees exactly the constant
    assert sol.row_guarantee == pytest.approx(7.0, abs=1e-14)
    assert sol.column_guarantee == pytest.approx(7.0, abs=1e-14)
    assert sol.method == "constant"                     # no LP: the uniform mixes, and the result says so
    np.testing.assert_array_equal(sol.row_strategy, np.full(2, 0.5))
    np.testing.assert_array_equal(sol.column_strategy, np.full(3, 1 / 3))


def test_a_saddle_point_beyond_the_lps_resolution_is_returned_pure():
    """Entries of 1e12 beside a saddle point of value 1: the LP cannot certify a pair in the payoffs' units, the
    security levels agree (max of row minima = min of column maxima = 1), so the pure security strategies are
    returned (row 3 and column 3 by hand) and the result says so."""
    sol = solve_zero_sum([[1e12, 0, 1], [0, 1e12, 1], [1, 1 + 1e-6, 1]])
    assert sol.method == "pure"
    np.testing.assert_array_equal(sol.row_strategy, [0, 0, 1])
    np.testing.assert_array_equal(sol.column_strategy, [0, 0, 1])
    assert (sol.value, sol.row_guarantee, sol.column_guarantee, sol.duality_gap) == (1.0, 1.0, 1.0, 0.0)


# ---------------------------------------------------------------------------------------------- degenerate
def test_duplicate_rows_split_the_optimal_weight():
    # Rows 1 and 2 are the same action: together they carry Evert's 0.7.
    sol = check_solution([[50, 80], [50, 80], [90, 20]], 62.0)
    assert sol.row_strategy[0] + sol.row_strategy[1] == pytest.approx(0.7, abs=EXACT)
    assert sol.row_strategy[2] == pytest.approx(0.3, abs=EXACT)
    np.testing.assert_allclose(sol.column_strategy, [0.6, 0.4], atol=EXACT)


def test_duplicate_columns_split_the_optimal_weight():
    sol = check_solution([[50, 80, 80], [90, 20, 20]], 62.0)
    assert sol.column_strategy[0] == pytest.approx(0.6, abs=EXACT)
    assert sol.column_strategy[1] + sol.column_strategy[2] == pytest.approx(0.4, abs=EXACT)
    np.testing.assert_allclose(sol.row_strategy, [0.7, 0.3], atol=EXACT)


def test_continuum_of_optimal_row_strategies():
    # Value 1/2. Every x = (a, a, 1 − 2a), a ∈ [0, 1/2], guarantees 1/2: xᵀA = (a + (1 − 2a)/2, same).
    # The column player's optimum is unique: y = (1/2, 1/2) (else row 1 or 2 earns more than 1/2).
    sol = check_solution([[1, 0], [0, 1], [0.5, 0.5]], 0.5, y=[0.5, 0.5])
    x = sol.row_strategy
    assert x[0] == pytest.approx(x[1], abs=EXACT)


def test_continuum_of_optimal_column_strategies():
    # Row 1 weakly dominates: value 1 and every column mix is optimal (both columns pay 1 against row 1).
    check_solution([[1, 1], [0, 0.5]], 1.0, x=[1, 0])


def test_ties_everywhere():
    # Each row and column is a permutation of (0, 0, 1, 1): value 1/2 reached by a continuum of strategies.
    a = [[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
    check_solution(a, 0.5)


def test_dominated_action_gets_no_weight_when_strictly_dominated():
    # Rock–paper–scissors plus a row strictly worse than rock against every column: value 0, and the
    # extra row gets no weight; the other rows stay uniform.
    sol = check_solution([[0, -1, 1], [1, 0, -1], [-1.5, -2, 0.5], [-1, 1, 0]], 0.0,
                         [1 / 3, 1 / 3, 0, 1 / 3], [1 / 3, 1 / 3, 1 / 3])
    assert sol.row_strategy[2] == pytest.approx(0.0, abs=EXACT)


# ---------------------------------------------------------------------------------------------- transforms
@pytest.mark.parametrize("scale, offset", [(1000.0, 0.0), (1000.0, -12_345.0), (1e-6, 3.0), (0.01, 0.0),
                                           (2.5, 1e4)])
def test_scale_invariance_on_evert_navratilova(scale, offset):
    a = scale * np.array(EVERT_NAVRATILOVA) + offset
    sol = solve_zero_sum(a)
    width = np.ptp(a)
    assert sol.value == pytest.approx(62.0 * scale + offset, abs=EXACT * width)
    np.testing.assert_allclose(sol.row_strategy, [0.7, 0.3], atol=EXACT)
    np.testing.assert_allclose(sol.column_strategy, [0.6, 0.4], atol=EXACT)


def test_negative_payoffs_and_negative_value():
    # Evert–Navratilova shifted by −100: value −38.
    check_solution(np.array(EVERT_NAVRATILOVA) - 100.0, -38.0, [0.7, 0.3], [0.6, 0.4])


@pytest.mark.parametrize("seed, shape", [(0, (6, 6)), (1, (8, 3)), (2, (3, 9)), (3, (40, 40))])
def test_random_games_against_two_reference_lps(seed, shape):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape) * 10
    sol = solve_zero_sum(a)
    col_value, col_y = reference_column_lp(a)
    width = np.ptp(a)
    assert sol.value == pytest.approx(reference_value_positive_shift(a), abs=EXACT * width)
    assert sol.value == pytest.approx(col_value, abs=EXACT * width)
    assert_optimal(a, sol.row_strategy, sol.column_strategy, col_value)


# ---------------------------------------------------------------------------------------------- inputs / output
def test_every_game_form_gives_the_same_solution(tmp_path, evert_navratilova):
    csv = tmp_path / "en.csv"
    evert_navratilova.to_frame().to_csv(csv)
    forms = [evert_navratilova, EVERT_NAVRATILOVA, np.array(EVERT_NAVRATILOVA), evert_navratilova.to_frame(),
             csv, str(csv)]
    values = [solve_zero_sum(form).value for form in forms]
    assert values == pytest.approx([62.0] * len(forms), abs=EXACT)
    assert solve_zero_sum(csv).game.row_labels == evert_navratilova.row_labels
    assert solve_zero_sum(pd.DataFrame(EVERT_NAVRATILOVA, index=["a", "b"])).game.row_labels == ("a", "b")


def test_certificate_is_recomputed_from_the_strategies():
    a = np.random.default_rng(5).uniform(size=(5, 4))
    sol = solve_zero_sum(a)
    assert sol.row_guarantee == pytest.approx(row_guarantee(a, sol.row_strategy), abs=1e-15)
    assert sol.column_guarantee == pytest.approx(column_guarantee(a, sol.column_strategy), abs=1e-15)
    assert sol.duality_gap >= 0.0
    assert sol.duality_gap == pytest.approx(max(sol.column_guarantee - sol.row_guarantee, 0.0), abs=1e-15)
    assert sol.duality_gap <= EXACT * np.ptp(a)
    assert sol.row_guarantee - EXACT <= sol.value <= sol.column_guarantee + EXACT


def test_to_dict_is_json_ready(evert_navratilova):
    import json

    data = json.loads(json.dumps(solve_zero_sum(evert_navratilova).to_dict()))
    assert data["value"] == pytest.approx(62.0, abs=EXACT)
    assert data["row_strategy"] == pytest.approx({"down the line": 0.7, "cross-court": 0.3}, abs=EXACT)
    assert data["column_strategy"] == pytest.approx({"cover line": 0.6, "cover cross-court": 0.4}, abs=EXACT)
    assert set(data["certificate"]) == {"row_guarantee", "column_guarantee", "duality_gap"}


def test_top_level_name_is_the_solver():
    assert strategist.solve_zero_sum is solve_zero_sum
    assert strategist.MatrixGame is MatrixGame


def test_failed_lp_status_raises_solver_error(monkeypatch):
    import strategist.games.zero_sum as zero_sum

    def failing(*args, **kwargs):
        return SimpleNamespace(status=2, message="The problem is infeasible.")

    monkeypatch.setattr(zero_sum, "linprog", failing)
    with pytest.raises(SolverError, match="infeasible"):
        solve_zero_sum([[1, -1], [-1, 1]])


def test_wrong_lp_answer_fails_the_certificate(monkeypatch):
    import strategist.games.zero_sum as zero_sum

    def wrong(c, A_ub=None, b_ub=None, **kwargs):
        # "Optimal" status but pure first actions for both players: in matching pennies that leaves a gap of 2.
        return SimpleNamespace(status=0, message="ok", x=np.eye(len(c))[0],
                               ineqlin=SimpleNamespace(marginals=-np.eye(len(b_ub))[0]))

    monkeypatch.setattr(zero_sum, "linprog", wrong)
    with pytest.raises(SolverError, match="certificate"):
        solve_zero_sum([[1, -1], [-1, 1]])


@pytest.mark.parametrize("factor", [1e-9, 1e9, 1e-300, 1e300])
def test_solution_does_not_depend_on_units(factor):
    rng = np.random.default_rng(11)
    a = rng.uniform(-1, 1, size=(5, 4))
    ref, scaled = solve_zero_sum(a), solve_zero_sum(a * factor)
    np.testing.assert_allclose(scaled.row_strategy, ref.row_strategy, atol=1e-9)
    np.testing.assert_allclose(scaled.column_strategy, ref.column_strategy, atol=1e-9)
    assert scaled.value == pytest.approx(ref.value * factor, rel=1e-9)


HUGE = [
    [[1e308, -1e308], [-1e308, 1e308]],
    [[-1.7e308, 1.7e308], [1e308, -1e300]],
    [[1.79e308, -1.79e308, 0.0], [-1.79e308, 1.0e308, 1.79e308]],
]


@pytest.mark.parametrize("payoffs", HUGE, ids=["pennies", "asymmetric", "2x3"])
def test_payoffs_near_the_float_limit_single_and_batch_agree(payoffs):
    from strategist import solve_zero_sum_batch

    a = np.array(payoffs)
    sol = solve_zero_sum(a)
    batch = solve_zero_sum_batch(a[None])
    ref = solve_zero_sum(a / 1e300)  # the same game in small units
    assert np.isfinite([sol.value, sol.row_guarantee, sol.column_guarantee, sol.duality_gap]).all()
    assert np.isfinite(batch.value).all() and np.isfinite(batch.duality_gap).all()
    assert sol.value == pytest.approx(ref.value * 1e300, rel=1e-9)
    assert batch.value[0] == pytest.approx(sol.value, rel=1e-9, abs=1e-9 * 3.6e308)
    np.testing.assert_allclose(sol.row_strategy, ref.row_strategy, atol=1e-9)
    np.testing.assert_allclose(batch.row_strategy[0], ref.row_strategy, atol=1e-9)
    assert sol.duality_gap <= 1e-9 * 3.6e308
