"""The vertex solver of the safe-exploitation LP against scipy's linprog: max xᵀc over the simplex with every
column payoff at least the floor, ties broken toward the larger guarantee, a floor above the game's value
answered by the safest mix, every vertex (supports of one to n + 1 rows) enumerated, and games with more
candidate systems than ``max_vertices`` left to the LP."""

from __future__ import annotations

from itertools import product
from math import comb

import numpy as np
import pytest
from scipy.optimize import linprog

from strategist.advice.fastlp import TOL, VertexTable, _clean


def _maximin(a):
    """The row player's value and a maximin mix, by linprog: max t s.t. xᵀA_j ≥ t, x ∈ Δ."""
    m, n = a.shape
    c = np.r_[np.zeros(m), -1.0]
    a_ub = np.c_[-a.T, np.ones(n)]
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n), A_eq=[np.r_[np.ones(m), 0.0]], b_eq=[1.0],
                  bounds=[(0, None)] * m + [(None, None)], method="highs")
    assert res.status == 0
    return -res.fun


def _reference(a, c, floor):
    """max xᵀc s.t. xᵀA_j ≥ floor, x ∈ Δ, then the largest guarantee among the maximisers (two linprogs):
    the objective and the guarantee, or None when no mix reaches the floor."""
    m, n = a.shape
    res = linprog(-c, A_ub=-a.T, b_ub=-np.full(n, floor), A_eq=[np.ones(m)], b_eq=[1.0],
                  bounds=[(0, None)] * m, method="highs")
    if res.status != 0:
        return None
    top = -res.fun
    # max t s.t. xᵀA_j ≥ t, xᵀA_j ≥ floor, xᵀc ≥ top, x ∈ Δ
    obj = np.r_[np.zeros(m), -1.0]
    a_ub = np.vstack([np.c_[-a.T, np.ones(n)], np.c_[-a.T, np.zeros(n)], np.r_[-c, 0.0][None, :]])
    b_ub = np.r_[np.zeros(n), -np.full(n, floor), -top]
    res = linprog(obj, A_ub=a_ub, b_ub=b_ub, A_eq=[np.r_[np.ones(m), 0.0]], b_eq=[1.0],
                  bounds=[(0, None)] * m + [(None, None)], method="highs")
    assert res.status == 0
    return top, -res.fun


def _check(a, c, floor, x, atol=1e-7):
    ref = _reference(a, c, floor)
    assert ref is not None
    assert x.shape == (a.shape[0],) and (x >= 0).all() and x.sum() == pytest.approx(1.0, abs=1e-12)
    assert x @ c == pytest.approx(ref[0], abs=atol)
    assert (x @ a).min() == pytest.approx(ref[1], abs=atol)


@pytest.mark.parametrize("seed", range(6))
def test_random_games_against_linprog(seed):
    """Random games of 2-6 rows and 1-4 columns, a random objective (not only A q), floors from none to the
    game's value."""
    rng = np.random.default_rng(seed)
    for _ in range(6):
        m, n = int(rng.integers(2, 7)), int(rng.integers(1, 5))
        a = rng.random((m, n)) * 4 - 1
        c = rng.normal(size=m)
        vt = VertexTable.of(a)
        value = _maximin(a)
        for floor in (a.min() - 1, value - 0.5, value - 0.05, value - 1e-3):
            _check(a, c, floor, vt.solve(c, floor))


def test_the_optimum_on_a_support_of_n_plus_one_rows():
    """One column: the best mix that keeps it at 0.5 mixes both rows (a vertex of two rows and one active
    constraint)."""
    a = np.array([[1.0], [0.0]])
    x = VertexTable.of(a).solve(np.array([0.0, 1.0]), 0.5)
    assert x == pytest.approx([0.5, 0.5], abs=1e-12)
    a = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.2]])
    x = VertexTable.of(a).solve(np.array([0.0, 0.0, 1.0]), 0.3)
    # both columns ≥ 0.3 with as much of row 3 as possible: x1 = x2 = (1 - x3) / 2, 0.5 - 0.3 x3 ≥ 0.3
    assert x == pytest.approx([1 / 6, 1 / 6, 2 / 3], abs=1e-12)
    _check(a, np.array([0.0, 0.0, 1.0]), 0.3, x)


