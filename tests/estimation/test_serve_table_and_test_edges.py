"""The serve table and the Walker–Wooders test at their edges: counts given as decimals, the default interval
level and rarity threshold, an order that does not depend on the points' order, every left-out direction
listed, an empty ``skipped`` table that keeps its columns, and which p-values count as a rejection."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from strategist.estimation.serve import pearson_chi2, serve_table, walker_wooders

from .test_serve import _exact


def test_counts_given_as_decimals_give_the_float_statistic():
    """A database sum arrives as decimal.Decimal: read as numbers, the statistic is scipy's on the same table."""
    won, serves = [Decimal(45), Decimal(12), Decimal(50)], [Decimal(60), Decimal(25), Decimal(70)]
    ref = stats.chi2_contingency(np.array([[45, 15], [12, 13], [50, 20]]), correction=False)
    chi2, df = pearson_chi2(won, serves)
    assert chi2 == pytest.approx(ref.statistic, rel=1e-12) and df == 2


def test_the_table_gives_95_percent_jeffreys_intervals_by_default():
    points = _exact("S", "deuce", 1, {"wide": (40, 30), "T": (25, 9)})
    table = serve_table(points)
    for _, row in table.iterrows():
        w, n = row["won"], row["serves"]
        assert row["lower"] == pytest.approx(stats.beta.ppf(0.025, w + 0.5, n - w + 0.5), rel=1e-10)
        assert row["upper"] == pytest.approx(stats.beta.ppf(0.975, w + 0.5, n - w + 0.5), rel=1e-10)


def test_the_table_does_not_depend_on_the_order_of_the_points():
    """Directions beyond wide, body and T (here "net" and "kick", from a finer coding) come after the three, in
    the same order however the points are listed (cells in order: side "ad" before "deuce")."""
    points = pd.concat([_exact("S", "ad", 2, {"net": (5, 2), "wide": (8, 5), "kick": (6, 3), "T": (7, 4)}),
                        _exact("S", "deuce", 1, {"kick": (4, 1), "body": (9, 5), "net": (3, 3)})],
                       ignore_index=True)
    forward = serve_table(points)
    backward = serve_table(points.iloc[::-1].reset_index(drop=True))
    pd.testing.assert_frame_equal(forward, backward)
    assert forward["direction"].tolist() == ["wide", "T", "kick", "net", "body", "kick", "net"]


def test_by_default_a_direction_needs_ten_serves():
    points = _exact("S", "deuce", 1, {"wide": (10, 6), "body": (9, 4), "T": (30, 12)})
    cell = walker_wooders(points).cells.iloc[0]
    assert cell["directions"] == "wide;T" and cell["left_out"] == "body"
    assert walker_wooders(points).min_count == 10


def test_every_left_out_direction_is_listed():
    points = _exact("S", "deuce", 1, {"wide": (30, 20), "body": (4, 2), "T": (25, 10), "net": (3, 1)})
    cell = walker_wooders(points, min_count=10).cells.iloc[0]
    assert cell["directions"] == "wide;T" and cell["left_out"] == "body;net"


def test_nothing_skipped_still_gives_the_skipped_columns():
    points = _exact("S", "deuce", 1, {"wide": (30, 20), "T": (25, 10)})
    result = walker_wooders(points, min_count=5)
    assert result.skipped.empty
    assert result.skipped.columns.tolist() == ["server", "side", "serve", "reason"]


def test_a_server_is_rejected_only_below_alpha():
    points = pd.concat([_exact("A", "deuce", 1, {"wide": (40, 35), "T": (40, 10)}),      # rates differ
                        _exact("B", "deuce", 1, {"wide": (40, 20), "T": (40, 21)})],     # rates alike
                       ignore_index=True)
    result = walker_wooders(points, min_count=5)
    p = dict(zip(result.servers["server"], result.servers["p_value"]))
    assert p["A"] < 0.05 < p["B"]
    assert result.rejected() == ["A"]                                   # the default level is 5 %
    at_level = dataclasses.replace(result, servers=pd.DataFrame({"server": ["A", "B", "C"],
                                                                 "p_value": [0.05, 0.0499, 0.2]}))
    assert at_level.rejected(0.05) == ["B"]                             # p = alpha is not below alpha
