"""Tennis: the Slam point-by-point files (serves only) and the MCP sample (whole rallies)."""

import pandas as pd
import pytest

from strategist.data.load import load_rallies
from strategist.scout import scout
from strategist.scout.matchinfo import read_match_info

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def slam(shared_data):
    path = shared_data / "tennis_slam_pbp" / "2011-wimbledon-points.csv.gz"
    return load_rallies(path).table, read_match_info(path)


def test_serves_only_sections_say_they_cannot_be_filled(slam):
    table, info = slam
    report = scout(table, "Rafael Nadal", "Novak Djokovic", matches=info)
    for name in ("weaknesses", "court_maps", "rally_length"):
        section = report.section(name)
        assert section["status"] == "not available" and section["notes"]
    assert any("one year" in n or "1 year" in n for n in report.section("trends")["notes"])
    assert report.to_json()  # JSON-ready
    # the text says so once per section, with why, and shows no empty heading of the leads it cannot have
    lines = report.to_text().splitlines()
    for title in ("Weaknesses and strengths", "Court maps", "Rally length and tempo"):
        k = lines.index(f"{title}: not available")
        assert lines[k + 1].startswith("  note: ")
    assert not any(line.strip() in ("Weaknesses:", "Strengths:", "(not available)") for line in lines)
    # serve and return is filled; what of it the serves-only data cannot give is named, once
    serve = report.section("serve_return")
    assert serve["status"] == "assessed" and "return_mix" not in serve and "first_three" not in serve
    assert [n for n in serve["notes"] if n.startswith("the return mix")] == [
        "the return mix and the first three strokes are left out: the data record serves only, not the shots "
        "after them (fewer than half the points have their ending recorded)"]


def test_break_points_and_serve_directions_equal_a_direct_computation(slam):
    table, info = slam
    opponent = "Novak Djokovic"
    report = scout(table, None, opponent, matches=info)
    t = table.sort_values(["rally_id", "stroke"])
    t = t[t["serve_number"] == t.groupby("rally_id")["serve_number"].transform("max")]
    first = t.drop_duplicates("rally_id")
    serving = first[first["hitter"] == opponent]
    served = serving[serving["winner"].notna()]
    tiebreak = (served["hitter_games"] >= 6) & (served["hitter_games"] == served["opponent_games"])
    bp = (served["opponent_score"] >= 3) & (served["opponent_score"] > served["hitter_score"]) & ~tiebreak
    row = next(r for r in report.section("pressure")["rows"] if r["situation"] == "break point against them")
    won = served["winner"] == opponent
    assert (row["in"]["k"], row["in"]["n"]) == (int(won[bp].sum()), int(bp.sum()))
    # each row's name speaks of points; its key stays the situation's
    named = {r["situation"]: r["named"] for r in report.section("pressure")["rows"]}
    assert named["break point against them"] == "break point against them"
    assert named["after losing two rallies in a row"] == "after losing two points in a row"
    mix = report.section("serve_return")["serve_mix"]["by court side"]["groups"]
    counts = pd.crosstab(serving["court_side"], serving["landing_area"])
    for side, group in mix.items():
        for direction, share in group["shares"].items():
            assert share["k"] == counts.loc[side, direction] and share["n"] == counts.loc[side].sum()
    by_number = report.section("serve_return")["serve_outcomes_by_number"]
    for r in by_number:
        part = served[(served["serve_number"].astype(str) == r["serve_number"])
                      & (served["landing_area"] == r["serve"])]
        assert (r["won"]["k"], r["won"]["n"]) == (int((part["winner"] == opponent).sum()), len(part))


def test_the_mcp_sample_has_whole_rallies_but_no_positions(shared_data):
    path = shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv"
    table = load_rallies(path).table
    player = table["hitter"].value_counts().index[0]
    with pytest.warns(UserWarning, match="year read from the match id"):  # no match list beside the sample
        report = scout(table, None, player)
    assert report.section("weaknesses")["status"] == "assessed"
    assert report.section("court_maps")["status"] == "not available"
    assert report.section("rally_length")["by_length"]["rows"][0]["band"] == "1-2"


def test_trends_speak_of_points_and_name_serves_by_their_direction(shared_data):
    path = shared_data / "tennis_slam_pbp"                       # two tournaments: a trend to test
    report = scout(load_rallies(path).table, None, "Rafael Nadal", matches=read_match_info(path))
    labels = {row["tendency"] for g in report.section("trends")["groupings"].values() for row in g["rows"]}
    assert "points won" in labels and not any("rallies" in x for x in labels)
    served = [x for x in labels if x.endswith("among their serves")]
    assert served and all(x.split()[0] in ("T", "body", "wide") and x.split()[1] == "serves" for x in served)