def test_a_floor_above_the_value_by_rounding_gives_the_safest_mix():
    """Matching pennies' value is 0.5; a floor a rounding error above it (more than TOL × span) answers the
    maximin mix within that error, whatever the objective."""
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    vt = VertexTable.of(a)
    for floor in (0.5 + 1e-8, 0.5 + 1e-7):
        for c in ([1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]):
            x = vt.solve(np.array(c), floor)
            assert x == pytest.approx([0.5, 0.5], abs=2e-7)
            assert x.sum() == pytest.approx(1.0, abs=1e-15)
    a = np.array([[3.0, 1.0], [1.0, 2.0], [0.0, 0.0], [2.0, -1.0]])         # value 5/3 at (1/3, 2/3)
    assert _maximin(a) == pytest.approx(5 / 3)
    for c in ([0.0, 0.0, 5.0, 9.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]):
        x = VertexTable.of(a).solve(np.array(c), 5 / 3 + 1e-8)
        assert x == pytest.approx([1 / 3, 2 / 3, 0.0, 0.0], abs=1e-7)


def test_a_floor_at_the_value_within_rounding_is_feasible():
    """A floor at the value plus a rounding error below TOL × span still counts the maximin mix feasible,
    so the objective picks among the maximin mixes (here two pure rows are both maximin)."""
    a = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 2.0]])      # value 1: rows 1 and 2 (and their mixes)
    c = np.array([0.0, 1.0, 0.0])
    span = 2.0
    x = VertexTable.of(a).solve(c, 1.0 + 0.5 * TOL * span)
    assert x == pytest.approx([0.0, 1.0, 0.0])
    x = VertexTable.of(a).solve(c, 1.0 - 0.5 * TOL * span)
    assert x == pytest.approx([0.0, 1.0, 0.0])


def test_ties_go_to_the_larger_guarantee():
    """A constant objective with no floor: every mix ties, and the safest of them is played — not the safest
    pure row (row 2 guarantees 0.4), but half row 2 and half row 3: 0.3 + 0.3 x = 0.5 − 0.1 x at x = ½, 0.45."""
    a = np.array([[0.6, 0.2], [0.6, 0.4], [0.3, 0.5]])
    x = VertexTable.of(a).solve(np.ones(3), -1.0)
    assert x == pytest.approx([0.0, 0.5, 0.5], abs=1e-9)
    assert (x @ a).min() == pytest.approx(0.45, abs=1e-9)
    # with a floor of 0.42 the pure rows fall short; as much of row 1 as keeps both columns: with
    # x3 = 1 - x1 - x2, column 1 needs x1 + x2 ≥ 0.4 and column 2 3 x1 + x2 ≤ 0.8, so x1 = x2 = 0.2
    x = VertexTable.of(a).solve(np.array([1.0, 0.0, 0.0]), 0.42)
    assert x == pytest.approx([0.2, 0.2, 0.6], abs=1e-12)
    _check(a, np.array([1.0, 0.0, 0.0]), 0.42, x)
    # the objective ties rows 1 and 2 (0.6 each), row 2 is safer
    x = VertexTable.of(a).solve(np.array([0.6, 0.6, 0.3]), 0.0)
    assert x == pytest.approx([0.0, 1.0, 0.0], abs=1e-12)
    # ties within TOL × span of the top count as ties; a larger gap does not
    span = 0.4
    x = VertexTable.of(a).solve(np.array([0.6 + 0.5 * TOL * span, 0.6, 0.3]), 0.0)
    assert x == pytest.approx([0.0, 1.0, 0.0], abs=1e-12)
    x = VertexTable.of(a).solve(np.array([0.6 + 3 * TOL * span, 0.6, 0.3]), 0.0)
    assert x == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)


def test_payoffs_on_a_large_scale():
    """Payoffs in the thousands (a span of 4000): the vertices, the feasibility tolerance and the ties scale
    with the payoffs."""
    rng = np.random.default_rng(7)
    for _ in range(8):
        a = rng.random((4, 3)) * 4000 - 2000
        c = rng.normal(size=4)
        vt = VertexTable.of(a)
        value = _maximin(a)
        for floor in (value - 500, value - 1e-3):
            _check(a, c, floor, vt.solve(c, floor), atol=1e-6 * 4000)
    a = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    x = VertexTable.of(a).solve(np.array([1.0, 0.0]), 400.0)
    assert x == pytest.approx([0.6, 0.4], abs=1e-12)
    a = np.array([[1e-3, 0.0], [0.0, 1e-3]])                      # a tiny span
    x = VertexTable.of(a).solve(np.array([1.0, 0.0]), 4e-4)
    assert x == pytest.approx([0.6, 0.4], abs=1e-9)


