"""Post-match reports on the demo: every section, numbers that match an independent computation (pandas, scipy,
an Advisor and a rally game built here), self-contained HTML, a PDF that renders, a JSON of the same numbers,
degraded matches and clear errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import strategist
from strategist.data.demo import demo_path
from strategist.errors import ReportError, StrategistError
from strategist.report import build_report, write_html, write_json, write_pdf
from strategist.report.build import SECTIONS, TITLES

from .conftest import advice_before, check_stages, given_up, given_up_interval, independent_advisor, mix_of

PLAYER, OPPONENT = "Astrid NORDVIK", "Dev MALHOTRA"


def _match(table, report):
    return table[table["match_id"] == report.meta["match_id"]]


def _without(table, report):
    return table[table["match_id"] != report.meta["match_id"]]


@pytest.fixture(scope="module")
def demo_advisor(demo_table, demo_report):
    return independent_advisor(demo_table, demo_report)


# --------------------------------------------------------------------------------------------- content
def test_every_section_is_present_and_reads_one_advisor(demo_report):
    d = demo_report.to_dict()
    assert set(SECTIONS) <= set(d) and "scouting" in SECTIONS
    for name in SECTIONS:
        assert d[name]["status"] == "assessed", (name, d[name]["notes"])
    m = d["meta"]
    assert m["player"] == PLAYER and m["opponent"] == OPPONENT
    assert m["population"]["matches"] == 19 and not m["population"]["in_sample"]
    # the recommendation, the opponent model and the win probability: one Advisor of the pair, no stand-in
    assert [c["component"] for c in m["components"]] == ["recommendation", "opponent model", "win probability"]
    advisors = [c["advisor"] for c in m["components"]]
    assert advisors[0] == advisors[1] == advisors[2] and advisors[0]["player"] == PLAYER
    assert advisors[0]["model"] == d["decisions"]["model"]
    assert all("stand_in" not in c for c in m["components"]) and m["components"][2]["fallback"] is None
    assert d["decisions"]["costliest"] and d["opponent"]["patterns"] and d["minimax"]["cells"]


def test_summary_set_scores_are_the_running_score_and_counts_a_groupby(demo_table, demo_report):
    raw = pd.read_csv(demo_path(), low_memory=False)
    raw = raw[raw["match_id"] == demo_report.meta["match_id"]].sort_values(["set", "rally", "ball_round"])
    final = raw.groupby("set").tail(1).set_index("set")          # A is the match's winner: Astrid NORDVIK
    strokes = _match(demo_table, demo_report)
    last = strokes.sort_values(["set", "rally", "stroke"]).groupby("rally_id").tail(1)
    won = last.groupby(["set", "winner"]).size().unstack(fill_value=0)
    s = demo_report.summary
    assert [x["set"] for x in s["sets"]] == list(final.index)
    for row in s["sets"]:
        assert (row["player_points"], row["opponent_points"]) == (final.loc[row["set"], "roundscore_A"],
                                                                 final.loc[row["set"], "roundscore_B"])
        assert (row["rallies_won"], row["rallies_lost"]) == (won.loc[row["set"], PLAYER], won.loc[row["set"], OPPONENT])
        assert row["missing"] == 0 and row["missing_rallies"] == []
    assert s["rallies"] == strokes["rally_id"].nunique() == len(last)
    assert s["player_points"] == (last["winner"] == PLAYER).sum()
    lengths = strokes.groupby("rally_id").size()
    assert s["rally_length"]["mean"] == pytest.approx(lengths.mean()) and s["rally_length"]["max"] == lengths.max()
    for row in s["by_last_shot"]:
        sub = last[last["shot"] == row["shot"]]
        mine, won_ = sub["hitter"] == PLAYER, sub["winner"] == PLAYER
        assert row["rallies"] == len(sub)
        assert (row["player_winners"], row["player_errors"]) == ((mine & won_).sum(), (mine & ~won_).sum())
        assert (row["opponent_winners"], row["opponent_errors"]) == ((~mine & ~won_).sum(), (~mine & won_).sum())
    assert sum(r["rallies"] for r in s["by_phase"]) == sum(r["rallies"] for r in s["by_length"]) == len(last)


def test_minimax_chi2_equals_scipy_on_the_same_counts(demo_report):
    cells = demo_report.minimax["cells"]
    assert cells
    for c in cells:
        won, played = np.array(c["won"]), np.array(c["played"])
        chi2, p, df, _ = stats.chi2_contingency(np.c_[won, played - won], correction=False)
        assert c["chi2"] == pytest.approx(chi2, rel=1e-10) and c["df"] == df
        assert c["p_value"] == pytest.approx(p, rel=1e-9)
    for player in demo_report.minimax["players"]:
        mine = [c for c in cells if c["player"] == player["player"]]
        assert player["chi2"] == pytest.approx(sum(c["chi2"] for c in mine))
        assert player["p_value"] == pytest.approx(stats.chi2.sf(player["chi2"], player["df"]))


def test_minimax_counts_rallies_not_strokes(demo_table, demo_report):
    # a shot played twice in one rally in the same situation is one trial: the rally's outcome is shared
    from strategist.data.states import annotate_states

    strokes = annotate_states(_match(demo_table, demo_report), situation=True)
    repeated = []
    for c in demo_report.minimax["cells"]:
        mine = strokes[(strokes["hitter"] == c["player"]) & (strokes["state"] == c["cell"])]
        rallies = mine.groupby("shot")["rally_id"].nunique()
        won = mine[mine["hitter_won"].astype(bool)].groupby("shot")["rally_id"].nunique()
        assert c["played"] == [rallies[x] for x in c["choices"]]
        assert c["won"] == [won.get(x, 0) for x in c["choices"]]
        repeated.append(sum(c["played"]) < mine["shot"].isin(c["choices"]).sum())
    assert any(repeated)                                      # some shots repeat in a rally


def test_decision_review_equals_the_advisors_options_and_the_payoff_stage(demo_table, demo_report, demo_advisor):
    d = demo_report.decisions
    assessed = [r for r in d["all"] if r["assessed"]]
    assert d["assessed"] == len(assessed) and d["decisions"] == len(d["all"])
    assert d["decisions"] == (_match(demo_table, demo_report)["hitter"] == PLAYER).sum()
    picked = d["costliest"][:3] + assessed[::max(1, len(assessed) // 5)][:5]
    advised = []
    for r in picked:
        advice = advice_before(demo_advisor, demo_table, demo_report, r)
        up, wa, wx = given_up(advice, r["played"])
        assert advice.state == r["state"] and advice.equilibrium.basis == r["basis"]
        assert (r["given_up"], r["p_played"], r["p_recommended"]) == pytest.approx((up, wa, wx), abs=1e-12)
        assert (r["lower"], r["upper"]) == pytest.approx(given_up_interval(advice, r["played"]), abs=1e-12)
        advised.append((r, advice))
    check_stages(_without(demo_table, demo_report), demo_report, advised)
    ups = [c["given_up"] for c in d["costliest"]]
    assert ups == sorted(ups, reverse=True) and ups[0] == max(r["given_up"] for r in assessed)


def test_the_given_up_interval_reads_the_options_sd_not_their_clipped_interval():
    """A shot whose interval is clipped at 1 still counts its whole sd: the interval of the given-up is
    Σ x·w − w(played) ± 1.645·√(Σ x²·sd² + sd(played)²) with the options' sd (by hand: 0.1 ± 1.645 × 0.075)."""
    from types import SimpleNamespace

    from strategist.report.decisions import _assess

    options = pd.DataFrame({"win_probability": [0.95, 0.75], "low": [0.786, 0.668], "high": [1.0, 0.832],
                            "sd": [0.1, 0.05], "advised": [True, True], "population_share": [0.5, 0.5],
                            "reason": ["", ""]}, index=pd.Index(["rush", "lob"], name="shot"))
    advice = SimpleNamespace(options=options, equilibrium=SimpleNamespace(mix={"rush": 0.5, "lob": 0.5}, basis="x"),
                             state="s", evidence={"pairing": 0.2}, scope="pairing")
    advisor = SimpleNamespace(advise=lambda history, context: advice, min_share=0.02,
                              sport=SimpleNamespace(decisions=SimpleNamespace(serve_action="shot"), serves=()))
    r = _assess(advisor, [], {"shot": "lob"}, "P")
    half = 1.6448536269514722 * 0.075                        # √(0.5²·0.1² + 0.5²·0.05² + 0.05²)
    assert r["given_up"] == pytest.approx(0.1, abs=1e-12)
    assert (r["lower"], r["upper"]) == pytest.approx((0.1 - half, 0.1 + half), abs=1e-12)


