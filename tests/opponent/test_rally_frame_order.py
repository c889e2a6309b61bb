"""rally_frame gives one order whatever order the rows come in: rally ids by value, strokes by number."""

import pandas as pd
import pytest

from strategist.opponent.base import TRAIN_COLUMNS, rally_frame


def _table(rally_ids, strokes, rally_dtype=None):
    n = len(rally_ids)
    table = pd.DataFrame({c: ["x"] * n for c in TRAIN_COLUMNS})
    table["rally_id"] = pd.Series(rally_ids, dtype=rally_dtype)
    table["stroke"] = pd.Series(strokes, dtype=object)
    table["tag"] = range(n)
    return table


@pytest.mark.parametrize("rows", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
def test_categorical_rally_ids_come_back_in_value_order_from_any_row_order(rows):
    ids = ["r1", "r1", "r2", "r2"]
    dtype = pd.CategoricalDtype(["r2", "r1"])             # category order unlike the values' order
    table = _table([ids[k] for k in rows], [[1, 2, 1, 2][k] for k in rows], dtype).assign(tag=rows)
    out = rally_frame(table)
    assert list(out["tag"]) == [0, 1, 2, 3]


@pytest.mark.parametrize("rows", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_strokes_written_as_text_sort_as_numbers_from_any_row_order(rows):
    strokes = ["2", "9", "10"]
    table = _table(["a"] * 3, [strokes[k] for k in rows]).assign(tag=rows)
    out = rally_frame(table)
    assert list(out["stroke"]) == ["2", "9", "10"] and list(out["tag"]) == [0, 1, 2]


def test_a_single_stroke_comes_back_with_a_fresh_index_and_its_own_columns_only():
    table = _table(["r1"], [1]).set_axis([7])
    out = rally_frame(table)
    assert list(out.index) == [0] and list(out.columns) == list(table.columns)
