"""General-sum methods on games that tell them apart: degenerate games, lexicographic pivots, tall games,
the fallback to support enumeration and the work it may take."""

from __future__ import annotations

import warnings

import nashpy
import numpy as np
import pytest

from strategist import MatrixGame, equilibria
from strategist.errors import ComputationLimitError
from strategist.games import DegenerateGameWarning, FallbackWarning, general_sum

from .conftest import brute_force_is_nash

BOS_ROW = [[2, 0], [0, 1]]
BOS_COL = [[1, 0], [0, 2]]


def pairs(found):
    """The equilibria as a set of rounded (row mix, column mix) pairs."""
    return {(tuple(np.round(e.row_strategy, 9) + 0.0), tuple(np.round(e.column_strategy, 9) + 0.0)) for e in found}


def quiet(*args, **kwargs):
    """equilibria() with the degeneracy warning silenced (the games here are degenerate on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)
        return equilibria(*args, **kwargs)


# ---------------------------------------------------------------------------------------------- support sizes
# Degenerate only through a mixed strategy: no pure strategy has two pure best replies, but against
# x = (1/2, 1/2) all three columns pay the column player -1/2. Hand-solved: the row player is indifferent when
# -2·y0 - (1 - y0) = 2·y0 - 2·(1 - y0), i.e. y0 = 1/5, so the equilibria with x = (1/2, 1/2) form the segment
# y = (1/5, t, 4/5 - t), t in [0, 4/5]; its two ends and the pure (row 1, column 2) are the extreme equilibria.
MIXED_DEGENERATE = ([[-2, -1, -1], [2, -2, -2]], [[0, 1, -2], [-1, -2, 1]])
MIXED_DEGENERATE_EXTREMES = {((0.5, 0.5), (0.2, 0.8, 0.0)), ((0.5, 0.5), (0.2, 0.0, 0.8)),
                             ((1.0, 0.0), (0.0, 1.0, 0.0))}

# Degenerate (rows 1 and 2 tie against column 1): x = (1/2, 1/2, 0) against column 1 is an extreme equilibrium
# with supports of sizes 2 and 1. Against column 1 rows 1 and 2 pay 2 (row 3 pays 0); the column player's
# columns pay 0 and 2·x1 - 2·x0, so column 1 is a best reply while x1 <= x0: the segment from (1, 0, 0) to
# (1/2, 1/2, 0), both ends extreme.
UNEQUAL_SUPPORTS = ([[2, -2], [2, -2], [0, -1]], [[0, -2], [0, 2], [-2, -2]])
UNEQUAL_EXTREME = ((0.5, 0.5, 0.0), (1.0, 0.0))


def test_a_game_degenerate_only_in_mixed_strategies_gets_its_extreme_equilibria():
    """Support enumeration lists the three extreme equilibria (hand-solved), as nashpy's vertex enumeration does."""
    support = quiet(*MIXED_DEGENERATE)
    assert pairs(support) == MIXED_DEGENERATE_EXTREMES
    assert pairs(quiet(*MIXED_DEGENERATE, method="vertex_enumeration")) == MIXED_DEGENERATE_EXTREMES


def test_the_fallback_on_a_game_degenerate_only_in_mixed_strategies_gets_its_extreme_equilibria(monkeypatch):
    """Support enumeration as Lemke–Howson's fallback answers as it does when asked for itself."""
    monkeypatch.setattr(general_sum, "_lemke_howson", lambda *args, **kwargs: None)
    with pytest.warns(FallbackWarning):
        found = quiet(*MIXED_DEGENERATE, method="lemke_howson")
    assert pairs(found) == MIXED_DEGENERATE_EXTREMES


def test_support_enumeration_finds_an_extreme_equilibrium_whose_supports_differ_in_size():
    """On a degenerate game every extreme equilibrium (nashpy's vertex enumeration) is found, unequal supports too."""
    with pytest.warns(DegenerateGameWarning):
        support = equilibria(*UNEQUAL_SUPPORTS)
    assert UNEQUAL_EXTREME in pairs(support)
    vertex = quiet(*UNEQUAL_SUPPORTS, method="vertex_enumeration")
    assert UNEQUAL_EXTREME in pairs(vertex)
    assert pairs(vertex) <= pairs(support)
    for e in support:
        assert brute_force_is_nash(*UNEQUAL_SUPPORTS, e.row_strategy, e.column_strategy)


def test_the_fallback_on_a_degenerate_game_finds_the_equilibrium_with_unequal_supports(monkeypatch):
    """The fallback enumerates supports of different sizes on a degenerate game, as support enumeration does."""
    monkeypatch.setattr(general_sum, "_lemke_howson", lambda *args, **kwargs: None)
    with pytest.warns(FallbackWarning):
        found = quiet(*UNEQUAL_SUPPORTS, method="lemke_howson")
    assert UNEQUAL_EXTREME in pairs(found)
    assert pairs(found) == pairs(quiet(*UNEQUAL_SUPPORTS))


