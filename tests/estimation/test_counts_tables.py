"""Decision points and win counts (strategist.estimation.counts) on small rally tables built by hand: which
strokes a context keeps, the hitter's and the receiver's labels, what is dropped and why, the order of
labels and the count matrices, each against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.data.schema import conform
from strategist.errors import EstimationError
from strategist.estimation.counts import (ANY_REPLY, Context, cell_counts, decision_points, ordered_labels,
                                          table_sport, _natural)
from strategist.sports import get_sport


def _rally(match, number, strokes, first_wins, *, players=("Ann", "Bea"), side="right", sport="badminton"):
    """Rows of one rally; ``strokes``: (shot, landing_area, opponent_area) or (..., hitter index) to give the
    hitter explicitly (a second serve by the same player)."""
    rows = []
    hitter_index = 0
    for k, stroke in enumerate(strokes, start=1):
        shot, landing, position = stroke[:3]
        if len(stroke) == 4:
            hitter_index = stroke[3]
        elif k > 1:
            hitter_index = 1 - hitter_index
        hitter, opponent = players[hitter_index], players[1 - hitter_index]
        winner = players[0] if first_wins else players[1]
        rows.append({"sport": sport, "source": "constructed", "match_id": match, "set": 1, "rally": number,
                     "rally_id": f"{match}|1|{number}", "stroke": k, "hitter": hitter, "opponent": opponent,
                     "shot": shot, "landing_area": landing, "opponent_area": position, "server": players[0],
                     "court_side": side, "winner": winner, "hitter_won": winner == hitter})
    return rows


@pytest.fixture(scope="module")
def table():
    """Four badminton rallies. States by hand: strokes 1 serve; 2 return of the serve; 3+ rally after the
    incoming shot's tactical group (lob: defence, net shot: neutral, push/smash: attack)."""
    rows = []
    rows += _rally("m1", 1, [("short service", "7", "8"), ("lob", "9", "8"), ("smash", "5", "5")], True)
    rows += _rally("m1", 2, [("short service", "1", "8"), ("net shot", "2", "5"), ("lob", "3", "7"),
                             ("smash", "6", "8")], False, side="left")
    rows += _rally("m1", 3, [("long service", "9", "8"), ("clear", "3", "8")], False)
    rows += _rally("m2", 1, [("short service", "7", "7"), ("push", "6", "5"), ("drop", "8", "5")], True,
                   players=("Cleo", "Ann"), side="left")
    return conform(pd.DataFrame(rows))


def _keys(dp):
    return sorted(zip(dp.frame["rally_id"], dp.frame["stroke"]))


def test_every_stroke_of_a_table_with_known_winners_is_a_decision_point(table):
    """With positions known everywhere nothing is dropped; the frame carries the table's columns, the
    state and who won, stroke by stroke."""
    dp = decision_points(table)
    assert len(dp.frame) == len(table) == 12 and dp.dropped == {}
    assert (dp.row_kind, dp.column_kind, dp.context, dp.sport.name) == ("shot", "position", Context(), "badminton")
    assert list(dp.frame.columns) == ["match_id", "rally_id", "stroke", "hitter", "opponent", "phase", "incoming",
                                      "incoming_shot", "state", "row", "column", "won"]
    f = dp.frame.set_index(["rally_id", "stroke"])
    assert f.loc[("m1|1|2", 3), "row"] == "lob" and f.loc[("m1|1|2", 3), "column"] == "7"
    assert f.loc[("m1|1|2", 3), "hitter"] == "Ann" and f.loc[("m1|1|2", 3), "opponent"] == "Bea"
    assert f.loc[("m1|1|2", 3), "match_id"] == "m1" and f.loc[("m1|1|2", 3), "phase"] == "rally"
    assert f.loc[("m1|1|2", 3), "incoming_shot"] == "net shot"
    assert f.loc[("m1|1|2", 3), "state"] == "rally after neutral"
    assert f.loc[("m1|1|2", 4), "state"] == "rally after defence"
    assert f.loc[("m1|1|1", 2), "phase"] == "return"
    # the winner of rally m1|1|2 is Bea: she hit strokes 2 and 4
    assert list(f.loc["m1|1|2", "won"]) == [False, True, False, True]
    assert f["won"].dtype == bool


