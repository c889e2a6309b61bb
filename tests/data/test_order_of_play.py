"""The loaders check the order of play: a serve opens a rally and comes only at its start (tennis: the server's
second serve after a fault), the hitters alternate, a rally has at most 1,000 strokes. A rally that breaks it
is rejected and counted with its reason; strict mode raises naming the row."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.data.load import load_rallies
from strategist.data.order import MAX_STROKES, order_faults
from strategist.errors import DataFormatError
from strategist.sports import get_sport

from .builders import HAND_NAMES, hand_match_rows, shuttleset_rally, write_csv, write_match_file

BADMINTON, TENNIS = get_sport("badminton"), get_sport("tennis")


@pytest.fixture
def folder(tmp_path):
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    return tmp_path


# rows 3-6 are set 1 rally 2 (A serves; strokes by A, B, A, B)
@pytest.mark.parametrize("row, change, reason, field", [
    (5, {"type": "發短球"}, "serve after the rally's start", "type"),            # a serve as stroke 3
    (5, {"player": "B"}, "same player hits twice in a row", "player"),          # B hits strokes 2 and 3
    (3, {"type": "殺球"}, "rally does not open with a serve", "type"),           # a smash opens the rally
])
def test_a_shuttleset_rally_out_of_order_is_rejected_and_strict_mode_names_the_row(folder, row, change, reason,
                                                                                 field):
    rows = hand_match_rows()
    rally = rows[row]["rally"]
    rows[row].update(change)
    path = write_csv(folder / "strokes.csv", rows)
    clean = load_rallies(write_csv(folder / "clean.csv", hand_match_rows())).table
    table, report = load_rallies(path)
    assert report.counts == {reason: 1} and report.rallies_rejected == 1
    example = report.examples[reason][0]
    assert (example.row, example.field) == (row + 2, field)
    pd.testing.assert_frame_equal(table.drop(columns="source"),
                                  clean[clean["rally_id"] != f"{rows[row]['match_id']}|1|{rally}"]
                                  .drop(columns="source").reset_index(drop=True))
    with pytest.raises(DataFormatError, match=reason) as caught:
        load_rallies(path, strict=True)
    assert (caught.value.line, caught.value.field) == (row + 2, field)


def test_a_5000_stroke_rally_is_rejected(folder):
    rows = hand_match_rows() + shuttleset_rally(hand_match_rows()[0]["match_id"], 2, 2, "A", 5000, "A", (1, 1))
    path = write_csv(folder / "strokes.csv", rows)
    table, report = load_rallies(path)
    assert report.counts == {"rally longer than 1,000 strokes": 1}
    assert report.examples["rally longer than 1,000 strokes"][0].row == len(hand_match_rows()) + 1 + MAX_STROKES + 1
    assert table.groupby("rally_id").size().max() < 10
    ok = hand_match_rows() + shuttleset_rally(hand_match_rows()[0]["match_id"], 2, 2, "A", MAX_STROKES, "A", (1, 1))
    assert load_rallies(write_csv(folder / "ok.csv", ok)).rejections.rallies_rejected == 0


def test_a_rally_opening_with_an_unknown_shot_is_kept(folder):
    rows = hand_match_rows()
    rows[3]["type"] = "未知球種"
    _, report = load_rallies(write_csv(folder / "strokes.csv", rows))
    assert report.rallies_rejected == 0


# -- the canonical layout (a match log's export): tennis' second serve ---------------------------------------------
def _tennis_rally(rally, strokes):
    """Canonical rows of one tennis point: ``strokes`` = [(hitter, shot)], Ann serving."""
    return [{"sport": "tennis", "source": "canonical", "match_id": "m", "set": "1", "game": "1", "rally": str(rally),
             "rally_id": f"m|1|{rally}", "stroke": str(k), "hitter": hitter, "opponent": "Bea" if hitter == "Ann"
             else "Ann", "shot": shot, "server": "Ann", "serve_number": "1", "winner": "Ann",
             "hitter_won": str(hitter == "Ann")} for k, (hitter, shot) in enumerate(strokes, start=1)]


def test_canonical_tennis_second_serve_is_kept_a_third_serve_and_a_double_hit_are_not(tmp_path):
    rows = (_tennis_rally(1, [("Ann", "serve"), ("Ann", "serve"), ("Bea", "forehand")])          # fault, 2nd serve
            + _tennis_rally(2, [("Ann", "serve"), ("Bea", "forehand"), ("Ann", "backhand")])
            + _tennis_rally(3, [("Ann", "serve"), ("Ann", "serve"), ("Ann", "serve")])           # a third serve
            + _tennis_rally(4, [("Ann", "serve"), ("Bea", "forehand"), ("Bea", "backhand")])     # Bea twice
            + _tennis_rally(5, [("Ann", "serve"), ("Bea", "serve")])                            # the receiver serves
            + _tennis_rally(6, [("Ann", "forehand"), ("Bea", "backhand")]))                     # no serve
    path = tmp_path / "rallies.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    table, report = load_rallies(path)
    assert sorted(table["rally"].unique()) == [1, 2]
    assert report.counts == {"serve after the rally's start": 2, "same player hits twice in a row": 1,
                             "rally does not open with a serve": 1}
    with pytest.raises(DataFormatError, match="serve after the rally's start") as caught:
        load_rallies(path, strict=True)
    assert caught.value.line == 2 + 3 + 3 + 2 and caught.value.field == "shot"   # rally 3, stroke 3


def test_the_rules_on_hand_made_sequences():
    def faults(hitters, shots, sport):
        found = order_faults([0] * len(hitters), list(hitters), shots, sport)
        return {reason: [i for i, bad in enumerate(mask) if bad] for reason, mask in found.items() if mask.any()}

    assert faults("ABAB", ["short service", "clear", "smash", "lob"], BADMINTON) == {}
    assert faults("AABA", ["short service", "short service", "clear", "lob"], BADMINTON) == \
        {"serve after the rally's start": [1]}
    assert faults("AAB", ["serve", "serve", "forehand"], TENNIS) == {}
    assert faults("AB", [None, "forehand"], TENNIS) == {}
    assert faults("AAB", ["unknown", "serve", "forehand"], TENNIS) == {}
    assert faults("ABA", ["serve", "forehand", "serve"], TENNIS) == {"serve after the rally's start": [2]}
    assert faults("AAA", ["serve", "serve", "serve"], TENNIS) == {"serve after the rally's start": [2]}
    assert faults("ABB", ["serve", "forehand", "backhand"], TENNIS) == {"same player hits twice in a row": [2]}
    assert faults("AB", ["forehand", "backhand"], TENNIS) == {"rally does not open with a serve": [0]}
    long = ("AB" * 600)[: MAX_STROKES + 5]
    assert faults(long, ["serve"] + ["forehand"] * (len(long) - 1), TENNIS) == \
        {"rally longer than 1,000 strokes": [MAX_STROKES]}
    two = order_faults([0, 0, 1, 1], list("ABBA"), ["serve", "forehand", "serve", "forehand"], TENNIS)
    assert not any(mask.any() for mask in two.values())  # a new rally may open with the other player


def test_an_mcp_point_of_more_than_1000_strokes_is_rejected(tmp_path):
    header = "match_id,Pt,Set1,Set2,Gm1,Gm2,Pts,Gm#,TbSet,Svr,1st,2nd,Notes,PtWinner"
    rows = ["20990101-M-Test-F-Ann_Ace-Bea_Break,1,0,0,0,0,0-0,1 (1),1,1,6f27b1*,,,1",
            "20990101-M-Test-F-Ann_Ace-Bea_Break,2,0,0,0,0,15-0,1 (2),1,1,4" + "f1b2" * 1200 + "*,,,1"]
    path = tmp_path / "points.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    table, report = load_rallies(path)
    assert report.counts == {"rally longer than 1,000 strokes": 1} and set(table["rally"]) == {1}
    with pytest.raises(DataFormatError, match="rally longer than 1,000 strokes") as caught:
        load_rallies(path, strict=True)
    assert (caught.value.line, caught.value.field) == (3, "1st")


def test_the_demo_and_the_real_tennis_samples_lose_no_rally_to_the_order_of_play(shared_data_or_none):
    from strategist.data.demo import demo_path

    assert load_rallies(demo_path()).rejections.rallies_rejected == 0
    if shared_data_or_none is not None:
        mcp = load_rallies(shared_data_or_none / "tennis_mcp" / "sample-points-5matches-2015.csv").rejections
        assert not {"serve after the rally's start", "same player hits twice in a row",
                    "rally does not open with a serve", "rally longer than 1,000 strokes"} & set(mcp.counts)
        assert load_rallies(shared_data_or_none / "tennis_slam_pbp").rejections.rallies_rejected == 0