# A coordination game with one lopsided payoff: its mixed equilibrium puts weight 1/10001 on one action, far
# below tol = 1e-3. Row indifference: y0·1 = y1·10^4 gives y = (10^4, 1)/10001; column indifference x = (1, 1)/2
# (and the same with the players' roles swapped).
LOPSIDED_ROW = [[1.0, 0.0], [0.0, 1e4]]
LOPSIDED_COL = [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize("player", ["row", "column"])
def test_a_weight_below_tol_is_an_equilibrium_weight_not_rounding(player):
    """tol bounds how far below zero a weight may round, so a weight of 1e-4 with tol = 1e-3 is kept."""
    a, b = (LOPSIDED_ROW, LOPSIDED_COL) if player == "row" else (LOPSIDED_COL, np.transpose(LOPSIDED_ROW))
    found = equilibria(a, b, tol=1e-3)
    mixed = [e for e in found if 0 < e.row_strategy[0] < 1]
    assert len(found) == 3 and len(mixed) == 1
    small = np.array([1e4, 1.0]) / 10001
    x, y = ([0.5, 0.5], small) if player == "row" else (small, [0.5, 0.5])
    np.testing.assert_allclose(mixed[0].row_strategy, x, rtol=1e-9)
    np.testing.assert_allclose(mixed[0].column_strategy, y, rtol=1e-9)


# ---------------------------------------------------------------------------------------------- Lemke–Howson
# Degenerate 2x2 games on which a Lemke–Howson path needs the lexicographic ratio test (nashpy's default) to
# reach an equilibrium: with a plain ratio test in the row (first game) or column (second) tableau it ends
# nowhere and Lemke–Howson finds nothing.
LEXICOGRAPHIC = [([[1, 1], [2, 1]], [[-1, -1], [1, 1]]), ([[-2, -2], [1, 1]], [[2, 2], [2, -2]])]


@pytest.mark.parametrize("a, b", LEXICOGRAPHIC, ids=["row-tableau", "column-tableau"])
def test_lemke_howson_pivots_lexicographically_on_degenerate_games(a, b):
    """Every label's path ends where nashpy's own (lexicographic) Lemke–Howson ends, with no fallback."""
    game = nashpy.Game(np.array(a, float) - np.min(a) + 1, np.array(b, float) - np.min(b) + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # nashpy's ratio test divides by zero on ties
        reference = {(tuple(x), tuple(y)) for x, y in (game.lemke_howson(label) for label in range(4))}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        found = quiet(a, b, method="lemke_howson")
    assert pairs(found) == reference
    assert {e.method for e in found} == {"lemke_howson"}


# Tall games (more rows than columns) whose mixed equilibrium only one Lemke–Howson label reaches: label 1
# (a row's) in the first, label 7 (a column's) in the second; the other labels end at the two pure equilibria.
TALL = [([[4, 0, 1], [2, 7, 8], [9, 9, 7], [4, 1, 2], [8, 3, 9]],
         [[8, 1, 1], [0, 7, 4], [3, 1, 2], [7, 8, 2], [2, 4, 9]]),
        ([[3, 2, 5], [2, 1, 7], [6, 9, 5], [6, 8, 6], [7, 5, 5]],
         [[2, 6, 5], [9, 1, 6], [4, 7, 4], [0, 7, 5], [6, 5, 0]])]


@pytest.mark.parametrize("a, b", TALL, ids=["row-label", "column-label"])
def test_lemke_howson_on_a_tall_game_follows_every_label(a, b):
    """A tall game's Lemke–Howson equilibria are nashpy's own paths, from every label, on the players swapped."""
    a, b = np.array(a, float), np.array(b, float)
    swapped = nashpy.Game(b.T - b.min() + 1, a.T - a.min() + 1)   # 3 x 5: nashpy's tableaux work as they are
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = {(tuple(np.round(y, 9) + 0.0), tuple(np.round(x, 9) + 0.0))
                     for x, y in (swapped.lemke_howson(label) for label in range(8))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = equilibria(a, b, method="lemke_howson")
    assert pairs(found) == reference
    assert len(found) == 3 and sum(0 < e.row_strategy.max() < 1 for e in found) == 1
    for e in found:
        assert e.method == "lemke_howson"
        assert brute_force_is_nash(a, b, e.row_strategy, e.column_strategy)


# ---------------------------------------------------------------------------------------------- fallbacks
def test_vertex_enumeration_that_fails_falls_back_to_support_enumeration(monkeypatch):
    """A Qhull failure in vertex enumeration is answered by support enumeration, labelled, with the caller's game."""
    def fail(self):
        raise RuntimeError("QH6154 Qhull precision error: initial simplex is flat")
        yield  # pragma: no cover

    monkeypatch.setattr(nashpy.Game, "vertex_enumeration", fail)
    game = MatrixGame(BOS_ROW, ["opera", "football"], ["opera", "football"])
    with pytest.warns(FallbackWarning, match="vertex_enumeration found no verified equilibrium"):
        found = equilibria(game, BOS_COL, method="vertex_enumeration")
    assert len(found) == 3
    assert {e.method for e in found} == {"support_enumeration"}
    assert all(e.game is game for e in found)
    mixed = [e for e in found if 0 < e.row_strategy[0] < 1]
    assert mixed[0].row_mix == pytest.approx({"opera": 2 / 3, "football": 1 / 3}, abs=1e-9)


def test_the_fallback_counts_support_enumeration_work_of_a_non_degenerate_game(monkeypatch):
    """BoS: Lemke–Howson needs 8 work units, support enumeration 5 (equal supports): max_work=8 allows both."""
    monkeypatch.setattr(general_sum, "_lemke_howson", lambda *args, **kwargs: None)
    with pytest.warns(FallbackWarning):
        found = equilibria(BOS_ROW, BOS_COL, method="lemke_howson", max_work=8)
    assert len(found) == 3


def test_the_fallback_may_take_exactly_max_work(monkeypatch):
    """A random 3x3 game: Lemke–Howson needs 18 units, support enumeration 9 + 9 + 1 = 19; max_work=19 is enough."""
    monkeypatch.setattr(general_sum, "_lemke_howson", lambda *args, **kwargs: None)
    rng = np.random.default_rng(0)
    a, b = rng.uniform(size=(3, 3)), rng.uniform(size=(3, 3))
    assert general_sum.estimated_work(3, 3, "support_enumeration") == 19
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGameWarning)
        with pytest.warns(FallbackWarning):
            found = equilibria(a, b, method="lemke_howson", max_work=19)
    assert pairs(found) == pairs(equilibria(a, b))
    with pytest.raises(ComputationLimitError):
        equilibria(a, b, method="lemke_howson", max_work=18)


# Degenerate: against row 1 both columns pay the column player 1.
DEGENERATE = ([[1, 1], [0, 0]], [[1, 1], [0, 0]])


def test_the_fallback_counts_every_support_pair_of_a_degenerate_game(monkeypatch):
    """A degenerate 2x2 needs 3 x 3 = 9 support pairs, over max_work=8: no fallback, a refusal."""
    monkeypatch.setattr(general_sum, "_lemke_howson", lambda *args, **kwargs: None)
    with pytest.raises(ComputationLimitError, match="found no verified equilibrium"):
        quiet(*DEGENERATE, method="lemke_howson", max_work=8)
    with pytest.warns(FallbackWarning):
        assert quiet(*DEGENERATE, method="lemke_howson", max_work=9)


def test_support_enumeration_on_a_degenerate_game_is_refused_by_every_support_pair():
    """On a degenerate 2x2 support enumeration tries all 9 support pairs: max_work=8 refuses, 9 answers."""
    with pytest.raises(ComputationLimitError, match="needs about 9 work units, over the limit of 8"):
        quiet(*DEGENERATE, max_work=8)
    found = quiet(*DEGENERATE, max_work=9)
    assert found and all(brute_force_is_nash(*DEGENERATE, e.row_strategy, e.column_strategy) for e in found)


# Degenerate games that vertex enumeration solves itself. First: row 1 strictly dominates row 2 and the column
# player is indifferent against it, so the equilibria are row 1 against any column mix; the extremes are the
# two pure columns. Second: (row 1, column 1), and row 2 against y = (p, 1 - p) for p <= 1/2 (row 2 pays
# 2 - 2p >= 1; the column player is indifferent against row 2): extremes p = 0 and p = 1/2.
VERTEX_DEGENERATE = [
    (([[2, 1], [1, -1]], [[-1, -1], [1, 0]]), {((1.0, 0.0), (1.0, 0.0)), ((1.0, 0.0), (0.0, 1.0))}),
    (([[1, 1], [0, 2]], [[2, -1], [-2, -2]]),
     {((1.0, 0.0), (1.0, 0.0)), ((0.0, 1.0), (0.0, 1.0)), ((0.0, 1.0), (0.5, 0.5))}),
]


@pytest.mark.parametrize("game, extremes", VERTEX_DEGENERATE, ids=["dominated-row", "segment"])
def test_vertex_enumeration_lists_the_extreme_equilibria_of_degenerate_games_itself(game, extremes):
    """nashpy's polytopes get positive payoffs: vertex enumeration finds the hand-solved extremes, no fallback."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        found = quiet(*game, method="vertex_enumeration")
    assert pairs(found) == extremes
    assert {e.method for e in found} == {"vertex_enumeration"}
