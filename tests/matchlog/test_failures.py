"""Writes that fail say what happened and write nothing: a read-only file or folder, a full disk, a failure
half-way through a write; a damaged row leaves the rest of the match readable and exportable; a bad
schema version or a path through a file is one MatchLogError."""

import os
import sqlite3
import threading
import warnings

import pytest

import strategist
from strategist.errors import MatchLogError
from strategist.matchlog import DamagedRowWarning, DiskFullError, MatchLog, ReadOnlyLogError
from strategist.matchlog import database

P, O = "Astrid NORDVIK", "Dev MALHOTRA"


def _played(log, m):
    for shots, winner in ((["short service", "net shot", "lob"], P), (["short service", "push"], O)):
        for shot in shots:
            log.add_stroke(m, shot, landing_area="8")
        log.finish_rally(m, winner)


@pytest.mark.parametrize("file_too", [True, False])
def test_a_healthy_log_on_a_read_only_folder_is_read_only_not_corrupted(shared_dir, read_only, file_too):
    log = MatchLog(shared_dir / "m.sqlite")
    m = log.new_match("badminton", P, O)
    _played(log, m)
    expected = log.export_table(m)
    before = log.path.read_bytes()
    with read_only(shared_dir, log.path if file_too else None):
        again = MatchLog(log.path)
        assert "read-only" in again.read_only
        assert again.state(m).score()["opponent"] == 1 and again.latest(P, O) == m
        assert again.export_table(m).equals(expected)
        with pytest.raises(ReadOnlyLogError) as info:
            again.add_stroke(m, "short service")
        message = str(info.value)
        assert "read-only" in message and "nothing was written" in message
        assert "corrupt" not in message and "move it away" not in message
        with pytest.raises(ReadOnlyLogError):
            again.new_match("badminton", P, O)
        with pytest.raises(ReadOnlyLogError, match="cannot make the match log"):
            MatchLog(shared_dir / "new.sqlite")
    assert log.path.read_bytes() == before
    assert sorted(p.name for p in shared_dir.iterdir()) == ["m.sqlite"]


