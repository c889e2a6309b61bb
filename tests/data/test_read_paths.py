"""A plain file is parsed by Arrow's CSV reader, any other by pandas: both give the same table."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.data import readcsv
from strategist.data.load import load_rallies

from .builders import HAND_NAMES, hand_match_rows, write_csv, write_match_file


def _without_arrow(monkeypatch, load):
    calls = []
    monkeypatch.setattr(readcsv, "_parse_arrow", lambda *args: calls.append(args) or None)
    result = load()
    assert calls, "the file should have been plain enough for Arrow"
    return result


def test_the_shipped_shuttleset_reads_the_same_through_arrow_and_pandas(shuttleset_strokes, monkeypatch):
    fast = load_rallies(shuttleset_strokes)
    slow = _without_arrow(monkeypatch, lambda: load_rallies(shuttleset_strokes))
    pd.testing.assert_frame_equal(fast.table, slow.table)
    assert fast.rejections.to_dict() == slow.rejections.to_dict()


@pytest.mark.parametrize("spoil", [None, "short", "long", "blank", "spaces", "quotes"])
def test_small_files_read_the_same_through_arrow_and_pandas(tmp_path, monkeypatch, spoil):
    rows = hand_match_rows()
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    path = write_csv(tmp_path / "strokes.csv", rows)
    lines = path.read_text().splitlines()
    if spoil == "short":
        lines[4] = ",".join(lines[4].split(",")[:5])
    elif spoil == "long":
        lines[4] += ",extra"
    elif spoil == "blank":
        lines.insert(4, "")
    elif spoil == "spaces":
        lines[4] = lines[4].replace(",", " , ")
    elif spoil == "quotes":
        lines[4] = lines[4].replace(",1,", ',"1",', 1)
    path.write_text("\n".join(lines) + "\n")
    plain = readcsv._plain_names(readcsv._scan(path, readcsv.ReadLimits()),
                                 readcsv._record_layout(readcsv._scan(path, readcsv.ReadLimits()), path)[1])
    assert (plain is not None) == (spoil in (None, "spaces"))
    fast = load_rallies(path)
    monkeypatch.setattr(readcsv, "_parse_arrow", lambda *args: None)
    slow = load_rallies(path)
    pd.testing.assert_frame_equal(fast.table, slow.table)
    assert fast.rejections.to_dict() == slow.rejections.to_dict()


def test_space_codes_are_the_characters_str_strip_removes():
    import sys

    assert set(readcsv.SPACE_CODES) == {code for code in range(sys.maxunicode + 1) if chr(code).isspace()}


@pytest.mark.parametrize("space", [" ", "\t", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u3000"])
def test_cells_padded_with_any_white_space_read_the_same_through_arrow_and_pandas(tmp_path, monkeypatch, space):
    rows = ["a,b,c", f"{space}x,y{space},z", f"{space},{space}{space},", ",,", f"1,{space}2{space},3", "p,q,r"]
    path = tmp_path / "cells.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("utf-8"))
    fast = readcsv.read_strings(path)
    with_arrow = []
    monkeypatch.setattr(readcsv, "_parse_arrow", lambda *args: with_arrow.append(args) or None)
    slow = readcsv.read_strings(path)
    assert with_arrow, "the file should have been plain enough for Arrow"
    pd.testing.assert_frame_equal(fast[0], slow[0])
    assert fast[1] == slow[1]
    assert fast[0][["a", "b", "c"]].values.tolist() == [["x", "y", "z"], ["1", "2", "3"], ["p", "q", "r"]]
    assert fast[0]["_row"].tolist() == [2, 5, 6]              # both blank rows dropped, lines as an editor shows
