"""General-sum equilibria: hand-solved bimatrix games, all methods, labels, the work limit, degeneracy."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import strategist
from strategist import MatrixGame, equilibria
from strategist.errors import ComputationLimitError, InvalidGameError, StrategistError
from strategist.games import DegenerateGameWarning

from .conftest import EVERT_NAVRATILOVA, brute_force_is_nash

METHODS = ["support_enumeration", "vertex_enumeration", "lemke_howson"]

# Prisoner's dilemma, actions (cooperate, defect). Defect strictly dominates cooperate for both players
# (5 > 3 and 1 > 0), so the only equilibrium is (defect, defect) with payoffs (1, 1).
PD_ROW = [[3, 0], [5, 1]]
PD_COL = [[3, 5], [0, 1]]

# Battle of the sexes, actions (opera, football); the row player prefers opera, the column player football.
# Pure equilibria: (opera, opera) paying (2, 1) and (football, football) paying (1, 2).
# Mixed: the row mix x on opera makes the column player indifferent: 1·x = 2·(1 − x)  =>  x = 2/3;
#        the column mix y on opera makes the row player indifferent: 2·y = 1·(1 − y)  =>  y = 1/3;
#        both then earn 2·(1/3) = 2/3 and 2·(1 − 2/3) = 2/3.
BOS_ROW = [[2, 0], [0, 1]]
BOS_COL = [[1, 0], [0, 2]]
BOS_EQUILIBRIA = [([1, 0], [1, 0], 2.0, 1.0), ([0, 1], [0, 1], 1.0, 2.0),
                  ([2 / 3, 1 / 3], [1 / 3, 2 / 3], 2 / 3, 2 / 3)]


def as_tuples(found):
    return sorted((tuple(np.round(e.row_strategy, 9)), tuple(np.round(e.column_strategy, 9))) for e in found)


@pytest.mark.parametrize("method", METHODS)
def test_prisoners_dilemma(method):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGameWarning)
        found = equilibria(PD_ROW, PD_COL, method=method)
    assert len(found) == 1
    (eq,) = found
    np.testing.assert_allclose(eq.row_strategy, [0, 1], atol=1e-12)
    np.testing.assert_allclose(eq.column_strategy, [0, 1], atol=1e-12)
    assert eq.row_payoff == pytest.approx(1.0) and eq.column_payoff == pytest.approx(1.0)


@pytest.mark.parametrize("method", ["support_enumeration", "vertex_enumeration"])
def test_battle_of_the_sexes_all_three_equilibria(method):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGameWarning)
        found = equilibria(BOS_ROW, BOS_COL, method=method)
    assert len(found) == 3
    for x, y, row_payoff, column_payoff in BOS_EQUILIBRIA:
        match = [e for e in found if np.allclose(e.row_strategy, x, atol=1e-9) and
                 np.allclose(e.column_strategy, y, atol=1e-9)]
        assert len(match) == 1, (x, y, as_tuples(found))
        assert match[0].row_payoff == pytest.approx(row_payoff, abs=1e-12)
        assert match[0].column_payoff == pytest.approx(column_payoff, abs=1e-12)


def test_battle_of_the_sexes_lemke_howson_finds_a_subset():
    # Lemke–Howson follows one path per dropped label; here every path ends at a pure equilibrium.
    found = equilibria(BOS_ROW, BOS_COL, method="lemke_howson")
    assert 1 <= len(found) <= 3
    hand = {(tuple(x), tuple(y)) for x, y, _, _ in BOS_EQUILIBRIA}
    for e in found:
        assert any(np.allclose(e.row_strategy, x, atol=1e-9) and np.allclose(e.column_strategy, y, atol=1e-9)
                   for x, y in hand)


def test_method_aliases():
    assert as_tuples(equilibria(BOS_ROW, BOS_COL, method="support")) == \
        as_tuples(equilibria(BOS_ROW, BOS_COL, method="vertex"))
    assert as_tuples(equilibria(PD_ROW, PD_COL, method="lh")) == as_tuples(equilibria(PD_ROW, PD_COL))


def test_labels_follow_the_game():
    game = MatrixGame(BOS_ROW, ["opera", "football"], ["opera", "football"])
    found = equilibria(game, BOS_COL)
    mixed = [e for e in found if 0 < e.row_strategy[0] < 1]
    assert len(mixed) == 1
    assert mixed[0].row_mix == pytest.approx({"opera": 2 / 3, "football": 1 / 3}, abs=1e-9)
    assert mixed[0].column_mix == pytest.approx({"opera": 1 / 3, "football": 2 / 3}, abs=1e-9)
    assert all(e.game is game for e in found)


def test_zero_sum_default_matches_the_minimax_solution():
    # Column payoffs default to −A: Evert–Navratilova's unique equilibrium is the minimax pair.
    for method in METHODS:
        (eq,) = equilibria(EVERT_NAVRATILOVA, method=method)
        np.testing.assert_allclose(eq.row_strategy, [0.7, 0.3], atol=1e-9)
        np.testing.assert_allclose(eq.column_strategy, [0.6, 0.4], atol=1e-9)
        assert eq.row_payoff == pytest.approx(62.0, abs=1e-9)
        assert eq.column_payoff == pytest.approx(-62.0, abs=1e-9)


def test_constant_sum_game_has_the_zero_sum_equilibrium():
    a = np.array(EVERT_NAVRATILOVA) / 100
    (eq,) = equilibria(a, 1 - a)
    np.testing.assert_allclose(eq.row_strategy, [0.7, 0.3], atol=1e-9)
    assert eq.row_payoff + eq.column_payoff == pytest.approx(1.0)


@pytest.mark.parametrize("seed, shape", [(0, (3, 3)), (1, (2, 4)), (2, (4, 3)), (3, (4, 4))])
def test_support_and_vertex_enumeration_agree_on_generic_games(seed, shape):
    # A random game is non-degenerate with probability 1: both enumerations list the same (all) equilibria,
    # by two different algorithms (tolerant support enumeration here, nashpy's vertex enumeration).
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(size=shape), rng.uniform(size=shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGameWarning)
        support = equilibria(a, b, method="support_enumeration")
        vertex = equilibria(a, b, method="vertex_enumeration")
        lemke = equilibria(a, b, method="lemke_howson")
    assert len(support) % 2 == 1  # a non-degenerate game has an odd number of equilibria
    assert as_tuples(support) == as_tuples(vertex)
    assert set(as_tuples(lemke)) <= set(as_tuples(support))
    for e in support + vertex + lemke:
        assert brute_force_is_nash(a, b, e.row_strategy, e.column_strategy)
        assert e.row_payoff == pytest.approx(float(e.row_strategy @ a @ e.column_strategy), abs=1e-12)
        assert e.column_payoff == pytest.approx(float(e.row_strategy @ b @ e.column_strategy), abs=1e-12)


@st.composite
def bimatrix_games(draw, min_side):
    shape = (draw(st.integers(min_side, 3)), draw(st.integers(min_side, 3)))
    entries = st.integers(-3, 3).map(float)
    return draw(arrays(np.float64, shape, elements=entries)), draw(arrays(np.float64, shape, elements=entries))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(METHODS).flatmap(lambda method: st.tuples(
    st.just(method), bimatrix_games(1 if method == "support_enumeration" else 2))))
def test_every_returned_equilibrium_passes_an_independent_check(case):
    # Small integer games: many ties, so many degenerate games. (Games with one row or one column are
    # left to the tests below for nashpy's methods, which fail on them.)
    method, (a, b) = case
    if method == "vertex_enumeration":
        assume(np.ptp(a) > 0 and np.ptp(b) > 0)  # constant payoffs: a known failure, tested below
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)
        try:
            found = equilibria(a, b, method=method)
        except StrategistError:
            if method == "support_enumeration":
                raise  # tolerant support enumeration must find an equilibrium of every game
            return  # nashpy's methods may find nothing on degenerate games; a clear refusal is acceptable
    assert found
    for e in found:
        assert brute_force_is_nash(a, b, e.row_strategy, e.column_strategy), (a, b, e)
        assert np.isclose(e.row_strategy.sum(), 1) and np.isclose(e.column_strategy.sum(), 1)
        assert (e.row_strategy >= 0).all() and (e.column_strategy >= 0).all()


# One action for one player: the other simply best-responds.
SINGLE_ACTION = [
    ([[4.0]], [[-1.0]], [1.0], [1.0]),
    ([[1.0, 2.0, 3.0]], [[0.0, 5.0, 1.0]], [1.0], [0.0, 1.0, 0.0]),     # the column player takes column 2
    ([[1.0], [4.0], [2.0]], [[0.0], [0.0], [0.0]], [0.0, 1.0, 0.0], [1.0]),  # the row player takes row 2
]


@pytest.mark.parametrize("a, b, x, y", SINGLE_ACTION, ids=["1x1", "1x3", "3x1"])
def test_support_enumeration_with_a_single_action(a, b, x, y):
    (eq,) = equilibria(a, b, method="support_enumeration")
    np.testing.assert_allclose(eq.row_strategy, x, atol=1e-12)
    np.testing.assert_allclose(eq.column_strategy, y, atol=1e-12)


# A player with constant payoffs is indifferent, so any of their mixes is a best response: equilibria exist
# (every pair when both are constant) and each returned one is checked independently.
CONSTANT_PAYOFFS = [
    ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]),
    ([[-2.0, 2.0, 0.0], [0.0, 1.0, -1.0], [2.0, -2.0, -1.0]], np.full((3, 3), -1.0)),
    (np.full((2, 3), -1.0), [[0.0, 2.0, -1.0], [2.0, -2.0, -1.0]]),
]


@pytest.mark.parametrize("a, b, x, y", SINGLE_ACTION, ids=["1x1", "1x3", "3x1"])
def test_vertex_enumeration_with_a_single_action_answers_or_refuses_cleanly(a, b, x, y):
    try:
        found = equilibria(a, b, method="vertex_enumeration")
    except StrategistError:
        return
    assert any(np.allclose(e.row_strategy, x) and np.allclose(e.column_strategy, y) for e in found)


@pytest.mark.parametrize("a, b", CONSTANT_PAYOFFS, ids=["both-zero", "column-constant", "row-constant"])
def test_vertex_enumeration_with_constant_payoffs_answers_or_refuses_cleanly(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)
        try:
            found = equilibria(a, b, method="vertex_enumeration")
        except StrategistError:
            return
    assert found
    for e in found:
        assert brute_force_is_nash(a, b, e.row_strategy, e.column_strategy)


# ---------------------------------------------------------------------------------------------- limits, warnings
@pytest.mark.parametrize("method", ["support_enumeration", "vertex_enumeration"])
def test_work_limit_refuses_a_random_10x10_quickly(method):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(size=(10, 10)), rng.uniform(size=(10, 10))
    start = time.perf_counter()
    with pytest.raises(ComputationLimitError) as info:
        equilibria(a, b, method=method)
    assert time.perf_counter() - start < 1.0  # a refusal, not a run (nashpy takes over a minute)
    message = str(info.value)
    assert "10x10" in message and "limit" in message and method in message


def test_work_limit_is_configurable():
    with pytest.raises(ComputationLimitError, match="limit of 3"):
        equilibria(BOS_ROW, BOS_COL, max_work=3)
    assert len(equilibria(BOS_ROW, BOS_COL, max_work=5)) == 3


LEMKE_HOWSON = """
import sys, numpy as np, strategist
case = sys.argv[1]
if case == "10x10":
    rng = np.random.default_rng(1)
    a, b = rng.uniform(size=(10, 10)), rng.uniform(size=(10, 10))
