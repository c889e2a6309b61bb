"""The rally game's stage-level pieces on small hand-made games: the stage matrices restricted to the shots a
hitter may be advised, the batched stage solves against the LP of solve_zero_sum, the values of fixed play
against numpy's linear solver, and the rules of the recommendation's rounds (keep last round's mix while it is
still optimal, average two rounds' mixes in a cycle)."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.games.zero_sum import solve_zero_sum
from strategist.rally.game import (DOMINATED_COLUMN, DOMINATED_ROW, _average_cycle, _chain_values, _keep_optimal,
                                   _renorm, _restricted, _shape_kind, _solve_stages)

Q = np.array([[0.6, 0.2, 0.5],
              [0.3, 0.7, 0.4]])


# ------------------------------------------------------------------------------------------- restricted
def test_untrusted_player_shots_become_dominated_rows():
    trusted = np.array([True, False])
    out = _restricted(Q, True, trusted, None, None)
    np.testing.assert_array_equal(out, [[0.6, 0.2, 0.5], [-1.0, -1.0, -1.0]])
    assert DOMINATED_ROW == -1.0
    np.testing.assert_array_equal(Q[1], [0.3, 0.7, 0.4])          # the caller's matrix is left as it was


def test_untrusted_opponent_shots_become_dominated_columns():
    trusted = np.array([False, True, True])
    out = _restricted(Q, False, trusted, None, None)
    np.testing.assert_array_equal(out, [[2.0, 0.2, 0.5], [2.0, 0.7, 0.4]])
    assert DOMINATED_COLUMN == 2.0
    assert Q[0, 0] == 0.6


@pytest.mark.parametrize("player_hits", [True, False])
def test_all_or_no_trusted_shots_leave_the_matrix_as_it_is(player_hits):
    n = Q.shape[0] if player_hits else Q.shape[1]
    for trusted in (np.ones(n, bool), np.zeros(n, bool)):
        np.testing.assert_array_equal(_restricted(Q, player_hits, trusted, None, None), Q)


def test_a_kept_habit_is_the_sides_only_action():
    """A row habit makes the matrix one row (the habit's payoffs against every column), played as it is with
    its untrusted shots (no domination); a column habit one column; the other side's actions keep
    the domination of the hitter's untrusted shots."""
    x = np.array([0.25, 0.75])
    y = np.array([0.5, 0.0, 0.5])
    out = _restricted(Q, True, np.array([True, False]), x, None)
    assert out.shape == (1, 3)
    np.testing.assert_allclose(out[0], [0.25 * 0.6 + 0.75 * 0.3, 0.25 * 0.2 + 0.75 * 0.7, 0.25 * 0.5 + 0.75 * 0.4])
    # the opponent's habit where the player hits: the untrusted player row is still dominated
    out = _restricted(Q, True, np.array([True, False]), None, y)
    assert out.shape == (2, 1)
    np.testing.assert_allclose(out[:, 0], [0.55, -1.0])
    # where the opponent hits and keeps its habit, its untrusted column is played as it is
    out = _restricted(Q, False, np.array([True, False, True]), None, y)
    np.testing.assert_allclose(out[:, 0], [0.55, 0.35])
    # where the opponent hits and only the player keeps a habit, the opponent's untrusted column is dominated
    out = _restricted(Q, False, np.array([True, False, True]), x, None)
    np.testing.assert_allclose(out[0], [0.375, 2.0, 0.425])
    both = _restricted(Q, True, np.array([True, False]), x, y)
    assert both.shape == (1, 1) and both[0, 0] == pytest.approx(x @ Q @ y)


# ------------------------------------------------------------------------------------------- stage solves
def test_shape_kinds_group_tall_and_wide_stages_by_their_short_side():
    assert _shape_kind((5, 1)) == (True, 1)
    assert _shape_kind((3, 3)) == (True, 3)
    assert _shape_kind((2, 4)) == (False, 2)
    assert _shape_kind((1, 4)) == (False, 1)


def test_renorm_clips_negative_weights_and_sums_to_one():
    np.testing.assert_allclose(_renorm([0.2, -1e-12, 0.6]), [0.25, 0.0, 0.75])
    np.testing.assert_allclose(_renorm(np.array([3.0, 1.0])), [0.75, 0.25])


def test_batched_stage_solves_are_the_lp_equilibria():
    """Stages of many shapes, tall and wide, in one call: every value is the LP's and every mix guarantees it."""
    rng = np.random.default_rng(4)
    shapes = [(3, 2), (2, 3), (4, 4), (1, 3), (3, 1), (5, 2), (2, 2), (1, 1), (2, 5)]
    matrices = [rng.uniform(0.05, 0.95, s) for s in shapes]
    xs, ys, values = _solve_stages(matrices)
    assert len(xs) == len(ys) == len(values) == len(matrices)
    for q, x, y, v in zip(matrices, xs, ys, values):
        lp = solve_zero_sum(q)
        assert v == pytest.approx(lp.value, abs=1e-8)
        assert x.shape == (q.shape[0],) and y.shape == (q.shape[1],)
        assert x.sum() == pytest.approx(1.0) and y.sum() == pytest.approx(1.0)
        assert (x >= 0).all() and (y >= 0).all()
        assert (x @ q).min() == pytest.approx(v, abs=1e-8)
        assert (q @ y).max() == pytest.approx(v, abs=1e-8)


def test_a_stage_game_with_a_dominated_row_and_a_mixed_equilibrium():
    """Matching pennies on win probabilities with a third, dominated row (column, in the wide stage): value 1/2,
    mixes (1/2, 1/2, 0)."""
    q = np.array([[0.8, 0.2], [0.2, 0.8], [0.1, 0.1]])
    wide = np.array([[0.8, 0.2, 0.9], [0.2, 0.8, 0.9]])
    xs, ys, values = _solve_stages([q, wide])
    assert values[0] == pytest.approx(0.5) and values[1] == pytest.approx(0.5)
    np.testing.assert_allclose(xs[0], [0.5, 0.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(ys[0], [0.5, 0.5], atol=1e-9)
    np.testing.assert_allclose(ys[1], [0.5, 0.5, 0.0], atol=1e-9)


# ------------------------------------------------------------------------------------------- chain values
def _random_chain(rng, size=4):
    rewards, transitions, xs, ys = [], [], [], []
    for g in range(size):
        m, n = rng.integers(1, 4, 2)
        law = rng.dirichlet(np.ones(size + 2), size=(m, n))     # win, lose, next states
        rewards.append(law[..., 0])
        transitions.append(0.8 * law[..., 2:])
        xs.append(rng.dirichlet(np.ones(m)))
        ys.append(rng.dirichlet(np.ones(n)))
    return rewards, transitions, xs, ys


def test_chain_values_solve_the_linear_system():
    rng = np.random.default_rng(8)
    rewards, transitions, xs, ys = _random_chain(rng, 5)
    # two states of one shape, so a group contracts more than one state
    rewards[1], transitions[1] = rewards[0] * 0.9, transitions[0][..., ::-1] * 0.9
    xs[1], ys[1] = xs[0][::-1].copy(), ys[0]
    size = len(rewards)
    a, r = np.eye(size), np.zeros(size)
    for s in range(size):
        r[s] = sum(xs[s][i] * rewards[s][i, j] * ys[s][j] for i in range(len(xs[s])) for j in range(len(ys[s])))
        for t in range(size):
            a[s, t] -= sum(xs[s][i] * transitions[s][i, j, t] * ys[s][j]
                           for i in range(len(xs[s])) for j in range(len(ys[s])))
    np.testing.assert_allclose(_chain_values(rewards, transitions, xs, ys), np.linalg.solve(a, r), atol=1e-12)


@pytest.mark.parametrize("reward", [1.5, -0.5])
def test_chain_values_outside_zero_one_are_refused(reward):
    rewards = [np.array([[reward]])]
    transitions = [np.zeros((1, 1, 1))]
    with pytest.raises(np.linalg.LinAlgError):
        _chain_values(rewards, transitions, [np.ones(1)], [np.ones(1)])


def test_chain_values_at_the_ends_of_zero_one_are_kept():
    transitions = [np.zeros((1, 1, 2)), np.zeros((1, 1, 2))]
    v = _chain_values([np.array([[1.0]]), np.array([[0.0]])], transitions, [np.ones(1)] * 2, [np.ones(1)] * 2)
    np.testing.assert_array_equal(v, [1.0, 0.0])


# ------------------------------------------------------------------------------------------- round rules
def test_last_rounds_mix_is_kept_while_it_guarantees_as_much():
    """The player's old mix is kept where it guarantees as much in this round's lower-bound game (its worst
    column), the opponent's where it costs no more at the upper bound (its best row) — each against every reply,
    as each side's mix is solved, whatever habit the other side keeps. A worse old mix is replaced."""
    low = [np.array([[0.4, 0.4], [0.4, 0.4], [0.1, 0.6]])]
    high = [np.array([[0.5, 0.7], [0.6, 0.5], [0.55, 0.55]])]
    hits, every = np.array([True]), [np.ones(3, dtype=bool)]
    tie_old, tie_new = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    free, kept = np.array([False]), np.array([True])
    half = np.array([0.5, 0.5])
    # a tie at the bound: the old mix stays
    xs, _ = _keep_optimal([tie_new], [half], ([tie_old], [half]), low, high, hits, every, free, free)
    assert xs[0] is tie_old
    # the old mix is worse against the worst column (0.1 < 0.4): replaced, also where the opponent keeps its
    # habit and the old mix would be worth 0.6 >= 0.4 against it (a best reply to a habit is not a guarantee)
    worse = np.array([0.0, 0.0, 1.0])
    for opponent_kept in (free, kept):
        xs, _ = _keep_optimal([tie_new], [half], ([worse], [half]), low, high, hits, every, free, opponent_kept)
        assert xs[0] is tie_new
    # the opponent: old (1, 0) costs 0.6 at the best row, new (0, 1) 0.7: the old is kept; the reverse replaced
    y_old, y_new = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    _, ys = _keep_optimal([tie_new], [y_new], ([tie_new], [y_old]), low, high, hits, every, free, free)
    assert ys[0] is y_old
    _, ys = _keep_optimal([tie_new], [y_old], ([tie_new], [y_new]), low, high, hits, every, free, free)
    assert ys[0] is y_old
    # where the player keeps its habit (row 1: (0, 1) costs 0.5 there), still judged at the best row: replaced
    _, ys = _keep_optimal([tie_new], [y_old], ([tie_new], [y_new]), low, high, hits, every, kept, free)
    assert ys[0] is y_old
    # a side whose habit is kept this round is not touched, nor a mix of another length
    xs, ys = _keep_optimal([tie_new], [y_new], ([tie_old], [y_old]), low, high, hits, every, kept, kept)
    assert xs[0] is tie_new and ys[0] is y_new
    xs, ys = _keep_optimal([tie_new], [y_new], ([np.array([1.0, 0.0])], [np.array([1.0, 0.0, 0.0])]), low, high,
                           hits, every, free, free)
    assert xs[0] is tie_new and ys[0] is y_new


def test_keeping_judges_the_hitters_untrusted_shots_as_dominated():
    """A hitter's untrusted shot is no option in the stage game its side's mix is solved in (:func:`_restricted`):
    the player's old mix on an untrusted shot guarantees nothing, whatever its cells say; where the opponent
    hits, the player's positions are judged against the opponent's trusted shots only, and the opponent's old
    mix on an untrusted shot is replaced."""
    # the player hits; shot 2 is untrusted and would be worth 0.9 against every position
    low = [np.array([[0.4, 0.4], [0.3, 0.5], [0.9, 0.9]])]
    high = [np.array([[0.5, 0.7], [0.6, 0.5], [0.95, 0.95]])]
    hits, trusted, free = np.array([True]), [np.array([True, True, False])], np.array([False])
    x_new, x_old = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    y_new, y_old = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    xs, ys = _keep_optimal([x_new], [y_new], ([x_old], [y_old]), low, high, hits, trusted, free, free)
    assert xs[0] is x_new                               # the old mix guarantees nothing on the untrusted shot
    assert ys[0] is y_new                               # (1, 0) costs 0.6 at the best trusted row, (0, 1) 0.7
    # the opponent hits: columns are its shots, shot 2 untrusted
    low = [np.array([[0.4, 0.5, 0.0], [0.5, 0.4, 0.0]])]
    high = [np.array([[0.5, 0.6, 0.0], [0.6, 0.5, 0.0]])]
    hits, trusted = np.array([False]), [np.array([True, True, False])]
    x_old, x_new = np.array([1.0, 0.0]), np.array([0.5, 0.5])
    y_old, y_new = np.array([0.0, 0.0, 1.0]), np.array([0.5, 0.5, 0.0])
    xs, ys = _keep_optimal([x_new], [y_new], ([x_old], [y_old]), low, high, hits, trusted, free, free)
    assert xs[0] is x_new                               # 0.4 < 0.45 against the trusted shots (0.0 ignored)
    assert ys[0] is y_new                               # the untrusted shot costs the opponent everything
    xs, _ = _keep_optimal([x_old], [y_new], ([x_new], [y_old]), low, high, hits, trusted, free, free)
    assert xs[0] is x_new                               # and the other way round the old one stays


def test_keeping_uses_the_tolerance_of_one_part_in_a_billion():
    low = [np.array([[0.4], [0.4 - 5e-10], [0.3]])]
    high = [np.array([[0.5, 0.5 + 5e-10]])]
    hits, every, free = np.array([True]), [np.ones(3, dtype=bool)], np.array([False])
    x_new, x_old = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    y_new, y_old = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    xs, ys = _keep_optimal([x_new], [y_new], ([x_old], [y_old]), low, high, hits, every, free, free)
    assert xs[0] is x_old and ys[0] is y_old
    low_far = [np.array([[0.4], [0.4 - 5e-9], [0.3]])]
    high_far = [np.array([[0.5, 0.5 + 5e-9]])]
    xs, ys = _keep_optimal([x_new], [y_new], ([x_old], [y_old]), low_far, high_far, hits, every, free, free)
    assert xs[0] is x_new and ys[0] is y_new


def test_a_cycle_averages_only_mixes_that_differ_beyond_rounding():
    this = ([np.array([1.0, 0.0]), np.array([0.5, 0.5 + 1e-13])], [np.array([1.0, 0.0])])
    before = ([np.array([0.0, 1.0, 0.0]), np.array([0.5, 0.5])], [np.array([0.0, 1.0])])
    xs, ys, changed = _average_cycle(this, before)
    assert xs[0] is this[0][0]                          # a mix of another length is not averaged
    assert xs[1] is this[0][1]                          # a difference of 1e-13 is rounding
    np.testing.assert_allclose(ys[0], [0.5, 0.5])
    assert changed == (0,)
    xs, ys, changed = _average_cycle(([np.array([0.2, 0.8])], [np.array([0.2, 0.8])]),
                                     ([np.array([0.8, 0.2])], [np.array([0.2, 0.8])]))
    np.testing.assert_allclose(xs[0], [0.5, 0.5])
    assert changed == (0,) and ys[0][0] == 0.2


def test_a_difference_of_exactly_one_part_in_a_trillion_is_still_rounding():
    a, b = np.array([1e-12, 0.0]), np.array([0.0, 0.0])
    assert np.abs(a - b).max() == 1e-12
    xs, _, changed = _average_cycle(([a], [np.ones(1)]), ([b], [np.ones(1)]))
    assert xs[0] is a and changed == ()


def test_keeping_at_exactly_the_tolerance_keeps_the_old_mix():
    """Worth exactly one part in a billion less (the player) or costing exactly that much more (the opponent):
    still as good, within the tolerance; the old mix stays."""
    low = [np.array([[0.5], [0.5 - 1e-9]])]
    high = [np.array([[0.5, 0.5 + 1e-9]])]
    hits, every, free = np.array([True]), [np.ones(2, dtype=bool)], np.array([False])
    x_new, x_old = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    y_new, y_old = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert (x_old @ low[0]).min() == (x_new @ low[0]).min() - 1e-9
    assert (high[0] @ y_old).max() == (high[0] @ y_new).max() + 1e-9
    xs, ys = _keep_optimal([x_new], [y_new], ([x_old], [y_old]), low, high, hits, every, free, free)
    assert xs[0] is x_old and ys[0] is y_old