def test_the_costliest_decisions_name_only_candidate_shots(demo_table, demo_report, demo_advisor):
    d = demo_report.decisions
    assert d["costliest"]
    for r in d["costliest"]:
        advice = advice_before(demo_advisor, demo_table, demo_report, r)
        options = advice.options
        assert r["played"] in options.index and options.loc[r["played"], "population_share"] >= 0.02
        for shot in mix_of(r["recommended"]):               # the habit may hold shots played under 5 times there
            assert options.loc[shot, "population_share"] >= 0.02, (r, shot)
            assert options.loc[shot, "advised"] or r["basis"] != "pessimistic equilibrium", (r, shot)
    # a shot that is not a candidate there is never assessed, so it is never among the costliest
    for r in d["all"]:
        if not r["assessed"] and "not a candidate" in r["reason"]:
            assert all((c["set"], c["rally"], c["stroke"]) != (r["set"], r["rally"], r["stroke"])
                       for c in d["costliest"])


def test_opponent_profile_reads_the_advisors_model_and_counts_the_baseline(demo_table, demo_report, demo_advisor):
    from strategist.opponent.base import rally_frame

    vocab = strategist.get_sport("badminton").shots
    pop = _without(demo_table, demo_report)["shot"].dropna()
    counts = pop.value_counts().reindex(list(vocab), fill_value=0).to_numpy(float)
    p = (counts + 0.5) / (counts.sum() + 0.5 * len(vocab))
    frame = rally_frame(_match(demo_table, demo_report))
    theirs = (frame["hitter"] == OPPONENT) & frame["shot"].notna()
    pred = demo_report.opponent["predictability"]
    assert pred["baseline_log_loss"] == pytest.approx(np.mean([-np.log(p[vocab.index(s)])
                                                               for s in frame.loc[theirs, "shot"]]))
    probs = np.asarray(demo_advisor.model.predict_table(frame), float)[theirs.to_numpy()]
    target = [list(demo_advisor.model.vocabulary.shots).index(s) for s in frame.loc[theirs, "shot"]]
    assert pred["model_log_loss"] == pytest.approx(-np.mean(np.log(probs[np.arange(len(target)), target])))
    assert pred["model_accuracy"] == pytest.approx(np.mean(probs.argmax(1) == target))
    assert demo_report.opponent["strokes_scored"] == theirs.sum()
    assert pred["gain"] == pytest.approx(pred["baseline_log_loss"] - pred["model_log_loss"])
    assert pred["gain_lower"] <= pred["gain"] <= pred["gain_upper"]
    for x in demo_report.opponent["patterns"]:
        assert x["count"] >= 3 and x["of"] >= 5 and x["lift"] == pytest.approx(x["rate"] / x["population_rate"])
    change = demo_report.opponent["change"]
    table = np.array([[s["counts"][g] for g in sorted(s["counts"])] for s in change["segments"]])
    expected = stats.chi2_contingency(table, correction=False)
    assert change["test"] == {"chi2": pytest.approx(expected.statistic), "df": expected.dof,
                              "p_value": pytest.approx(expected.pvalue, rel=1e-9)}
    # per segment (set): how often the model's likeliest shot, and the population's commonest, was played
    sets = frame.loc[theirs, "set"].astype(int).to_numpy()
    hits, common = probs.argmax(1) == np.array(target), np.array([vocab.index(s) == int(np.argmax(p))
                                                                   for s in frame.loc[theirs, "shot"]])
    assert len(change["segments"]) == len(set(sets)) > 1
    for seg in change["segments"]:
        part = sets == int(seg["segment"].removeprefix("set "))
        assert seg["model_accuracy"] == pytest.approx(hits[part].mean())
        assert seg["baseline_accuracy"] == pytest.approx(common[part].mean())


