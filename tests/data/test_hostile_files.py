"""Hostile data files: each is refused with one clear error or loaded with its bad rallies reported, never a
crash and never a corrupted number."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from strategist.cli.main import main
from strategist.data.load import load_rallies
from strategist.errors import DataFormatError, NoUsableDataError

from .builders import HAND_NAMES, hand_match_rows, write_csv, write_match_file

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\xef\xbb\xbf\n", b"\xef\xbb\xbf  \r\n\n"])
@pytest.mark.parametrize("name", ["strokes.csv", "strokes.csv.gz"])
def test_a_file_holding_only_a_byte_order_mark_is_empty(tmp_path, strict, content, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    with pytest.raises(DataFormatError, match="file is empty") as caught:
        load_rallies(path, strict=strict)
    assert name in str(caught.value)


@pytest.mark.parametrize("strict", [False, True])
def test_a_header_without_rows_in_every_layout_has_no_usable_rally(tmp_path, strict):
    """An MCP header (with a byte-order mark and a repeated column) and nothing else: no rows to read."""
    path = tmp_path / "charting-points.csv"
    path.write_bytes(b"\xef\xbb\xbfmatch_id,Pt,Set1,Set2,Gm1,Gm2,Pts,Gm#,TbSet,Svr,1st,2nd,Notes,PtWinner,match_id\n")
    with pytest.raises(NoUsableDataError):
        load_rallies(path, strict=strict)


# -- numbers too large for the table ------------------------------------------------------------------------------
HUGE = [str(2 ** 63), str(2 ** 64), "9" * 30, "1e308"]


@pytest.fixture
def match_folder(tmp_path):
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    return tmp_path


def _spoil_rally(rows, rally_rows, **values):
    rows = [dict(r) for r in rows]
    for i in rally_rows:
        rows[i].update(values)
    return rows


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("column, reason", [("ball_round", "bad stroke number"), ("roundscore_A", "bad score"),
                                            ("roundscore_B", "bad score"), ("set", "bad set number"),
                                            ("rally", "bad rally number")])
def test_shuttleset_numbers_beyond_the_table_reject_their_rally(match_folder, value, column, reason):
    """Rally 1 (rows 0-2) carries the number on every row: no row may keep it, and no score may wrap around to
    -9223372036854775808; strict mode names the first such line and the field."""
    path = write_csv(match_folder / "strokes.csv", _spoil_rally(hand_match_rows(), [0, 1, 2], **{column: value}))
    table, report = load_rallies(path)
    assert report.counts.get(reason) == 1 and report.rallies_rejected == 1
    example = report.examples[reason][0]
    assert (example.field, example.row, example.value) == (column, 2, value)
    for name in ("set", "rally", "stroke", "hitter_score", "opponent_score"):
        values = table[name].dropna().to_numpy(dtype=np.int64)
        assert values.min() >= 0 and values.max() <= 30, name
    with pytest.raises(DataFormatError) as caught:
        load_rallies(path, strict=True)
    assert (caught.value.line, caught.value.field) == (2, column)
    assert "1,000,000,000" in str(caught.value)


def _canonical_file(match_folder, column, value) -> Path:
    table = load_rallies(write_csv(match_folder / "strokes.csv", hand_match_rows())).table
    raw = table.astype("string").fillna("")
    raw.loc[raw["rally_id"] == raw["rally_id"].iat[0], column] = value
    path = match_folder / "rallies.csv"
    raw.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("column", ["stroke", "hitter_score", "opponent_score", "set", "rally"])
def test_canonical_numbers_beyond_the_table_reject_their_rally(match_folder, value, column):
    path = _canonical_file(match_folder, column, value)
    table, report = load_rallies(path)
    assert report.rallies_rejected == 1 and f"{column} not a number" in report.counts
    assert report.examples[f"{column} not a number"][0].field == column
    for name in ("stroke", "hitter_score", "opponent_score"):
        assert table[name].dropna().between(0, 30).all()
    with pytest.raises(DataFormatError) as caught:
        load_rallies(path, strict=True)
    assert caught.value.field == column and caught.value.line == 2


@pytest.mark.parametrize("strict", [[], ["--strict"]])
def test_data_summary_of_a_file_of_huge_stroke_numbers_is_one_line_and_exit_2(match_folder, capsys, strict):
    """Every rally's stroke numbers beyond 2^63: lenient mode rejects all (no usable rally), strict mode stops at
    the first; either way one line naming the file, and no traceback."""
    rows = [dict(r, ball_round=str(2 ** 64 + i)) for i, r in enumerate(hand_match_rows())]
    path = write_csv(match_folder / "strokes.csv", rows)
    code = main(["data", "summary", str(path), *strict])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("strategist: error: ") and err.count("\n") == 1
    assert "strokes.csv" in err and ("ball_round" in err or "bad stroke number" in err)


def test_canonical_command_line_summary_of_an_overflowing_score_exits_2(match_folder):
    """Through the console entry point (a fresh interpreter): exit 2, one line, no traceback."""
    path = _canonical_file(match_folder, "hitter_score", str(2 ** 64))
    done = subprocess.run([sys.executable, "-m", "strategist", "data", "summary", str(path), "--strict"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "line 2" in done.stderr and "'hitter_score'" in done.stderr


# -- decompression bombs -------------------------------------------------------------------------------------------
def _bomb(path: Path, line: bytes, total: int) -> Path:
    """A .csv.gz of a ShuttleSet header and ``line`` repeated to ``total`` decompressed bytes: one 8 MB gzip
    member written over and over (readers join the members), so the test writes only a few megabytes."""
    header = (",".join(["match_id", "set", "rally", "ball_round", "roundscore_A", "roundscore_B", "player", "type",
                        "getpoint_player"]) + "\n").encode()
    block = line * max(1, (8 << 20) // len(line))
    member = gzip.compress(block, compresslevel=9, mtime=0)
    with open(path, "wb") as out:
        out.write(gzip.compress(header, mtime=0))
        for _ in range(total // len(block) + 1):
            out.write(member)
    return path


_PEAK = """
import json, resource, sys
from strategist.data.load import load_rallies
from strategist.errors import StrategistError
try:
    load_rallies(sys.argv[1])
    outcome = "loaded"
