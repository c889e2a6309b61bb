"""Where a player strength counts as at its bounds (within a factor 1.5 of them, the ends included, as the
shrinkage module flags a strength), and how many states an unknown state's error lists (the twelve with most
decision points)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import strategist.estimation.payoff as payoff
from strategist.errors import EstimationError
from strategist.estimation.payoff import EstimateSettings, player_strength, select_state
from strategist.estimation.shrinkage import STRENGTH_BOUNDS, parse_prior

POINTS = pd.DataFrame({"hitter": ["Ann", "Bea"], "row_index": [0, 0], "column_index": [0, 0], "won": [True, False]})


@pytest.mark.parametrize("strength, flagged", [
    (STRENGTH_BOUNDS[0] * 1.5, True), (STRENGTH_BOUNDS[0] * 1.6, False),
    (STRENGTH_BOUNDS[1] / 1.5, True), (STRENGTH_BOUNDS[1] / 1.6, False),
])
def test_a_strength_a_factor_one_and_a_half_from_a_bound_is_at_the_bound(monkeypatch, strength, flagged):
    monkeypatch.setattr(payoff, "fit_strength", lambda *args: strength)
    settings = EstimateSettings(hitter="Ann", player_prior=parse_prior("moments"))
    s, at_bound, groups = player_strength(settings, POINTS, np.array([[0.5]]), (1, 1))
    assert (s, at_bound, groups) == (strength, flagged, 2)


def _points_in(states):
    """Decision points of states ``s00``... with 20, 19, ... points each."""
    counts = [20 - k for k in range(len(states))]
    codes = np.repeat(np.arange(len(states)), counts)
    return SimpleNamespace(frame=pd.DataFrame({"phase": ["rally"] * len(codes)}),
                           context=SimpleNamespace(previous=None, describe=lambda: "all strokes"),
                           state_codes=lambda: (codes, list(states)),
                           selection=lambda hitter, opponent: np.ones(len(codes), dtype=bool))


def test_an_unknown_state_is_refused_naming_the_twelve_most_frequent():
    states = [f"s{k:02d}" for k in range(14)]
    with pytest.raises(EstimationError) as caught:
        select_state(_points_in(states), EstimateSettings(state="smash"))
    listed = ", ".join(f"'s{k:02d}' ({20 - k})" for k in range(12))
    assert str(caught.value) == f"no decision points in state 'smash' (context 'all strokes'); states here: {listed}"
