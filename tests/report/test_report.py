"""Post-match reports: every section, numbers that match an independent computation, self-contained HTML,
a PDF that renders, a JSON of the same numbers, degraded matches and clear errors."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import strategist
from strategist.errors import ReportError, StrategistError
from strategist.report import build_report, write_html, write_json, write_pdf
from strategist.report.build import SECTIONS, TITLES


def _installed(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _match(table, report):
    return table[table["match_id"] == report.meta["match_id"]]


def _without(table, report):
    return table[table["match_id"] != report.meta["match_id"]]


# --------------------------------------------------------------------------------------------- content
def test_every_section_is_present_and_assessed(demo_report):
    d = demo_report.to_dict()
    assert set(SECTIONS) <= set(d)
    for name in SECTIONS:
        assert d[name]["status"] == "assessed", (name, d[name]["notes"])
    m = d["meta"]
    assert m["player"] == "Astrid NORDVIK" and m["opponent"] == "Dev MALHOTRA"
    assert m["population"]["matches"] == 19 and not m["population"]["in_sample"]
    # every model-based part says what it used, and a stand-in is used exactly when its package is missing
    packages = {"recommendation": "strategist.advice.advisor", "opponent model": "strategist.opponent",
                "win probability": "strategist.rally.game"}
    assert [c["component"] for c in m["components"]] == list(packages)
    for c in m["components"]:
        assert c["stand_in"] == (not _installed(packages[c["component"]])), c
    assert d["decisions"]["costliest"] and d["opponent"]["patterns"] and d["minimax"]["cells"]


def test_summary_counts_equal_a_groupby(demo_table, demo_report):
    strokes = _match(demo_table, demo_report)
    last = strokes.sort_values(["set", "rally", "stroke"]).groupby("rally_id").tail(1)
    s = demo_report.summary
    assert s["rallies"] == strokes["rally_id"].nunique() == len(last)
    per_set = last.groupby(["set", "winner"]).size().unstack(fill_value=0)
    for row in s["sets"]:
        assert row["player_points"] == per_set.loc[row["set"], "Astrid NORDVIK"]
        assert row["opponent_points"] == per_set.loc[row["set"], "Dev MALHOTRA"]
    assert s["player_points"] == (last["winner"] == "Astrid NORDVIK").sum()
    lengths = strokes.groupby("rally_id").size()
    assert s["rally_length"]["mean"] == pytest.approx(lengths.mean())
    assert s["rally_length"]["max"] == lengths.max()
    by_shot = last.groupby("shot").agg(n=("winner", "size"),
                                       pw=("winner", lambda w: 0))  # placeholder column for the shape
    for row in s["by_last_shot"]:
        sub = last[last["shot"] == row["shot"]]
        mine, won = sub["hitter"] == "Astrid NORDVIK", sub["winner"] == "Astrid NORDVIK"
        assert row["rallies"] == by_shot.loc[row["shot"], "n"]
        assert (row["player_winners"], row["player_errors"]) == ((mine & won).sum(), (mine & ~won).sum())
        assert (row["opponent_winners"], row["opponent_errors"]) == ((~mine & ~won).sum(), (~mine & won).sum())
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


def test_minimax_serve_counts_equal_the_raw_serves(demo_table, demo_report):
    # the serve is stroke 1 of every rally: its counts need no decision states
    strokes = _match(demo_table, demo_report)
    serves = strokes[(strokes["stroke"] == 1) & (strokes["hitter"] == "Astrid NORDVIK")]
    counts = serves.groupby("shot")["hitter_won"].agg(["size", "sum"])
    cell = next(c for c in demo_report.minimax["cells"] if c["player"] == "Astrid NORDVIK" and c["cell"] == "serve")
    for choice, n, w in zip(cell["choices"], cell["played"], cell["won"]):
        assert (n, w) == (counts.loc[choice, "size"], counts.loc[choice, "sum"])


@pytest.fixture(scope="session")
def equilibrium_report(demo_table, demo_report):
    """The demo report with the equilibrium as the recommendation (the default when no Advisor is installed)."""
    if demo_report.decisions["recommender"] == "equilibrium":
        return demo_report
    return build_report(demo_table, recommendation="equilibrium")


def test_minimax_counts_rallies_not_strokes(demo_table, demo_report):
    # a shot played twice in one rally in the same state is one trial: the rally's outcome is shared
    from strategist.data.states import annotate_states

    strokes = annotate_states(_match(demo_table, demo_report))
    cell = next(c for c in demo_report.minimax["cells"]
                if c["player"] == "Astrid NORDVIK" and c["cell"] == "rally after attack")
    mine = strokes[(strokes["hitter"] == "Astrid NORDVIK") & (strokes["state"] == "rally after attack")]
    rallies = mine.groupby("shot")["rally_id"].nunique()
    won = mine[mine["hitter_won"].astype(bool)].groupby("shot")["rally_id"].nunique()
    assert cell["played"] == [rallies[c] for c in cell["choices"]]
    assert cell["won"] == [won.get(c, 0) for c in cell["choices"]]
    assert sum(cell["played"]) < (mine["shot"].isin(cell["choices"])).sum()   # some shots repeat in a rally


def test_decision_review_matches_estimate_payoff_without_the_match(demo_table, equilibrium_report):
    d = equilibrium_report.decisions
    assert d["recommender"] == "equilibrium" and "stand-in" in d["recommendation_source"]
    entry = d["per_state"][0]
    est = strategist.estimate_payoff(_without(demo_table, equilibrium_report), hitter="Astrid NORDVIK",
                                     state=entry["state"])
    sol = est.solve()
    assert entry["rows"] == list(est.row_labels)
    np.testing.assert_allclose(entry["mean"], est.mean, rtol=1e-12)
    assert entry["value"] == pytest.approx(sol.value)
    costly = [c for c in d["costliest"] if c["state"] == entry["state"]][0]
    a = list(est.row_labels).index(costly["played"])
    ay = est.mean @ sol.column_strategy
    assert costly["given_up"] == pytest.approx(sol.value - ay[a])
    assert costly["lower"] <= costly["given_up"] <= costly["upper"]
    # the costliest list is sorted and every given-up value is >= 0 (the equilibrium is a best response to y*)
    ups = [c["given_up"] for c in d["costliest"]]
    assert ups == sorted(ups, reverse=True) and min(r["given_up"] for r in d["all"] if r["assessed"]) >= 0
    assert d["assessed"] == sum(r["assessed"] for r in d["all"]) and d["decisions"] == len(d["all"])
    assert d["decisions"] == (_match(demo_table, equilibrium_report)["hitter"] == "Astrid NORDVIK").sum()


def test_the_packages_are_used_when_installed(demo_report, demo_table):
    d, o, w = demo_report.decisions, demo_report.opponent, demo_report.win_probability
    if _installed("strategist.advice.advisor"):
        assert d["recommender"] == "advisor" and d["assessed"] > 0.8 * d["decisions"]
        assert all(np.isfinite(r["given_up"]) for r in d["all"] if r["assessed"])
    else:
        with pytest.raises(ReportError, match="advice package .* not installed"):
            build_report(demo_table, recommendation="advisor")
    assert o["model_source"] == ("package" if _installed("strategist.opponent") else "own")
    if _installed("strategist.rally.game"):
        assert w["values"] == "rally game"
        points = [pt for r in w["rallies"] for pt in r["points"]]
        assert sum(pt["source"] == "rally game" for pt in points) > 0.8 * len(points)
        assert all(0 <= pt["p"] <= 1 for pt in points)
    else:
        assert w["values"] == "empirical"
    with pytest.raises(ReportError, match="recommendation 'best'"):
        build_report(demo_table, recommendation="best")


def test_opponent_baseline_log_loss_by_counting(demo_table, demo_report):
    vocab = strategist.get_sport("badminton").shots
    pop = _without(demo_table, demo_report)["shot"].dropna()
    counts = pop.value_counts().reindex(list(vocab), fill_value=0).to_numpy(float)
    p = (counts + 0.5) / (counts.sum() + 0.5 * len(vocab))
    mine = _match(demo_table, demo_report)
    theirs = mine.loc[(mine["hitter"] == "Dev MALHOTRA") & mine["shot"].notna(), "shot"]
    expected = float(np.mean([-np.log(p[vocab.index(s)]) for s in theirs]))
    pred = demo_report.opponent["predictability"]
    assert pred["baseline_log_loss"] == pytest.approx(expected)
    assert demo_report.opponent["strokes_scored"] == len(theirs)
    assert pred["gain"] == pytest.approx(pred["baseline_log_loss"] - pred["model_log_loss"])
    assert pred["gain_lower"] <= pred["gain"] <= pred["gain_upper"]
    for x in demo_report.opponent["patterns"]:
        assert x["count"] >= 3 and x["of"] >= 5 and x["lift"] == pytest.approx(x["rate"] / x["population_rate"])
    change = demo_report.opponent["change"]
    table = np.array([[s["counts"][g] for g in sorted(s["counts"])] for s in change["segments"]])
    assert change["test"]["chi2"] == pytest.approx(stats.chi2_contingency(table, correction=False)[0])


def test_win_probability_follows_every_stroke(demo_table, demo_report):
    strokes = _match(demo_table, demo_report)
    series = demo_report.win_probability["rallies"]
    lengths = strokes.groupby("rally_id").size()
    assert len(series) == len(lengths)
    for r in series:
        assert len(r["points"]) == lengths[r["rally_id"]] == r["strokes"]
        for pt in r["points"]:
            assert 0 <= pt["p"] <= 1
            if pt["lower"] is not None:          # the rally game's values come without an interval
                assert 0 <= pt["lower"] <= pt["p"] <= pt["upper"] <= 1
        winner = strokes.loc[strokes["rally_id"] == r["rally_id"], "winner"].iloc[0]
        assert r["outcome"] == float(winner == "Astrid NORDVIK")


# --------------------------------------------------------------------------------------------- outputs
def test_html_is_self_contained_with_every_section(report_files, demo_report):
    text = report_files["html"].read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)
    assert not re.search(r"<script|<link|<img|@import|url\((?!#)", text, flags=re.I)   # only url(#clip)
    charts = ("rally_lengths", "mixes", "heatmap", "opponent_change", "win_probability")
    assert text.count("<svg") == len(charts) and all(f"<figure id=chart-{c}><svg" in text for c in charts)
    for title in TITLES.values():
        assert f">{title}<" in text
    chi2 = f"{demo_report.minimax['players'][0]['chi2']:.2f}"
    assert f"<td class=n>{chi2}</td>" in text


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
        assert f"{demo_report.opponent['predictability']['gain']:.3f}" in text


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


def test_a_table_of_the_match_alone_is_estimated_in_sample_and_says_so(small_table):
    one = small_table[small_table["match_id"] == _first(small_table)]
    r = build_report(one, player=one["opponent"].iloc[0])
    assert r.meta["population"]["in_sample"] and "in-sample" in r.meta["notes"][0]
    assert r.meta["player"] == one["opponent"].iloc[0] and r.meta["player_chosen"] == "as asked"


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
    assert json.loads(out.with_suffix(".json").read_text())["meta"]["player"] == "Carmen ORTIZ"


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
    assert r.decisions["status"] == "assessed"
    assert {e["state"] for e in r.decisions["per_state"]} <= {"serve (deuce, 1st serve)", "serve (ad, 1st serve)",
                                                             "serve (deuce, 2nd serve)", "serve (ad, 2nd serve)"}
    assert "Could not assess" not in write_html(r, tmp_path / "t.html").read_text(encoding="utf-8")
