"""A history frame's stroke numbers, read as numbers whatever the column's dtype: the strokes are put in their
order, a stroke without a number last (nullable integers, floats, text and booleans, which count as 1 and 0)."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.advice.history import read_history


@pytest.mark.parametrize("numbers, dtype", [
    ([2, None, 1], "Int64"),
    ([2.0, None, 1.0], "Float64"),
    (["2", "x", "1"], "string"),
    ([True, None, False], "boolean"),        # True is stroke 1, False stroke 0
])
def test_strokes_are_put_in_order_with_a_missing_number_last(numbers, dtype):
    frame = pd.DataFrame({"shot": ["second", "unnumbered", "first"], "hitter": ["B", "A", "A"],
                          "stroke": pd.Series(numbers, dtype=dtype)})
    rally = read_history(frame)
    assert rally.shots == ("first", "second", "unnumbered")
    assert rally.hitters == ("A", "B", "A")
