"""A stored match's state as pages read it: the whole score of a tennis match through deuce, advantage, a
tie-break and a set won, worked out by hand; who hits next, serves and faults included."""

from __future__ import annotations

import pytest

from strategist.matchlog.store import MatchLog

P, O = "Ann ALPHA", "Bea BETA"


@pytest.fixture()
def tennis(tmp_path):
    log = MatchLog(tmp_path / "t.sqlite")
    return log, log.new_match("tennis", P, O, server=P)


def _points(log, m, winners):
    for w in winners:
        log.add_stroke(m, "serve")
        log.finish_rally(m, w)


def _game(log, m, winner):
    _points(log, m, [winner] * 4)


def _score(**changes):
    base = {"set": 1, "player": 0, "opponent": 0, "player_games": 0, "opponent_games": 0, "game": 1,
            "tiebreak": False, "player_call": "0", "opponent_call": "0", "player_sets": 0, "opponent_sets": 0,
            "rallies": 0}
    return {**base, **changes}


def test_the_score_through_a_game_deuce_and_advantage(tennis):
    log, m = tennis
    assert log.state(m).score() == _score()
    _points(log, m, [P, P, O])                                   # 30-15
    assert log.state(m).score() == _score(player=2, opponent=1, player_call="30", opponent_call="15", rallies=3)
    _points(log, m, [P])                                         # 40-15
    assert log.state(m).score() == _score(player=3, opponent=1, player_call="40", opponent_call="15", rallies=4)
    _points(log, m, [P])                                         # game Ann
    assert log.state(m).score() == _score(player_games=1, game=2, rallies=5)
    _points(log, m, [O, P, O, P, O, P])                          # 40-40 in the second game
    assert log.state(m).score() == _score(player=3, opponent=3, player_games=1, game=2, player_call="40",
                                          opponent_call="40", rallies=11)
    _points(log, m, [O])                                         # advantage Bea
    now = log.state(m).score()
    assert (now["player_call"], now["opponent_call"]) == ("40", "AD") and now["rallies"] == 12
    _points(log, m, [O])                                         # game Bea: 1-1
    assert log.state(m).score() == _score(player_games=1, opponent_games=1, game=3, rallies=13)


def test_the_score_through_a_tiebreak_to_the_next_set(tennis):
    log, m = tennis
    for k in range(12):                                          # games shared to 6-6
        _game(log, m, P if k % 2 == 0 else O)
    assert log.state(m).score() == _score(player_games=6, opponent_games=6, game=13, tiebreak=True, rallies=48)
    _points(log, m, [P, P, O])                                   # tie-break points are counted as numbers
    now = log.state(m).score()
    assert (now["player"], now["opponent"], now["tiebreak"]) == (2, 1, True)
    assert (now["player_call"], now["opponent_call"]) == ("2", "1")
    _points(log, m, [P] * 5)                                     # 7-1: the set to Ann, 7-6
    assert log.state(m).score() == _score(set=2, player_sets=1, rallies=56)


def test_who_hits_next_in_badminton(tmp_path):
    log = MatchLog(tmp_path / "b.sqlite")
    m = log.new_match("badminton", P, O, server=O)
    assert log.state(m).next_hitter() == O                       # no rally yet: the server
    log.add_stroke(m, "short service")
    assert log.state(m).next_hitter() == P and log.state(m).next_hitter("net shot") == P
    log.add_stroke(m, "net shot")
    assert log.state(m).next_hitter() == O
    log.finish_rally(m, P)
    assert log.state(m).next_hitter() == P                       # the rally's winner serves


def test_who_hits_next_after_a_tennis_fault(tennis):
    log, m = tennis
    log.add_stroke(m, "serve")
    state = log.state(m)
    assert state.next_hitter("serve") == P                       # a second serve after a fault: the server's
    assert state.next_hitter("forehand") == O                    # the first serve was in: the receiver returns
    assert state.other(P) == O and state.other(O) == P
