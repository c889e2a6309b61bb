"""``strategist data summary``: counts that agree with the loaded table, JSON output, errors as one line."""

from __future__ import annotations

import json

import pytest

from strategist.cli.main import main
from strategist.data.demo import demo_path

from .builders import HAND_NAMES, hand_match_rows, write_csv, write_match_file


@pytest.fixture
def hand_folder(tmp_path):
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    write_csv(tmp_path / "strokes.csv", hand_match_rows())
    return tmp_path


def test_json_counts(hand_folder, capsys):
    assert main(["data", "summary", str(hand_folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # the hand-built match: 6 rallies (2 sets), 17 strokes, 2 players, nothing rejected
    assert {k: out[k] for k in ("strokes", "rallies", "matches", "players", "rejected")} == \
        {"strokes": 17, "rallies": 6, "matches": 1, "players": 2, "rejected": 0}
    assert out["sport"] == "badminton" and out["layout"] == "shuttleset"
    assert out["rallies_without_winner"] == 2
    assert sum(out["shots"].values()) == 17 and out["shots"]["short service"] == 6
    assert out["player_names"] == ["Ann ALPHA", "Bea BRAVO"]
    assert out["per_player"]["Ann ALPHA"]["strokes"] + out["per_player"]["Bea BRAVO"]["strokes"] == 17
    assert out["per_player"]["Bea BRAVO"]["rallies_won"] == 3


def test_text_report_shows_rejections(tmp_path, capsys):
    rows = hand_match_rows()
    rows[4]["type"] = "not a shot"
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    path = write_csv(tmp_path / "strokes.csv", rows)
    assert main(["data", "summary", str(path)]) == 0
    text = capsys.readouterr().out
    assert "matches 1   players 2   rallies 5" in text
    assert "rejected: 1 rallies (4 of 17 rows)" in text and "unknown shot type" in text
    assert "line 6, field 'type': got 'not a shot'" in text
    assert "Ann ALPHA" in text and "short service" in text
    assert main(["data", "summary", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rejected"] == 1


def test_strict_and_missing_files_exit_2_with_one_line(tmp_path, capsys):
    rows = hand_match_rows()
    rows[4]["ball_round"] = "x"
    path = write_csv(tmp_path / "strokes.csv", rows)
    assert main(["data", "summary", str(path), "--strict"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "line 6" in err and "ball_round" in err
    assert main(["data", "summary", str(tmp_path / "absent.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["data", "summary", str(path), "--sport", "tennis"]) == 2
    assert "not tennis" in capsys.readouterr().err


def test_default_is_the_shipped_demo(capsys):
    assert demo_path().is_file()  # shipped with the package: a missing demo is a failure, not a skip
    assert main(["data", "summary", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rejected"] == 0 and out["strokes"] > 0 and out["sport"] == "badminton"


def test_real_mcp_sample(mcp_sample_path, capsys):
    assert main(["data", "summary", str(mcp_sample_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rallies"], out["matches"], out["players"], out["rejected"]) == (650, 5, 7, 2)


def _one_line_exit_2(argv, capsys) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("strategist: error:") and err.count("\n") == 0 and "Traceback" not in err
    return err


def test_special_files_and_foreign_folders_exit_2_with_one_line(tmp_path, capsys):
    import os
    import threading

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no data files of a known layout" in _one_line_exit_2(["data", "summary", str(empty)], capsys)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.csv").write_text("a,b\n1,2\n")
    assert "no data files of a known layout" in _one_line_exit_2(["data", "summary", str(other)], capsys)
    if os.path.exists("/dev/null"):
        assert "character device" in _one_line_exit_2(["data", "summary", "/dev/null"], capsys)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "strokes.csv"
        os.mkfifo(fifo)
        result = {}
        worker = threading.Thread(target=lambda: result.update(rc=main(["data", "summary", str(fifo)])),
                                  daemon=True)
        worker.start()
        worker.join(10)
        if worker.is_alive():  # unblock the reader so the test run can go on, then fail
            with open(fifo, "w"):
                pass
            pytest.fail("reading a FIFO blocked")
        assert result["rc"] == 2 and "named pipe" in capsys.readouterr().err


def test_real_track2_folder_is_refused(shuttleset_dir, capsys):
    err = _one_line_exit_2(["data", "summary", str(shuttleset_dir / "coachai_track2")], capsys)
    assert "no usable rally: all 33,612 of 33,612 rows rejected" in err and "CoachAI Track-2 layout" in err


def test_header_only_file_exits_2(tmp_path, capsys):
    path = write_csv(tmp_path / "strokes.csv", [], list(hand_match_rows()[0]))
    assert "header row but no data rows" in _one_line_exit_2(["data", "summary", str(path)], capsys)


def test_text_summary_fits_100_columns_and_names_areas(tmp_path, capsys):
    folder = tmp_path / ("a-rather-long-folder-name-" * 4)
    rows = hand_match_rows()
    rows[4]["type"] = "not a shot"
    rows[9]["landing_area"] = "99"
    write_match_file(folder / "matches.csv", HAND_NAMES)
    path = write_csv(folder / "strokes.csv", rows)
    assert main(["data", "summary", str(path)]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "unknown shot type" in text and "bad court area" in text and "not a shot" in text
    assert "front, other sideline (2)" in text and "back, one sideline (3)" in text
    assert main(["data", "summary"]) == 0  # the demo
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 100
