"""The rally model's row lookup (``_unique_rows``, through mixed-radix keys ``_pack``) against a dictionary
built here: the unique rows of a key table, each key row's index among them, and each stroke row's index or
-1 where the key table lacks it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs

from strategist.rally.model import _pack, _unique_rows


def _reference(keys: np.ndarray, strokes: np.ndarray):
    uniq = sorted({tuple(r) for r in keys.tolist()})
    where = {r: i for i, r in enumerate(uniq)}
    return (np.array(uniq, dtype=np.int64).reshape(-1, keys.shape[1]),
            [where[tuple(r)] for r in keys.tolist()], [where.get(tuple(r), -1) for r in strokes.tolist()])


def _tables(rows: tuple[int, int], width: int):
    """Tables of ``rows[0]``..``rows[1]`` rows of ``width`` codes in -1..6."""
    row = hs.lists(hs.integers(-1, 6), min_size=width, max_size=width)
    return hs.lists(row, min_size=rows[0], max_size=rows[1])


@settings(max_examples=200, deadline=None)
@given(hs.integers(1, 4).flatmap(lambda w: hs.tuples(_tables((1, 12), w), _tables((1, 12), w))))
def test_every_stroke_row_is_found_among_the_unique_key_rows_or_marked_missing(tables):
    keys, strokes = (np.array(t, dtype=np.int64).reshape(-1, len(tables[0][0])) for t in tables)
    uniq, inverse, pos = _unique_rows(keys, strokes)
    want_uniq, want_inverse, want_pos = _reference(keys, strokes)
    assert sorted(map(tuple, uniq.tolist())) == sorted(map(tuple, want_uniq.tolist()))
    np.testing.assert_array_equal(uniq[inverse], keys)                       # each key row maps to itself
    got_pos = [tuple(uniq[p].tolist()) if p >= 0 else -1 for p in pos]
    assert got_pos == [tuple(want_uniq[p].tolist()) if p >= 0 else -1 for p in want_pos]
    assert set(pos.tolist()) <= set(range(len(uniq))) | {-1}


def test_strokes_larger_than_every_key_or_in_a_wider_range_are_missing_not_confused():
    """Stroke rows whose values exceed the keys' (a radix from the keys alone would alias them) and one past
    the last key row."""
    keys = np.array([[0, 0], [1, 2], [0, 1]])
    strokes = np.array([[0, 3], [1, 0], [1, 2], [2, 0], [9, 9], [-1, -1], [0, 1]])
    uniq, inverse, pos = _unique_rows(keys, strokes)
    found = [tuple(uniq[p].tolist()) if p >= 0 else None for p in pos]
    assert found == [None, None, (1, 2), None, None, None, (0, 1)]
    assert pos[0] == -1 and pos[4] == -1


@given(hs.lists(hs.lists(hs.integers(-1, 30), min_size=3, max_size=3), min_size=1, max_size=40))
def test_packed_keys_are_equal_exactly_when_the_rows_are(rows):
    rows = np.array(rows, dtype=np.int64)
    key = _pack(rows)
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (key[i] == key[j]) == bool((rows[i] == rows[j]).all())
