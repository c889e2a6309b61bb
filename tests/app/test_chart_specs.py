"""The app's chart helpers (strategist.app.tables) send the browser strict JSON: a missing value in a colour
domain would reach the spec as NaN, which ``JSON.parse`` refuses (the page then shows an error where the chart
should be)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytest.importorskip("altair")
from strategist.app import tables  # noqa: E402


def _tendencies(groups) -> pd.DataFrame:
    n = len(groups)
    return pd.DataFrame({"stroke": ["2 (return)"] * n, "shot": [f"shot {k}" for k in range(n)],
                         "strokes": [1] * n, "share": [1 / n] * n, "n": [n] * n,
                         "group": pd.array(groups, dtype="string")})


def test_a_shot_without_group_is_coloured_as_not_recorded_in_strict_json():
    chart = tables.share_bars(_tendencies(["attack", "defence", None, "tweener"]))
    spec = json.dumps(chart.to_dict(), allow_nan=False)           # raises on NaN, as the browser would
    scale = json.loads(spec)["encoding"]["color"]["scale"]
    assert scale["domain"] == ["attack", "defence", "not recorded", "tweener"]
    assert scale["range"] == [tables.GROUP_COLOURS["attack"], tables.GROUP_COLOURS["defence"],
                              tables.GROUP_COLOURS["not recorded"], "#9467bd"]


def test_groups_keep_the_palettes_order_and_bars_of_zero_are_dropped():
    frame = _tendencies(["other", "serve", "attack"]).assign(share=[0.5, 0.0, 0.5])
    chart = tables.share_bars(frame).to_dict()
    assert chart["encoding"]["color"]["scale"]["domain"] == ["attack", "other"]
    assert chart["height"] == 34 * 1 + 40                        # one stroke of the rally: one stacked bar