def test_stroke_windows_keep_their_ends(table):
    """first and last are both inclusive."""
    assert _keys(decision_points(table, context={"stroke": 3})) == [("m1|1|1", 3), ("m1|1|2", 3), ("m2|1|1", 3)]
    assert _keys(decision_points(table, context={"stroke": "3-4"})) == [("m1|1|1", 3), ("m1|1|2", 3),
                                                                        ("m1|1|2", 4), ("m2|1|1", 3)]
    assert _keys(decision_points(table, context={"stroke": "4+"})) == [("m1|1|2", 4)]
    assert len(decision_points(table, context=Context(last=2)).frame) == 8


def test_phase_side_and_previous_contexts(table):
    """phase keeps its phase; side the rallies served from that side (either letter case); previous a shot
    in any letter case, or a group of the default grouping or of another grouping."""
    assert _keys(decision_points(table, context="phase=return")) == [("m1|1|1", 2), ("m1|1|2", 2), ("m1|1|3", 2),
                                                                     ("m2|1|1", 2)]
    left = decision_points(table, context="side=LEFT")
    assert sorted(set(left.frame["rally_id"])) == ["m1|1|2", "m2|1|1"] and len(left.frame) == 7
    assert _keys(decision_points(table, context="previous=Net Shot")) == [("m1|1|2", 3)]
    assert _keys(decision_points(table, context="previous=Defence")) == [("m1|1|1", 3), ("m1|1|2", 4)]
    assert _keys(decision_points(table, context="previous=Push/Rush")) == [("m2|1|1", 3)]   # track2 group
    assert _keys(decision_points(table, context="previous=short service")) == [("m1|1|1", 2), ("m1|1|2", 2),
                                                                              ("m2|1|1", 2)]


def test_contexts_that_cannot_be_met_are_refused(table):
    with pytest.raises(EstimationError, match="not a badminton court side"):
        decision_points(table, context="side=deuce")
    with pytest.raises(EstimationError, match="badminton has 1 serve per point"):
        decision_points(table, context="serve=2")
    with pytest.raises(EstimationError, match="neither a badminton shot nor a group"):
        decision_points(table, context="previous=teapot")
    with pytest.raises(EstimationError, match="no strokes in context 'phase serve, stroke 2'"):
        decision_points(table, context="phase=serve, stroke=2")


def test_serve_context_keeps_the_nth_serve_of_a_tennis_point():
    """A tennis point with a second serve: serve=1 keeps the first serves, serve=2 the second; the error for a
    third serve names the plural."""
    rows = _rally("t", 1, [("serve", "T", None), ("serve", "wide", None, 0), ("forehand", "middle", None, 1),
                           ("backhand", "middle", None, 0)], True, players=("Sam", "Ria"), side="deuce",
                  sport="tennis")
    rows += _rally("t", 2, [("serve", "body", None), ("forehand", "middle", None)], False, players=("Sam", "Ria"),
                   side="ad", sport="tennis")
    table = conform(pd.DataFrame(rows))
    first = decision_points(table, rows="area", columns="none", context="serve=1")
    assert _keys(first) == [("t|1|1", 1), ("t|1|2", 1)] and list(first.frame["row"]) == ["T", "body"]
    second = decision_points(table, rows="area", columns="none", context="serve=2")
    assert _keys(second) == [("t|1|1", 2)] and list(second.frame["row"]) == ["wide"]
    assert _keys(decision_points(table, rows="area", columns="none", context="side=Ad")) == [("t|1|2", 1),
                                                                                           ("t|1|2", 2)]
    with pytest.raises(EstimationError, match="tennis has 2 serves per point"):
        decision_points(table, rows="area", columns="none", context="serve=3")


