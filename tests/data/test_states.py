"""Decision states: phases, what a stroke faces, replies, and the state known before a stroke is played."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.data.states import describe_situation, annotate_states, state_before


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


def test_annotating_is_a_pure_function_of_the_table():
    table = load_rallies(demo_path()).table
    once = annotate_states(table)
    pd.testing.assert_frame_equal(annotate_states(once), once)          # annotating again changes nothing
    edited = once.copy()
    first = edited.index[(edited["phase"] == "rally").to_numpy(dtype=bool)][0]
    edited.loc[first - 1, "shot"] = "smash"                             # an in-place edit of the incoming shot
    assert annotate_states(edited).loc[first, "state"] == "rally after attack"


def test_situations_by_hand():
    """The situation is the incoming shot itself, how high it was taken and where (its landing height and
    zone); unknown parts say so; serves have none."""
    rows = [("short service", "A", "7", "low"), ("net shot", "B", "1", "high"), ("rush", "A", None, "low"),
            ("lob", "B", "13", None)]
    table = pd.DataFrame({"sport": "badminton", "rally_id": "m|1|1", "stroke": range(1, 5),
                          "shot": [r[0] for r in rows], "hitter": [r[1] for r in rows],
                          "landing_area": [r[2] for r in rows], "landing_height": [r[3] for r in rows]})
    got = annotate_states(table, situation=True)["state"].tolist()
    assert got == ["serve", "return of short service (low, front)", "rally after net shot (high, front)",
                   "rally after rush (low, unknown zone)"]
    shots, hitters = [r[0] for r in rows], [r[1] for r in rows]
    areas, heights = [r[2] for r in rows], [r[3] for r in rows]
    for k in range(4):
        assert state_before("badminton", shots[:k], hitters[:k], hitters[k], areas=areas[:k], heights=heights[:k],
                            rally="shot", zones=True, with_heights=True) == got[k]
    assert describe_situation(got[2]) == "after a net shot taken high at the front"
    assert describe_situation(got[3]) == "after a rush taken low"
    # a table that does not record heights gets situations without them
    assert annotate_states(table.assign(landing_height=None), situation=True)["state"].iat[2] == \
        "rally after net shot to front"


def test_an_empty_table_gets_every_state_column_and_no_row():
    from strategist.data.states import STATE_COLUMNS

    table = load_rallies(demo_path()).table.iloc[:0]
    out = annotate_states(table, sport="badminton", situation=True)
    assert len(out) == 0 and set(STATE_COLUMNS) <= set(out.columns)
    assert out["serve_attempt"].dtype == "Int64" and out["state"].dtype == "string"


def test_replies_serve_attempts_and_missing_values_by_hand():
    """The reply is the other player's next stroke of the same rally; a stroke whose hitter is not recorded
    has no reply from it and gives none; a serve's attempt counts the rally's serves; a missing shot faces
    'unknown'."""
    rows = [("r1", 1, "short service", "A", "7"), ("r1", 2, "net shot", "B", "1"), ("r1", 3, None, "A", "13"),
            ("r1", 4, "lob", None, "2"), ("r1", 5, "smash", "A", None),
            ("r2", 1, "long service", "B", "15"), ("r2", 2, "clear", "A", "16")]
    table = pd.DataFrame({"sport": "badminton", "rally_id": [r[0] for r in rows], "stroke": [r[1] for r in rows],
                          "shot": [r[2] for r in rows], "hitter": [r[3] for r in rows],
                          "landing_area": [r[4] for r in rows]})
    out = annotate_states(table, rally="shot")
    def plain(column):
        return [None if pd.isna(v) else v for v in out[column]]

    # stroke 4's hitter is unknown: neither the reply of stroke 3 nor a stroke with a reply
    assert plain("reply_shot") == ["net shot", None, None, None, None, "clear", None]
    assert plain("reply_area") == ["1", "13", None, None, None, "16", None]
    assert plain("serve_attempt") == [1, None, None, None, None, 1, None]
    assert out["state"].tolist() == ["serve", "return of short service", "rally after net shot", "rally after unknown",
                                     "rally after lob", "serve", "return of long service"]
