"""What equilibria() does with the answers a method proposes (shape, sign, sum, duplicates, the Nash check at
any payoff size), the payoffs it reports, and its own arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from strategist import equilibria
from strategist.errors import InvalidGameError
from strategist.games import DegenerateGameWarning, general_sum

from .conftest import brute_force_is_nash

# Battle of the sexes: equilibria (opera, opera), (football, football) and ((2/3, 1/3), (1/3, 2/3)).
BOS_ROW = [[2, 0], [0, 1]]
BOS_COL = [[1, 0], [0, 2]]
OPERA = (np.array([1.0, 0.0]), np.array([1.0, 0.0]))
FOOTBALL = (np.array([0.0, 1.0]), np.array([0.0, 1.0]))


def proposing(monkeypatch, candidates):
    """Make every method propose ``candidates`` (pairs of row and column weights) and nothing else."""
    monkeypatch.setattr(general_sum, "_candidates", lambda *args: list(candidates))


def pairs(found):
    return [(e.row_strategy.tolist(), e.column_strategy.tolist()) for e in found]


def test_malformed_answers_are_dropped_quietly_and_the_rest_kept(monkeypatch):
    """Wrong lengths, NaN, infinity and all-zero weights are skipped without a warning; later answers still count."""
    bad = [(np.array([1.0, 0.0, 0.0]), np.array([1.0, 0.0])),      # three row weights in a 2x2 game
           (np.array([1.0, 0.0]), np.array([1.0])),                # one column weight
           (np.array([1.0, 0.0]), np.array([np.inf, 0.0])),
           (np.array([np.nan, 1.0]), np.array([1.0, 0.0])),
           (np.zeros(2), np.array([1.0, 0.0])),
           (np.array([1.0, 0.0]), np.zeros(2))]
    proposing(monkeypatch, bad + [OPERA])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = equilibria(BOS_ROW, BOS_COL, method="vertex_enumeration")
    assert pairs(found) == [([1.0, 0.0], [1.0, 0.0])]


@pytest.mark.parametrize("bad", [(np.array([1.2, -0.2]), np.array([1.0, 0.0])),
                                 (np.array([1.0, 0.0]), np.array([1.2, -0.2]))], ids=["row", "column"])
def test_answers_with_negative_weights_are_dropped_not_repaired(monkeypatch, bad):
    """A weight of -0.2 is a wrong answer even though clipping it to 0 would give (opera, opera)."""
    proposing(monkeypatch, [bad, FOOTBALL])
    found = equilibria(BOS_ROW, BOS_COL, method="vertex_enumeration")
    assert pairs(found) == [([0.0, 1.0], [0.0, 1.0])]


@pytest.mark.parametrize("player", ["row", "column"])
def test_a_weight_rounded_down_to_minus_tol_is_clipped_to_zero(monkeypatch, player):
    """Weights as low as -tol are rounding: clipped to 0 and the answer kept (-0.2 above is not)."""
    tol = 2.0 ** -30
    rounded = np.array([1.0 + tol, -tol])
    proposing(monkeypatch, [(rounded, OPERA[1]) if player == "row" else (OPERA[0], rounded)])
    found = equilibria(BOS_ROW, BOS_COL, method="vertex_enumeration", tol=tol)
    assert pairs(found) == [([1.0, 0.0], [1.0, 0.0])]


def test_weights_are_divided_by_their_sum(monkeypatch):
    """Answers in other units (weights summing to 2 and 3) come back as probabilities with their payoffs."""
    proposing(monkeypatch, [(np.array([2.0, 0.0]), np.array([3.0, 0.0])),
                            (np.array([4.0, 2.0]), np.array([1.0, 2.0]))])
    found = equilibria(BOS_ROW, BOS_COL, method="vertex_enumeration")
    assert len(found) == 2
    np.testing.assert_allclose(found[0].column_strategy, [1.0, 0.0])
    np.testing.assert_allclose(found[1].row_strategy, [2 / 3, 1 / 3], rtol=1e-15)
    np.testing.assert_allclose(found[1].column_strategy, [1 / 3, 2 / 3], rtol=1e-15)
    assert (found[0].row_payoff, found[0].column_payoff) == (2.0, 1.0)
    assert found[1].row_payoff == pytest.approx(2 / 3, rel=1e-15)


def test_an_answer_proposed_twice_is_listed_once(monkeypatch):
    """Duplicates (to 1e-12) are dropped and the answers after them still listed."""
    nearly = (OPERA[0] + [-1e-12, 1e-12], OPERA[1])
    proposing(monkeypatch, [OPERA, nearly, FOOTBALL])
    found = equilibria(BOS_ROW, BOS_COL, method="vertex_enumeration")
    assert pairs(found) == [([1.0, 0.0], [1.0, 0.0]), ([0.0, 1.0], [0.0, 1.0])]


@pytest.mark.parametrize("scale", [1e-20, 1e-200, 1e200])
def test_the_nash_check_is_relative_to_the_payoff_size(monkeypatch, scale):
    """(opera, football) is no equilibrium at any scale: deviating gains half or all of the range."""
    proposing(monkeypatch, [(np.array([1.0, 0.0]), np.array([0.0, 1.0])), OPERA])
    a, b = np.array(BOS_ROW) * scale, np.array(BOS_COL) * scale
    found = equilibria(a, b, method="vertex_enumeration")
    assert pairs(found) == [([1.0, 0.0], [1.0, 0.0])]
    assert found[0].row_payoff == pytest.approx(2 * scale, rel=1e-15)


def test_the_nash_check_allows_64_ulps_of_the_payoff_size():
    """The documented floor: a deviation gaining 64 ulps of max|payoff| is rounding, 64.5 ulps is a gain."""
    eps = np.finfo(np.float64).eps
    x, y = np.array([1.0, 0.0]), np.array([1.0, 0.0])
    column = np.zeros((2, 2))   # the column player is indifferent
    for gain, nash in [(64 * eps, True), (64.5 * eps, False), (63 * eps, True), (65.5 * eps, False)]:
        row = np.array([[0.0, 0.0], [gain, 1.0]])   # max |payoff| 1; row 2 gains `gain` against column 1
        assert general_sum._is_nash(row, column, x, y, tol=1e-300) is nash, gain / eps
        assert general_sum._is_nash(row * 2.0 ** -600, column, x, y, tol=1e-300) is nash, gain / eps


def test_a_player_whose_payoffs_are_all_zero_earns_zero():
    """Zero payoffs for the column player: every equilibrium pays them exactly 0, and the row player x·A·y."""
    a, b = np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros((2, 2))
    with pytest.warns(DegenerateGameWarning):
        found = equilibria(a, b)
    assert found
    for e in found:
        assert e.column_payoff == 0.0
        assert e.row_payoff == pytest.approx(float(e.row_strategy @ a @ e.column_strategy), abs=1e-15)
        assert brute_force_is_nash(a, b, e.row_strategy, e.column_strategy)


@pytest.mark.parametrize("max_work", [0, -3, 2.5, 1.0, True, "10"])
def test_max_work_must_be_a_whole_number_of_at_least_1(max_work):
    """The refusal names max_work, the value and what was expected."""
    with pytest.raises(InvalidGameError) as info:
        equilibria(BOS_ROW, BOS_COL, max_work=max_work)
    assert str(info.value) == f"max_work: got {max_work!r}; expected a whole number >= 1"


def test_max_work_of_1_solves_a_1x1_game():
    """A 1x1 game needs one support pair: max_work=1 is enough."""
    (eq,) = equilibria([[4.0]], [[-1.0]], max_work=1)
    assert (eq.row_payoff, eq.column_payoff) == (4.0, -1.0)


def test_bad_column_payoffs_are_named_as_such():
    """An error in the column payoffs starts with their name, as the row payoffs' errors start with theirs."""
    with pytest.raises(InvalidGameError) as info:
        equilibria(BOS_ROW, [[1, float("nan")], [0, 2]])
    assert str(info.value).startswith("column payoffs: ")
    assert "finite" in str(info.value)