def test_a_constant_game_keeps_the_best_row():
    """Every payoff equal (span 0, read as 1): every mix is feasible at the value, the best row is played; a
    floor above the value gives a maximin mix (here any mix: each guarantees 5)."""
    a = np.full((3, 2), 5.0)
    vt = VertexTable.of(a)
    assert vt.span == 1.0
    assert vt.solve(np.array([0.1, 0.3, 0.2]), 5.0) == pytest.approx([0.0, 1.0, 0.0])
    x = vt.solve(np.array([0.1, 0.3, 0.2]), 6.0)
    assert x.sum() == pytest.approx(1.0) and (x >= 0).all() and (x @ a).min() == pytest.approx(5.0)


def test_the_table_lists_every_vertex_and_its_payoffs():
    a = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    vt = VertexTable.of(a)
    assert vt.span == 1.0 and vt.payoffs.dtype == float
    np.testing.assert_allclose(vt.ua, vt.u @ a, atol=1e-15)
    np.testing.assert_allclose(vt.wa, vt.w @ a, atol=1e-15)
    for f in (0.0, 0.3, 0.5):
        x = vt.u + f * vt.w
        np.testing.assert_allclose(x.sum(axis=1), 1.0, atol=1e-12)      # on the simplex's plane
    # the pure rows are vertices at every f, with slope 0
    for i in range(3):
        e = np.eye(3)[i]
        assert any(np.allclose(u, e) and np.allclose(w, 0) for u, w in zip(vt.u, vt.w))
    # the mix of rows 1 and 2 keeping column 1 at f: x = (f, 1 - f)
    assert any(np.allclose(u, [0, 1, 0]) and np.allclose(w, [1, -1, 0]) for u, w in zip(vt.u, vt.w))
    # three rows with both columns active: singular (row 3 is the mean of rows 1 and 2 and 1 - ...)
    assert len(vt.u) == len(vt.w) == len(vt.ua) == len(vt.wa)


def test_integer_payoffs_are_read_as_floats():
    vt = VertexTable.of([[1, 0], [0, 1]])
    assert vt.payoffs.dtype == np.float64
    assert vt.solve(np.array([1.0, 0.0]), 0.25) == pytest.approx([0.75, 0.25], abs=1e-12)


def _count(m, n):
    return sum(comb(m, k) * comb(n, k - 1) for k in range(1, min(m, n + 1) + 1))


@pytest.mark.parametrize("m, n", [(3, 2), (4, 1), (2, 4), (5, 3)])
def test_too_many_candidate_systems_are_left_to_the_lp(m, n):
    a = np.random.default_rng(m * 10 + n).random((m, n))
    total = _count(m, n)
    assert VertexTable.of(a, max_vertices=total) is not None
    assert VertexTable.of(a, max_vertices=total - 1) is None
    assert VertexTable.of(a, max_vertices=m - 1) is None
    assert VertexTable.of(a, max_vertices=m) is not None or min(m, n + 1) > 1


def test_the_default_limit_is_20000_candidate_systems():
    """20000 single rows are 20000 systems (allowed); one more row is past the limit (one column: supports of
    one row, and of two rows with the column active, which would be 20001 + 20001 · 20000 / 2 systems)."""
    assert VertexTable.of(np.zeros((20001, 1))) is None
    # 199 rows and one column: 199 + 199 · 198 / 2 = 19900 systems (allowed); 200 rows: 20100 (refused)
    assert VertexTable.of(np.linspace(0, 1, 199)[:, None]) is not None
    assert VertexTable.of(np.linspace(0, 1, 200)[:, None]) is None


def test_clean_clips_rounding_and_normalises():
    x = _clean(np.array([0.5, -1e-11, 0.5 + 1e-13, 5e-13]))
    assert x[1] == 0.0 and x[3] == 0.0
    assert x.sum() == 1.0 and x[0] == pytest.approx(0.5, abs=1e-12)
    assert _clean(np.array([2.0, 2.0])) == pytest.approx([0.5, 0.5])
    y = _clean(np.array([1.0, 2e-12]))
    assert y[1] == pytest.approx(2e-12 / (1 + 2e-12)) and y[1] > 0


