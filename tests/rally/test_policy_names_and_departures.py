"""Policy specs read by name (best-response takes nothing after a colon: a margin there is refused, not ignored),
and the safe policy's departure from the recommendation only where the lower confidence bound of its gain over
the habit is positive (a bound of 0 keeps the recommendation), on a one-state game built by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from strategist.errors import EstimationError
from strategist.estimation.shrinkage import two_sided_z
from strategist.rally.policies import check_policy, resolve, safe_policy, side_policy

LAYOUT = SimpleNamespace(row_labels=[("clear", "smash")], column_labels=[("front", "back")],
                         reward_offsets=[0, 4], cell_index=np.arange(4), shapes=[(2, 2)])
Z = two_sided_z(0.9)


def _game(rewards, observed_row, who="player", trusted=None, sd=(0.0, 0.0, 0.0, 0.0)):
    """One state where ``who`` hits: the pessimistic stage game [[0.8, 0.2], [0.2, 0.8]] (recommendation: half
    and half, value 0.5), the point estimates ``rewards`` with cell sds ``sd`` (row by row), nothing after the
    stroke, level 0.9; ``trusted``: the shots that may be advised."""
    stage = np.array([[0.8, 0.2], [0.2, 0.8]])
    rec = SimpleNamespace(stage_games=[stage], realized=np.zeros(1), row_strategies=[np.array([0.5, 0.5])],
                          column_strategies=[np.array([0.5, 0.5])])
    structure = SimpleNamespace(trusted=trusted, states=pd.DataFrame({"who": [who]}))
    return SimpleNamespace(structure=structure, recommendation=rec, layout=LAYOUT, level=0.9,
                           cell_sd=np.asarray(sd, dtype=float),
                           rewards=[np.array(rewards, dtype=float)], transitions=[np.zeros((2, 2, 1))],
                           observed_row=[np.array(observed_row, dtype=float)],
                           observed_column=[np.array([1.0, 0.0])])


@pytest.mark.parametrize("spec", ["best-response", " Best-Response ", "BEST-RESPONSE", "best", "br"])
def test_the_best_response_is_named_in_any_case(spec):
    game = _game([[0.9, 0.3], [0.8, 0.9]], [0.0, 1.0])
    check_policy(game, spec, "player")
    with pytest.raises(EstimationError, match="needs the other side's policy"):
        side_policy(game, spec, "player")


@pytest.mark.parametrize("spec", ["best-response:0.05", "best-response:"])
def test_a_best_response_with_a_margin_is_refused_not_read_as_the_best_response(spec):
    game = _game([[0.9, 0.3], [0.8, 0.9]], [0.0, 1.0])
    with pytest.raises(EstimationError, match="is not understood"):
        check_policy(game, spec, "player")
    with pytest.raises(EstimationError, match="is not understood"):
        resolve(game, spec, "observed")


def test_a_safe_departure_whose_gain_only_equals_its_bound_keeps_the_recommendation():
    """Only the clear may be advised. Against an opponent always in front it wins 0.9 on the point estimates (a
    margin of 0.4 allows it: it guarantees 0.2 in the pessimistic stage game); the habit (always smash) wins 0.8:
    a gain of 0.1 whose sd, the two front cells paired, is sqrt((0.6·s)² + (0.8·s)²) = s with s = 0.1 / z, so
    its lower bound is 0 and the recommendation stays. With the habit at 0.79 the gain's bound is 0.01 and the
    clear is played; with the cells exact, the gain of 0.1 is supported."""
    only_clear = [np.array([True, False])]
    s = 0.1 / Z
    cells = (0.6 * s, 0.0, 0.8 * s, 0.0)
    tie = _game([[0.9, 0.3], [0.8, 0.9]], [0.0, 1.0], trusted=only_clear, sd=cells)
    (mix,) = safe_policy(tie, [np.array([1.0, 0.0])], "player", 0.4)
    np.testing.assert_array_equal(mix, [0.5, 0.5])
    beaten = _game([[0.9, 0.3], [0.79, 0.9]], [0.0, 1.0], trusted=only_clear, sd=cells)
    (mix,) = safe_policy(beaten, [np.array([1.0, 0.0])], "player", 0.4)
    np.testing.assert_array_equal(mix, [1.0, 0.0])
    exact = _game([[0.9, 0.3], [0.8, 0.9]], [0.0, 1.0], trusted=only_clear)
    (mix,) = safe_policy(exact, [np.array([1.0, 0.0])], "player", 0.4)
    np.testing.assert_array_equal(mix, [1.0, 0.0])


def test_the_safe_gain_is_measured_against_the_habit_not_the_recommendation():
    """The habit is the clear itself: the safe mix (the clear) gains nothing over it, though it gains 0.05 over
    the recommendation (half and half) with the cells exact; the recommendation stays."""
    habit_is_clear = _game([[0.9, 0.3], [0.8, 0.9]], [1.0, 0.0], trusted=[np.array([True, False])])
    (mix,) = safe_policy(habit_is_clear, [np.array([1.0, 0.0])], "player", 0.4)
    np.testing.assert_array_equal(mix, [0.5, 0.5])


def test_the_back_cells_the_opponent_never_takes_do_not_weigh_on_the_safe_departure():
    """The opponent is always in front: the back cells' sds (however large) carry no weight in the gain's sd."""
    only_clear = [np.array([True, False])]
    s = 0.1 / Z
    wide_back = _game([[0.9, 0.3], [0.79, 0.9]], [0.0, 1.0], trusted=only_clear, sd=(0.6 * s, 5.0, 0.8 * s, 5.0))
    (mix,) = safe_policy(wide_back, [np.array([1.0, 0.0])], "player", 0.4)
    np.testing.assert_array_equal(mix, [1.0, 0.0])


@pytest.mark.parametrize("spec, message", [("safe:abc", "expected safe:MARGIN"), ("SAFE:abc", "expected safe:MARGIN"),
                                           ("safe", "expected safe:MARGIN"), ("safe:", "expected safe:MARGIN"),
                                           ("safe:-0.1", "must be a number >= 0"), ("safe:inf", "must be a number")])
def test_a_safe_margin_is_checked_before_anything_is_solved(spec, message):
    game = _game([[0.9, 0.3], [0.8, 0.9]], [0.0, 1.0])
    with pytest.raises(EstimationError, match=message):
        check_policy(game, spec, "player")


@pytest.mark.parametrize("spec", ["safe:0.02", " Safe:0 ", "model", "best-response"])
def test_policies_resolved_later_pass_the_check_without_being_solved(spec):
    """A valid margin, the opponent model's policy (left to model_policy) and the best response (it needs the
    other side's policy) pass; the game here has no opponent model and cannot solve a dependent policy."""
    check_policy(_game([[0.9, 0.3], [0.8, 0.9]], [0.0, 1.0]), spec, "player")
    with pytest.raises(EstimationError):
        side_policy(_game([[0.9, 0.3], [0.8, 0.9]], [0.0, 1.0]), spec.strip(), "player")
