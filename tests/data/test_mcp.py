"""Match Charting Project shot codes: the grammar decoded stroke by stroke, and the real 5-match sample."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.data.mcp_codes import ShotCodeError, parse_point
from strategist.data.schema import validate


def strokes(point):
    return [(s.role, s.shot, s.serve_number, s.area, s.depth, s.error) for s in point.strokes]


def test_instruction_examples():
    p = parse_point("6f27b1*")
    assert strokes(p) == [("server", "serve", 1, "T", None, None),
                          ("receiver", "forehand", 1, "middle", "service box", None),
                          ("server", "backhand", 1, "forehand side", None, None)]
    assert (p.end, p.winner) == ("winner", "server")

    p = parse_point("5d", "4s39b3b1w@")
    assert strokes(p) == [("server", "serve", 1, "body", None, "deep"),
                          ("server", "serve", 2, "wide", None, None),
                          ("receiver", "backhand slice", 2, "backhand side", "deep", None),
                          ("server", "backhand", 2, "backhand side", None, None),
                          ("receiver", "backhand", 2, "forehand side", None, "wide")]
    assert (p.end, p.winner) == ("unforced error", "server")

    p = parse_point("4+b27v1*")
    assert p.strokes[0].tags == ["serve and volley"]
    assert [s.shot for s in p.strokes] == ["serve", "backhand", "forehand volley"]
    assert (p.end, p.winner) == ("winner", "server")

    p = parse_point("6b29C")  # the server stopped play on the return and was wrong
    assert (p.end, p.winner) == ("challenge stopped play", "receiver")


@pytest.mark.parametrize("first, second, end, winner, n", [
    ("5*", "", "ace", "server", 1),
    ("6#", "", "unreturnable", "server", 1),
    ("6f#", "", "forced error", "server", 2),
    ("6f2d@", "", "unforced error", "server", 2),
    ("4C", "", "challenge stopped play", "server", 1),
    ("4n", "6d", "double fault", "receiver", 2),
    ("4g", "0e", "double fault", "receiver", 2),
    ("6f27b1", "", "no ending recorded", "receiver", 3),
    ("6f27b1n", "", "no ending recorded", "receiver", 3),
    ("S", "", "server won (not seen)", "server", 0),
    ("R", "", "receiver won (not seen)", "receiver", 0),
    ("P", "", "penalty on server", "receiver", 0),
    ("Q", "", "penalty on receiver", "server", 0),
    ("4n", "R", "receiver won (not seen)", "receiver", 1),
    ("V", "4f1*", "winner", "receiver", 2),
    ("6q0t3*", "", "winner", "server", 3),
])
def test_endings_and_winners(first, second, end, winner, n):
    p = parse_point(first, second)
    assert (p.end, p.winner, len(p.strokes)) == (end, winner, n)


def test_lets_modifiers_and_unknowns():
    p = parse_point("cc4e", "6*")
    assert p.strokes[0].tags == ["let", "let"] and p.strokes[0].error == "unknown"
    assert (p.strokes[1].serve_number, p.end, p.winner) == (2, "ace", "server")

    p = parse_point("6f38f+1b;2v-3z^1*")
    assert [s.tags for s in p.strokes] == [[], [], ["approach"], ["net cord"], ["at net"], ["stop volley"]]
    assert [s.role for s in p.strokes] == ["server", "receiver", "server", "receiver", "server", "receiver"]
    assert p.strokes[1].depth == "short" and (p.end, p.winner) == ("winner", "receiver")

    p = parse_point("4f3+b1=s0o=2*")  # modifiers after the direction; 0 = unknown direction
    assert [s.tags for s in p.strokes[1:]] == [["approach"], ["at baseline"], [], ["at baseline"]]
    assert p.strokes[3].area is None and p.strokes[3].shot == "backhand slice"

    p = parse_point("0f8b!#")  # unknown serve direction, return depth without direction, shank forced error
    assert p.strokes[0].area is None and p.strokes[1].depth == "short" and p.strokes[1].area is None
    assert (p.strokes[2].error, p.end, p.winner) == ("shank", "forced error", "receiver")

    p = parse_point("V", "5b1*")
    assert p.strokes[0].tags == ["first serve lost to time violation"] and p.strokes[0].serve_number == 2


@pytest.mark.parametrize("first, second, cell", [
    ("6db27f+1l#", "", "1st"),   # a rally after a fault
    ("4n", "5f327f1f1s3b1*", "2nd"),  # an extra digit on the return
    ("7f1*", "", "1st"),         # no such serve direction
    ("6f1*f2", "", "1st"),       # code after the ending
    ("6f1nf2*", "", "1st"),      # a shot after an error
    ("6f27b17*", "", "1st"),     # depth on a shot that is not the return
    ("6a1*", "", "1st"),         # unknown shot letter
    ("", "", "1st"),             # nothing charted
    ("4n", "", "2nd"),           # a fault and no second serve
    ("6f1*", "5f1*", "2nd"),     # a second serve after a first serve in play
    ("S", "4f1*", "2nd"),
])
def test_malformed_codes_raise(first, second, cell):
    with pytest.raises(ShotCodeError) as caught:
        parse_point(first, second)
    assert caught.value.cell == cell


# -- the real 5-match sample -------------------------------------------------------------------------------------
def test_sample_parse_rate_and_rejections(mcp_sample):
    table, report = mcp_sample
    validate(table)
    parsed = table["rally_id"].nunique()
    assert parsed + report.rallies_rejected == 652
    assert parsed / 652 >= 0.99
    assert report.counts == {"malformed shot code": 2}  # 6db27f+1l# and 5f327f1f1s3b1*, see the README
    assert sorted(e.value for e in report.examples["malformed shot code"]) == ["5f327f1f1s3b1*", "6db27f+1l#"]


def test_sample_winners_match_pt_winner(mcp_sample, mcp_sample_path):
    raw = pd.read_csv(mcp_sample_path, dtype=str, keep_default_na=False)
    raw = raw[(raw["1st"] != "") | (raw["2nd"] != "")]
    parts = raw["match_id"].str.split("-")
    p1, p2 = parts.str[4].str.replace("_", " "), parts.str[5].str.replace("_", " ")
    recorded = dict(zip(raw["match_id"] + "|" + raw["Pt"], p1.where(raw["PtWinner"] == "1", p2)))
    points = mcp_sample.table.drop_duplicates("rally_id")
    key = points["match_id"] + "|" + points["rally"].astype("string")
    assert len(points) == 650
    assert (points["winner"].to_numpy() == key.map(recorded).to_numpy()).all()
    servers = dict(zip(raw["match_id"] + "|" + raw["Pt"], p1.where(raw["Svr"] == "1", p2)))
    assert (points["server"].to_numpy() == key.map(servers).to_numpy()).all()


def _point(table, match_prefix, pt):
    rows = table[table["match_id"].str.startswith(match_prefix) & (table["rally"] == pt)]
    return rows.sort_values("stroke")


def test_sample_points_decoded_stroke_by_stroke(mcp_sample):
    table = mcp_sample.table
    # Tour Finals final, point 1: 1st "4n", 2nd "6b19f3b2b1n@" (Federer serves, Djokovic wins)
    p = _point(table, "20151122-M-Tour_Finals-F", 1)
    assert p["hitter"].tolist() == ["Roger Federer", "Roger Federer", "Novak Djokovic", "Roger Federer",
                                    "Novak Djokovic", "Roger Federer"]
    assert p["shot"].tolist() == ["serve", "serve", "backhand", "forehand", "backhand", "backhand"]
    assert p["serve_number"].tolist() == [1, 2, 2, 2, 2, 2]
    assert p["landing_area"].tolist() == ["wide", "T", "forehand side", "backhand side", "middle", "forehand side"]
    assert p["depth"].iloc[2] == "deep" and p["depth"].drop(p.index[2]).isna().all()
    assert p["error"].iloc[0] == "net" and p["error"].iloc[-1] == "net" and p["error"].iloc[1:-1].isna().all()
    assert p["end"].iloc[-1] == "unforced error" and p["end"].iloc[:-1].isna().all()
    assert (p["winner"] == "Novak Djokovic").all()
    assert p["hitter_won"].tolist() == [False, False, True, False, True, False]
    assert (p["court_side"] == "deuce").all() and p[["hitter_score", "opponent_score"]].iloc[0].tolist() == [0, 0]

    # point 2: "5f29f1f2f3b3b3b3b2f3s3b3b1*" at 0-15: 13 strokes, the server's 13th is a winner
    p = _point(table, "20151122-M-Tour_Finals-F", 2)
    assert len(p) == 13 and p["stroke"].tolist() == list(range(1, 14))
    assert p["hitter"].iloc[-1] == "Roger Federer" and p["end"].iloc[-1] == "winner"
    assert p["shot"].iloc[10] == "backhand slice" and p["landing_area"].iloc[0] == "body"
    assert p[["hitter_score", "opponent_score"]].iloc[0].tolist() == [0, 1]
    assert p[["hitter_score", "opponent_score"]].iloc[1].tolist() == [1, 0]  # the receiver's view
    assert (p["court_side"] == "ad").all()

    # point 4: "c4b38b1f1f1f2f3n@": a let before the serve
    p = _point(table, "20151122-M-Tour_Finals-F", 4)
    assert p["tags"].iloc[0] == "let" and p["depth"].iloc[1] == "short"
    assert p["end"].iloc[-1] == "unforced error" and p["winner"].iloc[0] == "Novak Djokovic"


def test_sample_court_side_agrees_with_the_score(mcp_sample):
    """Sides come from the point's position in its game; the score (points played = sum of both counts,
    deuce resets included) must give the same parity on every point."""
    serves = mcp_sample.table[mcp_sample.table["stroke"] == 1]
    played = (serves["hitter_score"] + serves["opponent_score"]).to_numpy(dtype=int)
    assert ((played % 2 == 0) == (serves["court_side"] == "deuce").to_numpy()).all()
    assert (serves["court_side"] == "ad").sum() > 250


def test_sample_folder_is_detected_among_metadata_files(shared_data):
    from strategist.data.detect import detect

    layout, files = detect(shared_data / "tennis_mcp")
    assert layout == "mcp" and [f.name for f in files] == ["sample-points-5matches-2015.csv"]
