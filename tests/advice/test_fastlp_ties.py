"""The vertex solver where vertices are not enough: a face of optimal mixes is broken toward its safest point,
as the safe-exploitation LP does, and a floor above the game's value gives the maximin mix."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.advice.fastlp import VertexTable
from strategist.games import safe_exploit, solve_zero_sum


def test_a_face_of_optimal_mixes_is_broken_toward_its_safest_point_like_the_lp():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    q = np.array([0.5, 0.5])                       # every mix earns 0.5 against q: the whole simplex ties
    x = VertexTable.of(a).solve(a @ q, 0.5 - 0.1)
    reference = safe_exploit(a, q, 0.1).row_strategy
    np.testing.assert_allclose(x, reference, atol=1e-9)
    np.testing.assert_allclose(x, [0.5, 0.5], atol=1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_tied_rows_agree_with_the_safe_exploitation_lp(seed):
    """Two rows equal against q but not column by column: the optimal face is an edge, and its safest point
    mixes them; the guarantee matches the LP's (the mix itself may differ where the LP's optimum is not unique)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(size=(4, 3))
    q = rng.dirichlet(np.ones(3))
    a[1] = a[0] + (rng.uniform(size=3) - 0.5) * 0.4
    a[1] += (a[0] - a[1]) @ q / q.sum()            # same payoff as row 0 against q
    a[1] = np.clip(a[1], 0, 1)
    margin = 0.05
    value = solve_zero_sum(a).value
    x = VertexTable.of(a).solve(a @ q, value - margin)
    lp = safe_exploit(a, q, margin)
    assert x @ a @ q == pytest.approx(lp.expected_payoff, abs=1e-7)
    assert (x @ a).min() == pytest.approx(lp.guarantee, abs=1e-7)
    assert (x @ a).min() >= value - margin - 1e-9


def test_a_floor_above_the_games_value_gives_the_maximin_mix():
    pennies = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(VertexTable.of(pennies).solve(np.array([1.0, 0.0]), 0.6), [0.5, 0.5], atol=1e-9)
    rng = np.random.default_rng(7)
    a = rng.uniform(size=(3, 3))
    maximin = solve_zero_sum(a)
    x = VertexTable.of(a).solve(a @ np.array([1.0, 0.0, 0.0]), maximin.value + 0.2)
    assert (x @ a).min() == pytest.approx(maximin.value, abs=1e-9)


def test_the_face_of_a_game_with_negative_payoffs_has_a_negative_guarantee():
    """Payoffs in another unit (all negative): the face's safest point still mixes the tied rows."""
    a = np.array([[-1.0, -3.0], [-3.0, -1.0]])
    q = np.array([0.5, 0.5])
    x = VertexTable.of(a).solve(a @ q, -2.0 - 0.5)
    np.testing.assert_allclose(x, [0.5, 0.5], atol=1e-9)
    assert (x @ a).min() == pytest.approx(-2.0, abs=1e-9)