def test_win_probability_is_the_advisors_game_after_every_stroke(demo_table, demo_report, demo_advisor):
    strokes = _match(demo_table, demo_report)
    series = demo_report.win_probability["rallies"]
    lengths = strokes.groupby("rally_id").size()
    table = demo_advisor.game.states.set_index("state")
    assert len(series) == len(lengths) and demo_report.win_probability["values"] == "rally game"
    from_game = 0
    for r in series:
        assert len(r["points"]) == lengths[r["rally_id"]] == r["strokes"]
        for pt in r["points"]:
            label = f"{pt['next_hitter']}: {pt['next_state']}"
            if pt["source"] == "rally game":
                from_game += 1
                assert pt["p"] == pytest.approx(table.at[label, "observed_value"], abs=1e-12)
            else:
                assert label not in table.index and 0 <= pt["lower"] <= pt["p"] <= pt["upper"] <= 1
        winner = strokes.loc[strokes["rally_id"] == r["rally_id"], "winner"].iloc[0]
        assert r["outcome"] == float(winner == PLAYER)
    assert from_game > 0.8 * sum(len(r["points"]) for r in series)


def test_scouting_section_is_the_scouting_report_on_every_match(demo_table, demo_report):
    from strategist.scout import scout
    from strategist.scout.matchinfo import read_match_info

    sc = demo_report.scouting
    expected = scout(demo_table, PLAYER, OPPONENT, matches=read_match_info(demo_path())).to_dict()
    assert sc["includes_match"] and sc["scout"] == json.loads(json.dumps(expected))
    parts = sc["parts"]
    for name, part in parts.items():
        assert part["status"] == expected["sections"][name]["status"]
    assert parts["weaknesses"]["weaknesses"] == expected["summary"]["weaknesses"]
    pressure = expected["sections"]["pressure"]["rows"]
    assert [(r["in"], r["rest"], r["q"]) for r in parts["pressure"]["rows"]] == \
        [(r["in"], r["rest"], r["q"]) for r in pressure]
    assert [m["n"] for m in parts["court_maps"]["maps"]] == [m["n"] for m in expected["sections"]["court_maps"]["maps"]]
    assert parts["trends"]["status"] == "not available"      # the demo is one year and one tournament
    # head to head, this match included: rallies the opponent won against the player, counted with pandas
    last = demo_table.sort_values("stroke").groupby("rally_id").tail(1)
    h2h = last[((last["hitter"] == PLAYER) & (last["opponent"] == OPPONENT))
               | ((last["hitter"] == OPPONENT) & (last["opponent"] == PLAYER))]
    h2h = h2h[h2h["winner"].notna()]
    got = sc["scout"]["meta"]["head_to_head"]["rallies_won_by_opponent"]
    assert (got["k"], got["n"]) == ((h2h["winner"] == OPPONENT).sum(), len(h2h))
    assert demo_report.meta["match_id"] in set(h2h["match_id"])


