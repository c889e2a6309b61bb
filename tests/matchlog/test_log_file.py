"""The log file's own rules: what each SQLite failure is told as, the retry on a lock, a new log in folders
that do not exist yet, an empty file taken as a new log, and a broken link refused."""

from __future__ import annotations

import sqlite3

import pytest

from strategist.errors import MatchLogError
from strategist.matchlog import DiskFullError, MatchLog, ReadOnlyLogError
from strategist.matchlog import database
from strategist.matchlog.database import LogFile


def _error(code: int, text: str = "boom") -> sqlite3.Error:
    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorcode = code
    return exc


@pytest.fixture()
def log_file(tmp_path):
    return LogFile(tmp_path / "m.sqlite", timeout_ms=2500)


def test_a_full_disk_says_so_and_names_the_size_limit_when_there_is_one(tmp_path, log_file):
    said = log_file.failure(_error(13), "adding a stroke")
    assert isinstance(said, DiskFullError)
    assert str(said) == (f"{log_file.path}: adding a stroke: the disk is full; nothing was written: free some space, "
                         "then record it again")
    limited = LogFile(tmp_path / "l.sqlite", timeout_ms=2500, max_bytes=10_000)
    assert "(or the log reached its size limit of 10,000 bytes)" in str(limited.failure(_error(13), "x"))


def test_a_read_only_failure_says_why(tmp_path, log_file):
    said = log_file.failure(_error(8), "adding a stroke")
    assert isinstance(said, ReadOnlyLogError)
    # the file and its folder are writable: it is the file system that refuses
    assert str(said) == (f"{log_file.path}: adding a stroke: the match log is read-only (the file system refuses "
                         "writes); nothing was written")
    # 'cannot open' is read-only only where the file or its folder cannot be written
    assert not isinstance(log_file.failure(_error(14), "opening"), ReadOnlyLogError)


def test_locks_corruption_io_and_the_rest_are_told_apart(log_file):
    where = f"{log_file.path}: adding a stroke"
    assert str(log_file.failure(_error(5), "adding a stroke")) == (
        f"{where}: another writer held the match log for over 2.5 s (locked); nothing was written: try again")
    assert str(log_file.failure(_error(6), "adding a stroke")).endswith("(locked); nothing was written: try again")
    assert str(log_file.failure(_error(11, "malformed"), "adding a stroke")) == (
        f"{where}: the match log is corrupted (malformed); {database.MOVE_AWAY}")
    assert str(log_file.failure(_error(10, "disk I/O error"), "adding a stroke")) == (
        f"{where}: the disk reported an error (disk I/O error); nothing was written")
    other = log_file.failure(_error(1, "no such table"), "adding a stroke")
    assert type(other) is MatchLogError
    assert str(other) == f"{where}: the match log cannot be used (no such table); the file was left as it is"
    # an error without a code (0) is no full disk, lock or corruption
    plain = sqlite3.OperationalError("odd")
    assert str(log_file.failure(plain, "x")).endswith("the match log cannot be used (odd); the file was left as it is")


class _Locked:
    """A connection whose BEGIN fails as locked ``times`` times (then with ``last`` if given), then succeeds."""

    def __init__(self, times: int, text: str = "database is locked"):
        self.times, self.text, self.calls = times, text, 0

    def execute(self, sql):
        self.calls += 1
        if self.calls <= self.times:
            raise sqlite3.OperationalError(self.text)


def test_begin_retries_a_lock_up_to_fifty_times(monkeypatch):
    monkeypatch.setattr(database.time, "sleep", lambda s: None)
    con = _Locked(3)
    LogFile._begin(con)
    assert con.calls == 4                                    # three locked tries, then it began
    con = _Locked(49)
    LogFile._begin(con)
    assert con.calls == 50
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        LogFile._begin(_Locked(50))                          # the fiftieth lock is raised
    con = _Locked(1, "disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        LogFile._begin(con)                                  # anything but a lock is raised at once
    assert con.calls == 1


def test_a_new_log_is_made_with_its_folders_and_an_empty_file_is_a_new_log(tmp_path):
    deep = tmp_path / "a" / "b" / "m.sqlite"
    log = MatchLog(deep)
    m = log.new_match("badminton", "Ann", "Bea")
    assert deep.is_file() and log.state(m).player == "Ann"
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    assert MatchLog(empty).matches().empty                   # an empty file is a log not yet written


def test_a_link_to_nothing_is_refused(tmp_path):
    link = tmp_path / "m.sqlite"
    link.symlink_to(tmp_path / "nowhere" / "x.sqlite")
    with pytest.raises(MatchLogError, match="not a regular file"):
        MatchLog(link)
