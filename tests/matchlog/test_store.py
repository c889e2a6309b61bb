"""The match log loses nothing: a stroke per transaction, two writers, a killed writer, a corrupted file."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import strategist
from strategist.errors import DataFormatError, MatchLogError
from strategist.matchlog import MatchLog, default_path
from strategist.matchlog.store import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
P, O = "Astrid NORDVIK", "Dev MALHOTRA"


def _log(tmp_path):
    return MatchLog(tmp_path / "m.sqlite")


def test_record_undo_finish_and_score(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O, server=O)
    s = log.add_stroke(m, "short service")
    assert s.hitter == O and s.number == 1
    assert log.add_stroke(m, "net shot").hitter == P
    assert "stroke 2" in log.undo(m)
    assert [x.shot for x in log.state(m).current.strokes] == ["short service"]
    log.add_stroke(m, "lob", landing_area="9")
    log.finish_rally(m, P)
    st = log.state(m)
    assert st.score()["player"] == 1 and st.next_server() == P and st.current is None
    assert "result taken back" in log.undo(m)
    assert log.state(m).current is not None
    log.finish_rally(m, P)
    with pytest.raises(MatchLogError, match="record a stroke first"):
        log.finish_rally(m, O)
    with pytest.raises(MatchLogError, match="does not play"):
        log.add_stroke(m, "lob", hitter="Somebody Else")
    assert log.latest(P, O) == m and log.matches()["strokes"].iloc[0] == 2


def test_a_set_ends_at_21_by_two(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    for k in range(21):
        log.add_stroke(m, "short service")
        log.finish_rally(m, P)
    score = log.state(m).score()
    assert score["set"] == 2 and score["player_sets"] == 1 and score["player"] == 0
    log.add_stroke(m, "short service")
    assert log.state(m).current.set_no == 2


def test_export_loads_back_as_data(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    for shots, winner in ((["short service", "net shot", "lob", "smash"], P), (["long service", "clear"], O),
                          (["short service", "push"], None)):
        for shot in shots:
            log.add_stroke(m, shot, landing_area="8")
        if winner:
            log.finish_rally(m, winner)
    path = tmp_path / "match.csv"
    log.export_csv(m, path)
    table, rejections = strategist.load_rallies(path)
    assert rejections.ok and len(table) == 8 and table["source"].eq("canonical").all()
    assert table["shot"].tolist()[:4] == ["short service", "net shot", "lob", "smash"]
    first = table[table["rally"] == 1]
    assert first["hitter_won"].tolist() == [True, False, True, False]
    second = table[table["rally"] == 2]
    assert second["server"].eq(P).all() and second["hitter_score"].tolist() == [1, 0]
    assert table[table["rally"] == 3]["winner"].isna().all()
    exported = log.export_table(m)
    assert list(exported.columns) == list(table.columns)


def test_canonical_loader_rejects_bad_rallies(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    for shot in ("short service", "net shot"):
        log.add_stroke(m, shot)
    log.finish_rally(m, O)
    for shot in ("long service", "clear"):
        log.add_stroke(m, shot)
    log.finish_rally(m, P)
    path = tmp_path / "bad.csv"
    text = log.export_csv(m).replace("clear", "tweener")
    path.write_text(text)
    table, rejections = strategist.load_rallies(path)
    assert len(table) == 2 and rejections.counts == {"shot not in the vocabulary": 1}
    with pytest.raises(DataFormatError, match="line 5.*field 'shot'"):
        strategist.load_rallies(path, strict=True)


_WRITER = """
import sys
from strategist.matchlog import MatchLog
log = MatchLog(sys.argv[1])
match, n, tag, length = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
for k in range(n):
    if length and k % length == 0:
        if k:
            log.finish_rally(match, log.state(match).player)
        log.add_stroke(match, "short service", landing_area=tag)
    else:
        log.add_stroke(match, "net shot" if k % 2 else "lob", landing_area=tag)
    print(k + 1, flush=True)
"""


def _writer(path, match, n, tag, length=0):
    """A process recording ``n`` strokes: into the rally in play (``length`` 0), or in rallies of ``length``
    strokes, each opened by a serve and won by the player."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(path), match, str(n), tag, str(length)], env=env,
                            stdout=subprocess.PIPE, text=True)


def test_two_processes_writing_at_once(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    log.add_stroke(m, "short service")
    procs = [_writer(log.path, m, 40, tag) for tag in ("1", "2")]
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and out.split()[-1] == "40"
    strokes = log.state(m).current.strokes
    assert [s.number for s in strokes] == list(range(1, 82))
    assert sorted(s.landing_area for s in strokes[1:]).count("1") == 40
    # turns alternate whatever the interleaving
    assert all(a.hitter != b.hitter for a, b in zip(strokes, strokes[1:]))


def test_a_kill_in_the_middle_of_a_rally_loses_no_committed_stroke(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    proc = _writer(log.path, m, 100_000, "5", length=20)
    acked = 0
    deadline = time.time() + 60
    while acked < 25 and time.time() < deadline:
        acked = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()
    again = MatchLog(log.path)  # integrity check passes
    state = again.state(m)
    strokes = [s for r in state.rallies for s in r.strokes]
    assert len(strokes) >= acked >= 25 and not state.damaged
    for rally in state.rallies:
        assert [s.number for s in rally.strokes] == list(range(1, len(rally.strokes) + 1))
    rally, number = state.position
    if state.current is None:
        again.add_stroke(m, "short service", expect=(rally, number))
    else:
        again.add_stroke(m, "smash", expect=(rally, number))
    assert again.state(m).rallies[-1].strokes[-1].number == number


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path):
    path = tmp_path / "m.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    before = path.read_bytes()
    with pytest.raises(MatchLogError, match="not a SQLite database.*left as it is"):
        MatchLog(path)
    assert path.read_bytes() == before


def test_a_damaged_database_is_refused_untouched(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    for k in range(600):
        if k % 30 == 0:
            if k:
                log.finish_rally(m, P)
            log.add_stroke(m, "short service", landing_area="8")
        else:
            log.add_stroke(m, "lob", landing_area="9", landing_height="high", hitter_area="3", wing="backhand")
    with sqlite3.connect(log.path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(log.path.read_bytes())
    page = 4096
    assert len(raw) > 4 * page
    raw[2 * page + 100: 3 * page] = os.urandom(page - 100)
    log.path.write_bytes(bytes(raw))
    before = log.path.read_bytes()
    with pytest.raises(MatchLogError, match="corrupted"):
        MatchLog(log.path)
    assert log.path.read_bytes() == before


def test_a_foreign_database_or_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE notes (x)")
    with pytest.raises(MatchLogError, match="not a strategist match log"):
        MatchLog(path)
    log = _log(tmp_path)
    with sqlite3.connect(log.path) as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(MatchLogError, match="newer"):
        MatchLog(log.path)


def test_wal_and_default_path(tmp_path, monkeypatch):
    log = _log(tmp_path)
    with sqlite3.connect(log.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"
