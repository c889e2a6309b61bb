"""Support enumeration's indifference mixes and their tolerance bounds, what counts as the same equilibrium twice,
and Lemke–Howson's paths: every label of a tall game is followed, and each path is nashpy's own on the payoffs
rescaled to [0, 1]."""

from __future__ import annotations

import warnings

import nashpy
import numpy as np
import pytest

from strategist import equilibria
from strategist.games import DegenerateGameWarning, general_sum
from strategist.games.general_sum import _indifferent_mix, _support_enumeration

from .conftest import brute_force_is_nash


def _unit(payoffs):
    """Payoffs rescaled to [0, 1], as every method sees them (exact here: integer payoffs)."""
    p = np.asarray(payoffs, dtype=np.float64)
    return (p - p.min()) / (p.max() - p.min())


def _as_set(pairs):
    return {(tuple(np.round(x, 9)), tuple(np.round(y, 9))) for x, y in pairs}


# -- the indifference mix -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("payoffs, mix", [
    ([[3.0, 0.0], [0.0, 1.0]], [0.25, 0.75]),          # 3·¼ = 1·¾
    ([[1.0, 0.0], [0.0, 1.0]], [0.5, 0.5]),
    ([[5.0, 1.0], [0.0, 0.0]], [-0.25, 1.25]),         # 5·(−¼) + 1·(5/4) = 0: the sign is for the caller to judge
])
def test_the_indifference_mix_equalises_the_rows_and_sums_to_one(payoffs, mix):
    z = _indifferent_mix(np.array(payoffs), tol=1e-9)
    np.testing.assert_allclose(z, mix, rtol=0, atol=1e-12)
    assert z.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("gap, solvable", [(1e-9, True), (3e-9, False)])
def test_rows_that_cannot_be_made_indifferent_within_tol_have_no_mix(gap, solvable):
    """One column, rows paying 0 and ``gap``: the least-squares z = 1/(1 + gap²/2), v = gap·z/2 leaves both row
    equations off by gap·z/2 — half of tol for a gap of 1e-9 (a mix, z ≈ 1), one and a half tol for 3e-9 (none),
    on payoffs below 1, where tol is not scaled up."""
    z = _indifferent_mix(np.array([[0.0], [gap]]), tol=1e-9)
    if solvable:
        np.testing.assert_allclose(z, [1.0], rtol=0, atol=1e-12)
    else:
        assert z is None