def test_row_and_column_kinds_label_each_stroke(table):
    """rows: shot, its group (tactic by default, or a named grouping), or its landing area; columns: the
    receiver's position, the reply's group or shot, or one column for every stroke."""
    key = ("m1|1|2", 2)

    def at(dp):
        f = dp.frame.set_index(["rally_id", "stroke"])
        return f.loc[key, "row"], f.loc[key, "column"]

    assert at(decision_points(table, rows="shot", columns="position")) == ("net shot", "5")
    assert at(decision_points(table, rows="group", columns="reply")) == ("neutral", "defence")
    assert at(decision_points(table, rows="group:track2", columns="reply:track2")) == ("net shot", "lob")
    assert at(decision_points(table, rows="area", columns="reply:shot")) == ("2", "lob")
    none = decision_points(table, rows="shot", columns="none")
    assert at(none) == ("net shot", ANY_REPLY) and set(none.frame["column"]) == {ANY_REPLY}
    assert len(none.frame) == 12


def test_unknown_shots_are_dropped_as_unknown_choices(table):
    """A shot recorded as 'unknown' is no choice: the stroke is dropped as the hitter's unknown shot, and as
    a reply it leaves the stroke before without a column."""
    t = table.copy()
    t.loc[(t["rally_id"] == "m1|1|2") & (t["stroke"] == 3), "shot"] = "unknown"
    dp = decision_points(t, rows="shot", columns="reply:shot")
    assert dp.dropped == {"hitter's shot unknown": 1, "no reply: the stroke ended the rally": 5}
    assert ("m1|1|2", 3) not in _keys(dp) and ("m1|1|2", 2) not in _keys(dp)
    grouped = decision_points(t, rows="group", columns="position")
    assert grouped.dropped == {"hitter's group unknown": 1}


def test_each_dropped_stroke_counts_once_under_its_first_reason(table):
    """Reasons are checked in order (winner, hitter's choice, receiver's column); a stroke failing several
    counts under the first only, and a position-less stroke under the receiver's reason."""
    t = table.copy()
    first_rally = t["rally_id"] == "m1|1|1"
    t.loc[first_rally, ["winner", "hitter_won"]] = pd.NA
    t.loc[first_rally & (t["stroke"] == 1), "landing_area"] = pd.NA      # also an unknown row label
    t.loc[(t["rally_id"] == "m1|1|3") & (t["stroke"] == 1), "landing_area"] = pd.NA
    t.loc[(t["rally_id"] == "m1|1|3") & (t["stroke"] == 1), "opponent_area"] = pd.NA
    t.loc[(t["rally_id"] == "m2|1|1") & (t["stroke"] == 2), "opponent_area"] = pd.NA
    dp = decision_points(t, rows="area", columns="position")
    assert dp.dropped == {"rally winner unknown": 3, "hitter's area unknown": 1, "receiver's position unknown": 1}
    assert len(dp.frame) == 12 - 5
    assert decision_points(t, rows="shot", columns="none").dropped == {"rally winner unknown": 3}


def test_table_sport_reads_the_single_sport_or_takes_the_one_given(table):
    assert table_sport(table).name == "badminton"
    assert table_sport(table.drop(columns="sport"), "badminton").name == "badminton"
    with pytest.raises(EstimationError, match="unknown sport|not a sport|sport"):
        table_sport(table, "quidditch")
    with pytest.raises(EstimationError, match="no sport column"):
        table_sport(table.drop(columns="sport"))
    with pytest.raises(EstimationError, match="no sport column"):
        table_sport(table.assign(sport=pd.NA))
    mixed = table.copy()
    mixed.loc[0, "sport"] = "tennis"
    with pytest.raises(EstimationError, match=r"mixes sports \['badminton', 'tennis'\]"):
        table_sport(mixed)
    partly = table.copy()
    partly.loc[0, "sport"] = pd.NA
    assert table_sport(partly).name == "badminton"


def test_a_table_without_the_needed_columns_is_refused(table):
    with pytest.raises(EstimationError, match=r"lacks columns \['opponent_area'\]"):
        decision_points(table.drop(columns="opponent_area"))