def test_a_full_disk_says_so_and_writes_nothing(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("badminton", P, O)
    limited = MatchLog(log.path, max_bytes=12 * 4096)
    last = None
    with pytest.raises(DiskFullError) as info:
        for k in range(5000):
            if k % 10 == 0:
                if k:
                    limited.finish_rally(m, P)
                last = limited.state(m)
                limited.add_stroke(m, "short service", landing_area="8")
            else:
                last = limited.state(m)
                limited.add_stroke(m, "lob" if k % 2 else "net shot", landing_area="9", landing_height="high")
    message = str(info.value)
    assert "disk is full" in message and "nothing was written" in message and "rollback" not in message
    after = log.state(m)
    assert after.rallies == last.rallies                       # the failed write left nothing behind
    log.add_stroke(m, after.allowed_shots()[0], expect=after.position)    # space again (no limit): goes on
    now = log.state(m)
    assert (now.rallies[-1].number, now.rallies[-1].strokes[-1].number) == after.position == last.position


def _failing_strokes(text: str, code: int):
    """A connection class whose stroke inserts fail with SQLite's ``code`` (after the rally insert went
    through), as a disk would fail half-way through a write."""

    class Failing(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO strokes"):
                exc = sqlite3.OperationalError(text)
                exc.sqlite_errorcode = code
                raise exc
            return super().execute(sql, *args)

    return Failing


@pytest.mark.parametrize("text, code, error, said", [
    ("database or disk is full", 13, DiskFullError, "the disk is full"),
    ("attempt to write a readonly database", 8, ReadOnlyLogError, "read-only"),
    ("disk I/O error", 10, MatchLogError, "the disk reported an error")])
def test_a_write_failing_half_way_leaves_no_empty_rally(tmp_path, monkeypatch, text, code, error, said):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("badminton", P, O)
    _played(log, m)
    before = log.state(m)
    connect = sqlite3.connect
    failing = _failing_strokes(text, code)
    monkeypatch.setattr(database.sqlite3, "connect", lambda *a, **k: connect(*a, **k, factory=failing))
    with pytest.raises(error, match=f"{said}.*nothing was written") as info:
        log.add_stroke(m, "short service")                     # would open rally 3, then fails
    assert "corrupt" not in str(info.value) and "rollback" not in str(info.value)
    monkeypatch.setattr(database.sqlite3, "connect", connect)
    assert log.state(m).rallies == before.rallies and log.state(m).current is None
    assert log.add_stroke(m, "short service").number == 1 and log.state(m).current.number == 3


def _damage(path, sql):
    con = sqlite3.connect(path)
    with con:
        con.execute(sql)
    con.close()


def test_a_damaged_stroke_row_leaves_the_rest_readable_and_exportable(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("badminton", P, O)
    _played(log, m)
    log.add_stroke(m, "short service")
    log.add_stroke(m, "net shot")
    _damage(log.path, "UPDATE strokes SET stroke = 'x' WHERE rally = 1 AND stroke = 2")
    state = log.state(m)
    assert [str(d) for d in state.damaged] == ["strokes row (rally 1, stroke 'x'): stroke is 'x', expected a whole "
                                               "number from 1"]
    assert [len(r.strokes) for r in state.rallies] == [2, 2, 2] and state.rallies[0].damaged
    assert state.score()["player"] == 1 and state.score()["opponent"] == 1     # its result still counts
    with pytest.warns(DamagedRowWarning, match="1 damaged row.*rallies \\[1\\]"):
        table = log.export_table(m)
    assert sorted(set(table["rally"])) == [2, 3] and len(table) == 4
    path = tmp_path / "m.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedRowWarning)
        log.export_csv(m, path)
    loaded, rejections = strategist.load_rallies(path)
    assert rejections.ok and len(loaded) == 4
    assert log.add_stroke(m, "lob").number == 3                # the rally in play is whole: goes on
    _damage(log.path, "UPDATE strokes SET hitter = 'Nobody' WHERE rally = 3 AND stroke = 1")
    with pytest.raises(MatchLogError, match="rally 3 holds damaged rows.*hitter is 'Nobody'"):
        log.add_stroke(m, "smash")
    log.finish_rally(m, O)                                     # its result can still be recorded


def test_a_damaged_rally_row_leaves_that_rally_out_and_a_damaged_match_row_that_match(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("badminton", P, O)
    _played(log, m)
    other = log.new_match("badminton", P, "Kim SATO")
    _damage(log.path, "UPDATE rallies SET winner = 'Nobody' WHERE rally = 2")
    state = log.state(m)
    assert [r.number for r in state.rallies] == [1] and state.last_rally == 2
    assert [(d.table, d.field, d.value) for d in state.damaged] == [("rallies", "winner", "Nobody")]
    assert state.score()["opponent"] == 0 and state.score()["player"] == 1
    assert state.position == (3, 1)                           # the next rally never reuses a stored number
    log.add_stroke(m, "short service")
    assert [r.number for r in log.state(m).rallies] == [1, 3]
    _damage(log.path, f"UPDATE matches SET sport = 'squash' WHERE match_id = '{m}'")
    with pytest.raises(MatchLogError, match="its row is damaged \\(sport 'squash'.*other matches can"):
        log.state(m)
    assert set(log.matches()["match_id"]) == {m, other} and log.state(other).rallies == ()


def test_a_schema_version_that_is_not_a_number_is_a_match_log_error(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite")
    _damage(log.path, "UPDATE meta SET value = 'abc' WHERE key = 'schema_version'")
    with pytest.raises(MatchLogError, match="schema_version is 'abc'"):
        MatchLog(log.path)


def test_a_log_path_through_a_file_is_a_match_log_error(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with pytest.raises(MatchLogError, match="a file is in the way"):
        MatchLog(tmp_path / "notes.txt" / "m.sqlite")
    with pytest.raises(MatchLogError, match="is a folder"):
        MatchLog(tmp_path)


def test_a_writer_holding_the_log_too_long_is_said_plainly(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite", timeout_ms=20)
    m = log.new_match("badminton", P, O)
    holder = sqlite3.connect(log.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(MatchLogError, match="another writer held the match log.*nothing was written"):
            log.add_stroke(m, "short service")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert log.add_stroke(m, "short service").number == 1


def test_a_read_only_log_with_writes_still_in_its_write_ahead_log(shared_dir, read_only):
    """A log left with its -wal and -shm files (a writer still open, or killed) on a folder that became
    read-only: read with the writes in the -wal; without the -shm, SQLite cannot, and says so."""
    log = MatchLog(shared_dir / "m.sqlite")
    m = log.new_match("badminton", P, O)
    holder = sqlite3.connect(log.path, isolation_level=None)
    holder.execute("SELECT * FROM meta").fetchall()            # keeps the write-ahead log from folding back
    try:
        _played(log, m)
        assert (shared_dir / "m.sqlite-wal").stat().st_size > 0
        with read_only(shared_dir, log.path):
            assert MatchLog(log.path).state(m).score()["opponent"] == 1
        (shared_dir / "m.sqlite-shm").unlink()
        with read_only(shared_dir, log.path):
            with pytest.raises(ReadOnlyLogError, match="last writes are in m.sqlite-wal"):
                MatchLog(log.path)
    finally:
        holder.close()


def test_a_log_path_that_is_a_pipe_or_a_device_is_refused(tmp_path):
    fifo = tmp_path / "pipe.sqlite"
    os.mkfifo(fifo)
    link = tmp_path / "zero.sqlite"
    link.symlink_to("/dev/zero")
    for path in (fifo, link):
        outcome = []

        def open_log(path=path):
            try:
                MatchLog(path)
                outcome.append("opened")
            except MatchLogError as exc:
                outcome.append(str(exc))

        opener = threading.Thread(target=open_log, daemon=True)    # reading a pipe would block for ever
        opener.start()
        opener.join(20)
        assert len(outcome) == 1 and "not a regular file" in outcome[0], outcome
