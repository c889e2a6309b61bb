"""The batch solver's other paths: the empty batch, its limits, the LP fallbacks it counts (per chunk and for
games the rescaled solve cannot resolve), payoffs at the ends of the float range, and every game of a mixed
batch judged on its own payoffs."""

from __future__ import annotations

import numpy as np
import pytest

import strategist.games.batch as batch
from strategist import solve_zero_sum, solve_zero_sum_batch
from strategist.errors import ComputationLimitError, InvalidGameError
from strategist.games.batch import MAX_KERNELS, kernel_count

from .conftest import EVERT_NAVRATILOVA, assert_optimal, tolerance

#: A game the rescaled solve cannot resolve: an outlier of -1e9 beside payoffs below 1, so on [1, 2] its
#: cells near the value differ by less than the tolerance; solved again on its own payoffs.
OUTLIER = -np.array([[1e9, 0.0, 0.0], [0.0, 0.6, 0.4], [0.0, 0.3, 0.7]])


def test_an_empty_batch_has_every_field_empty_and_no_fallback():
    result = solve_zero_sum_batch(np.zeros((0, 3, 2)))
    for name in ("value", "row_guarantee", "column_guarantee", "duality_gap"):
        assert isinstance(getattr(result, name), np.ndarray) and getattr(result, name).shape == (0,), name
    assert result.lp_fallbacks == 0


def test_booleans_are_refused_as_booleans():
    with pytest.raises(InvalidGameError, match=r"array of booleans \(shape \(1, 2, 2\)\).*astype\(float\)"):
        solve_zero_sum_batch(np.ones((1, 2, 2), dtype=bool))


def test_a_batch_of_exactly_the_cell_limit_is_solved(monkeypatch):
    monkeypatch.setattr(batch, "MAX_BATCH_CELLS", 8)
    assert len(solve_zero_sum_batch(np.ones((2, 2, 2)))) == 2             # 8 payoffs: at the limit
    with pytest.raises(ComputationLimitError, match="12 payoffs, over the limit of 8"):
        solve_zero_sum_batch(np.ones((3, 2, 2)))


def test_small_games_are_solved_by_their_kernels_without_the_lp():
    """Every 2 x 2 and 3 x 3 game has a kernel whose bordered system is non-singular (Shapley–Snow): none goes
    to the LP, and each answer is optimal against the single-game solver."""
    rng = np.random.default_rng(11)
    for shape in ((2, 2), (3, 3), (2, 4)):
        games = rng.uniform(size=(100, *shape))
        result = solve_zero_sum_batch(games)
        assert result.lp_fallbacks == 0, shape
        for b in range(0, 100, 9):
            assert_optimal(games[b], result.row_strategy[b], result.column_strategy[b],
                           solve_zero_sum(games[b]).value)


def test_lp_fallbacks_are_counted_across_chunks():
    assert kernel_count(12, 12) > MAX_KERNELS
    games = np.random.default_rng(5).normal(size=(3, 12, 12))
    assert solve_zero_sum_batch(games, chunk=1).lp_fallbacks == 3


def test_a_game_the_rescaled_solve_cannot_resolve_is_solved_on_its_own_payoffs():
    # beside it Evert v Navratilova with a dominated row and column added: value 62
    games = np.stack([OUTLIER, np.array([[50.0, 80.0, 200.0], [90.0, 20.0, 200.0], [0.0, 0.0, 0.0]])])
    result = solve_zero_sum_batch(games)
    single = solve_zero_sum(OUTLIER)
    assert result.lp_fallbacks == 1                                  # the outlier game, and only it
    assert result.value[0] == single.value
    assert result.row_guarantee[0] == pytest.approx(single.row_guarantee, rel=1e-12)
    assert result.column_guarantee[0] == pytest.approx(single.column_guarantee, rel=1e-12)
    np.testing.assert_allclose(result.row_strategy[0], single.row_strategy)
    assert result.value[1] == pytest.approx(62.0, abs=tolerance(games[1]))
    # each game is judged near its own value: alone, the outlier game goes to the LP the same way
    assert solve_zero_sum_batch(OUTLIER[None]).lp_fallbacks == 1