@pytest.mark.parametrize("side", ["column mix", "row mix"])
def test_a_support_whose_mix_dips_exactly_tol_below_zero_is_kept(side):
    """On rows (0, 1) × columns (0, 1), one player's indifference mix is (−¼, 5/4) (as the solver computes it)
    and the other's (½, ½). With tol equal to that dip the support passes: the bound is −tol inclusive."""
    dipping, even = np.array([[5.0, 1.0], [0.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    tol = -float(_indifferent_mix(dipping, tol=1e-9).min())
    assert tol == pytest.approx(0.25, abs=1e-12)
    a, b = (dipping, even) if side == "column mix" else (even, dipping.T)
    found = [(x, y) for x, y in _support_enumeration(a, b, equal_sizes=True, tol=tol) if (x != 0).all()]
    assert len(found) == 1
    x, y = found[0]
    np.testing.assert_allclose(y if side == "column mix" else x, [-0.25, 1.25], rtol=0, atol=1e-12)


# -- the same equilibrium twice --------------------------------------------------------------------------------------
@pytest.mark.parametrize("second, same", [
    (([1e-9, 1 - 1e-9], [0.0, 1.0]), True),     # the row strategies differ by exactly 1e-9 (the sum is exactly 1)
    (([0.0, 1.0], [1e-9, 1 - 1e-9]), True),     # the column strategies do
    (([2e-9, 1 - 2e-9], [0.0, 1.0]), False),    # 2e-9 apart: a second equilibrium
])
def test_answers_within_1e_9_of_one_already_found_are_the_same_equilibrium(monkeypatch, second, same):
    """All payoffs 0: every pair is an equilibrium, so only the duplicate rule decides what is listed."""
    first = (np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    monkeypatch.setattr(general_sum, "_candidates",
                        lambda *args: [first, (np.array(second[0]), np.array(second[1]))])
    with pytest.warns(DegenerateGameWarning):
        found = equilibria(np.zeros((2, 2)), np.zeros((2, 2)))
    assert len(found) == (1 if same else 2)
    np.testing.assert_array_equal(found[0].row_strategy, first[0])
    np.testing.assert_array_equal(found[0].column_strategy, first[1])


# -- Lemke–Howson's paths ------------------------------------------------------------------------------------------
#: 4 × 3. nashpy's path from label 4 (column 0) ends at the mixed equilibrium x = (0, 14, 13, 24)/51,
#: y = (14, 11, 15)/40, which no other label's path reaches; the others end at (row 0, column 1) and
#: (row 2, column 2).
TALL_ROW = [[1, 9, 2], [7, 8, 1], [4, 5, 6], [9, 0, 5]]
TALL_COL = [[4, 6, 3], [3, 5, 8], [5, 1, 7], [5, 6, 1]]


def _path_ends(a, b):
    """Where nashpy's own Lemke–Howson ends from each label, on the payoffs rescaled to [0, 1]."""
    game = nashpy.Game(_unit(a), _unit(b))
    m, n = np.shape(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [game.lemke_howson(initial_dropped_label=label) for label in range(m + n)]


def test_lemke_howson_on_a_tall_game_follows_the_path_of_every_label():
    mixed = (np.array([0, 14, 13, 24]) / 51, np.array([14, 11, 15]) / 40)
    assert brute_force_is_nash(TALL_ROW, TALL_COL, *mixed)
    ends = _path_ends(TALL_ROW, TALL_COL)
    assert _as_set(ends[4:5]) == _as_set([mixed]) and not _as_set([mixed]) & _as_set(ends[:4] + ends[5:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = equilibria(TALL_ROW, TALL_COL, method="lemke_howson")
    assert _as_set((e.row_strategy, e.column_strategy) for e in found) == _as_set(ends)


def test_lemke_howson_paths_are_nashpys_own_on_the_rescaled_payoffs():
    """A degenerate 2 × 3 game (against row 1 the column player is indifferent between columns 0 and 1). On the
    payoffs rescaled to [0, 1] (and shifted to [1, 2] inside nashpy), every label's path ends at (row 1,
    column 0); the same paths on payoffs shifted otherwise can end elsewhere on the continuum of equilibria."""
    a, b = [[-2, 2, -1], [-1, 0, 2]], [[-1, -2, 1], [1, 1, -2]]
    ends = _path_ends(a, b)
    assert _as_set(ends) == _as_set([([0.0, 1.0], [1.0, 0.0, 0.0])])
    with pytest.warns(DegenerateGameWarning):
        found = equilibria(a, b, method="lemke_howson")
    assert _as_set((e.row_strategy, e.column_strategy) for e in found) == _as_set(ends)


@pytest.mark.parametrize("shape, cap", [((2, 2), 64), ((3, 3), 144), ((4, 2), 144), ((5, 4), 324)])
def test_each_lemke_howson_path_is_cut_after_4_m_plus_n_squared_pivots(monkeypatch, shape, cap):
    """The work limit of one path: 4·(m + n)² pivots, for every label, on wide and tall games."""
    seen = []

    def spy(a, b, label, max_pivots):
        seen.append(max_pivots)
        return None
    monkeypatch.setattr(general_sum, "_lemke_howson", spy)
    rng = np.random.default_rng(sum(shape))
    a, b = rng.random(shape), rng.random(shape)
    assert general_sum._candidates(a, b, "lemke_howson", False, 1e-9) == []
    assert seen == [cap] * (shape[0] + shape[1])
