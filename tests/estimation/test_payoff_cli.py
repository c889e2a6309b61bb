"""``strategist payoff``: one decision of the rally game, printed and as JSON; the same numbers as the Python
API; the serve game of tennis; bad requests exit 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from strategist.cli.main import main
from strategist.rally.game import rally_game
from strategist.simulate import canonical_table, simulate_matches, write_shuttleset

P, O = "Astrid NORDVIK", "Bao Thanh LE"


def _run(capsys, *argv):
    code = main(["payoff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_runs_on_the_demo_and_prints_the_stage(capsys):
    code, out, err = _run(capsys)
    assert code == 0 and err == ""
    assert "(simulated demo)" in out and "State: serve" in out
    assert "short service" in out and "[" in out and "Recommended (" in out and "as both play now" in out
    assert max(map(len, out.splitlines())) <= 100


def test_json_agrees_with_the_rally_game(capsys, tmp_path):
    matches = simulate_matches(matches=4, seed=3)
    write_shuttleset(matches, tmp_path, seed=3)
    table = canonical_table(matches)
    player = str(table["hitter"].iat[0])
    code, out, _ = _run(capsys, "--data", str(tmp_path / "strokes.csv.gz"), "--player", player, "--json")
    assert code == 0
    doc = json.loads(out)
    from strategist.data.load import load_rallies

    direct = rally_game(load_rallies(tmp_path / "strokes.csv.gz").table, player)
    stage = direct.stage(doc["state"])
    np.testing.assert_allclose(doc["mean"], stage.mean, atol=1e-12)
    assert doc["counts"] == stage.counts.tolist()
    assert doc["recommended"]["mix"] == pytest.approx(dict(zip(stage.rows, stage.recommended)))
    assert doc["value"] == pytest.approx(direct.value(doc["state"]))
    assert doc["demo"] is False and doc["player"] == player


def test_a_pairing_and_a_named_situation(capsys):
    code, out, _ = _run(capsys, "--player", P, "--opponent", "bao thanh le", "--state",
                        "rally after net shot (low, front)", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["player"] == P and doc["opponent"] == O and doc["situation"] == "rally after net shot (low, front)"
    assert set(doc["evidence"]) == {"pairing", "player", "all players"}
    assert sum(doc["evidence"].values()) == pytest.approx(1.0)
    for item in doc["not_advised"]:
        assert doc["recommended"]["mix"].get(item["action"], 0.0) == 0.0 or doc["recommended"]["basis"] == "habit"


@pytest.mark.parametrize("argv,message", [
    (["--player", "Nobody Known"], "unknown player (--player) 'Nobody Known'"),
    (["--opponent", O], "--opponent needs --player"),
    (["--player", P, "--state", "rally after teapot"], "--state 'rally after teapot'"),
    (["--data", "/nonexistent/strokes.csv"], "/nonexistent/strokes.csv"),
])
def test_bad_requests_exit_2_with_one_line(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert message in err


def test_list_states(capsys):
    code, out, _ = _run(capsys, "--player", P, "--list-states")
    assert code == 0 and "serve" in out and "rally after" in out
    code, out, _ = _run(capsys, "--player", P, "--list-states", "--json")
    states = json.loads(out)["states"]
    assert all(s["strokes"] > 0 for s in states) and {"serve", "return", "rally"} >= {s["phase"] for s in states}


@pytest.mark.realdata
def test_tennis_default_is_the_serve_game(capsys, shared_data):
    code, out, _ = _run(capsys, "--data", str(shared_data / "tennis_slam_pbp"), "--json")
    assert code == 0
    doc = json.loads(out)
    states = doc["states"]
    assert {s["situation"] for s in states} >= {"serve (deuce, 1st serve)", "serve (ad, 2nd serve)"}
    for s in states:
        assert set(s["rows"]) <= {"wide serve", "body serve", "T serve"}


@pytest.mark.realdata
def test_momota_chou_recommends_only_shots_momota_played(capsys, shuttleset_strokes):
    code, out, _ = _run(capsys, "--data", str(shuttleset_strokes), "--player", "Kento MOMOTA", "--opponent",
                        "CHOU Tien Chen", "--state", "rally after smash (low, middle)", "--json")
    assert code == 0
    doc = json.loads(out)
    counts = dict(zip(doc["rows"], map(sum, doc["counts"])))
    for shot, p in doc["recommended"]["mix"].items():
        if p > 0 and doc["recommended"]["basis"] != "habit":
            assert doc["advisable"][shot], shot
    assert doc["advisable"] and any(doc["advisable"].values()) and sum(counts.values()) > 0


def test_a_rare_shot_kept_in_the_habit_is_said_to_stay_at_its_own_rate(capsys, shuttleset_strokes):
    """Where the habit stands, a shot the player plays too rarely to be advised keeps its small share of the
    habit: the footnote says so rather than listing it as 'not advised' beside a recommended share."""
    argv = ("--data", str(shuttleset_strokes), "--player", "Kento MOMOTA", "--opponent", "CHOU Tien Chen",
            "--state", "rally after net shot (unknown height, front)")
    code, out, _ = _run(capsys, *argv, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["recommended"]["basis"] == "habit"
    kept = [f["action"] for f in doc["not_advised"] if doc["recommended"]["mix"].get(f["action"], 0) >= 0.005]
    dropped = [f["action"] for f in doc["not_advised"] if f["action"] not in kept]
    assert kept and dropped                      # cross-court net shot (kept, 4 times); smash (no one plays it)
    code, out, _ = _run(capsys, *argv)
    note = " ".join(line.strip() for line in out[out.index("* not advised:"):].splitlines())
    for shot in kept:
        assert f"{shot} (" in note and note.split(f"{shot} (")[1].split(")")[0].endswith("never raised")
    for shot in dropped:
        assert "never raised" not in note.split(f"{shot} (")[1].split(")")[0]