else:
    a, b = {"1x1": ([[0.0]], [[2.0]]), "3x1": ([[-1.0], [0.0], [2.0]], [[2.0], [3.0], [1.0]])}[case]
try:
    found = strategist.equilibria(a, b, method="lemke_howson")
    print("found", len(found))
except strategist.StrategistError as exc:
    print("refused", type(exc).__name__)
"""


def test_lemke_howson_always_answers_or_refuses():
    cases = ["1x1", "3x1", "10x10"]
    procs = {case: subprocess.Popen([sys.executable, "-c", LEMKE_HOWSON, case], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for case in cases}
    deadline = time.monotonic() + 8.0  # each case needs milliseconds once imported
    hung = []
    for case, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            hung.append(case)
            continue
        assert proc.returncode == 0, err
        assert out.startswith("found") or out.startswith("refused ComputationLimitError"), out
    assert not hung, f"equilibria(method='lemke_howson') did not return within 8 s on: {hung}"


def test_degenerate_game_warns():
    # Against row 1 both columns pay the column player 1: several best responses, a degenerate game.
    with pytest.warns(DegenerateGameWarning, match="degenerate"):
        found = equilibria([[1, 1], [0, 0]], [[1, 1], [0, 0]])
    for e in found:
        assert brute_force_is_nash([[1, 1], [0, 0]], [[1, 1], [0, 0]], e.row_strategy, e.column_strategy)
    # rock–paper–scissors is not degenerate (the zero-sum default): no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGameWarning)
        (eq,) = equilibria([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    np.testing.assert_allclose(eq.row_strategy, np.full(3, 1 / 3), atol=1e-9)


def test_bad_arguments():
    with pytest.raises(InvalidGameError, match="unknown method 'simplex'"):
        equilibria(BOS_ROW, BOS_COL, method="simplex")
    with pytest.raises(InvalidGameError, match="shape"):
        equilibria(BOS_ROW, [[1, 0, 0], [0, 2, 0]])
    with pytest.raises(InvalidGameError, match="column payoffs"):
        equilibria(BOS_ROW, [[1, float("nan")], [0, 2]])
    with pytest.raises(InvalidGameError, match="finite"):
        equilibria([[1, float("inf")], [0, 2]], BOS_COL)


def test_top_level_name():
    assert strategist.equilibria is equilibria


# ---------------------------------------------------------------------------------------------- units
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("player", ["row", "column"])
@pytest.mark.parametrize("k", range(-12, 13))
def test_equilibria_do_not_depend_on_either_players_units(method, player, k):
    # Equilibria are unchanged when one player's payoffs are multiplied by any positive number.
    a, b = np.array(BOS_ROW, float), np.array(BOS_COL, float)
    if player == "row":
        a = a * 10.0 ** k
    else:
        b = b * 10.0 ** k
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = equilibria(a, b, method=method)
        reference = equilibria(BOS_ROW, BOS_COL, method=method)
    assert as_tuples(found) == as_tuples(reference)
    if method != "lemke_howson":
        assert len(found) == 3
    for e in found:
        assert e.method == method
        assert brute_force_is_nash(a, b, e.row_strategy, e.column_strategy)
        assert e.row_payoff == pytest.approx(float(e.row_strategy @ a @ e.column_strategy), rel=1e-12)


def test_payoffs_near_the_float_limit():
    a = np.array(BOS_ROW, float) * 1e307
    b = -np.array(BOS_COL, float) * 1e307 + 1.7e308  # a different affine map per player
    for method in METHODS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            found = equilibria(a, -(b - 1.7e308), method=method)
        assert as_tuples(found) == as_tuples(equilibria(BOS_ROW, BOS_COL, method=method))
        assert all(np.isfinite([e.row_payoff, e.column_payoff]).all() for e in found)


# ---------------------------------------------------------------------------------------------- Lemke–Howson
def test_lemke_howson_reaches_only_the_pure_equilibria_of_the_battle_of_the_sexes():
    # Every Lemke–Howson path starts at the artificial equilibrium (0, 0). In a non-degenerate 2x2 game
    # with three equilibria the paths from (0, 0) end at the two pure ones (dropping a label of either
    # player leads to the pure equilibrium that uses it); the mixed one is linked to the other pure
    # equilibrium, never to (0, 0). So LH returns exactly the two pure equilibria — support enumeration
    # would return three.
    found = equilibria(BOS_ROW, BOS_COL, method="lemke_howson")
    assert as_tuples(found) == [((0.0, 1.0), (0.0, 1.0)), ((1.0, 0.0), (1.0, 0.0))]
    assert {e.method for e in found} == {"lemke_howson"}


def test_lemke_howson_path_from_each_label():
    # BoS from a single label, by hand: dropping row label 0 (opera) makes the row player play opera; the
    # column player's best reply is opera, and (opera, opera) is an equilibrium. Dropping column label 3
    # (football) likewise ends at (football, football).
    from strategist.games.general_sum import _lemke_howson

    a, b = np.array(BOS_ROW, float), np.array(BOS_COL, float)
    ends = {label: _lemke_howson(a, b, label, max_pivots=50) for label in range(4)}
    x0, y0 = ends[0]
    np.testing.assert_allclose(x0, [1, 0], atol=1e-12)
    np.testing.assert_allclose(y0, [1, 0], atol=1e-12)
    x3, y3 = ends[3]
    np.testing.assert_allclose(x3, [0, 1], atol=1e-12)
    np.testing.assert_allclose(y3, [0, 1], atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 4), (6, 3), (6, 4), (3, 6)])
def test_lemke_howson_on_games_with_more_rows_than_columns(shape):
    # nashpy's tableaux end at non-equilibria on nearly every game with more rows than columns; every
    # answer must be a verified equilibrium found by Lemke–Howson itself (no silent substitution).
    rng = np.random.default_rng(sum(shape))
    for _ in range(50):
        a, b = rng.uniform(size=shape), rng.uniform(size=shape)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # neither a fallback nor a degeneracy warning
            found = equilibria(a, b, method="lemke_howson")
        assert found
        for e in found:
            assert e.method == "lemke_howson"
            assert brute_force_is_nash(a, b, e.row_strategy, e.column_strategy)


def test_lemke_howson_on_a_15x6_game():
    # support enumeration is over the work limit here; Lemke–Howson is not
    rng = np.random.default_rng(7)
    a, b = rng.uniform(size=(15, 6)), rng.uniform(size=(15, 6))
    with pytest.raises(ComputationLimitError):
        equilibria(a, b, method="support_enumeration")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = equilibria(a, b, method="lemke_howson")
    assert found and {e.method for e in found} == {"lemke_howson"}
    for e in found:
        assert brute_force_is_nash(a, b, e.row_strategy, e.column_strategy)


def test_lemke_howson_on_a_tall_game_with_a_dominated_row():
    # BoS with a third row that both rows dominate: the equilibria are BoS's, with zero weight on row 3
    a = [[2, 0], [0, 1], [-1, -1]]
    b = [[1, 0], [0, 2], [3, 2.5]]
    found = equilibria(a, b, method="lemke_howson")
    assert as_tuples(found) == [((0.0, 1.0, 0.0), (0.0, 1.0)), ((1.0, 0.0, 0.0), (1.0, 0.0))]
    assert {e.method for e in found} == {"lemke_howson"}


def test_a_fallback_is_labelled_and_warns(monkeypatch):
    from strategist.games import FallbackWarning, general_sum

    monkeypatch.setattr(general_sum, "_lemke_howson", lambda *args, **kwargs: None)
    with pytest.warns(FallbackWarning, match="support_enumeration"):
        found = equilibria(BOS_ROW, BOS_COL, method="lemke_howson")
    assert len(found) == 3
    assert {e.method for e in found} == {"support_enumeration"}


def test_non_equilibria_from_a_method_are_dropped(monkeypatch):
    from strategist.games import general_sum

    # a method that also proposes (opera, football), which is no equilibrium
    bogus = [(np.array([1.0, 0.0]), np.array([0.0, 1.0])), (np.array([1.0, 0.0]), np.array([1.0, 0.0]))]
    monkeypatch.setattr(general_sum, "_candidates", lambda *args: bogus)
    found = equilibria(BOS_ROW, BOS_COL, method="vertex_enumeration")
    assert as_tuples(found) == [((1.0, 0.0), (1.0, 0.0))]
    assert found[0].method == "vertex_enumeration"
