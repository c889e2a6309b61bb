"""One game behind every view: for one pair and one situation, the payoff command, the Advisor, Match prep's
tables, the policies of simulate and practice, and the post-match report all give the rally game's value and
recommended mix (issue: "a test builds all of them for one pair and state and asserts the same value and
mix")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from strategist.advice import prep
from strategist.advice.advisor import Advisor
from strategist.cli.main import main
from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.rally.game import rally_game
from strategist.rally.playout import play_out
from strategist.rally.policies import side_policy

P, O = "Astrid NORDVIK", "Dev MALHOTRA"
SITUATION = "rally after net shot (low, front)"
HISTORY = [("short service", P, "7", "low"), ("net shot", O, "1", "low")]


@pytest.fixture(scope="module")
def table():
    return load_rallies(demo_path()).table


@pytest.fixture(scope="module")
def game(table):
    return rally_game(table, P, O)


@pytest.fixture(scope="module")
def advisor(table):
    return Advisor(table, P, O, model="markov2")


def _mix(d: dict) -> dict:
    return {k: round(v, 9) for k, v in d.items() if v > 1e-9}


def test_the_advisor_reads_the_same_game(game, advisor):
    state = f"player: {SITUATION}"
    rec = game.equilibrium(state)
    advice = advisor.advise(HISTORY)
    assert advice.state == SITUATION
    assert _mix(advice.equilibrium.mix) == _mix(rec["player"])
    assert advice.value_estimate == pytest.approx(rec["value"], abs=1e-12)
    assert advice.value == pytest.approx(rec["pessimistic_value"], abs=1e-12)
    np.testing.assert_allclose(advisor.game.recommendation.realized, game.recommendation.realized, atol=1e-12)


def test_payoff_prints_the_same_stage(game, capsys):
    code = main(["payoff", "--player", P, "--opponent", O, "--state", SITUATION, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    rec = game.equilibrium(f"player: {SITUATION}")
    assert _mix(doc["recommended"]["mix"]) == _mix(rec["player"])
    assert doc["value"] == pytest.approx(rec["value"], abs=1e-12)


def test_match_prep_tables_read_the_same_game(game, advisor):
    habits = prep.habits(advisor).set_index("state")
    assert habits.loc[SITUATION, "as recommended"] == pytest.approx(game.value(f"player: {SITUATION}"))
    assert habits.loc[SITUATION, "as played"] == pytest.approx(game.observed_value(f"player: {SITUATION}"))
    values = prep.rally_values(advisor)
    assert values["serve"] == pytest.approx(game.value(game.serve_state("player")))


def test_simulate_and_practice_play_the_same_recommendation(game, capsys):
    g = game.index(f"player: {SITUATION}")
    mixes = side_policy(game, "equilibrium", "player")
    np.testing.assert_allclose(mixes[g], game.recommendation.row_strategies[g])
    out = play_out(game, "equilibrium", "equilibrium", 2000, seed=0, start=f"player: {SITUATION}")
    assert out.exact == pytest.approx(game.value(f"player: {SITUATION}"), abs=1e-9)
    code = main(["simulate", "--player", P, "--opponent", O, "--policy", "equilibrium", "--opponent-policy",
                 "equilibrium", "--start", f"P {SITUATION}", "--rallies", "1000", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["exact"] == pytest.approx(game.value(f"player: {SITUATION}"), abs=1e-9)


def test_the_report_reads_the_advisors_game(table):
    """The report's decision review and its per-situation tables come from the Advisor built on the data
    without the match: the same game as one built here on the same data."""
    from strategist.report.build import build_report
    from strategist.report.match import select_match

    match = str(table.loc[(table["hitter"] == P) & (table["opponent"] == O), "match_id"].iat[0])
    report = build_report(table, match, P)
    md = select_match(table, match, P)
    others = rally_game(md.population, P, O)
    for entry in report.decisions["per_state"]:
        if entry.get("rows") is None:
            continue
        rec = others.equilibrium(f"player: {entry['state']}")
        assert dict(zip(entry["rows"], entry["equilibrium"])) == pytest.approx(rec["player"])
        assert entry["value"] == pytest.approx(rec["value"])
