"""``strategist payoff`` on the shipped demo and on written files; bad requests exit 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from strategist.cli.main import main
from strategist.estimation import estimate_payoff
from strategist.simulate import canonical_table, simulate_matches, write_shuttleset


def _run(capsys, *argv):
    code = main(["payoff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_runs_on_the_demo_and_prints_matrix_report_and_solution(capsys):
    code, out, err = _run(capsys, "--rows", "group", "--context", "stroke=2+")
    assert code == 0 and err == ""
    assert "(simulated demo)" in out and "context: stroke >= 2" in out
    assert "== State: rally after attack ==" in out and "spans 5 decision states" in out
    assert "attack" in out and "[" in out and "front, centre" in out  # court areas by name
    assert "decision points:" in out and "Hitter's minimax mix" in out and "Value" in out
    assert max(map(len, out.splitlines())) <= 100


def test_json_agrees_with_the_python_api(capsys, tmp_path):
    matches = simulate_matches(matches=4, seed=3)
    write_shuttleset(matches, tmp_path, seed=3)
    code, out, _ = _run(capsys, "--data", str(tmp_path / "strokes.csv.gz"), "--rows", "group", "--json")
    assert code == 0
    doc = json.loads(out)
    direct = estimate_payoff(canonical_table(matches), rows="group", columns="position")
    np.testing.assert_allclose(doc["estimate"]["mean"], direct.mean, rtol=1e-12)
    assert doc["estimate"]["counts"] == direct.counts.tolist()
    solution = direct.solve()
    assert doc["solution"]["value"] == pytest.approx(solution.value, abs=1e-9)
    assert set(doc["solution"]["row_strategy"]) == set(direct.row_labels)
    assert doc["bootstrap"] is None and doc["demo"] is False


def test_player_pairing_with_bootstrap(capsys):
    code, out, _ = _run(capsys, "--player", "Astrid NORDVIK", "--opponent", "bao thanh le", "--rows", "group",
                        "--bootstrap", "40", "--seed", "1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["estimate"]["settings"]["hitter"] == "Astrid NORDVIK"
    assert doc["estimate"]["settings"]["opponent"] == "Bao Thanh LE"
    boot = doc["bootstrap"]
    assert boot["replicates"] == 40 and boot["scheme"] == "match"
    assert boot["value"]["lower"] <= boot["value"]["upper"]
    code, text, _ = _run(capsys, "--player", "Astrid NORDVIK", "--rows", "group", "--bootstrap", "20")
    assert code == 0 and "bootstrap interval" in text and "shrinkage toward the population matrix" in text


@pytest.mark.parametrize("argv,message", [
    (["--player", "Nobody Known"], "unknown player 'Nobody Known'"),
    (["--context", "stroke=500"], "no strokes in context"),
    (["--context", "previous=teapot"], "previous='teapot'"),
    (["--prior", "-2"], "prior strength"),
    (["--prior", "often"], "prior 'often' is not understood"),
    (["--rows", "colour"], "rows 'colour'"),
    (["--bootstrap", "1"], "replicates"),
    (["--data", "/nonexistent/strokes.csv.gz"], "nonexistent"),
])
def test_bad_requests_exit_2_with_one_line(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("strategist: error:") and err.count("\n") == 1
    assert message in err


def test_every_recommended_action_shows_its_own_count_and_unobserved_actions_are_flagged(capsys):
    table = canonical_table(simulate_matches(matches=20, seed=0))
    code, out, _ = _run(capsys, "--player", "Astrid NORDVIK", "--state", "rally after defence", "--json")
    doc = json.loads(out)
    direct = estimate_payoff(table, hitter="Astrid NORDVIK", state="rally after defence")
    mine = table[(table["hitter"] == "Astrid NORDVIK")]
    from strategist.data.states import annotate_states

    states = annotate_states(table)
    own = states[(states["hitter"] == "Astrid NORDVIK") & (states["state"] == "rally after defence")
                 & states["hitter_won"].notna()].drop_duplicates(["rally_id", "shot", "opponent_area"])
    counts = own["shot"].value_counts()
    for item in doc["recommendation"]:
        assert item["count"] == counts[item["action"]] >= 5 and item["flagged"] is False
    assert set(doc["estimate"]["rows"]) == {s for s in counts.index if counts[s] >= 5} == set(direct.row_labels)
    assert len(mine) > 0
    code, out, _ = _run(capsys, "--player", "Astrid NORDVIK", "--state", "rally after defence",
                        "--min-action-count", "40", "--include-unobserved", "--json")
    doc = json.loads(out)
    flagged = {s for s in counts.index if counts[s] < 40}
    assert set(doc["estimate"]["flagged_rows"]) == flagged and flagged
    assert all(item["flagged"] == (item["action"] in flagged) for item in doc["recommendation"])
    code, text, _ = _run(capsys, "--player", "Astrid NORDVIK", "--state", "rally after defence",
                         "--min-action-count", "40", "--include-unobserved")
    assert "kept and flagged" in " ".join(text.split()) and "! chosen < 40 times" in text


def test_list_states_and_a_named_state(capsys):
    code, out, _ = _run(capsys, "--list-states")
    assert code == 0 and "return of short service" in out and "rally after neutral" in out
    code, out, _ = _run(capsys, "--state", "return of short service")
    assert code == 0 and "== State: return of short service ==" in out and "spans" not in out
    code, out, err = _run(capsys, "--state", "rally after teapot")
    assert code == 2 and "states here:" in err


@pytest.mark.realdata
def test_tennis_default_is_the_serve_game_on_both_tennis_sets(capsys, shared_data):
    for path in (shared_data / "tennis_slam_pbp", shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv"):
        code, out, err = _run(capsys, "--data", str(path))
        assert code == 0, err
        assert "== State: serve (deuce, 1st serve) ==" in out and "== State: serve (ad, 2nd serve) ==" in out
        assert "wide" in out and "chi-squared" in out and max(map(len, out.splitlines())) <= 100
    code, out, _ = _run(capsys, "--data", str(shared_data / "tennis_slam_pbp"), "--json")
    doc = json.loads(out)
    assert [d["estimate"]["state"] for d in doc["states"]] == [
        "serve (deuce, 1st serve)", "serve (ad, 1st serve)", "serve (deuce, 2nd serve)", "serve (ad, 2nd serve)"]
    assert all(d["estimate"]["columns"] == ["any reply"] for d in doc["states"])


@pytest.mark.realdata
def test_tennis_replies_are_the_opponents_next_stroke(capsys, shared_data):
    path = shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv"
    code, out, err = _run(capsys, "--data", str(path), "--rows", "area", "--columns", "reply", "--context",
                          "stroke=1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert "serve" not in doc["estimate"]["columns"]  # a second serve is the server's, never a reply


@pytest.mark.realdata
def test_momota_chou_after_a_smash_recommends_only_what_momota_played(capsys, shared_data):
    code, out, err = _run(capsys, "--data", str(shared_data / "badminton_shuttleset" / "strokes.csv.gz"),
                          "--player", "Kento MOMOTA", "--opponent", "CHOU Tien Chen", "--context", "previous=smash",
                          "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["estimate"]["state"] == "rally after smash"
    assert "push" not in doc["estimate"]["rows"]  # never played by Momota after a smash
    assert all(item["count"] >= 5 for item in doc["recommendation"])
