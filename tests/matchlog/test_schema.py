"""Every field the live page records is kept and exported in its canonical column, and a log written by
the previous version (schema 1, ``data/log_v1.sqlite``, written by that code) is upgraded and goes on."""

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import strategist
from strategist.matchlog import MatchLog
from strategist.matchlog.database import SCHEMA_VERSION

V1 = Path(__file__).parent / "data" / "log_v1.sqlite"
P, O, X = "Astrid NORDVIK", "Dev MALHOTRA", "Kim SATO"
BADMINTON, TENNIS, OLDEST = "v1 badminton Astrid v Dev", "v1 tennis Ann v Bea", "v1 badminton Astrid v Kim"


def _meta(path):
    con = sqlite3.connect(path)
    try:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        columns = [row[1] for row in con.execute("PRAGMA table_info(strokes)")]
    finally:
        con.close()
    return version, columns


def test_every_recorded_field_is_stored_and_exported_in_its_canonical_column(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("badminton", P, O)
    recorded = [("short service", {"landing_area": "7", "landing_height": "low", "hitter_area": "8"}),
                ("net shot", {"landing_area": "1", "landing_height": "low", "hitter_area": "7", "wing": "forehand"}),
                ("lob", {"landing_area": "9", "landing_height": "high", "wing": "backhand"}),
                ("smash", {})]
    for shot, fields in recorded:
        log.add_stroke(m, shot, **fields)
    log.finish_rally(m, P)
    stored = log.state(m).rallies[0].strokes
    columns = ["landing_area", "landing_height", "hitter_area", "wing"]
    want = [[fields.get(c) for c in columns] for _, fields in recorded]
    assert [[getattr(s, c) for c in columns] for s in stored] == want
    table = log.export_table(m)
    got = table[columns].astype(object).where(table[columns].notna(), None).values.tolist()
    assert got == want
    path = tmp_path / "m.csv"
    log.export_csv(m, path)
    loaded, rejections = strategist.load_rallies(path)
    assert rejections.ok
    pd.testing.assert_frame_equal(loaded[columns], table[columns])


def test_a_log_of_schema_1_is_upgraded_in_place_and_goes_on(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(V1, path)
    assert _meta(path) == ("1", ["match_id", "rally", "stroke", "hitter", "opponent", "shot", "landing_area",
                                 "recorded"])
    log = MatchLog(path)
    version, columns = _meta(path)
    assert version == str(SCHEMA_VERSION) == "2"
    assert {"landing_height", "hitter_area", "wing"} <= set(columns)
    assert list(log.matches()["match_id"]) == [BADMINTON, TENNIS, OLDEST]    # the order of last change kept
    assert log.latest(P, X) == OLDEST and log.latest() == BADMINTON
    state = log.state(BADMINTON)
    assert [[s.shot for s in r.strokes] for r in state.rallies] == [
        ["short service", "net shot", "lob", "smash"], ["short service", "push"], ["long service", "clear"]]
    assert state.rallies[0].strokes[2].landing_area == "9" and state.rallies[0].strokes[2].landing_height is None
    assert state.score()["player"] == 1 and state.score()["opponent"] == 1 and state.position == (3, 3)
    log.add_stroke(BADMINTON, "smash", landing_area="8", landing_height="high", expect=state.position)
    assert log.state(BADMINTON).current.strokes[-1].landing_height == "high"
    tennis = log.export_table(TENNIS)
    assert tennis.groupby("rally")["serve_number"].agg(list).tolist() == [[1, 2, 2, 2], [1, 1]]
    assert tennis["landing_height"].isna().all()
    again = MatchLog(path)                                   # a second opening: nothing left to upgrade
    assert again.state(BADMINTON).current.strokes[-1].shot == "smash"
    new = again.new_match("badminton", P, X)
    assert again.latest(P, X) == new and again.latest() == new


def test_a_read_only_log_of_schema_1_is_read_as_it_is(shared_dir, read_only):
    path = shared_dir / "old.sqlite"
    shutil.copy(V1, path)
    before = path.read_bytes()
    with read_only(shared_dir, path):
        log = MatchLog(path)
        assert log.read_only and list(log.matches()["match_id"])[0] == BADMINTON
        assert log.state(BADMINTON).rallies[0].strokes[0].landing_height is None
        assert len(log.export_table(TENNIS)) == 6
    assert path.read_bytes() == before and _meta(path)[0] == "1"


@pytest.mark.parametrize("version", ["0", "-1", " 2x", ""])
def test_a_schema_version_outside_the_known_ones_is_refused(tmp_path, version):
    path = tmp_path / "old.sqlite"
    shutil.copy(V1, path)
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    con.close()
    with pytest.raises(strategist.errors.MatchLogError, match="schema_version"):
        MatchLog(path)


def test_after_an_upgrade_the_newest_match_wins_within_one_clock_tick(tmp_path, monkeypatch):
    """The upgrade adds the order column; the log just upgraded orders new matches by it (not by the time of
    the last change, which two matches started in one millisecond share)."""
    from strategist.matchlog import store

    path = tmp_path / "old.sqlite"
    shutil.copy(V1, path)
    log = MatchLog(path)                                     # upgraded by this opening
    monkeypatch.setattr(store, "_now", lambda: "2030-01-01T00:00:00.000+00:00")
    ids = [log.new_match("badminton", P, X) for _ in range(3)]
    assert log.latest(P, X) == ids[-1] and log.latest() == ids[-1]
    log.add_stroke(ids[0], "short service")                 # written to last, in the same millisecond
    assert log.latest(P, X) == ids[0]
    assert list(log.matches()["match_id"])[:3] == [ids[0], ids[2], ids[1]]
