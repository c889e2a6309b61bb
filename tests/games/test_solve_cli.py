"""`strategist solve`: tables, JSON, safe exploitation options, the shipped example and bad files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from strategist.cli.main import main

EN_TOL = 1e-9 * 70

EN_CSV = ("Evert \\ Navratilova,cover line,cover cross-court\n"
          "down the line,50,80\n"
          "cross-court,90,20\n")


@pytest.fixture
def en_csv(write_csv):
    return write_csv(EN_CSV, "passing_shot.csv")


def run_cli(capsys, *argv):
    code = main(["solve", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run_cli(capsys, *argv, "--json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def test_table_output_shows_strategies_value_and_certificate(capsys, en_csv):
    code, out, err = run_cli(capsys, en_csv)
    assert code == 0 and err == ""
    assert str(en_csv) in out
    lines = out.splitlines()

    def row(label):
        return next(line for line in lines if line.strip().startswith(label) and "0." in line)

    assert row("down the line").split()[-1] == "0.7000"
    assert row("cross-court").split()[-1] == "0.3000"
    assert row("cover line").split()[-1] == "0.6000"
    assert row("cover cross-court").split()[-1] == "0.4000"
    assert "Value: 62" in out
    assert "Certificate" in out and "guarantees >= 62" in out and "duality gap" in out
    # the payoff table itself
    assert any(line.split()[-2:] == ["50", "80"] for line in lines)


def test_json_output_maps_labels_to_probabilities(capsys, en_csv):
    data = run_json(capsys, en_csv)
    assert data["value"] == pytest.approx(62.0, abs=EN_TOL)
    assert data["row_strategy"] == pytest.approx({"down the line": 0.7, "cross-court": 0.3}, abs=1e-9)
    assert data["column_strategy"] == pytest.approx({"cover line": 0.6, "cover cross-court": 0.4}, abs=1e-9)
    assert data["certificate"]["duality_gap"] <= EN_TOL
    assert data["certificate"]["row_guarantee"] == pytest.approx(62.0, abs=EN_TOL)
    assert data["game"]["rows"] == ["down the line", "cross-court"]
    assert data["game"]["payoffs"] == [[50.0, 80.0], [90.0, 20.0]]
    assert "safe_exploitation" not in data


def test_json_matches_the_library_on_a_larger_game(capsys, write_csv):
    import numpy as np

    from strategist import solve_zero_sum

    rng = np.random.default_rng(8)
    payoffs = rng.uniform(size=(4, 5)).round(3)
    text = "x," + ",".join(f"c{j}" for j in range(5)) + "\n"
    text += "".join(f"r{i}," + ",".join(repr(float(v)) for v in row) + "\n" for i, row in enumerate(payoffs))
    data = run_json(capsys, write_csv(text))
    sol = solve_zero_sum(payoffs)
    assert data["value"] == pytest.approx(sol.value, abs=1e-12)
    assert list(data["row_strategy"].values()) == pytest.approx(list(sol.row_strategy), abs=1e-12)
    assert list(data["column_strategy"]) == [f"c{j}" for j in range(5)]


def test_no_path_solves_the_shipped_example(capsys):
    data = run_json(capsys)
    assert data["value"] == pytest.approx(62.0, abs=EN_TOL)
    assert data["row_strategy"] == pytest.approx({"down the line": 0.7, "cross-court": 0.3}, abs=1e-9)
    assert data["column_strategy"] == pytest.approx({"cover line": 0.6, "cover cross-court": 0.4}, abs=1e-9)
    assert data["game"]["file"].endswith("evert_navratilova.csv")
    code, out, _ = run_cli(capsys)
    assert code == 0 and "Value: 62" in out


# Navratilova predicted to cover the line always; margin δ: Evert plays down the line (42 − δ)/60, expects
# 62 + 2δ/3 and guarantees 62 − δ (hand-solved in test_safe_exploit.py).
@pytest.mark.parametrize("mix", ["cover line=1", "cover line=1, cover cross-court=0", "1,0", " 1 , 0 "])
def test_opponent_mix_forms_and_margin(capsys, en_csv, mix):
    data = run_json(capsys, en_csv, "--opponent-mix", mix, "--margin", "10.5")
    exploit = data["safe_exploitation"]
    assert exploit["row_strategy"] == pytest.approx({"down the line": 0.525, "cross-court": 0.475}, abs=1e-9)
    assert exploit["expected_payoff"] == pytest.approx(69.0, abs=EN_TOL)
    assert exploit["guarantee"] == pytest.approx(51.5, abs=EN_TOL)
    assert exploit["margin"] == 10.5
    assert exploit["best_response"] == ["cross-court"]
    assert exploit["best_response_payoff"] == 90.0
    # the minimax part is unchanged
    assert data["value"] == pytest.approx(62.0, abs=EN_TOL)


def test_opponent_mix_without_margin_is_margin_zero(capsys, en_csv):
    data = run_json(capsys, en_csv, "--opponent-mix", "0.2,0.8")
    exploit = data["safe_exploitation"]
    # The optimal strategy is unique here, so margin 0 is the equilibrium: 74·0.7 + 34·0.3 = 62.
    assert exploit["margin"] == 0.0
    assert exploit["row_strategy"] == pytest.approx({"down the line": 0.7, "cross-court": 0.3}, abs=1e-9)
    assert exploit["best_response"] == ["down the line"]


def test_safe_exploitation_table(capsys, en_csv):
    code, out, err = run_cli(capsys, en_csv, "--opponent-mix", "cover line=1", "--margin", "42")
    assert code == 0, err
    assert "Safe exploitation (margin 42" in out
    assert "Expected payoff against the prediction: 90" in out
    assert "Guarantee against any opponent: 20" in out
    assert "best response cross-court" in out


def test_an_equilibrium_standing_in_for_a_failed_exploitation_lp_is_said(capsys, en_csv, monkeypatch):
    """Every margin LP fails (HiGHS's answer replaced by a failure): the table says the equilibrium strategy is
    shown and why, the JSON carries the same text under ``fallback``; when nothing failed it is null."""
    import importlib

    se = importlib.import_module("strategist.games.safe_exploit")
    assert run_json(capsys, en_csv, "--opponent-mix", "1,0", "--margin", "10.5")["safe_exploitation"]["fallback"] \
        is None
    real = se.linprog

    def margin_lps_fail(c, **kw):
        if c[-1] == 0.0:                                  # the margin LP: its last variable carries no cost
            return type("Failed", (), {"status": 4, "message": "numerical difficulties", "x": None})()
        return real(c, **kw)

    monkeypatch.setattr(se, "linprog", margin_lps_fail)
    with pytest.warns(se.SolverFallbackWarning):
        code, out, err = run_cli(capsys, en_csv, "--opponent-mix", "1,0", "--margin", "10.5")
    assert code == 0, err
    assert "Note: the equilibrium strategy is shown, not an exploiting one" in out
    with pytest.warns(se.SolverFallbackWarning):
        exploit = run_json(capsys, en_csv, "--opponent-mix", "1,0", "--margin", "10.5")["safe_exploitation"]
    assert "instead of the exploiting one" in exploit["fallback"]
    assert exploit["row_strategy"] == pytest.approx({"down the line": 0.7, "cross-court": 0.3}, abs=1e-9)


@pytest.mark.parametrize("text, fragments", [
    ("x,a,b\nr1,1,2\nr2,3,abc\n", ["row 3", "column 'b'", "'abc'"]),
    ("x,a,b\nr1,1,2\nr2,3\n", ["row 3", "'r2'", "rectangular"]),
    ("x,a,b\nr1,nan,2\n", ["row 2", "column 'a'", "'nan'"]),
    ("", ["empty"]),
    ("x,a,b\n", ["row 1", "no payoff rows"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", ["UTF-8"]),
], ids=["text", "ragged", "nan", "empty", "header-only", "binary"])
def test_bad_file_gives_one_line_error_and_exit_code_2(capsys, write_csv, text, fragments):
    path = write_csv(text, "bad.csv")
    code, out, err = run_cli(capsys, path)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n")
    assert err.startswith("strategist: error: ")
    assert str(path) in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert "Traceback" not in err


def test_missing_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, tmp_path / "nope.csv")
    assert code == 2 and "nope.csv" in err and "not found" in err and err.count("\n") == 1


@pytest.mark.parametrize("args, fragments", [
    (["--margin", "1"], ["--margin needs --opponent-mix"]),
    (["--opponent-mix", "0.5"], ["1 numbers", "expected 2"]),
    (["--opponent-mix", "lob=1"], ["unknown column action", "'lob'"]),
    (["--opponent-mix", "cover line=1,0"], ["mixes 'label=p' and bare numbers"]),
    (["--opponent-mix", "cover line=lots"], ["'lots'", "not a number"]),
    (["--opponent-mix", "0.5,0.4"], ["sum to 0.9"]),
    (["--opponent-mix", ","], ["empty"]),
    (["--opponent-mix", "1,0", "--margin", "-2"], ["margin", ">= 0"]),
])
def test_bad_options(capsys, en_csv, args, fragments):
    code, out, err = run_cli(capsys, en_csv, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_non_numeric_margin_is_an_argparse_usage_error(capsys, en_csv):
    with pytest.raises(SystemExit) as info:
        main(["solve", str(en_csv), "--opponent-mix", "1,0", "--margin", "wide"])
    assert info.value.code == 2
    assert "--margin" in capsys.readouterr().err


def test_console_script(tmp_path):
    """The command as a fresh interpreter runs it (``python -m strategist``, what the console script calls), from
    a folder of its own: the shipped example is found without the repository as working directory."""
    done = subprocess.run([sys.executable, "-m", "strategist", "solve", "--json"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["value"] == pytest.approx(62.0, abs=EN_TOL)
    assert data["row_strategy"] == pytest.approx({"down the line": 0.7, "cross-court": 0.3}, abs=1e-9)


def test_numbers_only_file_is_solved_as_it_is_with_a_note(capsys, write_csv):
    code, out, err = run_cli(capsys, write_csv("50,80\n90,20\n", "m.csv"))
    assert code == 0
    assert "Value: 62" in out and "(2 x 2;" in out
    assert err.startswith("strategist: note: ") and "unlabelled" in err and err.count("\n") == 1


@pytest.mark.parametrize("what", ["fifo", "directory", "dev-null"])
def test_non_regular_files_give_one_line_and_exit_2(capsys, tmp_path, fifo, what):
    path = {"directory": tmp_path, "dev-null": "/dev/null", "fifo": fifo}[what]
    code, out, err = run_cli(capsys, path)
    assert code == 2 and out == ""
    assert err.startswith("strategist: error: ") and err.count("\n") == 1


def test_huge_payoffs_are_solved(capsys, write_csv):
    code, out, err = run_cli(capsys, write_csv("x,a,b\nr1,1e308,-1e308\nr2,-1e308,1e308\n"))
    assert code == 0 and err == ""
    assert "Value: 0" in out


def test_large_games_are_summarised_to_100_columns(capsys, write_csv):
    rng = np.random.default_rng(0)
    a = rng.uniform(size=(60, 60))
    path = write_csv("\n".join(",".join(f"{v:.6f}" for v in row) for row in a) + "\n", "big.csv")
    code, out, err = run_cli(capsys, path, "--opponent-mix", ",".join(["1"] + ["0"] * 59))
    assert code == 0
    assert max(map(len, out.splitlines())) <= 100
    assert len(out) < 5000
    assert "not shown; --full" in out and "more actions" in out
    code, full, _ = run_cli(capsys, path, "--full")
    assert code == 0 and len(full) > 20 * len(out) / 2
    assert all(f"r{i}" in full.split() for i in range(1, 61))
    code, out, _ = run_cli(capsys, path, "--json")  # --json stays complete
    data = json.loads(out)
    assert len(data["row_strategy"]) == 60 and len(data["game"]["payoffs"]) == 60


def test_small_games_are_printed_whole(capsys, en_csv):
    code, out, _ = run_cli(capsys, en_csv)
    assert "not shown" not in out and max(map(len, out.splitlines())) <= 100
