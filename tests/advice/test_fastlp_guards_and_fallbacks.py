"""The vertex solver's guards at their bounds, and when it leaves the vertices for a linear program: a floor
above the game's value by rounding only is answered from the vertices (no LP), ties within the tolerance
column by column need no face LP, the near-singular guard drops systems at its bound, and the face LP keeps
the vertex unless it guarantees more than the tolerance beyond it."""

from __future__ import annotations

import numpy as np
import pytest

import strategist.games.zero_sum as zero_sum
from strategist.advice.fastlp import ROUNDING, TOL, VertexTable, _safest_on_face


@pytest.fixture()
def no_maximin_lp(monkeypatch):
    """The zero-sum solver (the maximin's linear program) made to fail if it is called."""
    def refuse(*args, **kwargs):
        raise AssertionError("the maximin LP was solved")
    monkeypatch.setattr(zero_sum, "solve_zero_sum", refuse)


def test_a_floor_a_rounding_error_above_the_value_is_answered_from_the_vertices(no_maximin_lp):
    """Value 5/3 at (1/3, 2/3, 0, 0), payoffs spanning 4: a floor 1e-7 above the value is within ROUNDING × span
    (4e-7) of it, so the safest vertex (rows 1 and 2 keeping column 1 at the floor) is played, without the
    maximin's LP; its guarantee is the value to 1e-7."""
    a = np.array([[3.0, 1.0], [1.0, 2.0], [0.0, 0.0], [2.0, -1.0]])
    vt = VertexTable.of(a)
    assert vt.span == 4.0
    floor = 5 / 3 + 1e-7
    for c in ([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 5.0, 9.0], [0.0, 0.0, 0.0, 1.0]):
        x = vt.solve(np.array(c), floor)
        # 3 x1 + x2 = floor with x1 + x2 = 1: x1 = (floor - 1) / 2
        assert x == pytest.approx([(floor - 1) / 2, 1 - (floor - 1) / 2, 0.0, 0.0], abs=1e-12)
        assert (x @ a).min() == pytest.approx(5 / 3, abs=1e-7)


def test_a_floor_exactly_rounding_times_the_span_above_the_safest_vertex_still_takes_it(no_maximin_lp):
    """Row 1 guarantees 1.5, the game's value (span 2); no other vertex does as well at a floor above 1.5. With
    the floor exactly ROUNDING × span above 1.5, row 1 is still above the floor by rounding only: it is
    played, no LP."""
    a = np.array([[1.5, 1.5], [0.5, 2.5]])
    vt = VertexTable.of(a)
    assert vt.span == 2.0
    floor = 1.5 + ROUNDING * 2.0
    while floor - ROUNDING * vt.span > 1.5:
        floor = np.nextafter(floor, 0.0)
    while floor - ROUNDING * vt.span < 1.5:
        floor = np.nextafter(floor, 2.0)
    assert floor - ROUNDING * vt.span == 1.5
    assert vt.solve(np.array([0.0, 1.0]), floor) == pytest.approx([1.0, 0.0], abs=1e-15)


def test_a_floor_further_above_the_value_solves_the_maximin(monkeypatch):
    """Past ROUNDING × span the maximin's LP is solved (the same game: its answer is row 1)."""
    a = np.array([[1.5, 1.5], [0.5, 2.5]])
    calls = []
    solve = zero_sum.solve_zero_sum

    def counted(game, **kwargs):
        calls.append(1)
        return solve(game, **kwargs)

    monkeypatch.setattr(zero_sum, "solve_zero_sum", counted)
    x = VertexTable.of(a).solve(np.array([0.0, 1.0]), 1.5 + 10 * ROUNDING * 2.0)
    assert calls == [1]
    assert x == pytest.approx([1.0, 0.0], abs=1e-9)


def test_tied_vertices_differing_by_exactly_the_tolerance_are_one_point():
    """Rows (0, 1) and (1, 0); the floor equals the tolerance, so row 1 keeps it (within the tolerance) and so
    does the mix (1 − tol, tol), which keeps column 1 at the floor exactly. The objective (1, 0.75) ties them
    (the mix earns 0.25 tol less); their payoffs differ by exactly tol column by column: they count as one
    point, and the safer, the mix, is played as it is (the face's LP would go further, to (1 − 4 tol, 4 tol),
    where the objective is a whole tol below the best)."""
    a = np.array([[0.0, 1.0], [1.0, 0.0]])
    vt = VertexTable.of(a)
    tol = TOL * vt.span
    x = vt.solve(np.array([1.0, 0.75]), tol)
    assert x[1] == pytest.approx(tol, rel=1e-6)
    assert x[0] == pytest.approx(1 - tol, abs=1e-15)


