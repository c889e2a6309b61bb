"""The rally so far, read row by row: every accepted form of a history (a table, tuples of two or four, dicts)
gives the same strokes, missing values are None and the rest text, a table is put in stroke order (ties kept in
the order given), and the order of play is checked stroke by stroke (a serve opens the rally, a tennis server's
second serve, the hitters alternating after the serves, at most MAX_STROKES strokes)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import strategist
from strategist.advice.history import MAX_STROKES, RallySoFar, check_order, read_history
from strategist.errors import EstimationError

P, O = "Ana", "Bea"
BADMINTON = strategist.get_sport("badminton")
TENNIS = strategist.get_sport("tennis")


def test_nothing_is_an_empty_rally():
    for history in (None, [], (), pd.DataFrame(), pd.DataFrame(columns=["x"])):
        rally = read_history(history)
        assert rally == RallySoFar((), (), (), ()) and len(rally) == 0


def test_the_three_forms_give_the_same_strokes():
    rows = [("short service", P, "7", "low"), ("net shot", O, "1", "high")]
    frame = pd.DataFrame(rows, columns=["shot", "hitter", "landing_area", "landing_height"])
    dicts = [{"shot": s, "hitter": h, "landing_area": a, "landing_height": t} for s, h, a, t in rows]
    lists = [list(r) for r in rows]
    expected = RallySoFar(("short service", "net shot"), (P, O), ("7", "1"), ("low", "high"))
    for history in (rows, frame, dicts, lists):
        assert read_history(history) == expected


def test_two_values_leave_the_landing_unknown():
    expected = RallySoFar(("short service", "lob"), (P, O), (None, None), (None, None))
    assert read_history([("short service", P), ["lob", O]]) == expected
    assert read_history([{"shot": "short service", "hitter": P}, {"shot": "lob", "hitter": O}]) == expected
    assert read_history(pd.DataFrame({"shot": ["short service", "lob"], "hitter": [P, O]})) == expected


def test_a_table_with_only_an_area_or_only_a_height():
    area = pd.DataFrame({"shot": ["short service"], "hitter": [P], "landing_area": [7]})
    assert read_history(area) == RallySoFar(("short service",), (P,), ("7",), (None,))
    height = pd.DataFrame({"shot": ["short service"], "hitter": [P], "landing_height": ["low"]})
    assert read_history(height) == RallySoFar(("short service",), (P,), (None,), ("low",))


def test_missing_values_are_none_and_others_text():
    """None, NaN, pd.NA, NaT and numpy NaN are not given; numbers become their text (0 and False included)."""
    rows = [("short service", P, None, math.nan), ("lob", O, pd.NA, np.float32("nan")),
            ("clear", P, 0, False), ("smash", O, 9, 0.0), ("drop", P, pd.NaT, np.nan), ("drive", O, "", "x")]
    rally = read_history(rows)
    assert rally.areas == (None, None, "0", "9", None, "")
    assert rally.heights == (None, None, "False", "0.0", None, "x")
    frame = pd.DataFrame({"shot": ["short service", "lob", "clear"], "hitter": [P, O, P],
                          "landing_area": pd.array([7, pd.NA, 0], dtype="Int64"),
                          "landing_height": [np.nan, "low", None]})
    rally = read_history(frame)
    assert rally.areas == ("7", None, "0") and rally.heights == (None, "low", None)


def test_a_value_pandas_cannot_test_for_missing_is_kept_as_text():
    """A list or an array as a value (pd.isna answers element-wise, or not at all) is read as its text."""
    rally = read_history([("short service", P, [1, 2], ("a", "b")), ("lob", O, np.array([1.0, np.nan]), [])])
    assert rally.areas == ("[1, 2]", str(np.array([1.0, np.nan])))
    assert rally.heights == ("('a', 'b')", "[]")
    assert read_history([("short service", P, [math.nan], None)]).areas == (None,)


def test_a_hitter_or_shot_that_is_a_number_is_its_text():
    assert read_history([("short service", 7)]).hitters == ("7",)
    assert read_history([(1, P)]).shots == ("1",)


def test_a_table_is_read_in_stroke_order_with_ties_kept():
    n = 40
    stroke = [(k * 7) % 5 for k in range(n)]           # many ties, given out of order
    frame = pd.DataFrame({"stroke": stroke, "shot": [f"s{k}" for k in range(n)], "hitter": [P] * n,
                          "landing_area": [str(k) for k in range(n)]})
    rally = read_history(frame)
    order = sorted(range(n), key=lambda k: (stroke[k], k))   # Python's sort is stable
    assert rally.shots == tuple(f"s{k}" for k in order)
    assert rally.areas == tuple(str(k) for k in order)
    plain = frame.drop(columns="stroke")
    assert read_history(plain).shots == tuple(f"s{k}" for k in range(n))


@pytest.mark.parametrize("columns", [["hitter"], ["shot"], ["stroke", "landing_area"]])
def test_a_table_needs_shot_and_hitter(columns):
    frame = pd.DataFrame({c: ["x"] for c in columns})
    with pytest.raises(EstimationError, match="are missing"):
        read_history(frame)


@pytest.mark.parametrize("item", [("short service",), ("short service", P, "7"), ("a", P, "7", "low", 1),
                                  "short service", 3, {"shot": "short service"}, {"hitter": P}])
def test_a_stroke_of_another_shape_is_refused(item):
    with pytest.raises(EstimationError, match="history stroke 2"):
        read_history([("short service", P), item])


@pytest.mark.parametrize("shot, hitter", [(None, P), ("lob", None), ("lob", math.nan), (pd.NA, P)])
def test_a_stroke_needs_its_shot_and_hitter(shot, hitter):
    for history in ([(shot, hitter)], [{"shot": shot, "hitter": hitter}]):
        with pytest.raises(EstimationError, match=r"history stroke 1: the shot and the hitter are needed"):
            read_history(history)
    frame = pd.DataFrame({"shot": ["short service", shot], "hitter": [P, hitter]})
    with pytest.raises(EstimationError, match=r"history stroke 2: the shot and the hitter are needed"):
        read_history(frame)


def test_plus_adds_a_stroke_with_its_area_and_no_height():
    rally = read_history([("short service", P, "7", "low")])
    more = rally.plus("lob", O, "9")
    assert more == RallySoFar(("short service", "lob"), (P, O), ("7", "9"), ("low", None))
    assert len(more) == 2 and len(rally) == 1
    assert more.plus("clear", P) == RallySoFar(("short service", "lob", "clear"), (P, O, P),
                                                ("7", "9", None), ("low", None, None))


def _check(strokes, sport=BADMINTON):
    check_order(read_history(strokes), sport, (P, O))


@pytest.mark.parametrize("strokes, sport", [
    ([], BADMINTON),
    ([("short service", P)], BADMINTON),
    ([("long service", O), ("clear", P), ("smash", O)], BADMINTON),
    ([("serve", P)], TENNIS),
    ([("serve", P), ("serve", P)], TENNIS),
    ([("serve", P), ("forehand", O)], TENNIS),
    ([("serve", O), ("serve", O), ("backhand", P), ("forehand", O)], TENNIS),
])
def test_a_rally_in_order_passes(strokes, sport):
    _check(strokes, sport)


@pytest.mark.parametrize("strokes, sport, message", [
    ([("net shot", P)], BADMINTON, r"history stroke 1 \('net shot' by 'Ana'\): a rally opens with a serve "
                                   r"\(long service, short service\)"),
    ([("forehand", P), ("serve", O)], TENNIS, r"history stroke 1 \('forehand' by 'Ana'\): a rally opens"),
    ([("short service", P), ("short service", P)], BADMINTON,
     r"history stroke 2 \('short service' by 'Ana'\): a serve is struck only at the start of a rally "
     r"\(at most 1 serve\(s\)\)"),
    ([("short service", P), ("long service", O)], BADMINTON, "history stroke 2 .*only at the start"),
    ([("serve", P), ("serve", P), ("serve", P)], TENNIS,
     r"history stroke 3 \('serve' by 'Ana'\): a serve is struck only at the start of a rally \(at most 2"),
    ([("serve", P), ("forehand", O), ("serve", P)], TENNIS, "history stroke 3 .*only at the start"),
    ([("serve", P), ("serve", O)], TENNIS, r"history stroke 2 \('serve' by 'Bea'\): a second serve is struck "
                                           "by the server"),
    ([("short service", P), ("net shot", P)], BADMINTON,
     r"history stroke 2 \('net shot' by 'Ana'\): the same player hit stroke 1; after the serve the hitters "
     "alternate"),
    ([("serve", P), ("serve", P), ("forehand", P)], TENNIS, "history stroke 3 .*the same player hit stroke 2"),
    ([("serve", P), ("forehand", O), ("backhand", P), ("lob", P)], TENNIS, "history stroke 4"),
    ([("short service", P), ("net shot", "Cid")], BADMINTON,
     r"history stroke 2 \('net shot' by 'Cid'\): the hitter is neither Ana nor Bea"),
    ([("short service", P), ("tweener", O)], BADMINTON,
     r"history stroke 2 \('tweener' by 'Bea'\): not a badminton shot; expected one of \['short service', "),
    ([("short service", P), ("forehand", O)], BADMINTON, "not a badminton shot"),
])
def test_a_rally_out_of_order_names_the_stroke(strokes, sport, message):
    with pytest.raises(EstimationError, match=message):
        _check(strokes, sport)


def test_at_most_max_strokes():
    rally = [("short service", P)] + [("clear", O if k % 2 == 0 else P) for k in range(MAX_STROKES - 1)]
    assert MAX_STROKES == 500
    _check(rally)
    longer = rally + [("clear", O if len(rally) % 2 else P)]
    with pytest.raises(EstimationError, match=r"history: 501 strokes; a rally has at most 500"):
        _check(longer)


def test_a_sport_with_three_serves_allows_a_third_serve_and_no_fourth():
    """A club's sport may give the server three serves: the serves are counted one by one."""
    three = dataclasses.replace(TENNIS, name="three serves", serves_per_point=3)
    _check([("serve", P), ("serve", P), ("serve", P), ("forehand", O)], three)
    with pytest.raises(EstimationError, match=r"history stroke 4 .*\(at most 3 serve\(s\)\)"):
        _check([("serve", P), ("serve", P), ("serve", P), ("serve", P)], three)
    with pytest.raises(EstimationError, match=r"history stroke 4 .*only at the start"):
        _check([("serve", P), ("serve", P), ("forehand", O), ("serve", P)], three)


