"""A tie at the opponent's bound is broken on the point estimates at its state whatever another state does: one
where the opponent's habit stands (its game a single column) leaves this state's stage game, and the
tolerance its solve is certified to, as they are when the state is solved alone."""

from __future__ import annotations

import numpy as np

from strategist.rally.game import _pessimistic_round

Z = 2.0
#: Shots 2 and 3 of the opponent are worth the same to the player at the opponent's bound (shot 3 is DELTA
#: lower on the point estimates, with DELTA / Z of sd: Q + Z·σ is shot 2's); a small difference, but 1e-6 of it
#: (TIE_BREAK) is well above what the solve of this game alone is certified to (1e-9 of its range, 0.1).
DELTA = 5e-4
TIED = np.array([[0.55, 0.45, 0.45 - DELTA], [0.45, 0.55, 0.55 - DELTA]])
TIED_SD = np.array([[0.0, 0.0, DELTA / Z]] * 2)
#: Another state where the opponent hits, with four shots: wider than the tied state's game.
WIDE = np.array([[0.5, 0.6, 0.4, 0.5], [0.5, 0.4, 0.6, 0.5]])


def _round(q, sd, y_habits, fixed_cols):
    size = len(q)
    return _pessimistic_round(q, sd, Z, np.zeros(size, bool), [np.ones(m.shape[1], bool) for m in q],
                              ([np.array([0.5, 0.5])] * size, y_habits), np.zeros(size, bool), fixed_cols)


def test_the_opponents_tie_is_broken_on_the_estimates_beside_a_state_keeping_its_habit():
    """Alone, the tied state's opponent plays shots 1 and 3 half each (the pennies of [[0.55, 0.45],
    [0.45, 0.55]], with shot 3, lower for the player on the estimates, rather than shot 2). Beside a state
    where the opponent's habit stands, the same: that state's game is its habit's single column and changes
    nothing here."""
    habit_tied, habit_wide = np.full(3, 1 / 3), np.full(4, 0.25)
    _, high, _, cols, _, ys, _ = _round([TIED], [TIED_SD], [habit_tied], np.array([False]))
    np.testing.assert_allclose(high[0][:, 1], high[0][:, 2], atol=1e-15)     # the tie at the bound is exact
    assert not cols[0]
    np.testing.assert_allclose(ys[0], [0.5, 0.0, 0.5], atol=1e-9)
    alone = ys[0]
    _, _, _, cols, _, ys, _ = _round([TIED, WIDE], [TIED_SD, np.zeros((2, 4))], [habit_tied, habit_wide],
                                     np.array([False, True]))
    assert not cols[0] and cols[1]
    assert ys[1] is habit_wide
    np.testing.assert_allclose(ys[0], alone, atol=1e-12)
    np.testing.assert_allclose(ys[0], [0.5, 0.0, 0.5], atol=1e-9)