def test_selection_masks_hitter_and_opponent(table):
    """selection(): the points hit by a player and/or received by one, as a read-only mask kept per pair."""
    dp = decision_points(table)
    f = dp.frame
    np.testing.assert_array_equal(dp.selection(), np.ones(len(f), bool))
    np.testing.assert_array_equal(dp.selection("Ann"), (f["hitter"] == "Ann").to_numpy())
    np.testing.assert_array_equal(dp.selection(opponent="Ann"), (f["opponent"] == "Ann").to_numpy())
    both = dp.selection("Ann", "Cleo")
    np.testing.assert_array_equal(both, ((f["hitter"] == "Ann") & (f["opponent"] == "Cleo")).to_numpy())
    assert both.sum() == 1 and not both.flags.writeable
    assert dp.selection("Ann", "Cleo") is both
    assert not dp.selection("Nobody").any()


def test_state_codes_number_the_states_in_order_of_appearance(table):
    dp = decision_points(table)
    codes, labels = dp.state_codes()
    assert codes.dtype == np.int64
    assert [labels[c] for c in codes] == list(dp.frame["state"])
    assert labels[0] == dp.frame["state"].iat[0] and len(set(labels)) == len(labels)
    assert dp.state_codes()[0] is codes


def test_labels_follow_the_sports_order_then_the_rest_naturally():
    """Known labels in the sport's order (shots, groups of the grouping, areas), then the others with
    numbers by value before words alphabetically."""
    sport = get_sport("badminton")
    assert ordered_labels(["smash", "lob", "zzz", "aaa", None, "lob"], "shot", None, sport) == \
        ["lob", "smash", "aaa", "zzz"]
    assert ordered_labels(["lob", "clear"], "reply", "shot", sport) == ["lob", "clear"]
    assert ordered_labels(["attack", "neutral", "x"], "group", None, sport) == ["neutral", "attack", "x"]
    assert ordered_labels(["lob", "push/rush", "net shot"], "group", "track2", sport) == \
        ["net shot", "lob", "push/rush"]
    assert ordered_labels(["9", "1", "20", "17", "b", "a", "7"], "area", None, sport) == \
        ["1", "7", "9", "17", "20", "a", "b"]
    assert ordered_labels(["9", "1", "20", "17", "b", "a"], "position", None, sport) == \
        ["1", "9", "17", "20", "a", "b"]
    assert ordered_labels(["anything"], "none", None, sport) == [ANY_REPLY]
    assert _natural("12") == (0, 12, "") and _natural("x") == (1, 0, "x")


def test_cell_counts_by_hand():
    """wins and counts per (row, column) cell, with and without weights, zero where no point falls."""
    rows, cols, won = np.array([0, 0, 1, 1, 1]), np.array([1, 1, 0, 2, 2]), np.array([1, 0, 1, 1, 0])
    wins, counts = cell_counts(rows, cols, won, (2, 3))
    np.testing.assert_array_equal(counts, [[0, 2, 0], [1, 0, 2]])
    np.testing.assert_array_equal(wins, [[0, 1, 0], [1, 0, 1]])
    w = np.array([0.5, 2.0, 1.0, 3.0, 0.25])
    wins, counts = cell_counts(rows, cols, won.astype(bool), (3, 3), weights=w)
    np.testing.assert_allclose(counts, [[0, 2.5, 0], [1.0, 0, 3.25], [0, 0, 0]])
    np.testing.assert_allclose(wins, [[0, 0.5, 0], [1.0, 0, 3.0], [0, 0, 0]])


def test_filters_combine_with_those_before_them(table):
    """side, serve and previous narrow what stroke numbers and phase already kept, they do not replace it."""
    assert _keys(decision_points(table, context="side=left, phase=return")) == [("m1|1|2", 2), ("m2|1|1", 2)]
    assert _keys(decision_points(table, context="previous=lob, stroke=4")) == [("m1|1|2", 4)]
    unknown_side = table.copy()
    unknown_side.loc[unknown_side["rally_id"] == "m1|1|1", "court_side"] = pd.NA
    assert _keys(decision_points(unknown_side, context="stroke=2-3, side=right")) == [("m1|1|3", 2)]
    rows = _rally("t", 1, [("serve", "T", None), ("forehand", "middle", None)], True, players=("Sam", "Ria"),
                  side="deuce", sport="tennis")
    rows += _rally("t", 2, [("serve", "body", None), ("forehand", "middle", None)], False, players=("Sam", "Ria"),
                   side="ad", sport="tennis")
    tennis = conform(pd.DataFrame(rows))
    assert _keys(decision_points(tennis, rows="area", columns="none", context="side=ad, serve=1")) == [("t|1|2", 1)]


