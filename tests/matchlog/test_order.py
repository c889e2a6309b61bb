"""Stale and impossible writes are refused: the order of play inside a rally, the sport's values, a rally's
length, and a write from an out-of-date view (a double click, a second tab) — down to two tabs clicking
0.25 s apart without a lost, duplicated or impossible stroke."""

import random
import threading
import time

import pytest

import strategist
from strategist.errors import MatchLogError
from strategist.matchlog import MatchLog, OrderOfPlayError, StaleWriteError
from strategist.matchlog.order import MAX_STROKES

P, O = "Astrid NORDVIK", "Dev MALHOTRA"


def _log(tmp_path, **kw):
    return MatchLog(tmp_path / "m.sqlite", **kw)


def _strokes(log, m):
    return [(r.number, s.number, s.hitter, s.shot) for r in log.state(m).rallies for s in r.strokes]


def test_a_rally_opens_with_a_serve_and_a_serve_only_opens_it(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O, server=O)
    with pytest.raises(OrderOfPlayError, match="rally 1, stroke 1: a rally opens with a serve"):
        log.add_stroke(m, "net shot")
    assert log.state(m).rallies == ()                   # nothing written, not even an empty rally
    with pytest.raises(OrderOfPlayError, match="is Dev MALHOTRA's to hit, not Astrid NORDVIK's"):
        log.add_stroke(m, "short service", hitter=P)    # the receiver cannot serve
    assert log.add_stroke(m, "short service").hitter == O
    for serve in ("short service", "long service"):     # badminton: one serve per point
        with pytest.raises(OrderOfPlayError, match="badminton allows 1 serve per point"):
            log.add_stroke(m, serve)
    assert log.add_stroke(m, "net shot").hitter == P
    with pytest.raises(OrderOfPlayError, match="rally 1, stroke 3: 'long service' refused: a serve only opens"):
        log.add_stroke(m, "long service")
    with pytest.raises(OrderOfPlayError, match="stroke 3 is Dev MALHOTRA's to hit"):
        log.add_stroke(m, "lob", hitter=P)              # the same player twice
    assert log.add_stroke(m, "lob", hitter=O).hitter == O
    assert _strokes(log, m) == [(1, 1, O, "short service"), (1, 2, P, "net shot"), (1, 3, O, "lob")]