def test_a_nearly_flat_objective_is_broken_toward_the_safest_mix_within_the_tolerance():
    """Payoffs 1000 · I (span 1000, tolerance 1e-6) and a floor of 400: the best vertex (0.6, 0.4) earns
    0.6 · 2.5 tol, the other (0.4, 0.6) 0.4 · 2.5 tol, a tie. Every mix earning at least the best less the
    tolerance (x1 ≥ 0.2) counts: the safest of them is (0.5, 0.5), guaranteeing 500."""
    a = 1000.0 * np.eye(2)
    vt = VertexTable.of(a)
    tol = TOL * vt.span
    x = vt.solve(np.array([2.5 * tol, 0.0]), 400.0)
    assert x == pytest.approx([0.5, 0.5], abs=1e-9)
    assert (x @ a).min() == pytest.approx(500.0, abs=1e-6)


def test_an_objective_given_as_a_boolean_mask_of_rows_reads_as_zero_and_one():
    """Every row counted (a mask of True): every mix ties, and the face's safest point is played, as with the
    objective of ones."""
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    vt = VertexTable.of(a)
    x = vt.solve(np.array([True, True]), 0.4)
    np.testing.assert_allclose(x, vt.solve(np.ones(2), 0.4), atol=1e-12)
    np.testing.assert_allclose(x, [0.5, 0.5], atol=1e-9)


def test_the_face_lp_keeps_the_vertex_unless_it_guarantees_more_than_the_tolerance_beyond_it():
    """Over the whole simplex (pennies, an objective of ½ for every mix) the safest mix is (½, ½), guaranteeing
    ½; the vertex (1, 0) guarantees 0. With a tolerance of exactly ½ the LP guarantees no more than the
    tolerance beyond the vertex: the vertex is kept; with less, the LP's mix is played."""
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    c = np.array([0.5, 0.5])
    vertex = np.array([1.0, 0.0])
    x = _safest_on_face(a, c, 0.5, vertex, 0.0)
    assert x == pytest.approx([0.5, 0.5], abs=1e-9)
    gain = (x @ a).min() - (vertex @ a).min()
    assert gain == pytest.approx(0.5, abs=1e-9)
    assert (vertex @ a).min() + gain == (x @ a).min()
    assert _safest_on_face(a, c, 0.5, vertex, gain) == pytest.approx([1.0, 0.0], abs=1e-15)
    assert _safest_on_face(a, c, 0.5, vertex, gain - 1e-6) == pytest.approx([0.5, 0.5], abs=1e-9)


def _at_the_bound():
    """A game [[0, S], [d, 0]] (span S > 1) whose first column's system of two rows has a determinant, as numpy
    computes it, of exactly the guard's bound 1e-12 · S: S is searched ulp by ulp near det / 1e-12."""
    for d in (1.25e-12, 1.5e-12, 2e-12, 3e-12, 1.75e-12):
        det = abs(float(np.linalg.det(np.array([[[1.0, 1.0], [0.0, d]]]))[0]))
        span = det / 1e-12
        for _ in range(64):
            span = np.nextafter(span, 0.0)
        for _ in range(128):
            if 1e-12 * span == det and span > 1.0:
                return np.array([[0.0, span], [d, 0.0]])
            span = np.nextafter(span, 10.0)
    raise AssertionError("no game with a determinant at the bound")  # pragma: no cover


def test_a_system_at_the_near_singular_bound_is_not_a_vertex():
    """A column whose two rows differ by d, with |det| of their system exactly at the guard's bound
    (1e-12 · span): the system is read as singular. The vertices are the pure rows and the mix keeping the
    other column at f (x = (f/S, 1 − f/S)), not the mix keeping the first."""
    a = _at_the_bound()
    vt = VertexTable.of(a)
    span = a[0, 1]
    assert vt.span == span
    assert len(vt.u) == 3
    mixes = [(u, w) for u, w in zip(vt.u, vt.w) if np.abs(w).max() > 0]
    assert len(mixes) == 1
    np.testing.assert_allclose(mixes[0][0], [0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(mixes[0][1], [1 / span, -1 / span], rtol=1e-12)


def test_the_near_singular_bound_grows_with_the_span():
    """Payoffs spanning 4: the bound is 4e-12 for a system of two rows (1e-12 · span^(k − 1), k = 2), so the
    column whose rows differ by 2e-12 gives no vertex; the other column (rows 4 apart) does: the pure rows
    and one mix, x = (f/4, 1 − f/4)."""
    a = np.array([[0.0, 4.0], [2e-12, 0.0]])
    vt = VertexTable.of(a)
    assert vt.span == 4.0
    assert len(vt.u) == 3
    assert np.abs(vt.w).max() == pytest.approx(0.25)
    mixes = [(u, w) for u, w in zip(vt.u, vt.w) if np.abs(w).max() > 0]
    assert len(mixes) == 1
    np.testing.assert_allclose(mixes[0][0], [0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(mixes[0][1], [0.25, -0.25], atol=1e-15)
