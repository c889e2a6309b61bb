"""The log file checked from outside: what a new log stores in ``meta``, the schema version it reports, opening
while another writer holds the log, a failed write that leaves the log free and unchanged, read-only files and
folders judged for the user actually running (and for the log's own folder), databases that are not match logs,
a damaged log that is read-only, and the write-ahead log beside a read-only log. The references are the file
read back with the sqlite3 module, a second connection holding the write lock, and writes made to fail for real."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from strategist.errors import MatchLogError
from strategist.matchlog import MatchLog, ReadOnlyLogError
from strategist.matchlog import database
from strategist.matchlog.database import LogFile

from .conftest import as_another_user

V1 = Path(__file__).parent / "data" / "log_v1.sqlite"
P, O = "Astrid NORDVIK", "Dev MALHOTRA"


def _rows(path: Path, sql: str) -> list:
    """``sql``'s rows, read from the file with a connection of its own."""
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _refused_untouched(path: Path, match: str) -> None:
    """Opening ``path`` as a log is refused with ``match`` and leaves the file byte for byte as it was."""
    before = path.read_bytes()
    with pytest.raises(MatchLogError, match=match):
        LogFile(path, timeout_ms=50)
    assert path.read_bytes() == before


def test_a_new_log_stores_its_schema_version_and_what_it_is_in_meta(tmp_path):
    log = LogFile(tmp_path / "m.sqlite", timeout_ms=500)
    assert dict(_rows(log.path, "SELECT key, value FROM meta")) == {
        "schema_version": str(database.SCHEMA_VERSION), "application": "strategist match log"}
    assert log.version == database.SCHEMA_VERSION == 2


def test_the_schema_version_reported_is_the_one_the_file_has_after_opening(shared_dir, read_only):
    upgraded = shared_dir / "upgraded.sqlite"
    shutil.copy(V1, upgraded)
    log = LogFile(upgraded, timeout_ms=500)
    assert _rows(upgraded, "SELECT value FROM meta WHERE key = 'schema_version'") == [("2",)]
    assert log.version == 2
    old = shared_dir / "old.sqlite"
    shutil.copy(V1, old)
    with read_only(shared_dir, old):
        kept = LogFile(old, timeout_ms=500)                   # read-only: read as it is, not upgraded
        assert kept.read_only and kept.version == 1
    assert _rows(old, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]


