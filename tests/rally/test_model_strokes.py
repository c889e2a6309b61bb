"""The strokes the rally game is estimated from, on small tables worked by hand: each stroke's situation, action,
receiver's column, outcome and what follows it; what is left out and why; the coarser levels of every
situation; the settings and tables refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.errors import EstimationError
from strategist.rally.model import ANY_POSITION, LOSE, WIN, RallySettings, situation_annotation, strokes

SERVE, RET_SS = "serve", "return of short service (high, back)"
AFTER_NET, AFTER_LOB = "rally after net shot (high, back)", "rally after lob (high, back)"


def _rally(match, rid, shots, winner, area="8", sport="badminton"):
    """Strokes ``(shot, hitter[, opponent_area])`` of one rally won by ``winner`` (None: not recorded)."""
    rows = []
    for k, stroke in enumerate(shots, 1):
        shot, hitter = stroke[:2]
        opp_area = stroke[2] if len(stroke) > 2 else area
        opponent = {"A": "B", "B": "A"}.get(hitter, "A") if hitter is not None else "B"
        won = None if winner is None or hitter is None else hitter == winner
        rows.append({"sport": sport, "match_id": match, "rally_id": rid, "stroke": k, "hitter": hitter,
                     "opponent": opponent, "shot": shot, "landing_area": "9", "landing_height": "high",
                     "opponent_area": opp_area, "hitter_won": won})
    return rows


def _table(*rallies):
    frame = pd.DataFrame([row for r in rallies for row in r])
    frame["hitter_won"] = frame["hitter_won"].astype("boolean")
    for col in ("hitter", "opponent", "shot", "opponent_area"):
        frame[col] = frame[col].astype("string")
    return frame


BASE = (_rally("m1", "m1|1", [("short service", "A"), ("net shot", "B"), ("lob", "A")], "A"),
        _rally("m1", "m1|2", [("short service", "B"), ("net shot", "A")], "B"),
        _rally("m2", "m2|1", [("short service", "A"), ("short service", "A"), ("lob", "B"), ("smash", "A")], "A"))


def _rows(st):
    """Each usable stroke by name: (rally, hitter, receiver, situation, action, column, outcome, next situation,
    the same player hits next)."""
    f, n = st.frame, st.names
    return [(n["rally"][r["rally"]], n["person"][r["hitter"]], n["person"][r["receiver"]], n["label"][r["label"]],
             n["action"][r["action"]], n["column"][r["column"]], int(r["outcome"]),
             None if r["next_label"] < 0 else n["label"][r["next_label"]], bool(r["next_same"]))
            for r in f.to_dict("records")]


def test_every_stroke_knows_its_situation_and_what_followed():
    st = strokes(_table(*BASE), RallySettings())
    assert _rows(st) == [
        ("m1|1", "A", "B", SERVE, "short service", "middle", -1, RET_SS, False),
        ("m1|1", "B", "A", RET_SS, "net shot", "middle", -1, AFTER_NET, False),
        ("m1|1", "A", "B", AFTER_NET, "lob", "middle", WIN, None, False),
        ("m1|2", "B", "A", SERVE, "short service", "middle", -1, RET_SS, False),
        ("m1|2", "A", "B", RET_SS, "net shot", "middle", LOSE, None, False),
        ("m2|1", "A", "B", SERVE, "short service", "middle", -1, SERVE, True),      # a second serve
        ("m2|1", "A", "B", SERVE, "short service", "middle", -1, RET_SS, False),
        ("m2|1", "B", "A", RET_SS, "lob", "middle", -1, AFTER_LOB, False),
        ("m2|1", "A", "B", AFTER_LOB, "smash", "middle", WIN, None, False)]
    assert st.dropped == {}
    assert (st.frame.loc[st.frame["outcome"] >= 0, "next_label"] == -1).all()      # a rally's end: no next
    assert [st.names["match"][m] for m in st.frame["match"]] == ["m1"] * 5 + ["m2"] * 4
    assert (st.rally_rule, st.zones, st.heights, st.columns) == ("shot", True, True, "zone")
    assert st.sport.name == "badminton"
    assert list(st.names["person"]) == ["A", "B"]


def test_every_situation_knows_its_incoming_shot_group_and_phase():
    st = strokes(_table(*BASE), RallySettings())
    n = st.names
    levels = {n["label"][r["label"]]: (n["l2"][r["l2"]], n["l1"][r["l1"]], n["l0"][r["l0"]])
              for r in st.frame.to_dict("records")}
    assert levels == {SERVE: ("serve", "serve", "serve"),
                      RET_SS: ("return of short service", "return", "return"),
                      AFTER_NET: ("rally after net shot", "rally after neutral", "rally"),
                      AFTER_LOB: ("rally after lob", "rally after defence", "rally")}
    assert dict(zip(n["label"], n["phase"])) == {SERVE: "serve", RET_SS: "return", AFTER_NET: "rally",
                                                 AFTER_LOB: "rally"}
    # situations named by the incoming group: the coarser levels are still the incoming shot, then its group
    coarse = strokes(_table(*BASE), RallySettings(states="group:tactic"))
    n = coarse.names
    assert {(n["label"][r["label"]], n["l2"][r["l2"]], n["l1"][r["l1"]]) for r in coarse.frame.to_dict("records")} == {
        ("serve", "serve", "serve"), ("return of short service", "return of short service", "return"),
        ("rally after neutral", "rally after net shot", "rally after neutral"),
        ("rally after defence", "rally after lob", "rally after defence")}
    # after a shot not recorded: "unknown" at every level
    st = strokes(_table(*BASE, _rally("m3", "m3|5", [("short service", "B"), (None, "A", None), ("lob", "B")], "B")),
                 RallySettings())
    last = st.frame.iloc[-1]
    assert (st.names["label"][last["label"]], st.names["l2"][last["l2"]], st.names["l1"][last["l1"]]) == (
        "rally after unknown (high, back)", "rally after unknown", "rally after unknown")


def test_strokes_that_cannot_be_used_are_left_out_and_counted_once():
    bad = (_rally("m3", "m3|1", [("short service", "A"), ("unknown", "B"), ("clear", "A")], "A"),
           _rally("m3", "m3|2", [("short service", "B"), ("drive", "A", None)], "A"),
           _rally("m3", "m3|3", [("short service", "A"), ("lob", "B")], None),
           _rally("m3", "m3|4", [("short service", "A"), ("lob", None), ("clear", "A")], "A"),
           _rally("m3", "m3|5", [("short service", "B"), (None, "A", None), ("lob", "B")], "B"))
    table = _table(*BASE, *bad)
    st = strokes(table, RallySettings())
    assert st.dropped == {"hitter's shot unknown": 2, "receiver's position unknown": 1,
                          "last stroke of a rally whose winner is unknown": 1, "hitter or receiver unknown": 1}
    assert len(st.frame) == len(table) - 5
    rows = {(r[0], r[4]): r for r in _rows(st)}
    # the serve before a dropped stroke still goes on into the dropped stroke's situation
    assert rows[("m3|1", "short service")][6:8] == (-1, RET_SS)
    assert rows[("m3|1", "clear")][6] == WIN
    assert rows[("m3|3", "short service")][6] == -1          # its rally's winner is unknown, it went on
    assert rows[("m3|2", "short service")][6:] == (-1, RET_SS, False)
    assert rows[("m3|4", "short service")][8] is False       # the next hitter unknown: not the same player
    # the receiver's column "none": positions need not be known
    none = strokes(table, RallySettings(columns="none"))
    assert none.dropped == {"hitter's shot unknown": 2, "last stroke of a rally whose winner is unknown": 1,
                            "hitter or receiver unknown": 1}
    assert list(none.names["column"]) == [ANY_POSITION] and none.columns == "none"
    group = strokes(table, RallySettings(actions="group"))
    assert group.dropped["hitter's group unknown"] == 2
    assert set(group.names["action"]) <= {"attack", "neutral", "defence"}


def test_the_receivers_column_is_the_zone_the_area_or_nothing():
    areas = ["1", "5", "9", "0"]              # front, middle, back, and an area that is no zone
    table = _table(_rally("m1", "m1|1", [("short service", "A", areas[0]), ("net shot", "B", areas[1]),
                                         ("lob", "A", areas[2]), ("clear", "B", areas[3])], "A"))
    zone = strokes(table, RallySettings(columns="zone"))
    assert [zone.names["column"][c] for c in zone.frame["column"]] == ["front", "middle", "back"]
    assert zone.dropped == {"receiver's position unknown": 1}
    position = strokes(table, RallySettings(columns="position"))
    assert [position.names["column"][c] for c in position.frame["column"]] == areas
    assert position.columns == "position" and position.dropped == {}
    # auto: zones where at least half the strokes' areas are zones (here 3 of 4, then 2 of 4, then 1 of 4)
    assert strokes(table, RallySettings()).columns == "zone"
    half = table.assign(opponent_area=pd.array(["1", "5", "0", "0"], dtype="string"))
    assert strokes(half, RallySettings()).columns == "zone"
    few = table.assign(opponent_area=pd.array(["1", "0", "0", "0"], dtype="string"))
    auto = strokes(few, RallySettings())
    assert auto.columns == "none" and list(auto.names["column"]) == [ANY_POSITION] and auto.dropped == {}


def test_a_tennis_servers_action_is_the_serves_direction():
    rows = []
    for k, (direction, shots) in enumerate((("wide", ["serve", "forehand", "backhand"]),
                                            ("T", ["serve", "backhand"])), 1):
        for j, shot in enumerate(shots, 1):
            hitter = "A" if j % 2 else "B"
            rows.append({"sport": "tennis", "match_id": "t1", "rally_id": f"t1|{k}", "stroke": j, "hitter": hitter,
                         "opponent": "B" if hitter == "A" else "A", "shot": shot,
                         "landing_area": direction if j == 1 else "deep", "opponent_area": "baseline",
                         "court_side": "deuce", "hitter_won": (hitter == "A") if j == len(shots) else None})
    table = pd.DataFrame(rows)
    table["hitter_won"] = table["hitter_won"].astype("boolean")
    st = strokes(table, RallySettings())
    assert [st.names["action"][a] for a in st.frame["action"]] == ["wide serve", "forehand", "backhand",
                                                                  "T serve", "backhand"]
    assert st.columns == "none"
    returns = {st.names["l2"][r["l2"]] for r in st.frame.to_dict("records") if st.names["l0"][r["l0"]] == "return"}
    assert returns == {"return of wide serve", "return of T serve"}      # returns by the serve's direction
    # a serve whose direction was not recorded has no action: left out
    unknown = table.assign(landing_area=table["landing_area"].where(table.index != 3, None))
    st = strokes(unknown, RallySettings())
    assert st.dropped == {"hitter's shot unknown": 1}
    assert [st.names["action"][a] for a in st.frame["action"]] == ["wide serve", "forehand", "backhand", "backhand"]


def test_the_rally_rule_zones_and_heights_of_the_settings():
    table = _table(*BASE)
    coarse = strokes(table, RallySettings(states="group:tactic"))
    assert (coarse.rally_rule, coarse.zones, coarse.heights) == ("group:tactic", False, False)
    assert set(coarse.names["label"]) == {"serve", "return of short service", "rally after neutral",
                                          "rally after defence"}
    no_zone = strokes(table, RallySettings(zones=False))
    assert (no_zone.zones, no_zone.heights) == (False, True)
    assert set(no_zone.names["label"]) == {"serve", "return of short service (high, unknown zone)",
                                           "rally after net shot (high, unknown zone)",
                                           "rally after lob (high, unknown zone)"}
    forced = strokes(table, RallySettings(states="group:tactic", zones=True, heights=True))
    assert (forced.zones, forced.heights) == (True, True)
    assert "rally after neutral (high, back)" in set(forced.names["label"])
    no_height = strokes(table, RallySettings(heights=False))
    assert (no_height.zones, no_height.heights) == (True, False)
    assert set(no_height.names["label"]) == {"serve", "return of short service to back",
                                             "rally after net shot to back", "rally after lob to back"}
    ann = situation_annotation(table, RallySettings(heights=False))
    assert "return of short service to back" in set(ann["state"])
    assert set(situation_annotation(table)["state"]) == {SERVE, RET_SS, AFTER_NET, AFTER_LOB}
    # a table without its sport column, the sport named
    bare = situation_annotation(table.drop(columns="sport"), RallySettings(heights=False), sport="badminton")
    assert set(bare["state"]) == set(ann["state"])


def test_a_shared_annotation_gives_the_same_strokes_and_a_wrong_one_is_refused():
    table = _table(*BASE)
    settings = RallySettings()
    ann = situation_annotation(table, settings)
    assert _rows(strokes(table, settings, annotated=ann)) == _rows(strokes(table, settings))
    with pytest.raises(EstimationError, match="annotated table"):
        strokes(table, settings, annotated=ann.iloc[:-1])
    with pytest.raises(EstimationError, match="annotated table"):
        strokes(table, settings, annotated=ann.drop(columns="state"))


@pytest.mark.parametrize("change, match", [
    (dict(actions="spin"), "actions"), (dict(actions="group:nonsense"), "groupings"),
    (dict(columns="reply"), "columns"), (dict(min_share=1.0), "min_share"), (dict(min_share=-0.01), "min_share"),
    (dict(min_count=-1), "min_count"), (dict(min_action_count=0), "min_action_count")])
def test_settings_out_of_range_are_refused(change, match):
    with pytest.raises(EstimationError, match=match):
        strokes(_table(*BASE), RallySettings(**change))


def test_settings_at_the_edge_of_their_range_are_taken():
    table = _table(*BASE)
    for change in (dict(min_share=0.0), dict(min_count=0), dict(min_action_count=1), dict(actions="group"),
                   dict(actions="group:track2"), dict(columns="position")):
        assert len(strokes(table, RallySettings(**change)).frame) == 9


def test_a_grouping_after_shot_actions_is_ignored():
    table = _table(*BASE)
    assert _rows(strokes(table, RallySettings(actions="shot:no such grouping"))) == _rows(strokes(table, RallySettings()))


def test_tables_that_cannot_give_strokes_are_refused():
    table = _table(*BASE)
    for column in ("match_id", "rally_id", "stroke", "hitter", "opponent", "shot", "opponent_area", "hitter_won"):
        with pytest.raises(EstimationError, match="lacks columns"):
            strokes(table.drop(columns=column), RallySettings())
    with pytest.raises(EstimationError, match="no strokes"):
        strokes(table.iloc[:0], RallySettings())
    with pytest.raises(EstimationError, match="sport"):
        strokes(table.drop(columns="sport"), RallySettings())
    mixed = table.assign(sport=["badminton"] * 8 + ["tennis"])
    with pytest.raises(EstimationError, match="sport"):
        strokes(mixed, RallySettings())
    with pytest.raises(EstimationError):
        strokes(table, RallySettings(), sport="curling")
    # the sport named wins over the table's column
    assert len(strokes(table.drop(columns="sport"), RallySettings(), sport="badminton").frame) == 9
    assert np.isin(strokes(mixed, RallySettings(), sport="badminton").frame["outcome"], [-1, WIN, LOSE]).all()