def test_the_duality_gap_is_in_the_payoffs_units():
    """At a scale of 1e6 the kernels' rounding leaves gaps of about 1e-10 (1e-16 of the payoffs): reported as
    such, equal to the guarantees' difference, not divided by the scale once more."""
    games = np.random.default_rng(0).uniform(size=(200, 3, 3)) * 1e6
    result = solve_zero_sum_batch(games)
    reference = np.einsum("bij,bj->bi", games, result.column_strategy).max(axis=1) \
        - np.einsum("bi,bij->bj", result.row_strategy, games).min(axis=1)
    np.testing.assert_allclose(result.duality_gap, np.maximum(reference, 0.0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.duality_gap,
                               np.maximum(result.column_guarantee - result.row_guarantee, 0.0), rtol=0, atol=1e-9)
    assert result.duality_gap.max() > 1e-12


def test_payoffs_at_the_top_of_the_float_range_are_solved_without_overflow():
    games = np.array([[[1e308, -1e308], [-1e308, 1e308]],           # matching pennies: value 0
                      np.array(EVERT_NAVRATILOVA, dtype=float) * 1e306])   # value 62e306
    with np.errstate(all="raise"):
        result = solve_zero_sum_batch(games)
    assert result.value[0] == pytest.approx(0.0, abs=1e-9 * 2e308)
    assert result.value[1] == pytest.approx(62e306, rel=1e-12)
    assert np.isfinite(result.duality_gap).all() and (result.duality_gap <= 1e-9 * 2e308).all()
    np.testing.assert_allclose(result.row_strategy, [[0.5, 0.5], [0.7, 0.3]], atol=1e-9)
    assert result.lp_fallbacks == 0


def test_each_game_is_judged_near_its_own_value_whatever_else_is_in_the_batch():
    """The outlier game beside games whose payoffs near their values are large (negative ones, one whose
    rows all hold a large payoff, many ordinary ones): it still goes back to the LP on its own payoffs."""
    others = [np.array([[50.0, 80.0, 200.0], [90.0, 20.0, 200.0], [0.0, 0.0, 0.0]]) - 300.0,
              np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [2.0, 3.0, 1.0]]),
              np.array([[0.9, 0.8, 0.7], [0.6, 0.9, 0.8], [0.7, 0.6, 0.9]])]
    games = np.stack([OUTLIER, *others, *others])
    result = solve_zero_sum_batch(games)
    single = solve_zero_sum(OUTLIER)
    assert result.value[0] == single.value and result.lp_fallbacks == 1
    assert result.value[1] == pytest.approx(-238.0, abs=tolerance(others[0]))
    # every row holds an outlier, the value (0.49999999998) does not: judged near the value, not near 1e9
    wide_rows = np.array([[1e9, 0.5, 0.3], [0.3, 0.4, 1e9]])
    alone = solve_zero_sum_batch(wide_rows[None])
    assert alone.value[0] == solve_zero_sum(wide_rows).value and alone.lp_fallbacks == 1


def test_the_tolerance_is_relative_to_each_games_own_range():
    """Matching pennies at -1000 ± 5e-7 (a range of 1e-6) beside a game of range 1: its mix is found to 1e-9 of
    its own range (uniform), not taken for a saddle point because another game's range dwarfs it."""
    pennies = -1000.0 + 0.5e-6 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    result = solve_zero_sum_batch(np.stack([pennies, np.array([[1.0, 0.0], [0.0, 1.0]])]))
    np.testing.assert_allclose(result.row_strategy[0], [0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(result.column_strategy[0], [0.5, 0.5], atol=1e-6)
    assert result.value[0] == pytest.approx(-1000.0, abs=2e-15 * 1000)


@pytest.mark.parametrize("scale", [1e-300, 1e-310, 1e-320])
def test_subnormal_payoffs_keep_the_games_solution(scale):
    """Evert v Navratilova in units of 1e-300 down to 1e-320 (subnormal): value 62 units, mixes 0.7 / 0.6,
    from the kernels (no LP) and certified in the payoffs' own units."""
    game = np.array(EVERT_NAVRATILOVA, dtype=float) * scale
    result = solve_zero_sum_batch(np.stack([game, game.T]))
    assert result.lp_fallbacks == 0
    np.testing.assert_allclose(result.value / scale, [62.0, 62.0], rtol=1e-3)
    np.testing.assert_allclose(result.row_strategy[0], [0.7, 0.3], atol=1e-9)
    np.testing.assert_allclose(result.column_strategy[0], [0.6, 0.4], atol=1e-9)
    assert (result.duality_gap <= 1e-9 * 70 * scale + 5e-324).all()


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (2, 5), (5, 3), (4, 4)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_games_full_of_ties_are_solved_by_kernels_with_proper_mixes(shape):
    """Payoffs in {0, 1, 2}: singular kernels, duplicate actions and optimal mixes with zero weights abound;
    a certifying kernel exists for each (Shapley–Snow), so none goes to the LP, and every mix is a
    probability vector (no negative weight kept, sums of 1 to rounding)."""
    games = np.random.default_rng(0).integers(0, 3, size=(500, *shape)).astype(float)
    result = solve_zero_sum_batch(games)
    assert result.lp_fallbacks == 0
    for mix in (result.row_strategy, result.column_strategy):
        assert (mix >= 0).all()
        np.testing.assert_allclose(mix.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    for b in range(0, 500, 7):
        assert_optimal(games[b], result.row_strategy[b], result.column_strategy[b], solve_zero_sum(games[b]).value)


def test_the_tolerance_asked_is_the_one_the_lp_is_held_to(monkeypatch):
    """Games the kernels cannot take (too many kernels) and games the rescaled solve cannot resolve go to the
    single-game solver with the batch's ``tol``."""
    asked = []
    real = batch.solve_zero_sum
    monkeypatch.setattr(batch, "solve_zero_sum", lambda a, **kw: asked.append(kw.get("tol")) or real(a, **kw))
    solve_zero_sum_batch(np.random.default_rng(1).normal(size=(2, 12, 12)), tol=1e-7)
    solve_zero_sum_batch(OUTLIER[None], tol=1e-7)
    assert asked == [1e-7, 1e-7, 1e-7]
