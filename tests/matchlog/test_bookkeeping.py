"""What the log keeps beside the strokes: where its file lives, which match was written to last (every kind of
write counts), the listing of matches, the ids it makes, the names it accepts and what a refused write says."""

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from strategist.errors import MatchLogError
from strategist.matchlog import MatchLog, StaleWriteError
from strategist.matchlog.rows import TEXT_MAX
from strategist.matchlog.store import ENV, default_path

P, O, X = "Astrid NORDVIK", "Dev MALHOTRA", "Kim SATO"


def _log(tmp_path):
    return MatchLog(tmp_path / "m.sqlite")


def test_default_path_follows_the_environment_then_xdg_then_home_then_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "given.sqlite"))
    assert default_path() == tmp_path / "given.sqlite"
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg" / "deep"))
    assert default_path() == tmp_path / "xdg" / "deep" / "strategist" / "matches.sqlite"
    assert (tmp_path / "xdg" / "deep" / "strategist").is_dir()          # made, parents included
    assert default_path() == tmp_path / "xdg" / "deep" / "strategist" / "matches.sqlite"   # and made again
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "strategist" / "matches.sqlite"
    (tmp_path / "file").write_text("")                                   # a folder that cannot be made
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "file"))
    assert default_path() == Path("strategist-matches.sqlite")


def test_timestamps_are_utc_to_the_millisecond(tmp_path):
    log = _log(tmp_path)
    before = dt.datetime.now(dt.timezone.utc)
    m = log.new_match("badminton", P, O)
    created = log.matches()["created"].iloc[0]
    assert created.endswith("+00:00") and len(created.split("T")[1]) == len("12:34:56.789+00:00")
    stamp = dt.datetime.fromisoformat(created)
    assert before - dt.timedelta(seconds=1) <= stamp <= dt.datetime.now(dt.timezone.utc)
    log.add_stroke(m, "short service")
    with sqlite3.connect(log.path) as con:
        recorded = con.execute("SELECT recorded FROM strokes").fetchone()[0]
    assert recorded.endswith("+00:00")


def test_matches_lists_every_match_with_its_counts_newest_first(tmp_path):
    log = _log(tmp_path)
    a = log.new_match("badminton", P, O, match_id="a")
    log.new_match("tennis", X, O, match_id="b")
    log.add_stroke(a, "short service")
    log.add_stroke(a, "net shot")
    log.finish_rally(a, P)
    log.add_stroke(a, "short service")
    frame = log.matches()
    assert list(frame.columns) == ["match_id", "sport", "player", "opponent", "created", "updated", "strokes",
                                   "rallies"]
    assert frame[["match_id", "sport", "player", "opponent", "strokes", "rallies"]].values.tolist() == [
        ["a", "badminton", P, O, 3, 1], ["b", "tennis", X, O, 0, 0]]
    row = frame.set_index("match_id").loc["a"]
    assert row["updated"] >= row["created"]


@pytest.mark.parametrize("write", ["stroke", "point", "undo stroke", "undo point", "undo empty rally",
                                   "undo first rally"])
def test_every_kind_of_write_makes_its_match_the_latest(tmp_path, write):
    """A write to the older of two matches of the pair makes it the one ``latest`` returns again."""
    log = _log(tmp_path)
    old = log.new_match("badminton", P, O, match_id="old")
    for shot in ("short service", "net shot") if write != "undo first rally" else ():
        log.add_stroke(old, shot)
    if write == "undo first rally":                                     # an empty rally, no result before it
        log.next_rally(old)
    if write in ("undo point", "undo empty rally"):
        log.finish_rally(old, P)
    if write == "undo empty rally":
        log.next_rally(old)
    new = log.new_match("badminton", P, O, match_id="new")
    assert log.latest(P, O) == new
    stamp = log.matches().set_index("match_id").loc["old", "updated"]
    if write == "stroke":
        log.add_stroke(old, "lob")
    elif write == "point":
        log.finish_rally(old, O)
    else:
        log.undo(old)
    assert log.latest(P, O) == old
    assert log.matches()["match_id"].iloc[0] == old
    assert log.matches().set_index("match_id").loc["old", "updated"] >= stamp


def test_next_rally_opens_with_the_server_and_set_of_the_score_after_the_last_rally(tmp_path):
    """Badminton: the rally's winner serves next. P serves and wins rally 1, then serves and loses rally 2:
    rally 3 is O's serve (the score after rally 1 or before rally 2 would say P)."""
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O, server=P)
    for winner in (P, O):
        log.add_stroke(m, "short service")
        log.add_stroke(m, "net shot")
        log.finish_rally(m, winner)
    assert log.next_rally(m) == 3
    state = log.state(m)
    assert state.current.number == 3 and state.current.server == O and state.current.set_no == 1
    assert log.next_rally(m) == 3                                       # already open: the same rally
    assert log.add_stroke(m, "short service").hitter == O


