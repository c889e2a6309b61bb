"""``strategist payoff`` on the shipped demo and on written files; bad requests exit 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from strategist.cli.main import main
from strategist.estimation import estimate_payoff
from strategist.simulate import canonical_table, simulate_matches, write_shuttleset

pytest.importorskip("strategist.data.load")


def _run(capsys, *argv):
    code = main(["payoff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_runs_on_the_demo_and_prints_matrix_report_and_solution(capsys):
    code, out, err = _run(capsys, "--rows", "group", "--context", "stroke=2+")
    assert code == 0 and err == ""
    assert "(simulated demo)" in out and "context: stroke >= 2" in out
    assert "attack" in out and "n=" in out and "[" in out
    assert "decision points:" in out and "Hitter's minimax mix" in out and "Value" in out


def test_json_agrees_with_the_python_api(capsys, tmp_path):
    matches = simulate_matches(matches=4, seed=3)
    write_shuttleset(matches, tmp_path, seed=3)
    code, out, _ = _run(capsys, "--data", str(tmp_path / "strokes.csv.gz"), "--rows", "group", "--json")
    assert code == 0
    doc = json.loads(out)
    direct = estimate_payoff(canonical_table(matches), rows="group")
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