def test_opening_a_current_log_while_another_writer_holds_it_does_not_wait_for_the_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(database.time, "sleep", lambda s: None)
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("badminton", P, O)
    holder = sqlite3.connect(log.path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE matches SET opponent = 'Somebody ELSE'")          # not committed
    try:
        opened = LogFile(log.path, timeout_ms=5)            # nothing to upgrade: only reads
        assert opened.read_only is None and opened.version == 2
        with opened.read() as con:
            assert con.execute("SELECT match_id, opponent FROM matches").fetchall() == [(m, O)]
        with pytest.raises(MatchLogError, match="another writer held the match log"):
            with opened.write():                             # the lock is held indeed
                pass
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_failed_write_leaves_the_log_unchanged_and_free_even_with_a_read_cursor_open(tmp_path):
    log = LogFile(tmp_path / "m.sqlite", timeout_ms=50)
    con = sqlite3.connect(log.path)
    with con:
        con.execute("CREATE TRIGGER refuse BEFORE INSERT ON meta WHEN NEW.key = 'refused' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END")
        con.executemany("INSERT INTO meta VALUES (?, ?)", [("a", "1"), ("b", "2")])
    con.close()
    before = _rows(log.path, "SELECT key, value FROM meta ORDER BY key")
    with pytest.raises(MatchLogError, match="refused by a trigger") as info:
        with log.write() as con:
            cursor = con.execute("SELECT key FROM meta ORDER BY key")
            assert cursor.fetchone() == ("a",)               # a read still under way
            con.execute("INSERT INTO meta VALUES ('kept out', 'x')")
            con.execute("INSERT INTO meta VALUES ('refused', 'x')")
    assert not isinstance(info.value, ReadOnlyLogError)
    other = sqlite3.connect(log.path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")                    # no lock left behind by the failed write
        other.execute("ROLLBACK")
    finally:
        other.close()
    del cursor                                               # the read's cursor lived until here
    assert _rows(log.path, "SELECT key, value FROM meta ORDER BY key") == before
    with log.write() as con:                                 # and the next write goes through
        con.execute("INSERT INTO meta VALUES ('c', '3')")
    assert ("c", "3") in _rows(log.path, "SELECT key, value FROM meta")


def test_a_read_only_file_in_a_writable_folder_is_judged_for_the_user_running(shared_dir):
    path = shared_dir / "m.sqlite"
    m = MatchLog(path).new_match("badminton", P, O)
    shared_dir.chmod(0o777)                                  # the folder may be written by anyone
    path.chmod(0o444)
    before = path.read_bytes()
    with as_another_user():
        log = LogFile(path, timeout_ms=50)
        assert log.read_only == f"the file {path} is read-only"
        with log.read() as con:
            assert con.execute("SELECT match_id FROM matches").fetchall() == [(m,)]
        with pytest.raises(ReadOnlyLogError, match="nothing was written"):
            with log.write():
                pass
    assert path.read_bytes() == before


def test_a_new_log_checks_its_own_folder_for_writing_not_the_working_folder(shared_dir, monkeypatch):
    writable, locked = shared_dir / "writable", shared_dir / "locked"
    writable.mkdir()
    locked.mkdir()
    writable.chmod(0o777)
    locked.chmod(0o555)
    monkeypatch.chdir(locked)                                # the working folder cannot be written
    with as_another_user():
        log = LogFile(writable / "m.sqlite", timeout_ms=50)
        assert log.read_only is None
        with log.write() as con:
            con.execute("INSERT INTO meta VALUES ('k', 'v')")
    assert ("k", "v") in _rows(writable / "m.sqlite", "SELECT key, value FROM meta")
    monkeypatch.chdir(writable)                              # now the working folder can, the log's cannot
    with as_another_user():
        with pytest.raises(ReadOnlyLogError, match=f"cannot make the match log: the folder {locked} is read-only"):
            LogFile(locked / "m.sqlite", timeout_ms=50)
    assert list(locked.iterdir()) == []


def test_a_database_with_a_meta_table_but_not_all_the_log_tables_is_refused_untouched(tmp_path):
    only_meta = tmp_path / "meta.sqlite"
    con = sqlite3.connect(only_meta)
    with con:
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    con.close()
    _refused_untouched(only_meta, r"not a strategist match log \(tables \['meta'\]\)")


def test_a_log_whose_schema_version_row_is_missing_is_refused_untouched(tmp_path):
    path = tmp_path / "m.sqlite"
    LogFile(path, timeout_ms=50)
    con = sqlite3.connect(path)
    with con:
        con.execute("DELETE FROM meta WHERE key = 'schema_version'")
    con.close()
    _refused_untouched(path, "a SQLite database but not a strategist match log")


def test_a_damaged_log_on_a_read_only_folder_is_told_as_damaged_not_as_read_only(shared_dir, read_only):
    path = shared_dir / "m.sqlite"
    LogFile(path, timeout_ms=50)
    raw = path.read_bytes()
    assert raw.count(b"CREATE TABLE meta") == 1 and not (shared_dir / "m.sqlite-wal").exists()
    path.write_bytes(raw.replace(b"CREATE TABLE meta", b"CREATE TABLX meta"))    # its schema unreadable
    before = path.read_bytes()
    with read_only(shared_dir, path):
        with pytest.raises(MatchLogError) as info:
            LogFile(path, timeout_ms=50)
    assert not isinstance(info.value, ReadOnlyLogError)
    assert "the match log is corrupted (malformed database schema" in str(info.value)
    assert database.MOVE_AWAY in str(info.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("wal_bytes", [b"", b"\x00"])
def test_a_read_only_log_beside_a_write_ahead_log_is_read_only_when_that_log_is_empty(shared_dir, read_only,
                                                                                        wal_bytes):
    log = MatchLog(shared_dir / "m.sqlite")
    m = log.new_match("badminton", P, O)
    wal = shared_dir / "m.sqlite-wal"
    assert not wal.exists() and not (shared_dir / "m.sqlite-shm").exists()    # folded back on closing
    wal.write_bytes(wal_bytes)
    with read_only(shared_dir, log.path):
        if wal_bytes:
            with pytest.raises(ReadOnlyLogError, match="its last writes are in m.sqlite-wal"):
                MatchLog(log.path)
        else:
            again = MatchLog(log.path)
            assert again.read_only and list(again.matches()["match_id"]) == [m]
    assert wal.read_bytes() == wal_bytes


def test_a_database_whose_log_tables_are_views_is_refused_as_not_a_match_log(tmp_path):
    """Views named like the log's tables are not its tables; their columns are not even asked for (the views
    here read a table dropped since, which SQLite only finds out when they are read)."""
    path = tmp_path / "views.sqlite"
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE gone (x)")
        con.execute("CREATE VIEW strokes AS SELECT x AS wing FROM gone")
        con.execute("CREATE VIEW matches AS SELECT x AS seq FROM gone")
        con.execute("DROP TABLE gone")
    con.close()
    _refused_untouched(path, r"a SQLite database but not a strategist match log \(tables \[\]\)")


def test_a_one_byte_file_is_not_taken_for_a_new_log_but_refused_untouched(tmp_path):
    path = tmp_path / "m.sqlite"
    path.write_bytes(b"x")                                  # not empty: something else's file
    _refused_untouched(path, "not a SQLite database")


def test_a_writer_kept_out_by_a_lock_retries_briefly_and_writes_soon_after_it_is_released(tmp_path, monkeypatch):
    """Busy past its timeout, a writer sleeps 0.05 s and tries again; the lock released during its third sleep,
    its fourth try writes (the sleeps recorded instead of slept: no clock in the test)."""
    log = LogFile(tmp_path / "m.sqlite", timeout_ms=10)
    holder = sqlite3.connect(log.path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 3:
            holder.execute("ROLLBACK")

    monkeypatch.setattr(database.time, "sleep", sleep)
    try:
        with log.write() as con:                             # busy past its 10 ms: retried every 0.05 s
            con.execute("INSERT INTO meta VALUES ('k', 'v')")
    finally:
        holder.close()
    assert slept == [0.05, 0.05, 0.05]
    assert ("k", "v") in _rows(log.path, "SELECT key, value FROM meta")