# --------------------------------------------------------------------------------------------- outputs
def test_headings_only_where_there_is_content(demo_report, small_table):
    from strategist.report.document import Heading, blocks

    for report in (demo_report, build_report(small_table)):
        out = blocks(report)
        assert not isinstance(out[-1], Heading)
        for here, after in zip(out, out[1:]):
            if isinstance(here, Heading):
                assert not (isinstance(after, Heading) and after.level <= here.level), here.text


def test_html_is_self_contained_with_every_section(report_files, demo_report):
    text = report_files["html"].read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)
    assert not re.search(r"<script|<link|<img|@import|url\((?!#)", text, flags=re.I)   # only url(#clip)
    charts = ("rally_lengths", "mixes", "heatmap", "opponent_change", "win_probability", "court_maps")
    assert text.count("<svg") == len(charts) and all(f"<figure id=chart-{c}><svg" in text for c in charts)
    for name, title in TITLES.items():
        assert f">{title}" in text, name
    chi2 = f"{demo_report.minimax['players'][0]['chi2']:.2f}"
    assert f"<td class=n>{chi2}</td>" in text
    # the document speaks of the recommended mix and of percentage points given up
    assert "recommended mix" in text and "equilibrium mix" not in text and " pp" in text
    for title in (m["title"] for m in demo_report.scouting["parts"]["court_maps"]["maps"]):
        assert title.replace("'", "&#x27;") in text
    assert "Trends</h3>\n<p class=note>Not available:" in text


