"""Shared fixtures of the report tests: the demo data and one report of its first match, the ShuttleSet report of
the Denmark Open 2018 final, and helpers that redo a report's numbers independently."""

import numpy as np
import pandas as pd
import pytest

import strategist
from strategist.data.demo import demo_path

DENMARK = "Kento_MOMOTA_CHOU_Tien_Chen_Denmark_Open_2018_Finals"
HISTORY = ["shot", "hitter", "landing_area", "landing_height", "stroke"]


@pytest.fixture(scope="session")
def demo_table():
    return strategist.load_rallies(demo_path()).table


@pytest.fixture(scope="session")
def demo_report(demo_table):
    from strategist.report import build_report
    from strategist.scout.matchinfo import read_match_info

    return build_report(demo_table, data_label="shipped demo", matches=read_match_info(demo_path()))


@pytest.fixture(scope="session")
def small_table():
    """Four simulated matches: a small population for the degraded-input reports."""
    from strategist.simulate import canonical_table, simulate_matches

    return canonical_table(simulate_matches(matches=4, seed=3))


@pytest.fixture(scope="session")
def report_files(demo_report, tmp_path_factory):
    from strategist.report import write_html, write_json, write_pdf

    folder = tmp_path_factory.mktemp("report")
    return {"html": write_html(demo_report, folder / "r.html"), "pdf": write_pdf(demo_report, folder / "r.pdf"),
            "json": write_json(demo_report, folder / "r.json"), "folder": folder}


@pytest.fixture(scope="session")
def shuttleset_table(shuttleset_strokes):
    return strategist.load_rallies(shuttleset_strokes).table


@pytest.fixture(scope="session")
def denmark_report(shuttleset_table, shuttleset_strokes):
    """The report of the Denmark Open 2018 final for Kento MOMOTA (the committed example)."""
    from strategist.report import build_report
    from strategist.scout.matchinfo import read_match_info

    return build_report(shuttleset_table, DENMARK, "Kento MOMOTA", matches=read_match_info(shuttleset_strokes))


def independent_advisor(table, report):
    """An Advisor of the report's pair built here on the data without the match, with the report's model kind."""
    from strategist.advice.advisor import Advisor
    from strategist.opponent import fit_model
    from strategist.report.match import REPORT_MODEL

    m = report.meta
    without = table[table["match_id"] != m["match_id"]].reset_index(drop=True)
    return Advisor(without, m["player"], m["opponent"], model=fit_model(REPORT_MODEL, without, sport=m["sport"]))


def advice_before(advisor, table, report, decision):
    """The advice before one reviewed decision: its rally's strokes before it, as the live page asks."""
    strokes = table[table["match_id"] == report.meta["match_id"]]
    rally = strokes[(strokes["set"] == decision["set"]) & (strokes["rally"] == decision["rally"])]
    rally = rally.sort_values("stroke")
    stroke = rally[rally["stroke"] == decision["stroke"]].iloc[0]
    history = rally[rally["stroke"] < decision["stroke"]][HISTORY].astype(object)
    context = {"next": report.meta["player"]}
    for key in ("server", "court_side", "match_id"):
        if key in stroke and not pd.isna(stroke[key]):
            context[key] = str(stroke[key])
    return advisor.advise(history, context)


def given_up(advice, played):
    """Σ xᵢ·wᵢ − w(played) from the advice's options and recommended mix: (given up, w(played), x·w)."""
    options = advice.options
    x = np.array([advice.equilibrium.mix.get(s, 0.0) for s in options.index], float)
    x /= x.sum()
    w = options["win_probability"].to_numpy(float)
    wa = float(w[list(options.index).index(played)])
    return float(x @ w) - wa, wa, float(x @ w)


def given_up_interval(advice, played):
    """The 90 % interval of the decision's given-up from the options' standard errors, taken independent:
    given up ± 1.645·√(Σ xᵢ²·sdᵢ² + sd(played)²)."""
    options = advice.options
    x = np.array([advice.equilibrium.mix.get(s, 0.0) for s in options.index], float)
    x /= x.sum()
    sd = options["sd"].to_numpy(float)
    half = 1.6448536269514722 * float(np.sqrt(np.sum(x ** 2 * sd ** 2) + sd[list(options.index).index(played)] ** 2))
    up = given_up(advice, played)[0]
    return up - half, up + half


def check_stages(without, report, advised):
    """``strategist payoff``'s stage of the pair (a rally game estimated here) has the review's matrix and
    recommended mix, and the Advisor recommends that mix wherever it advises from that one situation
    (``advised``: (reviewed decision, the Advisor's advice before it))."""
    from strategist.cli.payoff_cmd import stage_dict
    from strategist.rally.game import rally_game

    m = report.meta
    game = rally_game(without, m["player"], m["opponent"], min_action_count=5, min_share=0.02, min_count=10,
                      level=0.9)
    entries = [e for e in report.decisions["per_state"] if e.get("rows")]
    assert entries
    for e in entries:
        stage = stage_dict(game, f"player: {e['state']}")
        assert e["rows"] == stage["rows"] and e["columns"] == stage["columns"]
        np.testing.assert_allclose(e["mean"], stage["mean"], rtol=1e-12)
        np.testing.assert_allclose(e["equilibrium"], [stage["recommended"]["mix"][s] for s in e["rows"]], atol=1e-12)
        assert e["basis"] == stage["recommended"]["basis"] and e["value"] == pytest.approx(stage["value"])
        g = game.index(f"player: {e['state']}")     # the player alone as recommended, the opponent as usual
        assert e["switch_value"] == pytest.approx(float(game.states["switch_value"].iat[g]))
        assert e["observed_value"] == pytest.approx(float(game.states["observed_value"].iat[g]))
    single = [(r, a) for r, a in advised if r["basis"] != "averaged"]
    assert single
    for r, advice in single:
        stage = stage_dict(game, f"player: {r['state']}")
        mix = {s: p for s, p in stage["recommended"]["mix"].items() if p > 1e-9}
        got = {s: p for s, p in advice.equilibrium.mix.items() if p > 1e-9}
        assert got.keys() == mix.keys() and got == pytest.approx(mix, abs=1e-9)
        top = dict(sorted(mix.items(), key=lambda kv: -kv[1])[:3])      # the review prints the three largest
        assert mix_of(r["recommended"]) == pytest.approx({s: p for s, p in top.items() if p >= 0.005}, abs=0.006)


def mix_of(text: str) -> dict:
    """``smash 94%, drop 2%`` -> {"smash": 0.94, "drop": 0.02}."""
    out = {}
    for part in text.split(", "):
        shot, _, share = part.rpartition(" ")
        out[shot] = float(share.rstrip("%")) / 100
    return out
