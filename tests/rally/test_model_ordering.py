"""The order of a state's rows and columns as a coach reads them: shots (or groups) in the sport's own order,
names the sport does not list after them alphabetically; zones front to back, numbered areas by number,
named areas alphabetically."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.rally.model import RallySettings, build_structure, strokes

from .pair import O, P, pair_table


@pytest.fixture(scope="module")
def table():
    return pair_table(1, 1)


@pytest.mark.parametrize("actions, grouping", [("group", "tactic"), ("group:tactic", "tactic"),
                                               ("group:track2", "track2")])
def test_groups_come_in_the_sports_order(table, actions, grouping):
    settings = RallySettings(player=P, opponent=O, actions=actions)
    st = strokes(table, settings)
    structure = build_structure(st, settings)
    order = list(st.sport.groups(grouping))
    assert set(a for rows in structure.rows for a in rows) <= set(order)
    assert any(len(rows) > 2 for rows in structure.rows)
    for rows in structure.rows:
        assert list(rows) == sorted(rows, key=order.index)


def test_numbered_areas_come_by_number(table):
    renamed = table.assign(opponent_area=table["opponent_area"].astype("string").replace({"9": "10", "8": "11"}))
    settings = RallySettings(player=P, opponent=O, columns="position")
    structure = build_structure(strokes(renamed, settings), settings)
    assert any({"10", "7"} <= set(cols) for cols in structure.columns)
    for cols in structure.columns:
        assert list(cols) == sorted(cols, key=int)


def _tennis():
    rows = []
    for k, (direction, shots, areas) in enumerate((("wide", ["serve", "forehand", "backhand"], ["net", "baseline", "alley"]),
                                                    ("T", ["serve", "backhand"], ["alley", "net"]),
                                                    ("body", ["serve", "forehand"], ["baseline", "alley"])) * 4, 1):
        for j, shot in enumerate(shots, 1):
            hitter = "A" if j % 2 else "B"
            rows.append({"sport": "tennis", "match_id": f"t{k % 2}", "rally_id": f"t|{k}", "stroke": j,
                         "hitter": hitter, "opponent": "B" if hitter == "A" else "A", "shot": shot,
                         "landing_area": direction if j == 1 else "deep", "opponent_area": areas[j - 1],
                         "court_side": "deuce", "hitter_won": (hitter == "A") if j == len(shots) else None})
    frame = pd.DataFrame(rows)
    frame["hitter_won"] = frame["hitter_won"].astype("boolean")
    return frame


def test_names_the_sport_does_not_list_come_alphabetically():
    """A tennis server's actions are the serve's directions (not shots of the sport): alphabetical; named
    court areas as columns: alphabetical."""
    settings = RallySettings(player="A", opponent="B", columns="position", min_count=1, min_share=0.0)
    structure = build_structure(strokes(_tennis(), settings), settings)
    serve = [g for g, label in enumerate(structure.labels) if label.startswith("player: serve")]
    assert serve and all(structure.rows[g] == ("T serve", "body serve", "wide serve") for g in serve)
    assert all(structure.columns[g] == ("alley", "baseline", "net") for g in serve)
    for cols in structure.columns:
        assert list(cols) == sorted(cols)


def test_one_list_of_every_kind_of_column_name_sorts_numbers_zones_then_names():
    """Numbered areas by number, then the zones front to back, then any other name alphabetically."""
    from strategist.rally.model import _natural

    names = ["back", "net", "front", "10", "alley", "3", "middle"]
    assert sorted(names, key=_natural) == ["3", "10", "front", "middle", "back", "alley", "net"]


def test_a_shot_the_sport_does_not_list_comes_after_its_shots(table):
    """One shot renamed to a name badminton does not list: in every state where it is a row, the sport's
    shots come first in their order and it comes last."""
    shot = table["shot"].astype("string").value_counts().index[0]
    renamed = table.assign(shot=table["shot"].astype("string").replace({shot: "zz trick"}))
    settings = RallySettings(player=P, opponent=O, min_count=1, min_share=0.0)
    st = strokes(renamed, settings)
    structure = build_structure(st, settings)
    order = list(st.sport.shots)
    mixed = [rows for rows in structure.rows if "zz trick" in rows and len(rows) > 1]
    assert mixed
    for rows in mixed:
        assert rows[-1] == "zz trick" and list(rows[:-1]) == sorted(rows[:-1], key=order.index)