def test_pdf_renders_a_non_blank_first_page_with_the_same_numbers(report_files, demo_report):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    pdf = report_files["pdf"]
    assert pdf.read_bytes()[:5] == b"%PDF-"
    prefix = report_files["folder"] / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(prefix)], check=True)
    import matplotlib.image

    image = matplotlib.image.imread(next(report_files["folder"].glob("page*.png")))
    assert image.shape[0] > 200 and image.std() > 0.05 and (image < 0.5).mean() > 0.005
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        for title in TITLES.values():
            assert title in text
        assert f"{demo_report.minimax['players'][0]['chi2']:.2f}" in text
        # predictability in words: how often the model guessed the next shot (the log-loss only in the JSON)
        assert f"{100 * demo_report.opponent['predictability']['model_accuracy']:.1f} %" in text
        assert "nats" not in text and "log-loss" not in text


def test_json_holds_the_same_numbers(report_files, demo_report):
    loaded = json.loads(report_files["json"].read_text(encoding="utf-8"))
    assert loaded == json.loads(json.dumps(demo_report.to_dict()))
    assert "NaN" not in report_files["json"].read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------- degraded matches
def _first(table):
    return table["match_id"].iloc[0]


def _render(report, tmp_path):
    text = write_html(report, tmp_path / "r.html").read_text(encoding="utf-8")
    write_json(report, tmp_path / "r.json")
    return text


def test_missing_outcomes_give_a_report_that_says_what_it_could_not_assess(small_table, tmp_path):
    table = small_table.copy()
    m = table["match_id"] == _first(table)
    table.loc[m, "winner"] = pd.NA
    table.loc[m, "hitter_won"] = pd.NA
    r = build_report(table)
    assert r.summary["status"] == "not assessed" and "no rally of this match has a recorded winner" in \
        r.summary["notes"][0]
    assert r.minimax["status"] == "not assessed" and r.minimax["notes"]
    assert r.decisions["status"] == "assessed"          # a decision's cost needs no outcome
    assert all(x["rally_won"] is None for x in r.decisions["all"])
    assert all(x["outcome"] is None for x in r.win_probability["rallies"])
    assert "Could not assess this section." in _render(r, tmp_path)


@pytest.mark.parametrize("lacking", [1, 2])
def test_rallies_without_a_winner_are_counted_in_words(small_table, lacking):
    """One rally without a winner 'has' none and is left out as 'it'; two 'have' none and are 'them'."""
    from strategist.report import summary
    from strategist.report.match import select_match

    table = small_table.copy()
    first = _first(table)
    rallies = table.loc[table["match_id"] == first, "rally_id"].unique()[:lacking]
    table.loc[table["rally_id"].isin(rallies), ["winner", "hitter_won"]] = pd.NA
    notes = summary.summarize(select_match(table, first))["notes"]
    total = table.loc[table["match_id"] == first, "rally_id"].nunique()
    said = {1: f"1 of {total} rallies has no recorded winner", 2: f"2 of {total} rallies have no recorded winner"}
    assert notes[0].startswith(said[lacking])
    assert notes[0].endswith("leave it out" if lacking == 1 else "leave them out")