except StrategistError as exc:
    outcome = str(exc)
try:  # this process's own high-water mark; ru_maxrss also counts the parent's when the child was vforked
    with open("/proc/self/status") as status:
        peak = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "peak_kib": peak}))
"""


@pytest.mark.slow
def test_a_decompression_bomb_is_refused_with_memory_under_500_mb(tmp_path):
    """1.2 GB of text in a gzip file of a few megabytes: refused at the 300 MB cap, naming it, and the loading
    process's peak resident memory (``VmHWM`` of a fresh interpreter, imports included; ``ru_maxrss`` would carry
    the test runner's own peak into a child started by vfork) stays under 500 MB."""
    row = b"m," + b"1," * 3 + b"0,0,A," + b"x" * 1000 + b",A\n"  # long rows: the byte cap comes before the row cap
    path = _bomb(tmp_path / "strokes.csv.gz", row, 1_200_000_000)
    assert path.stat().st_size < 20_000_000
    done = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "more than 300 MB" in result["outcome"] and "strokes.csv.gz" in result["outcome"]
    assert result["peak_kib"] * 1024 < 500e6, result


def test_the_row_cap_refuses_a_file_of_too_many_lines_while_reading(tmp_path):
    path = _bomb(tmp_path / "strokes.csv.gz", b"m,1,1,1,0,0,A,clear,A\n", 50_000_000)
    with pytest.raises(DataFormatError, match="more than 2,000,000 data lines"):
        load_rallies(path)


def test_the_caps_are_configurable(tmp_path, monkeypatch):
    from strategist.data import readcsv

    rows = hand_match_rows()
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    path = write_csv(tmp_path / "strokes.csv", rows)
    assert len(load_rallies(path).table) == len(rows)
    with pytest.raises(DataFormatError, match="more than 16 data lines"):
        load_rallies(path, limits=readcsv.ReadLimits(max_rows=16))
    assert len(load_rallies(path, limits=readcsv.ReadLimits(max_rows=17)).table) == len(rows)
    size = len(path.read_bytes())
    with pytest.raises(DataFormatError, match="more than 0 MB"):
        load_rallies(path, limits=readcsv.ReadLimits(max_bytes=size - 1))
    monkeypatch.setattr(readcsv, "MAX_ROWS", 5)  # the module's caps are the defaults
    with pytest.raises(DataFormatError, match="more than 5 data lines"):
        load_rallies(path)
    with pytest.raises(DataFormatError, match="max_rows"):
        readcsv.ReadLimits(max_rows=0)


@pytest.mark.parametrize("name", ["strokes.csv", "strokes.csv.gz"])
def test_a_file_larger_than_what_is_kept_in_memory_is_read_again_and_loads_the_same(tmp_path, monkeypatch, name):
    from strategist.data import readcsv

    rows = hand_match_rows()
    rows[3]["type"] = 'a "quoted", shot'  # quotes: the records are told apart by the csv module
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    path = write_csv(tmp_path / "plain.csv", rows)
    if name.endswith(".gz"):
        path = tmp_path / name
        path.write_bytes(gzip.compress((tmp_path / "plain.csv").read_bytes()))
    kept = load_rallies(path)
    monkeypatch.setattr(readcsv, "KEEP_BYTES", 100)
    assert readcsv._scan(path, readcsv.ReadLimits()).data is None
    again = load_rallies(path)
    pd.testing.assert_frame_equal(again.table, kept.table)
    assert again.rejections.to_dict() == kept.rejections.to_dict() and kept.rejections.rallies_rejected == 1
