"""The serve game's tables and Walker & Wooders' test on a small set of serves built by hand, against scipy:
Jeffreys intervals (Beta quantiles), Pearson's χ² (``chi2_contingency`` without correction), χ² tail
probabilities, the Kolmogorov–Smirnov test of the cells' p-values; which directions and cells are left out and
why; the serve rows read from a canonical table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from strategist.errors import EstimationError
from strategist.estimation.serve import serve_points, serve_table, walker_wooders

# (server, side, serve, direction): (serves, won)
COUNTS = {
    ("Ann", "deuce", 1, "wide"): (30, 21), ("Ann", "deuce", 1, "body"): (12, 5), ("Ann", "deuce", 1, "T"): (40, 30),
    ("Ann", "ad", 1, "wide"): (25, 15), ("Ann", "ad", 1, "body"): (14, 6),
    ("Ann", "ad", 1, "T"): (4, 4),                                                      # under min_count 10
    ("Ann", "deuce", 2, "body"): (20, 11),                                              # one direction only
    ("Bea", "deuce", 1, "wide"): (15, 9), ("Bea", "deuce", 1, "T"): (18, 6),
    ("Bea", "ad", 1, "wide"): (11, 11), ("Bea", "ad", 1, "body"): (10, 10),            # every point won
    ("Bea", "ad", 2, "wide"): (12, 0), ("Bea", "ad", 2, "body"): (10, 0),              # every point lost
}


def _points() -> pd.DataFrame:
    rows = []
    for (server, side, serve, direction), (n, w) in COUNTS.items():
        rows += [{"match_id": "m", "server": server, "receiver": "X", "side": side, "serve": serve,
                  "direction": direction, "won": k < w} for k in range(n)]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)   # order must not matter


def test_the_table_counts_rates_shares_and_jeffreys_intervals():
    table = serve_table(_points(), level=0.9)
    assert list(table.columns) == ["server", "side", "serve", "direction", "serves", "won", "rate", "share",
                                   "lower", "upper"]
    assert list(table.index) == list(range(len(COUNTS)))
    first = table.iloc[:4]                                     # Ann, ad, 1 sorts before deuce; wide, body, T
    assert first[["server", "side", "serve", "direction"]].values.tolist() == [
        ["Ann", "ad", 1, "wide"], ["Ann", "ad", 1, "body"], ["Ann", "ad", 1, "T"], ["Ann", "deuce", 1, "wide"]]
    for _, row in table.iterrows():
        n, w = COUNTS[(row["server"], row["side"], row["serve"], row["direction"])]
        cell = sum(c[0] for k, c in COUNTS.items() if k[:3] == (row["server"], row["side"], row["serve"]))
        assert (row["serves"], row["won"]) == (n, w) and row["rate"] == pytest.approx(w / n)
        assert row["share"] == pytest.approx(n / cell)
        assert row["lower"] == pytest.approx(stats.beta.ppf(0.05, w + 0.5, n - w + 0.5), rel=1e-9)
        assert row["upper"] == pytest.approx(stats.beta.ppf(0.95, w + 0.5, n - w + 0.5), rel=1e-9)
    pooled = serve_table(_points(), by=())
    total = sum(n for n, _ in COUNTS.values())
    assert list(pooled["direction"]) == ["wide", "body", "T"]
    by_direction = [sum(n for k, (n, _) in COUNTS.items() if k[3] == d) for d in ("wide", "body", "T")]
    np.testing.assert_allclose(pooled["share"], np.array(by_direction) / total)


def test_walker_wooders_against_scipy():
    result = walker_wooders(_points(), min_count=10)
    cells = result.cells.set_index(["server", "side", "serve"])
    assert sorted(cells.index) == [("Ann", "ad", 1), ("Ann", "deuce", 1), ("Bea", "deuce", 1)]
    refs = {}
    for key in cells.index:
        used = [(n, w) for k, (n, w) in COUNTS.items() if k[:3] == key and n >= 10]
        table = np.array([[w, n - w] for n, w in used])
        chi2, p, df, expected = stats.chi2_contingency(table, correction=False)
        row = cells.loc[key]
        assert row["chi2"] == pytest.approx(chi2, rel=1e-12) and row["df"] == df == len(used) - 1
        assert row["p_value"] == pytest.approx(p, rel=1e-9)
        assert row["min_expected"] == pytest.approx(expected.min(), rel=1e-12)
        assert row["serves"] == sum(n for n, _ in used)
        refs[key] = (chi2, df)
    assert cells.loc[("Ann", "ad", 1), "left_out"] == "T"
    assert cells.loc[("Ann", "ad", 1), "directions"] == "wide;body"
    assert cells.loc[("Ann", "deuce", 1), "directions"] == "wide;body;T"
    skipped = result.skipped.set_index(["server", "side", "serve"])["reason"].to_dict()
    assert skipped == {("Ann", "deuce", 2): "fewer than two directions with 10 serves",
                       ("Bea", "ad", 1): "every point won or every point lost",
                       ("Bea", "ad", 2): "every point won or every point lost"}
    # a server's cells add up, and all servers' jointly
    servers = result.servers.set_index("server")
    ann = [refs[k] for k in refs if k[0] == "Ann"]
    ann_chi2, ann_df = sum(c for c, _ in ann), sum(d for _, d in ann)
    assert servers.loc["Ann", "chi2"] == pytest.approx(ann_chi2) and servers.loc["Ann", "df"] == ann_df == 3
    assert servers.loc["Ann", "p_value"] == pytest.approx(stats.chi2.sf(ann_chi2, ann_df), rel=1e-9)
    assert servers.loc["Bea", "cells"] == 1 and servers.loc["Bea", "serves"] == 33
    total = sum(c for c, _ in refs.values())
    assert result.joint == pytest.approx({"chi2": total, "df": 4, "p_value": stats.chi2.sf(total, 4), "cells": 3,
                                          "servers": 2})
    ks = stats.kstest(result.cells["p_value"], "uniform")
    assert result.uniformity == pytest.approx({"statistic": ks.statistic, "p_value": ks.pvalue, "cells": 3})
    assert result.min_count == 10
    expected = sorted(s for s in ("Ann", "Bea") if stats.chi2.sf(sum(c for k, (c, _) in refs.items() if k[0] == s),
                                                                   sum(d for k, (_, d) in refs.items() if k[0] == s)) < 0.5)
    assert sorted(result.rejected(0.5)) == expected
    assert result.rejected(0.0) == []


def test_one_server_and_the_edges_of_min_count():
    only = walker_wooders(_points(), min_count=10, server="Bea")
    assert list(only.cells["server"]) == ["Bea"] and list(only.servers["server"]) == ["Bea"]
    # min_count 4 keeps Ann's 4 T serves on the ad side (a direction served exactly min_count times counts)
    four = walker_wooders(_points(), min_count=4).cells.set_index(["server", "side", "serve"])
    assert four.loc[("Ann", "ad", 1), "directions"] == "wide;body;T" and four.loc[("Ann", "ad", 1), "left_out"] == ""
    five = walker_wooders(_points(), min_count=5).cells.set_index(["server", "side", "serve"])
    assert five.loc[("Ann", "ad", 1), "left_out"] == "T"
    with pytest.raises(EstimationError, match="unknown server 'Cy'"):
        walker_wooders(_points(), server="Cy")
    for bad in (0, True, 2.5):
        with pytest.raises(EstimationError, match="min_count must be a whole number >= 1"):
            walker_wooders(_points(), min_count=bad)
    with pytest.raises(EstimationError, match="no \\(server, side, serve\\) cell has two directions"):
        walker_wooders(_points(), min_count=100)


def test_serve_points_reads_only_serves_in_play():
    table = pd.DataFrame({
        "match_id": ["m"] * 7, "shot": ["serve", "serve", "serve", "forehand", "serve", "serve", None],
        "hitter": ["Ann"] * 7, "opponent": ["Bea"] * 7,
        "landing_area": ["wide", "T", "body", "wide", "net", "T", "wide"],
        "court_side": ["deuce", "ad", "deuce", "deuce", "ad", None, "deuce"],
        "serve_number": [1, 2, 1, 1, 1, 2, 1], "hitter_won": [True, False, None, True, True, True, True],
        "error": [None] * 7,
    })
    table["shot"] = table["shot"].astype("string")
    points = serve_points(table)
    # kept: rows 0 and 1; row 2 has no winner, 3 is no serve, 4 no direction, 5 no court side, 6 no shot
    assert points.to_dict(orient="list") == {"match_id": ["m", "m"], "server": ["Ann", "Ann"],
                                             "receiver": ["Bea", "Bea"], "side": ["deuce", "ad"], "serve": [1, 2],
                                             "direction": ["wide", "T"], "won": [True, False]}
    assert points["serve"].dtype.kind == "i" and points["won"].dtype == bool
    faulted = table.assign(error=["net"] + [None] * 6)
    assert serve_points(faulted)["direction"].tolist() == ["T"]          # a faulted serve is not in play
    no_error_column = serve_points(table.drop(columns="error"))
    assert no_error_column.equals(points)
    with pytest.raises(EstimationError, match="lacks columns \\['court_side'\\]"):
        serve_points(table.drop(columns="court_side"))