def test_on_every_small_grid_game_against_linprog():
    """Every 3 × 2 game with payoffs in {0, 1, 2} of a few patterns (degenerate ones included: equal rows,
    dominated rows, constant columns)."""
    vals = (0.0, 1.0, 2.0)
    rng = np.random.default_rng(3)
    for flat in list(product(vals, repeat=6))[::37]:
        a = np.array(flat).reshape(3, 2)
        vt = VertexTable.of(a)
        value = _maximin(a)
        c = rng.normal(size=3)
        for floor in (-1.0, value - 0.25, value):
            _check(a, c, floor, vt.solve(c, floor))


def test_an_objective_short_of_the_best_by_exactly_the_tolerance_ties():
    """Row 1 earns 1, row 2 exactly TOL × span less: a tie, so the safer row 2 is played; a little more less
    and row 1 is."""
    a = np.array([[0.2], [0.6]])
    vt = VertexTable.of(a)
    tol = TOL * vt.span
    assert vt.span == pytest.approx(0.4)
    assert vt.solve(np.array([1.0, 1.0 - tol]), -1.0) == pytest.approx([0.0, 1.0], abs=1e-15)
    assert vt.solve(np.array([1.0, 1.0 - 2 * tol]), -1.0) == pytest.approx([1.0, 0.0], abs=1e-15)


def test_a_payoff_exactly_the_tolerance_under_the_floor_keeps_it():
    """Row 1's first column is 0.3 and the floor exactly 0.3 + TOL × span: row 1 counts as keeping the floor
    and is played whole (not the mix a hair away from it that keeps the floor exactly)."""
    a = np.array([[0.3, 1.0], [0.7, 0.0]])
    vt = VertexTable.of(a)
    tol = TOL * vt.span
    floor = 0.3 + tol
    while floor - tol > 0.3:
        floor = np.nextafter(floor, 0.0)
    while floor - tol < 0.3:
        floor = np.nextafter(floor, 1.0)
    assert floor - tol == 0.3
    assert vt.solve(np.array([1.0, 0.0]), floor) == pytest.approx([1.0, 0.0], abs=1e-15)
    x = vt.solve(np.array([1.0, 0.0]), 0.3 + 10 * tol)
    assert 0 < x[1] < 1e-7


def test_a_small_difference_in_a_large_game_is_a_vertex():
    """Payoffs up to 1000 and a column whose rows differ by 1e-4: keeping that column at 5e-5 needs half of
    row 2 (the near-singular-system guard scales with the span, not with its square)."""
    a = np.array([[0.0, 1000.0], [1e-4, 0.0]])
    x = VertexTable.of(a).solve(np.array([1.0, 0.0]), 5e-5)
    assert x == pytest.approx([0.5, 0.5], abs=1e-9)
    _check(a, np.array([1.0, 0.0]), 5e-5, x, atol=1e-6)
    a3 = np.array([[0.0, 1000.0, 500.0], [1e-4, 0.0, 500.0], [0.0, 0.0, 1000.0]])
    x = VertexTable.of(a3).solve(np.array([1.0, 0.0, 0.0]), 5e-5)
    assert x == pytest.approx([0.5, 0.5, 0.0], abs=1e-9)


def test_clean_keeps_a_share_of_exactly_1e_12():
    y = _clean(np.array([1.0, 1e-12]))
    assert y[1] > 0 and y[1] == pytest.approx(1e-12 / (1 + 1e-12), rel=1e-12)
    z = _clean(np.array([1.0, np.nextafter(1e-12, 0.0)]))
    assert z[1] == 0.0 and z[0] == 1.0


def test_a_game_of_tiny_payoffs_keeps_its_vertices():
    """Payoffs of a millionth (span 1.2e-6): the vertex of three rows with both columns at a quarter of the
    span is found (its system's determinant is 1.44e-12), and so is the mix of two rows of a column whose
    payoffs differ by 1.5e-12."""
    d = 1.2e-6
    a = np.array([[0.0, 0.0], [d, 0.0], [0.0, d]])
    x = VertexTable.of(a).solve(np.array([1.0, 0.0, 0.0]), 0.25 * d)
    assert x == pytest.approx([0.5, 0.25, 0.25], abs=1e-9)
    b = np.array([[0.0], [1.5e-12]])
    x = VertexTable.of(b).solve(np.array([1.0, 0.0]), 0.75e-12)
    assert x == pytest.approx([0.5, 0.5], abs=1e-9)