def test_a_single_rally_and_unknown_shots(small_table, tmp_path):
    table = small_table.copy()
    first = _first(table)
    rally = table.loc[table["match_id"] == first, "rally_id"].iloc[0]
    table = table[(table["match_id"] != first) | (table["rally_id"] == rally)].copy()
    in_match = table["match_id"] == first
    table.loc[in_match & (table["stroke"] > 1), "shot"] = "unknown"
    r = build_report(table)
    assert r.summary["rallies"] == 1 and any("single rally" in n for n in r.summary["notes"])
    assert any("shot not recorded" in n for n in r.decisions["notes"])
    assert r.opponent["patterns"] == [] and r.opponent["notes"]
    assert r.minimax["status"] == "not assessed"
    text = _render(r, tmp_path)
    assert "shot not recorded" in text
    write_pdf(r, tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").stat().st_size > 1000


def test_a_table_of_the_match_alone_is_estimated_in_sample_and_says_so(small_table, tmp_path):
    one = small_table[small_table["match_id"] == _first(small_table)]
    r = build_report(one, player=one["opponent"].iloc[0])
    assert r.meta["population"]["in_sample"] and "in-sample" in r.meta["notes"][0]
    assert r.meta["player"] == one["opponent"].iloc[0] and r.meta["player_chosen"] == "as asked"
    # one match is too little to compare the opponent with anyone: the scouting parts say so
    parts = r.scouting["parts"]
    assert any(p["status"] == "not available" for p in parts.values())
    text = _render(r, tmp_path)
    for p in parts.values():
        if p["status"] == "not available":
            assert f"<h3>{p['title']}</h3>\n<p class=note>Not available:" in text


# ------------------------------------------------------------------------------------------ bad inputs
def test_bad_inputs_give_clear_errors(small_table):
    with pytest.raises(ReportError, match=r"unknown match 'nope'.*candidates: Grace_OKAFOR"):
        build_report(small_table, "nope")
    with pytest.raises(ReportError, match=r"did you mean 'Grace_OKAFOR_Hiro_TAKEDA"):
        build_report(small_table, "Grace_OKAFOR_Hiro_TAKEDA_Strategist_Demo_Open_Match_2")
    with pytest.raises(ReportError, match=r"unknown player 'Nobody' in match .*candidates: .*Grace OKAFOR"):
        build_report(small_table, player="Nobody")
    with pytest.raises(ReportError, match="expected a canonical rally table"):
        build_report("strokes.csv")
    with pytest.raises(ReportError, match="lacks columns"):
        build_report(pd.DataFrame({"match_id": ["m"]}))
    with pytest.raises(ReportError, match="no strokes"):
        build_report(small_table.iloc[:0])
    with pytest.raises(ReportError, match=r"recommendation 'equilibrium': expected one of \['auto', 'advisor'\]"):
        build_report(small_table, recommendation="equilibrium")
    assert issubclass(ReportError, StrategistError)
    # the match id and the player name are matched case-insensitively
    r = build_report(small_table, _first(small_table).lower(), player="grace okafor")
    assert r.meta["player"] == "Grace OKAFOR"


# ------------------------------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    from strategist.simulate import simulate_matches, write_shuttleset

    folder = tmp_path_factory.mktemp("data")
    return write_shuttleset(simulate_matches(matches=2, seed=5), folder)[0]


def test_cli_writes_html_json_and_pdf(small_data, tmp_path, capsys):
    from strategist.cli.main import main

    out = tmp_path / "r.html"
    code = main(["report", "--data", str(small_data), "--out", str(out), "--pdf", "--player", "carmen ortiz"])
    stdout, _ = capsys.readouterr()
    assert code == 0 and "for Carmen ORTIZ" in stdout
    assert out.exists() and out.with_suffix(".json").exists() and out.with_suffix(".pdf").exists()
    numbers = json.loads(out.with_suffix(".json").read_text())
    assert numbers["meta"]["player"] == "Carmen ORTIZ" and numbers["scouting"]["opponent"] != "Carmen ORTIZ"


@pytest.mark.parametrize("argv, message", [
    (["--match", "nope"], "unknown match 'nope'"),
    (["--out", "r.txt"], "expected an .html file"),
    (["--out", "no/such/folder/r.html"], "does not exist"),
    (["--player", "Nobody"], "unknown player"),
])
def test_cli_errors_are_one_line_and_exit_2(small_data, tmp_path, monkeypatch, capsys, argv, message):
    from strategist.cli.main import main

    monkeypatch.chdir(tmp_path)
    code = main(["report", "--data", str(small_data), *argv])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_a_tennis_match_tests_minimax_serving_as_walker_wooders(shared_data, tmp_path):
    from strategist.report.match import select_match
    from strategist.report.minimax import walker_wooders_check

    table = strategist.load_rallies(shared_data / "tennis_slam_pbp" / "2011-wimbledon-points.csv.gz").table
    r = build_report(table)
    assert r.meta["sport"] == "tennis" and r.minimax["by"] == "serve direction per court side and serve number"
    ww = walker_wooders_check(select_match(table))
    expected = {(c.server, f"{c.side}, {'1st' if c.serve == 1 else '2nd'} serve"): c.chi2
                for c in ww.cells.itertuples()}
    got = {(c["player"], c["cell"]): c["chi2"] for c in r.minimax["cells"]}
    assert got.keys() == expected.keys() and got == pytest.approx(expected)
    for p in r.minimax["players"]:
        if p["cells"]:
            row = ww.servers.set_index("server").loc[p["player"]]
            assert p["chi2"] == pytest.approx(row["chi2"]) and p["p_value"] == pytest.approx(row["p_value"])
    # the first server of this match plays no other match: no Advisor of theirs, and the report says so
    text = write_html(r, tmp_path / "t.html").read_text(encoding="utf-8")
    assert r.decisions["status"] == "not assessed" and "The Advisor could not be built without this match" in text
    # said plainly, without the error's list of the data's players
    player = r.meta["player"]
    assert r.decisions["notes"] == [f"the Advisor cannot be built without this match: {player} plays no other "
                                    "match in the data, so nothing of their play is known without this one"]
    assert "no such player" not in text
    parts = r.scouting["parts"]
    assert parts["serve_return"]["status"] == "assessed" and parts["court_maps"]["status"] == "not available"
    assert "Court maps</h3>\n<p class=note>Not available: the data hold no positions in metres" in text
    # the pressure table speaks of points, the sport's word
    assert parts["pressure"]["rows"] and "Under pressure and after runs of points" in text
    assert "in their other points" in text and "rallies in a row" not in text and "other rallies" not in text


@pytest.mark.parametrize("low, high, said", [
    (0.1, 0.3, "better than a typical player's shot frequencies do, beyond chance"),
    (-0.3, -0.1, "worse than a typical player's shot frequencies in this match, beyond chance"),
    (-0.1, 0.2, "no better than a typical player's shot frequencies, within chance")])
def test_the_predictability_gain_is_said_by_where_its_interval_lies(demo_report, low, high, said):
    """The log-loss gain is said in words: above zero, below zero, or straddling it (the figures in the JSON)."""
    from dataclasses import replace

    from strategist.report.document import Para, blocks

    pred = {**demo_report.opponent["predictability"], "gain_lower": low, "gain_upper": high}
    report = replace(demo_report, opponent={**demo_report.opponent, "predictability": pred})
    text = " ".join(b.text for b in blocks(report) if isinstance(b, Para))
    assert said in text and "nats" not in text


def test_the_heat_map_caption_says_whether_the_opponents_position_is_recorded(demo_report):
    """The demo records where the receiver stands (the heat-map's columns); a game of one column says that the
    data do not record it."""
    from dataclasses import replace

    from strategist.report.document import Chart, blocks

    def caption(report):
        return next(b.caption for b in blocks(report) if isinstance(b, Chart) and b.name == "heatmap")

    assert "in which the opponent's position varies" in caption(demo_report)
    per = [{**e, "columns": e["columns"][:1], "mean": [row[:1] for row in e["mean"]],
            "counts": [row[:1] for row in e["counts"]]} if e.get("rows") else e
           for e in demo_report.decisions["per_state"]]
    one = replace(demo_report, decisions={**demo_report.decisions, "per_state": per})
    assert "the data do not record where" in caption(one) and "varies" not in caption(one)
    from strategist.report import charts

    opponent = demo_report.meta["opponent"]
    assert charts.heatmap(demo_report).axes[0].get_xlabel() == f"where {opponent} stood at contact"
    assert charts.heatmap(one).axes[0].get_xlabel() == f"where {opponent} stood is not recorded"


def test_the_per_situation_table_shows_the_player_alone_as_recommended(demo_report):
    """'P(win) as recommended' beside 'as played' is the player's recommendation against the opponent's habits
    (switch_value): the gap is what the player's own choices are worth, as the decisions' given up is."""
    from strategist.report.document import MAX_SITUATIONS, MIN_DECISIONS, Table, blocks, pct

    table = next(b for b in blocks(demo_report) if isinstance(b, Table) and "P(win) alone as recommended" in b.columns)
    at = table.columns.index("P(win) alone as recommended")
    shown = [e for e in demo_report.decisions["per_state"] if e["decisions"] >= MIN_DECISIONS][:MAX_SITUATIONS]
    assert [row[at] for row in table.rows] == [pct(e["switch_value"]) for e in shown]
    assert any(pct(e["switch_value"]) != pct(e["value"]) for e in shown)      # not both sides recommended
    assert f"{demo_report.meta['opponent']} as usual" in table.caption
