"""Grand Slam point-by-point loader: a hand-written match, and the real 2011 files against their README."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.data.load import load_rallies
from strategist.data.schema import validate

HEADER = ("match_id,SetNo,GameNo,PointNumber,PointWinner,PointServer,P1Score,P2Score,P1GamesWon,P2GamesWon,"
          "P1FirstSrvIn,P2FirstSrvIn,Serve_Direction,P1Ace,P2Ace,P1DoubleFault,P2DoubleFault")
# game 1 (Ann serves): 15-0 ace, 15-15, 30-15, 40-15 (second serve), 40-30, deuce, AD-40, game.
# game 13 of set 1 after 6-6 is a tiebreak: 1-0 (Bea serves, double fault), 1-1, then 0-0 / 7-6 end marker.
POINTS = """\
9999-test-1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
9999-test-1,1,1,1,1,1,15,0,0,0,1,0,3,1,0,0,0
9999-test-1,1,1,2,2,1,15,15,0,0,1,0,1,0,0,0,0
9999-test-1,1,1,3,1,1,30,15,0,0,1,0,2,0,0,0,0
9999-test-1,1,1,4,1,1,40,15,0,0,0,0,1,0,0,0,0
9999-test-1,1,1,5,2,1,40,30,0,0,1,0,3,0,0,0,0
9999-test-1,1,1,6,2,1,40,40,0,0,1,0,3,0,0,0,0
9999-test-1,1,1,7,1,1,AD,40,0,0,1,0,1,0,0,0,0
9999-test-1,1,1,8,1,1,0,0,1,0,1,0,1,0,0,0,0
9999-test-1,1,13,9,1,2,1,0,6,6,0,0,0,0,0,0,1
9999-test-1,1,13,10,2,1,1,1,6,6,1,0,2,0,0,0,0
"""


@pytest.fixture
def hand_points(tmp_path):
    path = tmp_path / "9999-test-points.csv"
    path.write_text(HEADER + "\n" + POINTS)
    (tmp_path / "9999-test-matches.csv").write_text("match_id,player1,player2\n9999-test-1,Ann Ace,Bea Break\n")
    return path


def test_hand_written_points(hand_points):
    result = load_rallies(hand_points)
    table, report = result
    assert result.layout == "slam-pbp" and result.sport.name == "tennis"
    validate(table)
    assert report.rallies_rejected == 0 and any("header rows" in n for n in report.notes)
    assert table["rally_id"].nunique() == 10
    serves = table[table["error"].isna() | (table["end"] == "double fault")].set_index("rally")
    # before-point scores, server first (points 0/15/30/40/AD -> 0..4; tiebreak points as counted)
    assert [tuple(serves.loc[p, ["hitter_score", "opponent_score"]]) for p in range(1, 9)] == \
        [(0, 0), (1, 0), (1, 1), (2, 1), (3, 1), (3, 2), (3, 3), (4, 3)]
    assert tuple(serves.loc[9, ["hitter", "hitter_score", "opponent_score", "hitter_games", "opponent_games"]]) \
        == ("Bea Break", 0, 0, 6, 6)
    assert tuple(serves.loc[10, ["hitter", "hitter_score", "opponent_score"]]) == ("Ann Ace", 1, 0)
    assert serves["court_side"].tolist() == ["deuce", "ad"] * 5
    assert serves["landing_area"].tolist()[:3] == ["T", "wide", "body"]
    assert serves.loc[1, "end"] == "ace" and serves.loc[9, "end"] == "double fault"
    assert pd.isna(serves.loc[9, "landing_area"])
    # a point played on the second serve is two strokes: the fault and the serve in play
    point4 = table[table["rally"] == 4]
    assert point4["stroke"].tolist() == [1, 2] and point4["serve_number"].tolist() == [1, 2]
    assert point4["error"].tolist()[0] == "unknown" and point4["landing_area"].tolist()[1] == "wide"
    assert serves["winner"].tolist() == ["Ann Ace", "Bea Break", "Ann Ace", "Ann Ace", "Bea Break", "Bea Break",
                                         "Ann Ace", "Ann Ace", "Ann Ace", "Bea Break"]
    assert serves["hitter_won"].tolist() == [True, False, True, True, False, False, True, True, False, False]


# -- the real data ---------------------------------------------------------------------------------------------
# README: server's point-win rate (n) by event, court side, serve number and direction
README_TABLE = {
    ("usopen", "deuce", 1): {"wide": (.734, 2624), "body": (.611, 2901), "T": (.718, 2961)},
    ("usopen", "ad", 1): {"wide": (.703, 2533), "body": (.618, 2563), "T": (.702, 2641)},
    ("usopen", "deuce", 2): {"wide": (.574, 488), "body": (.522, 3267), "T": (.553, 1272)},
    ("usopen", "ad", 2): {"wide": (.569, 1195), "body": (.525, 2962), "T": (.592, 498)},
    ("wimbledon", "deuce", 1): {"wide": (.717, 3319), "body": (.632, 633), "T": (.749, 3188)},
    ("wimbledon", "ad", 1): {"wide": (.729, 2899), "body": (.649, 555), "T": (.700, 2922)},
    ("wimbledon", "deuce", 2): {"wide": (.589, 936), "body": (.536, 1400), "T": (.559, 1195)},
    ("wimbledon", "ad", 2): {"wide": (.540, 1560), "body": (.519, 1089), "T": (.580, 765)},
}


def _points(table: pd.DataFrame) -> pd.DataFrame:
    """One row per point: its last serve row, with the event parsed from the match id."""
    last = table.drop_duplicates("rally_id", keep="last")
    return last.assign(event=last["match_id"].str.split("-").str[1])


def test_real_counts(slam_pbp):
    table, report = slam_pbp
    validate(table)
    assert table["rally_id"].nunique() == 48_399
    assert table["match_id"].nunique() == 278
    assert report.rallies_rejected == 0
    assert report.rows_read == 27_309 + 21_368
    points = _points(table)
    assert points.groupby("event").size().to_dict() == {"usopen": 27_148, "wimbledon": 21_251}


def test_real_first_and_second_serves(slam_pbp):
    points = _points(slam_pbp.table)
    counts = points.groupby(["event", "serve_number"]).size().to_dict()
    assert counts == {("usopen", 1): 16_227, ("usopen", 2): 10_921, ("wimbledon", 1): 13_517, ("wimbledon", 2): 7_734}
    rates = points.groupby(["event", "serve_number"])["hitter_won"].mean().round(2).to_dict()
    assert rates == {("usopen", 1): 0.68, ("usopen", 2): 0.48, ("wimbledon", 1): 0.72, ("wimbledon", 2): 0.49}


def test_real_serve_direction_table(slam_pbp):
    points = _points(slam_pbp.table)
    points = points[points["landing_area"].notna()]
    cells = points.groupby(["event", "court_side", "serve_number", "landing_area"])["hitter_won"].agg(["mean", "size"])
    for (event, side, serve), row in README_TABLE.items():
        for direction, (rate, n) in row.items():
            mean, size = cells.loc[(event, side, serve, direction)]
            assert size == n and round(float(mean), 3) == pytest.approx(rate, abs=1e-9), (event, side, serve, direction)


def test_real_court_side_rule_matches_serving_to(shared_data, slam_pbp):
    raw = pd.read_csv(shared_data / "tennis_slam_pbp" / "2011-usopen-points.csv.gz", dtype=str,
                      keep_default_na=False, usecols=["match_id", "PointNumber", "ServingTo"])
    raw = raw[raw["PointNumber"] != "0"]
    given = dict(zip(raw["match_id"] + "|" + raw["PointNumber"], raw["ServingTo"].map({"d": "deuce", "a": "ad"})))
    points = _points(slam_pbp.table)
    points = points[points["event"] == "usopen"]
    derived = points["match_id"] + "|" + points["rally"].astype("string")
    assert len(points) == 27_148
    assert (points["court_side"].to_numpy() == derived.map(given).to_numpy()).all()


def test_real_player_names(shared_data, slam_pbp):
    matches = pd.concat([pd.read_csv(shared_data / "tennis_slam_pbp" / f"2011-{e}-matches.csv")
                         for e in ("usopen", "wimbledon")]).set_index("match_id")
    points = _points(slam_pbp.table)
    p1 = points["match_id"].map(matches["player1"])
    p2 = points["match_id"].map(matches["player2"])
    assert ((points["hitter"] == p1) | (points["hitter"] == p2)).all()
    assert (points["hitter"] != points["opponent"]).all()
    first = points[points["match_id"] == "2011-usopen-1101"].iloc[0]
    assert (first["hitter"], first["opponent"], first["landing_area"]) == ("Novak Djokovic", "Conor Niland", "body")


def test_a_rejected_point_still_counts_for_the_next_points_score_and_side(tmp_path):
    lines = POINTS.splitlines()
    lines[3] = lines[3].replace(",1,0,2,0,0,0,0", ",1,0,9,0,0,0,0")  # point 3: serve direction 9
    path = tmp_path / "9999-test-points.csv"
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n")
    table, report = load_rallies(path)
    assert report.counts == {"bad serve direction": 1} and 3 not in set(table["rally"])
    point4 = table[(table["rally"] == 4) & (table["stroke"] == 2)].iloc[0]
    assert (point4["hitter_score"], point4["opponent_score"], point4["court_side"]) == (2, 1, "ad")