def test_tennis_a_second_serve_after_a_fault_and_never_a_third(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("tennis", P, O, server=P)
    assert log.state(m).allowed_shots() == ("serve",)
    log.add_stroke(m, "serve")                          # a fault, or in: both are possible now
    allowed = log.state(m).allowed_shots()
    assert allowed[0] == "serve" and "forehand" in allowed
    assert log.add_stroke(m, "serve").hitter == P       # the second serve
    assert "serve" not in log.state(m).allowed_shots()
    with pytest.raises(OrderOfPlayError, match="tennis allows 2 serves per point"):
        log.add_stroke(m, "serve")                      # a third serve
    # after the fault the turn rule shifts by one: return by O (stroke 3), then P, O, ...
    hitters = [log.add_stroke(m, shot).hitter for shot in ("backhand", "forehand", "backhand slice")]
    assert hitters == [O, P, O]
    sport = strategist.get_sport("tennis")
    roles = [sport.stroke_role(k, faults=1) for k in range(1, 6)]
    assert [P if r == "server" else O for r in roles] == [h for _, _, h, _ in _strokes(log, m)]
    log.finish_rally(m, O)
    log.add_stroke(m, "serve")
    assert log.add_stroke(m, "forehand").hitter == O    # first serve in: the return is the receiver's
    with pytest.raises(OrderOfPlayError, match="a serve only opens a rally"):
        log.add_stroke(m, "serve")


def test_the_sports_values_and_a_rallys_length_are_bounded(tmp_path):
    log = _log(tmp_path, max_strokes=4)
    m = log.new_match("badminton", P, O)
    log.add_stroke(m, "short service")
    for kw, field in (({"shot": "tweener"}, "shot"), ({"shot": "lob", "landing_area": "99"}, "landing_area"),
                      ({"shot": "lob", "landing_height": "medium"}, "landing_height"),
                      ({"shot": "lob", "hitter_area": "x"}, "hitter_area"), ({"shot": "lob", "wing": "left"}, "wing")):
        with pytest.raises(MatchLogError, match=field):
            log.add_stroke(m, **kw)
    for shot in ("lob", "smash", "net shot"):
        log.add_stroke(m, shot, landing_area="")        # "" is "not recorded"
    with pytest.raises(OrderOfPlayError, match="at most 4 strokes"):
        log.add_stroke(m, "lob")
    assert len(log.state(m).current.strokes) == 4
    assert MAX_STROKES <= 1000                          # a 5,000-stroke rally is refused by default
    with pytest.raises(MatchLogError, match="player"):
        log.new_match("badminton", "x" * 201, O)
    with pytest.raises(MatchLogError, match="control character"):
        log.new_match("badminton", "Ann\nBea", O)
    with pytest.raises(MatchLogError, match="squash"):
        log.new_match("squash", P, O)


def test_a_double_click_is_refused_as_stale_and_writes_once(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    seen = log.state(m)                                 # what the page shows
    assert seen.position == (1, 1)
    log.add_stroke(m, "short service", expect=seen.position)
    with pytest.raises(StaleWriteError, match="rally 1, stroke 1.*rally 1, stroke 2.*nothing was written") as info:
        log.add_stroke(m, "short service", expect=seen.position)
    assert (info.value.expected, info.value.found) == ((1, 1), (1, 2))
    assert isinstance(info.value, MatchLogError)
    seen = log.state(m)
    log.add_stroke(m, "net shot", expect=seen.position)
    seen = log.state(m)
    log.finish_rally(m, P, expect=seen.position)
    with pytest.raises(StaleWriteError):                # a second click on the point button
        log.finish_rally(m, P, expect=seen.position)
    assert log.state(m).score()["player"] == 1 and log.state(m).position == (2, 1)
    log.next_rally(m)
    assert log.state(m).position == (2, 1)              # an open, empty rally: the same next stroke
    seen = log.state(m)
    log.undo(m, expect=seen.position)                   # the empty rally and the result before it
    with pytest.raises(StaleWriteError):                # the second click of a double click on undo
        log.undo(m, expect=seen.position)
    state = log.state(m)
    assert state.position == (1, 3) and state.score()["player"] == 0 and len(state.current.strokes) == 2
    with pytest.raises(MatchLogError, match="expect="):
        log.add_stroke(m, "lob", expect=3)


def test_an_out_of_date_tab_cannot_serve_mid_rally(tmp_path):
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    tab_a, tab_b = log.state(m), log.state(m)           # both show a rally to open: serve buttons
    assert tab_a.allowed_shots() == ("short service", "long service")
    log.add_stroke(m, "short service", expect=tab_a.position)
    with pytest.raises(StaleWriteError):
        log.add_stroke(m, "long service", expect=tab_b.position)
    tab_b = log.state(m)                                # the page refreshes: no serve offered now
    assert "long service" not in tab_b.allowed_shots()
    log.add_stroke(m, "net shot", expect=tab_b.position)
    assert _strokes(log, m) == [(1, 1, P, "short service"), (1, 2, O, "net shot")]


def _impossible(sport, rally, players):
    """What breaks the order of play in a stored rally, checked from the sport's turn rule alone."""
    if not rally.strokes or rally.strokes[0].shot not in sport.serves:
        return "no opening serve"
    receiver = players[1] if rally.server == players[0] else players[0]
    lead = 0
    while lead < len(rally.strokes) and rally.strokes[lead].shot in sport.serves:
        lead += 1
    if lead > sport.serves_per_point or any(s.shot in sport.serves for s in rally.strokes[lead:]):
        return "a serve after the opening"
    for k, stroke in enumerate(rally.strokes, start=1):
        role = sport.stroke_role(k, lead - 1)
        if stroke.hitter != (rally.server if role == "server" else receiver) or stroke.number != k:
            return f"stroke {k} out of turn"
    return None


@pytest.mark.slow
def test_two_tabs_clicking_a_quarter_second_apart_lose_and_invent_nothing(tmp_path):
    """Two tabs on one match, each clicking every 0.25 s (100 clicks): each tab writes from what it shows;
    a refused click is clicked again after the page refreshes, as a coach would."""
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    sport = strategist.get_sport("badminton")
    done, refused, errors = [], [], []
    lock = threading.Lock()

    def tab(seed: int, offset: float, clicks: int):
        rng = random.Random(seed)
        view = log.state(m)
        start = time.monotonic() + offset
        for k in range(clicks):
            time.sleep(max(0.0, start + 0.25 * k - time.monotonic()))
            for attempt in range(20):
                rally = view.current
                try:
                    if rally is not None and len(rally.strokes) >= rng.randint(3, 9):
                        log.finish_rally(m, rng.choice([P, O]), expect=view.position)
                        outcome = ("point", view.position)
                    else:
                        shot = rng.choice(view.allowed_shots())
                        log.add_stroke(m, shot, expect=view.position)
                        outcome = ("stroke", view.position)
                    with lock:
                        done.append(outcome)
                    break
                except StaleWriteError:
                    with lock:
                        refused.append(view.position)
                except MatchLogError as exc:     # anything else is a failure of the test
                    errors.append(str(exc))
                    return
                finally:
                    view = log.state(m)          # the page reruns after every click
            else:
                errors.append("a click refused 20 times")

    threads = [threading.Thread(target=tab, args=(seed, 0.125 * seed, 50)) for seed in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(done) == 100
    state = log.state(m)
    stored = [(r.number, s.number) for r in state.rallies for s in r.strokes]
    clicked = [pos for what, pos in done if what == "stroke"]
    assert len(stored) == len(set(stored))                        # 0 duplicated
    assert sorted(clicked) == sorted(stored)                      # 0 lost: every accepted click is one stroke
    assert sum(r.finished for r in state.rallies) == sum(what == "point" for what, _ in done)
    assert [_impossible(sport, r, (P, O)) for r in state.rallies] == [None] * len(state.rallies)
    assert refused                                                # the stale path was exercised


def _rally(server, *strokes):
    from strategist.matchlog.state import Rally, Stroke

    opponent = O if server == P else P
    return Rally(number=1, set_no=1, server=server, winner=None, strokes=tuple(
        Stroke(number=k, hitter=h, opponent=opponent if h == server else server, shot=s, landing_area=None)
        for k, (h, s) in enumerate(strokes, start=1)))


def test_leading_serves_and_a_second_serve_counted_from_the_rally_alone():
    """The leading-serve count ends at the first stroke that is not a serve *or* not the server's (a stored
    rally whose first stroke is the server's drive has no leading serve); a second serve needs a first."""
    from strategist.matchlog.order import allowed_shots, leading_serves, serve_again_allowed

    tennis = strategist.get_sport("tennis")
    assert leading_serves(tennis, _rally(P)) == 0
    assert leading_serves(tennis, _rally(P, (P, "serve"), (P, "serve"), (O, "forehand"))) == 2
    assert leading_serves(tennis, _rally(P, (P, "forehand"), (P, "serve"))) == 0   # the server's, no serve
    assert leading_serves(tennis, _rally(P, (O, "serve"), (P, "serve"))) == 0      # a serve, not the server's
    assert serve_again_allowed(tennis, _rally(P)) is False          # nothing to serve *again* after
    assert serve_again_allowed(tennis, _rally(P, (P, "serve"))) is True
    assert serve_again_allowed(tennis, _rally(P, (P, "serve"), (P, "serve"))) is False
    assert serve_again_allowed(tennis, _rally(P, (P, "serve"), (O, "forehand"))) is False
    assert allowed_shots(tennis, _rally(P, (P, "serve")))[0] == "serve"


def test_the_optional_fields_are_stored_as_given(tmp_path):
    """What check_fields passes on is what the log stores and reads back ("" and None: not recorded)."""
    from strategist.matchlog.order import check_fields

    badminton = strategist.get_sport("badminton")
    given = {"landing_area": "7", "landing_height": "low", "hitter_area": "", "wing": "backhand"}
    assert check_fields(badminton, "lob", given) == {"wing": "backhand", "landing_area": "7",
                                                     "landing_height": "low", "hitter_area": None}
    log = _log(tmp_path)
    m = log.new_match("badminton", P, O)
    log.add_stroke(m, "short service", landing_area="8", wing="forehand", hitter_area="2")
    stroke = log.state(m).current.strokes[0]
    assert (stroke.landing_area, stroke.wing, stroke.hitter_area, stroke.landing_height) == ("8", "forehand", "2",
                                                                                               None)
