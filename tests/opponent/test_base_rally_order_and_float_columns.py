"""The row order of rally_frame on tables out of order in each way the fast "already sorted" check must catch,
and column_floats on columns that are neither numbers nor text: durations and decimals with a missing entry,
periods."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from strategist.opponent.base import column_floats, rally_frame


def _table(rallies, strokes):
    n = len(rallies)
    return pd.DataFrame({"match_id": ["m"] * n, "rally_id": rallies, "stroke": strokes, "hitter": ["A"] * n,
                         "opponent": ["B"] * n, "shot": ["clear"] * n})


def _order(frame):
    return list(zip(frame["rally_id"], frame["stroke"]))


@pytest.mark.parametrize("rallies, strokes, want", [
    # each rally id above the first one's, but not above the one before
    (["r1", "r3", "r2"], [1, 1, 1], [("r1", 1), ("r2", 1), ("r3", 1)]),
    # the stroke number rises while the rally id falls
    (["r2", "r1"], [1, 2], [("r1", 2), ("r2", 1)]),
    # a rally resumed after another one: same id as the first row, not as the row before
    (["r1", "r2", "r1"], [1, 1, 2], [("r1", 1), ("r1", 2), ("r2", 1)]),
    # every stroke above the rally's first one, but not above the one before
    (["r1", "r1", "r1"], [1, 3, 2], [("r1", 1), ("r1", 2), ("r1", 3)]),
])
def test_a_table_out_of_order_comes_back_sorted_by_rally_then_stroke(rallies, strokes, want):
    """Reference: the (rally_id, stroke) pairs sorted by hand."""
    out = rally_frame(_table(rallies, strokes).set_axis(range(10, 10 + len(rallies))))
    assert _order(out) == want
    assert out.index.tolist() == list(range(len(rallies)))


def test_stroke_numbers_read_as_text_with_a_missing_one_are_sorted_with_it_last():
    """A stroke column read as text (as from a CSV file read as strings) with a missing number is checked for
    order as numbers, not compared text against the missing value: each rally's strokes in order, the missing
    one last. The strokes here are single digits, so the text order is the numbers' order."""
    for column in (pd.Series(["2", None, "1", "1"]), pd.Series(["2", None, "1", "1"], dtype=object)):
        out = rally_frame(_table(["r1", "r1", "r1", "r2"], column))
        assert out["rally_id"].tolist() == ["r1", "r1", "r1", "r2"]
        assert out["stroke"].tolist()[:2] == ["1", "2"] and pd.isna(out["stroke"].iloc[2])
        assert out["stroke"].iloc[3] == "1"


def test_a_missing_duration_reads_as_nan_and_leaves_the_others_as_without_it():
    """NaT is missing: NaN, not the integer that stands for it; the durations present read the same as in the
    column without the missing one."""
    present = column_floats(pd.DataFrame({"t": pd.to_timedelta(["1s", "2s"])}), "t")
    with_gap = column_floats(pd.DataFrame({"t": pd.to_timedelta(["1s", None, "2s"])}), "t")
    assert with_gap.dtype == np.float64 and np.isnan(with_gap[1])
    np.testing.assert_array_equal(with_gap[[0, 2]], present)
    assert present[1] == 2 * present[0] > 0


def test_arrow_decimals_with_a_missing_one_read_as_their_values_and_nan():
    column = pd.array([decimal.Decimal("1.50"), None, decimal.Decimal("-2.25")],
                      dtype=pd.ArrowDtype(pa.decimal128(5, 2)))
    out = column_floats(pd.DataFrame({"x": column}), "x")
    assert out.dtype == np.float64
    assert out[0] == 1.5 and np.isnan(out[1]) and out[2] == -2.25


def test_periods_read_as_float_ordinals():
    """A column no float conversion takes directly (periods) is parsed, and still comes back as floats."""
    periods = pd.period_range("2020-01-01", periods=3, freq="D")
    out = column_floats(pd.DataFrame({"p": periods}), "p")
    assert out.dtype == np.float64
    assert out.tolist() == [float(p.ordinal) for p in periods]
