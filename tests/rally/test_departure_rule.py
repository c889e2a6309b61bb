"""When a side leaves its habit: only where the lower confidence bound of what its equilibrium guarantees over
the habit, on the point estimates, is positive; the two guarantees' cells are paired (a cell both mixes play
does not count twice) and the habit's own estimate is as uncertain as the departure's. Thresholds below are
solved by hand."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.rally.game import _hitter_shots, _pessimistic_round, _replies, departure_supported, gain_supported

Z = 1.645


def _round(q, sd, player_hits, x_habit, y_habit):
    trusted = np.ones(q.shape[0] if player_hits else q.shape[1], bool)
    return _pessimistic_round([q], [sd], Z, np.array([player_hits]), [trusted], ([x_habit], [y_habit]),
                              np.array([False]), np.array([False]))


# shot 1 wins 0.62 where shot 0 wins 0.60; the habit plays shot 1 80 % of the time already: moving its last
# 20 % gains 0.004, and the difference rests on 0.2 of each cell's error: sd = σ·sqrt(0.2² + 0.2²)
PAIRED_Q = np.array([[0.60], [0.62]])
PAIRED_HABIT = np.array([0.2, 0.8])
PAIRED_THRESHOLD = 0.004 / (Z * np.sqrt(0.08))          # σ = 0.0085969...


@pytest.mark.parametrize("sigma, supported", [(PAIRED_THRESHOLD * 0.99, True), (PAIRED_THRESHOLD * 1.01, False)])
def test_a_departure_onto_a_shot_the_habit_plays_already_counts_that_shots_error_once(sigma, supported):
    sd = np.full((2, 1), sigma)
    assert departure_supported(PAIRED_Q, sd, Z, np.array([0.0, 1.0]), PAIRED_HABIT, np.ones(1, bool)) is supported


def test_the_player_departs_where_the_bound_of_the_gain_allows_though_the_bound_of_the_level_would_not():
    """σ = 0.005: the departure's guarantee at its bound, 0.62 − 1.645·0.005 = 0.6118, is below the habit's
    0.616 on the point estimates (a comparison of a bound with a point would keep the habit), but the gain's
    bound, 0.004 − 1.645·0.005·sqrt(0.08) = 0.00167, is positive: the player plays shot 1."""
    sd = np.full((2, 1), 0.005)
    low, _, rows, _, xs, _, values = _round(PAIRED_Q, sd, True, PAIRED_HABIT, np.ones(1))
    assert 0.62 - Z * 0.005 < PAIRED_HABIT @ PAIRED_Q[:, 0]
    assert not rows[0]
    np.testing.assert_allclose(xs[0], [0.0, 1.0], atol=1e-9)
    assert values[0] == pytest.approx(0.62 - Z * 0.005, abs=1e-12)


# the habit (shot 0) guarantees 0.60 (its worst reply, column 1); shot 1, better against both columns,
# guarantees 0.65 (column 0); only the habit's worst cell is uncertain (σ = s): the gains against columns 0
# and 1 are 0.05 and 0.06, each with sd s, so the departure needs s < 0.05 / z
OWN_Q = np.array([[0.64, 0.60], [0.65, 0.66]])


@pytest.mark.parametrize("s, supported", [(0.05 / Z * 0.99, True), (0.05 / Z * 1.01, False)])
def test_the_habits_own_uncertain_guarantee_counts(s, supported):
    sd = np.array([[0.0, s], [0.0, 0.0]])
    assert departure_supported(OWN_Q, sd, Z, np.array([0.0, 1.0]), np.array([1.0, 0.0]),
                               np.ones(2, bool)) is supported
    _, _, rows, _, xs, _, _ = _round(OWN_Q, sd, True, np.array([1.0, 0.0]), np.ones(2) / 2)
    assert bool(rows[0]) is not supported
    np.testing.assert_allclose(xs[0], [0.0, 1.0] if supported else [1.0, 0.0], atol=1e-9)


def test_replies_left_out_do_not_count():
    """Against column 1 alone the habit guarantees 0.60 and shot 1 0.66: a gain of 0.06 with sd s; column 0
    left out, s = 0.05 / z · 1.01 is still a departure (0.06 > 1.645·s), which it is not with column 0."""
    s = 0.05 / Z * 1.01
    sd = np.array([[0.0, s], [0.0, 0.0]])
    shot, habit = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    assert departure_supported(OWN_Q, sd, Z, shot, habit, np.array([False, True]))
    assert not departure_supported(OWN_Q, sd, Z, shot, habit, np.array([True, True]))


@pytest.mark.parametrize("sigma, kept", [(PAIRED_THRESHOLD * 0.99, False), (PAIRED_THRESHOLD * 1.01, True)])
def test_the_opponent_departs_by_the_same_rule_on_what_it_gives_the_player(sigma, kept):
    """The opponent hits (the player's Q in one row): its shot 1 leaves the player 0.38 where shot 0 leaves
    0.40, its habit plays shot 1 80 %: the same numbers as the player's, mirrored."""
    q = 1.0 - PAIRED_Q.T
    _, _, _, cols, _, ys, _ = _round(q, np.full((1, 2), sigma), False, np.ones(1), PAIRED_HABIT)
    assert bool(cols[0]) is kept
    np.testing.assert_allclose(ys[0], PAIRED_HABIT if kept else [0.0, 1.0], atol=1e-9)


def _receiving(q, trusted):
    """One round where the opponent hits (its shots ``trusted``), the player's habit is the first position and
    every cell is exact: (the player keeps the habit?, the player's mix), as arrays over the one state."""
    _, _, rows, _, xs, _, _ = _pessimistic_round([q], [np.zeros_like(q)], Z, np.array([False]), [trusted],
                                                 ([np.array([1.0, 0.0])], [np.full(q.shape[1], 1 / q.shape[1])]),
                                                 np.array([False]), np.array([False]))
    return rows, xs


def test_the_players_position_is_judged_against_the_opponents_trusted_shots_only():
    """The opponent hits and plays its third shot too rarely to be trusted: standing back beats standing at
    the front (the habit) against the two trusted shots (0.55 against 0.50 at worst) but not against the
    third (0.20 against 0.30). The game leaves the untrusted shot out, and so does the rule: the player moves
    back."""
    q = np.array([[0.50, 0.60, 0.30], [0.55, 0.62, 0.20]])
    trusted = np.array([True, True, False])
    rows, xs = _receiving(q, trusted)
    assert not rows[0]
    np.testing.assert_allclose(xs[0], [0.0, 1.0], atol=1e-9)
    assert not departure_supported(q, np.zeros_like(q), Z, np.array([0.0, 1.0]), np.array([1.0, 0.0]),
                                   np.ones(3, bool))


def test_the_opponents_position_is_judged_against_the_players_trusted_shots_only():
    """The mirror: the player hits and plays its third shot too rarely to be trusted; the opponent standing in
    the second position leaves the player less against the two trusted shots (0.45 against 0.50 at most) but
    more against the third (0.80 against 0.70). The opponent moves to the second position."""
    q = np.array([[0.50, 0.45], [0.40, 0.38], [0.70, 0.80]])
    trusted = np.array([True, True, False])
    _, _, _, cols, _, ys, _ = _pessimistic_round([q], [np.zeros_like(q)], Z, np.array([True]), [trusted],
                                                 ([np.full(3, 1 / 3)], [np.array([1.0, 0.0])]),
                                                 np.array([False]), np.array([False]))
    assert not cols[0]
    np.testing.assert_allclose(ys[0], [0.0, 1.0], atol=1e-9)
    assert not departure_supported(-q.T, np.zeros_like(q.T), Z, np.array([0.0, 1.0]), np.array([1.0, 0.0]),
                                   np.ones(3, bool))


# The best response and the safe exploitation judge a departure against one predicted reply y: row a is worth
# (Q·y)_a with sd sqrt(Σ_b σ²_ab·y_b²). Here y = (0.75, 0.25): shot 0 is worth 0.50, shot 1 0.5525, a gain of
# 0.0525; every cell has sd σ, so each row's sd is σ·sqrt(0.75² + 0.25²) and the gain's σ·sqrt(2·0.625)
# (the two rows share no cell). The departure is supported below σ = 0.0525 / (z·sqrt(1.25)).
REPLY_Q = np.array([[0.50, 0.50], [0.53, 0.62]])
REPLY = np.array([0.75, 0.25])
REPLY_THRESHOLD = 0.0525 / (Z * np.sqrt(1.25))


@pytest.mark.parametrize("sigma, supported", [(REPLY_THRESHOLD * 0.99, True), (REPLY_THRESHOLD * 1.01, False)])
def test_a_gain_against_one_reply_is_supported_below_the_hand_solved_threshold(sigma, supported):
    sd = np.full((2, 2), sigma)
    assert gain_supported(REPLY_Q, sd, REPLY, Z, np.array([0.0, 1.0]), np.array([1.0, 0.0])) is supported


def test_a_column_the_reply_never_plays_adds_no_uncertainty():
    """Column 1 unplayed (y = (1, 0)): shot 1 gains 0.03 with sd 0.01·sqrt(2), supported (0.03 > 0.0233),
    however uncertain the cells of column 1 are; against y = (0.75, 0.25) the same huge sd in column 1 sinks
    the larger gain."""
    sd = np.array([[0.01, 5.0], [0.01, 5.0]])
    shot, habit = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    assert gain_supported(REPLY_Q, sd, np.array([1.0, 0.0]), Z, shot, habit)
    assert not gain_supported(REPLY_Q, sd, REPLY, Z, shot, habit)


def test_a_gain_moving_part_of_the_habit_counts_only_the_moved_share():
    """The habit plays shot 1 60 % already: moving the other 40 % gains 0.4·0.0525 = 0.021 with sd
    σ·sqrt(0.4² + 0.4²)·sqrt(0.625), so the threshold is 0.021 / (z·0.4·sqrt(1.25)); counting the two mixes'
    cells apart (sd σ·sqrt((1 + 0.4² + 0.6²)·0.625)) would set it 2.2 times lower."""
    threshold = 0.021 / (Z * 0.4 * np.sqrt(1.25))
    shot, habit = np.array([0.0, 1.0]), np.array([0.4, 0.6])
    assert gain_supported(REPLY_Q, np.full((2, 2), threshold * 0.99), REPLY, Z, shot, habit)
    assert not gain_supported(REPLY_Q, np.full((2, 2), threshold * 1.01), REPLY, Z, shot, habit)


def test_no_gain_is_never_supported_and_a_loss_neither():
    sd = np.zeros((2, 2))
    assert not gain_supported(REPLY_Q, sd, REPLY, Z, np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    assert not gain_supported(REPLY_Q, sd, REPLY, Z, np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    assert gain_supported(REPLY_Q, sd, REPLY, Z, np.array([0.0, 1.0]), np.array([1.0, 0.0]))


# Shots 1 and 2 tie at the lower bound (0.58): shot 1 is sure (sd 0), shot 2 is 0.66225 ± 0.05; the habit,
# shot 0, is 0.50 ± 0.05. The tie goes to the shot better on the point estimates, shot 2, and its gain over
# the habit is supported (0.16225 − z·sqrt(2)·0.05 = 0.046 > 0); shot 1's would not be (0.08 − z·0.05 < 0),
# so breaking the tie the other way would keep the habit.
TIE_Q = np.array([[0.50], [0.58], [0.58 + Z * 0.05]])
TIE_SD = np.array([[0.05], [0.0], [0.05]])


def test_a_tie_at_the_bound_is_judged_with_the_shot_better_on_the_estimates():
    assert not departure_supported(TIE_Q, TIE_SD, Z, np.array([0.0, 1.0, 0.0]), np.eye(3)[0], np.ones(1, bool))
    assert departure_supported(TIE_Q, TIE_SD, Z, np.array([0.0, 0.0, 1.0]), np.eye(3)[0], np.ones(1, bool))
    _, _, rows, _, xs, _, _ = _round(TIE_Q, TIE_SD, True, np.eye(3)[0], np.ones(1))
    assert not rows[0]
    np.testing.assert_allclose(xs[0], [0.0, 0.0, 1.0], atol=1e-6)


def test_the_opponent_breaks_a_tie_at_its_bound_the_same_way():
    """The mirror: the opponent hits, and its shots leave the player 1 − the values above."""
    _, _, _, cols, _, ys, _ = _round(1.0 - TIE_Q.T, TIE_SD.T, False, np.ones(1), np.eye(3)[0])
    assert not cols[0]
    np.testing.assert_allclose(ys[0], [0.0, 0.0, 1.0], atol=1e-6)


def test_the_habits_worst_reply_is_taken_among_every_trusted_shot():
    """The opponent hits; the player's habit (front) guarantees 0.50, against the opponent's second shot; a mix
    of front 2/7 and back 5/7 guarantees 0.5857 against both trusted shots: the player departs. Judged against
    the first shot alone, the habit's 0.60 there would not be beaten."""
    q = np.array([[0.60, 0.50, 0.30], [0.58, 0.62, 0.20]])
    trusted = np.array([True, True, False])
    rows, xs = _receiving(q, trusted)
    assert not rows[0]
    np.testing.assert_allclose(xs[0], [2 / 7, 5 / 7], atol=1e-6)


def test_with_no_trusted_shot_every_shot_of_the_hitter_is_a_reply():
    every = _hitter_shots(np.zeros(3, dtype=bool))
    assert every.shape == (3,) and every.dtype == bool and every.all()
    np.testing.assert_array_equal(_hitter_shots(np.array([False, True, False])), [False, True, False])
    columns, rows = _replies((2, 3), False, np.zeros(3, dtype=bool))
    assert columns.shape == (3,) and columns.all() and rows.shape == (2,) and rows.all()


# Half the habit moved: mix (0.5, 0.5) against the habit (1, 0), one column, every cell's sd s. The gain is
# 0.5·0.10 = 0.05 and its sd s·sqrt(0.5² + 0.5²) (each row's share that moves), so the threshold is
# s = 0.05 / (z·sqrt(0.5)).
HALF_Q = np.array([[0.50], [0.60]])
HALF_THRESHOLD = 0.05 / (Z * np.sqrt(0.5))


@pytest.mark.parametrize("s, supported", [(HALF_THRESHOLD * 0.99, True), (HALF_THRESHOLD * 1.01, False)])
def test_a_half_way_departure_counts_the_moved_share_of_each_cell(s, supported):
    half, habit = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    assert departure_supported(HALF_Q, np.full((2, 1), s), Z, half, habit, np.ones(1, bool)) is supported
    assert gain_supported(HALF_Q, np.full((2, 1), s), np.ones(1), Z, half, habit) is supported
