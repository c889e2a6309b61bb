"""Every kind of damaged row the log can meet, field by field: what is reported (table, row, field, value,
expected), what is left out, and that the rest of the match reads on."""

from __future__ import annotations

import sqlite3

import pytest

from strategist.errors import MatchLogError
from strategist.matchlog import MatchLog

P, O = "Astrid NORDVIK", "Dev MALHOTRA"
PLAYERS = f"['{P}', '{O}']"


def _damage(path, sql, *args):
    con = sqlite3.connect(path)
    with con:
        con.execute(sql, args)
    con.close()


@pytest.fixture()
def played(tmp_path):
    """Two finished rallies (Astrid wins the first, Dev the second) with landing areas, and one in play."""
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("badminton", P, O)
    for shots, winner in ((["short service", "net shot", "lob"], P), (["short service", "push"], O)):
        for shot in shots:
            log.add_stroke(m, shot, landing_area="8")
        log.finish_rally(m, winner)
    log.add_stroke(m, "short service")
    return log, m


@pytest.mark.parametrize("column, value, expected", [
    ("rally", 0, "a whole number from 1"),
    ("set_no", "x", "a whole number from 1"),
    ("server", "Nobody", f"one of {PLAYERS}"),
    ("winner", "Nobody", f"empty or one of {PLAYERS}"),
])
def test_a_damaged_rally_row_is_reported_field_by_field_and_left_out(played, column, value, expected):
    log, m = played
    _damage(log.path, f"UPDATE rallies SET {column} = ? WHERE rally = 1", value)
    state = log.state(m)
    number = repr(value) if column == "rally" else "1"
    assert str(state.damaged[0]) == f"rallies row (rally {number}): {column} is {value!r}, expected {expected}"
    # with its number damaged, the rally's three strokes point at a rally the match does not have
    orphans = [(d.table, d.key, d.field) for d in state.damaged[1:]]
    assert orphans == ([("strokes", f"(rally 1, stroke {k})", "rally") for k in (1, 2, 3)] if column == "rally"
                       else [])
    assert [r.number for r in state.rallies] == [2, 3]               # rally 1 and its strokes are left out
    assert [len(r.strokes) for r in state.rallies] == [2, 1]
    assert state.match_id == m and state.player == P and state.opponent == O


@pytest.mark.parametrize("column, value, expected", [
    ("opponent", "Nobody", "the other player of the match"),
    ("shot", "tweener", "a badminton shot"),
    ("landing_area", "x" * 201, "empty or a text of at most 200 characters"),
    ("landing_height", b"\x00", "empty or a text of at most 200 characters"),
    ("wing", "", "empty or a text of at most 200 characters"),
])
def test_a_damaged_stroke_row_is_reported_by_its_field(played, column, value, expected):
    log, m = played
    _damage(log.path, f"UPDATE strokes SET {column} = ? WHERE rally = 2 AND stroke = 2", value)
    state = log.state(m)
    assert [(d.table, d.key, d.field, d.value, d.expected) for d in state.damaged] == [
        ("strokes", "(rally 2, stroke 2)", column, value, expected)]
    assert [len(r.strokes) for r in state.rallies] == [3, 1, 1]      # the stroke is left out, its rally flagged
    assert not state.rallies[0].damaged and state.rallies[1].damaged


def test_strokes_of_a_rally_left_out_are_skipped_and_the_later_ones_read(played):
    log, m = played
    _damage(log.path, "UPDATE rallies SET winner = 'Nobody' WHERE rally = 1")
    state = log.state(m)
    assert len(state.damaged) == 1                                   # the rally row only, not its three strokes
    assert [(r.number, len(r.strokes)) for r in state.rallies] == [(2, 2), (3, 1)]


def test_a_stroke_of_a_rally_the_match_does_not_have_is_damaged(played):
    log, m = played
    _damage(log.path, "UPDATE strokes SET rally = 9 WHERE rally = 2 AND stroke = 1")
    state = log.state(m)
    assert [(d.key, d.field, d.value, d.expected) for d in state.damaged] == [
        ("(rally 9, stroke 1)", "rally", 9, "the number of a rally of the match")]
    assert [len(r.strokes) for r in state.rallies] == [3, 1, 1]


@pytest.mark.parametrize("sql, said", [
    ("UPDATE matches SET opponent = player", "players 'Astrid NORDVIK' v 'Astrid NORDVIK'"),
    ("UPDATE matches SET first_server = 'Nobody'", "first server 'Nobody'"),
    ("UPDATE matches SET player = ''", "players '' v 'Dev MALHOTRA'"),
    ("UPDATE matches SET sport = 5", "sport '5' is not one strategist knows"),
])
def test_a_damaged_match_row_makes_that_match_unreadable_and_names_it(played, sql, said):
    log, m = played
    _damage(log.path, sql)
    with pytest.raises(MatchLogError) as info:
        log.state(m)
    message = str(info.value)
    assert message.startswith(f"{log.path}: match {m!r}: its row is damaged (")
    assert said in message and message.endswith("the match cannot be read, the other matches can")


def test_the_match_state_carries_the_stored_match_row(played):
    log, m = played
    state = log.state(m)
    row = sqlite3.connect(log.path).execute(
        "SELECT match_id, sport, player, opponent, first_server, created, updated FROM matches").fetchone()
    assert (state.match_id, state.sport, state.player, state.opponent, state.first_server, state.created,
            state.updated) == row
    assert state.created and state.updated >= state.created and state.last_rally == 3