def test_generated_ids_count_up_past_other_suffixes(tmp_path):
    log = _log(tmp_path)
    stem = f"live {dt.date.today().isoformat()} {P} v {O} #"
    log.new_match("badminton", P, O, match_id=stem + "abc")          # not a number: no crash, not counted
    log.new_match("badminton", P, O, match_id=stem + "\u0663")       # an Arabic-Indic 3: not counted either
    assert log.new_match("badminton", P, O) == stem + "1"
    assert log.new_match("badminton", P, O) == stem + "2"
    log.new_match("badminton", P, O, match_id=stem + "7")
    assert log.new_match("badminton", P, O) == stem + "8"
    assert log.new_match("badminton", P, X) == f"live {dt.date.today().isoformat()} {P} v {X} #1"


@pytest.mark.parametrize("name, ok", [
    ("A", True), ("x" * TEXT_MAX, True), ("Ann Bea", True), ("Zoë ~ Ünal", True),
    ("", False), ("x" * (TEXT_MAX + 1), False), ("Ann\x1fBea", False), ("Ann\x7fBea", False), ("Ann\x00", False),
    (5, False), (None, False)])
def test_names_are_one_to_limit_characters_without_control_characters(tmp_path, name, ok):
    log = _log(tmp_path)
    if ok:
        m = log.new_match("badminton", name, O)
        assert log.state(m).player == name
    else:
        with pytest.raises(MatchLogError, match="^player ") as info:
            log.new_match("badminton", name, O)
        shown = repr(name if not isinstance(name, str) else name[:60])
        assert shown in str(info.value)                                 # at most 60 characters of it shown
        assert log.matches().empty


def test_a_stale_write_says_which_write_it_refused(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    log.add_stroke(m, "short service")
    with pytest.raises(StaleWriteError, match=f"the point to {O} was for rally 1, stroke 1"):
        log.finish_rally(m, O, expect=(1, 1))
    with pytest.raises(StaleWriteError, match="undo was for rally 1, stroke 1"):
        log.undo(m, expect=(1, 1))
    with pytest.raises(StaleWriteError, match="'lob' was for rally 1, stroke 1"):
        log.add_stroke(m, "lob", expect=(1, 1))


def test_a_match_id_and_a_data_label_are_checked_like_names(tmp_path):
    log = _log(tmp_path)
    with pytest.raises(MatchLogError, match="opponent 'Ann\\\\nBea'"):
        log.new_match("badminton", P, "Ann\nBea")
    with pytest.raises(MatchLogError, match="data label 'a\\\\x00b'"):
        log.new_match("badminton", P, O, data="a\x00b")
    with pytest.raises(MatchLogError, match="data label"):
        log.new_match("badminton", P, O, data="")
    with pytest.raises(MatchLogError, match=f"match id 'x{{60}}': expected a text of 1 to {2 * TEXT_MAX + 40}"):
        log.new_match("badminton", P, O, match_id="x" * (2 * TEXT_MAX + 41))
    with pytest.raises(MatchLogError, match="match id 'a\\\\tb'"):
        log.new_match("badminton", P, O, match_id="a\tb")
    assert log.matches().empty                                          # nothing started by any of them
    m = log.new_match("badminton", P, O, data="d" * 4096, match_id="y" * (2 * TEXT_MAX + 40))
    assert m == "y" * (2 * TEXT_MAX + 40) and log.state(m).data == "d" * 4096


def test_expect_is_a_pair_of_whole_numbers_not_booleans_or_floats(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    for expect in ((True, 1), (1, True), (1.0, 1), ("1", 1), (1, 1, 1)):
        with pytest.raises(MatchLogError, match="expect=.*expected \\(rally, stroke\\)"):
            log.add_stroke(m, "short service", expect=expect)
    assert log.state(m).rallies == ()
    stroke = log.add_stroke(m, "short service", expect=[1, 1], landing_area="8")
    assert (stroke.number, stroke.hitter, stroke.opponent, stroke.shot, stroke.landing_area) == (
        1, P, O, "short service", "8")


def test_an_unknown_match_is_named_with_the_log_file(tmp_path):
    log = _log(tmp_path)
    with pytest.raises(MatchLogError, match=f"{tmp_path / 'm.sqlite'}: no match 'nope'"):
        log.state("nope")


def test_without_a_path_the_log_opens_at_the_default_path(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "env.sqlite"))
    log = MatchLog()
    assert log.path == tmp_path / "env.sqlite"
    log.new_match("badminton", P, O)
    assert (tmp_path / "env.sqlite").is_file()
