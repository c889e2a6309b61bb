"""The committed example: the report of the Denmark Open 2018 final (Kento MOMOTA against CHOU Tien Chen) on the
ShuttleSet copy the package ships, checked against the raw file (pandas), an Advisor and a rally game built
here without the match, and the scouting report."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from .conftest import DENMARK, advice_before, check_stages, given_up, given_up_interval, independent_advisor, mix_of

pytestmark = pytest.mark.slow
PLAYER, OPPONENT = "Kento MOMOTA", "CHOU Tien Chen"


@pytest.fixture(scope="module")
def denmark_advisor(shuttleset_table, denmark_report):
    return independent_advisor(shuttleset_table, denmark_report)


def test_set_scores_are_the_datas_running_score_with_the_missing_rallies_named(shuttleset_strokes, shuttleset_table,
                                                                              denmark_report):
    raw = pd.read_csv(shuttleset_strokes, low_memory=False)
    raw = raw[raw["match_id"] == DENMARK].sort_values(["set", "rally", "ball_round"])
    matches = pd.read_csv(shuttleset_strokes.parent / "matches_shuttleset.csv")
    assert matches.loc[matches["video"] == DENMARK, "winner"].item() == PLAYER        # player A
    final = raw.groupby("set").tail(1).set_index("set")[["roundscore_A", "roundscore_B"]]
    sets = denmark_report.summary["sets"]
    got = [(x["player_points"], x["opponent_points"]) for x in sets]
    assert got == [tuple(map(int, final.loc[k])) for k in final.index] == [(22, 20), (16, 21), (21, 15)]
    assert [x["set_winner"] for x in sets] == [PLAYER, OPPONENT, PLAYER]
    kept = shuttleset_table[shuttleset_table["match_id"] == DENMARK]
    for x in sets:
        # the score counts rallies 1..N; some the loader rejected, some the raw file never recorded
        numbers = set(range(1, x["player_points"] + x["opponent_points"] + 1))
        recorded = set(raw.loc[raw["set"] == x["set"], "rally"])
        here = set(kept.loc[kept["set"] == x["set"], "rally"])
        assert recorded <= numbers and here <= recorded
        assert x["missing_rallies"] == sorted(numbers - here) and x["missing"] == len(numbers - here)
        assert x["rallies"] == len(here)
    assert sum(x["missing"] for x in sets) == 7
    text = " ".join(denmark_report.summary["notes"])
    assert "set 1: rallies 2, 9, 24" in text and "set 2: rallies 3, 8, 14, 34" in text


def test_review_equals_the_advisors_options_and_payoffs_stage(shuttleset_table, denmark_report, denmark_advisor):
    d = denmark_report.decisions
    assessed = [r for r in d["all"] if r["assessed"]]
    single = [r for r in assessed if r["basis"] != "averaged"]
    picked = d["costliest"][:3] + single[::max(1, len(single) // 4)][:4] + assessed[::97][:3]
    advised = []
    for r in picked:
        advice = advice_before(denmark_advisor, shuttleset_table, denmark_report, r)
        up, wa, wx = given_up(advice, r["played"])
        assert advice.state == r["state"]
        assert (r["given_up"], r["p_played"], r["p_recommended"]) == pytest.approx((up, wa, wx), abs=1e-12)
        assert (r["lower"], r["upper"]) == pytest.approx(given_up_interval(advice, r["played"]), abs=1e-12)
        advised.append((r, advice))
    without = shuttleset_table[shuttleset_table["match_id"] != DENMARK].reset_index(drop=True)
    check_stages(without, denmark_report, advised)


def test_the_costliest_decisions_are_real_choices(shuttleset_table, denmark_report, denmark_advisor):
    costliest = denmark_report.decisions["costliest"]
    assert len(costliest) == 10
    for r in costliest:
        options = advice_before(denmark_advisor, shuttleset_table, denmark_report, r).options
        assert r["played"] in options.index and options.loc[r["played"], "population_share"] >= 0.02
        for shot in mix_of(r["recommended"]):
            assert options.loc[shot, "population_share"] >= 0.02, (r, shot)
            assert options.loc[shot, "advised"] or r["basis"] != "pessimistic equilibrium", (r, shot)


def test_scouting_reads_every_match_this_one_included(shuttleset_strokes, shuttleset_table, denmark_report):
    from strategist.report import render
    from strategist.scout import scout
    from strategist.scout.matchinfo import read_match_info

    sc = denmark_report.scouting
    expected = scout(shuttleset_table, PLAYER, OPPONENT, matches=read_match_info(shuttleset_strokes)).to_dict()
    assert sc["scout"] == json.loads(json.dumps(expected)) and sc["matches"] == 94
    assert expected["meta"]["head_to_head"]["matches"] == 5          # this final is one of the five
    parts = sc["parts"]
    assert all(p["status"] == "assessed" for p in parts.values())
    assert parts["weaknesses"]["weaknesses"] == expected["summary"]["weaknesses"] != []
    for key in ("serve_outcomes", "return_outcomes", "first_three"):
        assert parts["serve_return"][key] == expected["sections"]["serve_return"][key]
    assert parts["rally_length"]["rows"] == expected["sections"]["rally_length"]["by_length"]["rows"]
    years = expected["sections"]["trends"]["groupings"]["year"]
    assert parts["trends"]["groupings"]["year"]["rows"] == years["rows"] and years["order"] == ["2018", "2019"]
    text = render(denmark_report, "html").decode("utf-8")
    for sentence in expected["summary"]["weaknesses"]:
        assert sentence.replace("'", "&#x27;") in text
    for m in expected["sections"]["court_maps"]["maps"]:
        assert f"(n = {m['n']:,})" in text


def test_each_situations_row_shows_the_mix_its_decisions_were_advised(denmark_report):
    """The per-situation table and the decisions agree: a situation whose decisions the Advisor averaged (the
    match does not record how high or where the incoming shot was taken) shows that average, its value the
    game's values weighted as the Advisor weighted them; any other shows its own state's recommendation."""
    from strategist.report.decisions import mix_text
    from strategist.report.document import _mix

    d = denmark_report.decisions
    averaged = 0
    for e in d["per_state"]:
        mixes = {r["recommended"] for r in d["all"] if r["state"] == e["state"] and r["assessed"]}
        if not mixes:
            continue
        bases = {r["basis"] for r in d["all"] if r["state"] == e["state"] and r["assessed"]}
        if bases == {"averaged"}:
            averaged += 1
            assert "rows" not in e and e["averaged_over"], e["state"]
            assert sum(x["weight"] for x in e["averaged_over"]) == pytest.approx(1.0)
            assert len(mixes) == 1 and _mix(d, e) == f"{mixes.pop()} (averaged)", e["state"]
        else:
            assert "averaged" not in bases and mixes == {mix_text(e["rows"], e["equilibrium"])}, e["state"]
    assert averaged >= 5
