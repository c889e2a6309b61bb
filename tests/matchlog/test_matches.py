"""Several matches and pairings in one log, "New match" and resuming, undo across a rally's end, and the
export's serve numbers and stored tennis points, each against values worked out by hand."""

import time

import pytest

from strategist.matchlog import MatchLog

P, O, X = "Astrid NORDVIK", "Dev MALHOTRA", "Kim SATO"


def _log(tmp_path):
    return MatchLog(tmp_path / "m.sqlite")


def _rally(log, match_id, shots, winner=None):
    for shot in shots:
        log.add_stroke(match_id, shot)
    if winner is not None:
        log.finish_rally(match_id, winner)


def test_latest_keeps_pairings_apart_and_returns_the_newest(tmp_path):
    log = _log(tmp_path)
    p_o = log.new_match("badminton", P, O)
    time.sleep(0.01)
    p_x = log.new_match("badminton", P, X)              # a later match of another pairing
    assert log.latest() == p_x
    assert log.latest(P, O) == p_o and log.latest(P, X) == p_x
    assert log.latest(O, P) is None                     # the pairing as (player, opponent)
    assert log.latest(P) == p_x                         # any opponent of P
    time.sleep(0.01)
    _rally(log, p_o, ["short service"])                 # recording into a match makes it the newest
    assert log.latest() == p_o and log.latest(P) == p_o and log.latest(P, X) == p_x


def test_a_new_match_for_the_same_pair_becomes_the_latest_and_the_old_one_resumes(tmp_path):
    log = _log(tmp_path)
    first = log.new_match("badminton", P, O)
    _rally(log, first, ["short service", "net shot"], P)
    second = log.new_match("badminton", P, O)           # at once: the same millisecond is possible
    assert second != first and first.endswith("#1") and second.endswith("#2")
    assert log.latest(P, O) == second and log.matches()["match_id"].iloc[0] == second
    assert log.state(second).rallies == () and log.state(second).score()["player"] == 0
    _rally(log, first, ["short service"])               # resume the older match by its id
    state = log.state(first)
    assert [len(r.strokes) for r in state.rallies] == [2, 1] and state.score()["player"] == 1
    assert log.latest(P, O) == first
    many = [log.new_match("badminton", P, O) for _ in range(9)]     # #3 ... #11: "#11" sorts before "#3" as text
    assert log.latest(P, O) == many[-1] and many[-1].endswith("#11")


def test_undo_of_an_empty_rally_reopens_the_previous_result(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    _rally(log, m, ["short service", "net shot"], O)
    assert log.next_rally(m) == 2                       # the page opens the next rally at once
    message = log.undo(m)
    state = log.state(m)
    assert message == "rally 1: result taken back"
    assert len(state.rallies) == 1 and state.current is not None and state.current.number == 1
    assert state.score()["opponent"] == 0 and len(state.current.strokes) == 2
    assert "stroke 2" in log.undo(m)                    # then the strokes, last first
    assert "stroke 1" in log.undo(m)
    assert log.undo(m) == "empty rally removed" and log.state(m).rallies == ()
    assert log.undo(m) == "nothing to undo"


def test_a_refused_stroke_leaves_no_empty_rally_behind(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    _rally(log, m, ["short service"], P)                # no rally in play: the next stroke would open one
    before = log.state(m)
    with pytest.raises(Exception, match="does not play"):
        log.add_stroke(m, "short service", hitter="Somebody Else")
    after = log.state(m)
    assert after.rallies == before.rallies and after.current is None


def test_export_serve_numbers_on_every_stroke(tmp_path):
    """``serve_number`` is the serve that put the rally in play, on every row of the rally (schema.py)."""
    log = MatchLog(tmp_path / "t.sqlite")
    m = log.new_match("tennis", P, O, server=P)
    _rally(log, m, ["serve", "forehand", "backhand", "forehand", "forehand volley"], P)         # first serve in
    _rally(log, m, ["serve", "serve", "forehand", "backhand", "forehand", "overhead"], O)  # fault, second serve in
    _rally(log, m, ["serve", "serve"], O)                                           # a double fault
    table = log.export_table(m)
    numbers = [table.loc[table["rally"] == r, "serve_number"].tolist() for r in (1, 2, 3)]
    assert numbers == [[1] * 5, [1, 2, 2, 2, 2, 2], [1, 2]]


def test_stored_tennis_points_below_deuce_are_the_points(tmp_path):
    """40-15 is stored as 3-1 (the canonical table's 4 is only the advantage after deuce)."""
    log = MatchLog(tmp_path / "t.sqlite")
    m = log.new_match("tennis", P, O, server=P)
    for w in (P, O, P, P):                              # 15-0, 15-15, 30-15, 40-15
        _rally(log, m, ["serve", "forehand"], w)
    _rally(log, m, ["serve", "forehand"], O)            # 40-30
    _rally(log, m, ["serve"])
    table = log.export_table(m)
    before = table.groupby("rally").first()
    assert before.loc[5, ["hitter_score", "opponent_score"]].tolist() == [3, 1]       # P serves at 40-15
    assert before.loc[5, ["server", "hitter"]].tolist() == [P, P]
    assert before.loc[6, ["hitter_score", "opponent_score"]].tolist() == [3, 2]       # 40-30
    receiver = table[(table["rally"] == 5) & (table["hitter"] == O)].iloc[0]
    assert (receiver["hitter_score"], receiver["opponent_score"]) == (1, 3)           # 15-40 from O's side


def test_the_newest_match_wins_even_within_one_clock_tick(tmp_path, monkeypatch):
    """Two matches started (or written) in the same millisecond: the later one is still the latest."""
    from strategist.matchlog import store

    monkeypatch.setattr(store, "_now", lambda: "2026-01-01T00:00:00.000+00:00")
    log = _log(tmp_path)
    ids = [log.new_match("badminton", P, O) for _ in range(11)]
    assert log.latest(P, O) == ids[-1] and ids[-1].endswith("#11")
    _rally(log, ids[0], ["short service"])
    assert log.latest(P, O) == ids[0]
    assert list(log.matches()["match_id"])[:2] == [ids[0], ids[-1]]


def test_a_double_click_on_new_match_starts_one_match(tmp_path):
    from strategist.matchlog import StaleWriteError

    log = _log(tmp_path)
    seen = log.latest(P, O)                             # None: the page shows "Start a match"
    first = log.new_match("badminton", P, O, expect_latest=seen)
    with pytest.raises(StaleWriteError, match="the latest match is now .*#1.*no match was started"):
        log.new_match("badminton", P, O, expect_latest=seen)
    second = log.new_match("badminton", P, O, expect_latest=log.latest(P, O))    # the refreshed page
    assert list(log.matches()["match_id"]) == [second, first]
    log.new_match("badminton", P, X, expect_latest=None)        # another pairing has its own latest
    with pytest.raises(StaleWriteError):
        log.new_match("badminton", P, O, expect_latest=first)