def test_stroke_numbers_written_as_text_are_read_by_number_and_missing_ones_go_last():
    """"10" comes after "9" (by number, not by letter); a stroke with no number goes after the numbered ones;
    a table already in order is kept as it is."""
    frame = pd.DataFrame({"stroke": ["10", "9", None, "1"], "shot": ["d", "c", "e", "a"], "hitter": [P] * 4})
    assert read_history(frame).shots == ("a", "c", "d", "e")
    ordered = pd.DataFrame({"stroke": ["1", "2", "9", "10"], "shot": ["a", "b", "c", "d"], "hitter": [P] * 4})
    assert read_history(ordered).shots == ("a", "b", "c", "d")


def test_two_strokes_out_of_order_and_strokes_without_a_number():
    """Two strokes given backwards are put in order; a stroke "number" that is no number, or missing in a
    nullable integer column, goes after the numbered ones."""
    two = pd.DataFrame({"stroke": [2, 1], "shot": ["b", "a"], "hitter": [P, P]})
    assert read_history(two).shots == ("a", "b")
    text = pd.DataFrame({"stroke": ["2", "x", "1"], "shot": ["b", "c", "a"], "hitter": [P] * 3})
    assert read_history(text).shots == ("a", "b", "c")
    nullable = pd.DataFrame({"stroke": pd.array([3, None, 1], dtype="Int64"), "shot": ["b", "c", "a"],
                             "hitter": [P] * 3})
    assert read_history(nullable).shots == ("a", "b", "c")
