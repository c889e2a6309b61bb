"""Decision states: phases, what a stroke faces, replies, and the state known before a stroke is played."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.data.states import annotate_states, state_before


def _annotated(path):
    return annotate_states(load_rallies(path).table)


def test_badminton_phases_and_incoming_by_hand():
    states = _annotated(demo_path())
    first = states.groupby("rally_id").head(3)
    assert set(first.loc[first["stroke"] == 1, "phase"]) == {"serve"}
    assert set(first.loc[first["stroke"] == 2, "phase"]) == {"return"}
    assert set(first.loc[first["stroke"] == 3, "phase"]) == {"rally"}
    returns = states[states["phase"] == "return"]
    assert set(returns["state"]) == {"return of short service", "return of long service"}
    rally = states[states["phase"] == "rally"]
    # the incoming group is the tactic group of the previous stroke's shot
    from strategist.sports import get_sport

    groups = get_sport("badminton").group(rally["incoming_shot"], "tactic")
    assert (rally["incoming"] == groups).all()


def test_the_state_known_before_a_stroke_is_the_state_it_is_played_in():
    states = _annotated(demo_path())
    for rally_id, rally in list(states.groupby("rally_id", sort=False))[:300]:
        shots, hitters = list(rally["shot"]), list(rally["hitter"])
        for k in range(len(rally)):
            assert state_before("badminton", shots[:k], hitters[:k], hitters[k]) == rally["state"].iat[k], rally_id


@pytest.mark.realdata
def test_tennis_second_serves_and_replies(shared_data):
    states = _annotated(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv")
    second = states[(states["phase"] == "serve") & (states["serve_attempt"] == 2)]
    assert len(second) > 100 and second["state"].str.contains("2nd serve").all()
    # the reply of a faulted first serve is the receiver's return, never the server's own second serve
    faulted = states[(states["phase"] == "serve") & (states["serve_attempt"] == 1) & states["error"].notna()]
    assert not (faulted["reply_shot"] == "serve").any()
    for rally_id, rally in list(states.groupby("rally_id", sort=False))[:200]:
        shots, hitters = list(rally["shot"]), list(rally["hitter"])
        areas, side = list(rally["landing_area"]), rally["court_side"].iat[0]
        for k in range(len(rally)):
            got = state_before("tennis", shots[:k], hitters[:k], hitters[k], areas=[None if pd.isna(a) else a
                                                                                   for a in areas[:k]],
                               court_side=None if pd.isna(side) else side)
            assert got == rally["state"].iat[k], (rally_id, k)


def test_an_annotated_table_is_not_annotated_again_unless_it_changed():
    table = load_rallies(demo_path()).table
    once = annotate_states(table)
    assert annotate_states(once) is once                      # same rule, same rows: reused
    assert annotate_states(once, zones=True) is not once      # another rule: recomputed
    fewer = once[once["match_id"] != once["match_id"].iat[0]]
    again = annotate_states(fewer)
    assert again is not fewer and len(again) == len(fewer)    # rows changed: recomputed
    pd.testing.assert_series_equal(again["state"].reset_index(drop=True), fewer["state"].reset_index(drop=True))


@pytest.mark.parametrize("first, then", [(False, True), (True, False)])
def test_switching_zones_on_an_annotated_table_equals_annotating_afresh(first, then):
    table = load_rallies(demo_path()).table
    switched = annotate_states(annotate_states(table, zones=first), zones=then)
    fresh = annotate_states(table, zones=then)
    pd.testing.assert_frame_equal(switched, fresh)
    assert switched.attrs == fresh.attrs
    if then:
        assert switched["state"].str.contains(" to ").any()      # the zones are in the labels