def test_a_shot_named_as_previous_is_that_shot_not_a_group_of_the_same_name(table):
    """previous= a shot means that shot alone, in any letter case, even where a grouping has a group that
    holds it under a shorter name (track2's 'net shot' holds the cross-court net shot)."""
    t = table.copy()
    t.loc[(t["rally_id"] == "m1|1|2") & (t["stroke"] == 2), "shot"] = "cross-court net shot"
    assert _keys(decision_points(t, context="previous=Cross-Court Net Shot")) == [("m1|1|2", 3)]
    with pytest.raises(EstimationError, match="no strokes in context 'after net shot'"):
        decision_points(t, context="previous=net shot")


def test_a_group_name_is_read_in_the_default_grouping_first():
    """When two groupings have a group of the same name, previous= means the default grouping's (tactic),
    whatever the other grouping is called."""
    from strategist.estimation.counts import _matches_previous

    groupings = {"alpha": {"smash": "fast", "drop": "slow"}, "tactic": {"drop": "fast", "smash": "slow"},
                 "zulu": {"smash": "fast", "drop": "fast"}}
    sport = type("Stub", (), {
        "name": "stub", "shots": ("smash", "drop"), "groupings": groupings,
        "groups": staticmethod(lambda g: tuple(dict.fromkeys(groupings[g].values()))),
        "group": staticmethod(lambda s, g: s.map(groupings[g])),
    })()
    previous = pd.Series(["smash", "drop", "drop"], dtype="string")
    assert _matches_previous(previous, "Fast", sport).tolist() == [False, True, True]


def test_kinds_are_read_in_any_letter_case_and_a_wrong_one_is_named(table):
    """rows='SHOT' is rows='shot'; a kind that is not allowed names the argument it was given for."""
    assert len(decision_points(table, rows="SHOT", columns="Position").frame) == 12
    with pytest.raises(EstimationError, match=r"^rows 'position' is not one of"):
        decision_points(table, rows="position")
    with pytest.raises(EstimationError, match=r"^columns 'shot' is not one of"):
        decision_points(table, columns="shot")


def test_the_sport_given_stands_for_a_table_without_a_sport_column(table):
    dp = decision_points(table.drop(columns="sport"), sport="badminton")
    assert dp.sport.name == "badminton" and len(dp.frame) == 12
    assert dp.frame["state"].iat[0] == "serve"


def test_won_stays_boolean_when_some_winners_are_unknown(table):
    t = table.copy()
    t.loc[t["rally_id"] == "m1|1|3", ["winner", "hitter_won"]] = pd.NA
    dp = decision_points(t)
    assert dp.frame["won"].dtype == bool and len(dp.frame) == 10


def test_selection_of_a_hitter_and_a_receiver_needs_both(table):
    """selection(hitter, opponent): Bea's strokes at Ann, not every stroke Ann received."""
    dp = decision_points(table)
    f = dp.frame
    mask = dp.selection("Bea", "Ann")
    np.testing.assert_array_equal(mask, ((f["hitter"] == "Bea") & (f["opponent"] == "Ann")).to_numpy())
    assert mask.sum() < dp.selection(opponent="Ann").sum()


def test_labels_outside_the_sports_order_sort_as_numbers_then_words():
    """Known areas in the sport's order (7 before 2), the rest numbers by value (20 before 100) then words."""
    sport = get_sport("badminton")
    for kind in ("area", "position"):
        assert ordered_labels(["2", "7", "5", "100", "20", "b", "a"], kind, None, sport) == \
            ["7", "2", "5", "20", "100", "a", "b"]
