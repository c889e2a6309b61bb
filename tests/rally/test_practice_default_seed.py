"""A practice session without a seed is the seed-0 session: the same rallies, choices and report, run after run;
another seed plays other rallies."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.rally.game import rally_game
from strategist.rally.practice import policy_chooser, practise

from .pair import O, P, pair_table


@pytest.fixture(scope="module")
def game():
    return rally_game(pair_table(4, 2), P, O, min_action_count=1)


def _session(game, **kwargs):
    return practise(game, policy_chooser(game, "uniform", np.random.default_rng(9)), 8, **kwargs)


def test_a_session_without_a_seed_is_the_seed_zero_session(game):
    plain, zero, one = _session(game), _session(game, seed=0), _session(game, seed=1)
    assert plain.log == zero.log and plain.wins == zero.wins
    assert plain.values.equals(zero.values) and plain.practised_value == zero.practised_value
    assert plain.log != one.log
