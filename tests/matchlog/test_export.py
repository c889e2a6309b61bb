"""The CSV export never hands a spreadsheet a formula, and still loads back with ``load_rallies``."""

import csv
import io

import pandas as pd

import strategist
from strategist.data.schema import conform
from strategist.matchlog import MatchLog
from strategist.matchlog.export import neutralise, to_csv

LINK = '=HYPERLINK("http://example.com/x","click")'
NAMES = (LINK, "+1 Ann", "-Bea", "@SUM(A1)")


def _cells(text):
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_formula_like_names_are_neutralised_and_load_back_with_an_apostrophe(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite")
    matches = []
    for player, opponent in ((NAMES[0], NAMES[1]), (NAMES[2], NAMES[3])):
        m = log.new_match("badminton", player, opponent, match_id=f"={player[:3]} match")
        for shot in ("short service", "net shot", "lob"):
            log.add_stroke(m, shot)
        log.finish_rally(m, opponent)
        log.add_stroke(m, "short service")
        matches.append(m)
    for m in matches:
        text = log.export_csv(m)
        cells = _cells(text)
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        table = log.export_table(m)                    # the table itself keeps the names as recorded
        path = tmp_path / "m.csv"
        path.write_text(text)
        loaded, rejections = strategist.load_rallies(path)
        assert rejections.ok and len(loaded) == len(table) == 4
        for column in ("match_id", "rally_id", "hitter", "opponent", "server", "winner"):
            want = ["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v
                    for v in table[column].astype(object).where(table[column].notna(), None)]
            got = loaded[column].astype(object).where(loaded[column].notna(), None).tolist()
            assert got == want, column
        assert loaded["hitter_won"].tolist() == table["hitter_won"].tolist()
    assert f"'{LINK}" in _cells(log.export_csv(matches[0]))


def test_tabs_and_carriage_returns_at_the_start_of_a_cell_are_neutralised():
    """The log refuses control characters in names (test_order), so these reach ``to_csv`` only from a table
    made elsewhere; a tab is written as it is, a carriage return is checked on the cell."""
    table = conform(pd.DataFrame([{"sport": "badminton", "hitter": "\tAnn", "opponent": "Bea", "shot": "lob",
                                   "tags": "a;-b", "stroke": 1}]))
    cells = dict(zip(table.columns, list(csv.reader(io.StringIO(to_csv(table))))[1]))
    assert (cells["hitter"], cells["opponent"], cells["tags"], cells["shot"]) == ("'\tAnn", "Bea", "a;-b", "lob")
    assert [neutralise(v) for v in ("\rBea", "B\r", "=1", 3, None)] == ["'\rBea", "B\r", "'=1", 3, None]
