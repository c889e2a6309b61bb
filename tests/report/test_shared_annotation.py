"""The report annotates its population once: the Advisor's game is built from that annotation and the win
probabilities' empirical fallback counts on it, with the same results as from the table itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.data.states import annotate_states
from strategist.errors import EstimationError
from strategist.rally.model import RallySettings, situation_annotation, strokes
from strategist.report import winprob
from strategist.report.match import select_match


def test_strokes_from_a_shared_annotation_are_the_strokes_of_the_table(demo_table):
    settings = RallySettings()
    shared = strokes(demo_table, settings, annotated=situation_annotation(demo_table, settings))
    fresh = strokes(demo_table, settings)
    pd.testing.assert_frame_equal(shared.frame, fresh.frame)
    assert shared.dropped == fresh.dropped
    assert all(np.array_equal(shared.names[k], fresh.names[k]) for k in fresh.names)
    with pytest.raises(EstimationError, match="situation_annotation"):
        strokes(demo_table, settings, annotated=situation_annotation(demo_table.iloc[:100], settings))


def test_the_empirical_win_rates_count_the_population_by_situation(demo_table):
    """P(player wins | situation, player hits) from the shared annotation, against a count of the rallies the
    player won from each situation in the population annotated afresh (one count per rally, hitter and state)."""
    md = select_match(demo_table)
    rates = winprob._rates(md)
    pop = annotate_states(md.population, md.sport, situation=True)
    pop = pop[pop["winner"].notna()].drop_duplicates(["rally_id", "hitter", "state"])
    mine = pop[pop["hitter"] == md.player]
    checked = 0
    for state, grp in mine.groupby(mine["state"].astype(str)):
        won = int((grp["winner"] == md.player).sum())
        assert rates["hits"].loc[state, "sum"] == won and rates["hits"].loc[state, "size"] == len(grp)
        checked += 1
    assert checked >= 10
    assert int(rates["all"]["size"].sum()) == len(pop)
    # the posterior: Beta(PRIOR·p0 + ½ + wins, PRIOR·(1 − p0) + ½ + losses) of the player as hitter
    state = rates["hits"]["size"].idxmax()
    p0 = rates["all"].loc[state, "sum"] / rates["all"].loc[state, "size"]
    w, n = rates["hits"].loc[state, "sum"], rates["hits"].loc[state, "size"]
    a, b = winprob.PRIOR * p0 + 0.5 + w, winprob.PRIOR * (1 - p0) + 0.5 + n - w
    mean, lo, hi, count = winprob._posterior(rates, state, True)
    assert mean == pytest.approx(a / (a + b)) and count == n and lo < mean < hi
