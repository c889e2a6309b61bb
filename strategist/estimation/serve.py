"""The tennis serve game and Walker & Wooders' test of minimax play.

The server chooses a direction (wide, body, T) on each court side (deuce, ad) and serve (first, second).
At a minimax equilibrium every direction the server uses wins the point equally often, so within each
(server, side, serve) cell the win rate must not depend on the direction (Walker & Wooders 2001,
"Minimax play at Wimbledon", AER 91(5)). Per cell, with ``k`` directions of ``nᵢ`` serves and ``wᵢ``
points won, Pearson's statistic of the k × 2 table is

    χ² = Σᵢ Σ_{o ∈ won, lost} (Oᵢₒ − Eᵢₒ)² / Eᵢₒ,   Eᵢₒ = nᵢ · (column total of o) / N,   k − 1 d.f.

Independent cells add: a server's statistic is the sum over their cells (d.f. add up), and the joint test
of all servers sums over every cell. Under minimax play the cells' p-values are uniform on [0, 1]; a
Kolmogorov–Smirnov test checks that too. Pooling the raw counts of different servers instead would mix
servers of different strength, so pooled counts are only reported, never tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from strategist.errors import EstimationError

DIRECTIONS = ("wide", "body", "T")
SIDES = ("deuce", "ad")
CELL = ["server", "side", "serve"]


def serve_points(table: pd.DataFrame) -> pd.DataFrame:
    """Serves put in play, one row per point: match, server, receiver, side, serve (1/2), direction, won.

    Reads the canonical table's serve rows (``shot == "serve"``) that did not fail (``error`` missing)
    and carry a direction in ``landing_area`` and a known winner. Double faults and faulted first serves
    are not serves in play and are left out.
    """
    needed = ["shot", "landing_area", "hitter", "opponent", "court_side", "serve_number", "hitter_won", "match_id"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise EstimationError(f"the rally table lacks columns {missing}; expected a canonical tennis table")
    error = table["error"] if "error" in table.columns else pd.Series(pd.NA, index=table.index)
    keep = ((table["shot"] == "serve").fillna(False) & error.isna()
            & table["landing_area"].isin(DIRECTIONS).fillna(False) & table["hitter_won"].notna()
            & table["court_side"].isin(SIDES).fillna(False) & table["serve_number"].isin([1, 2]).fillna(False))
    rows = table[keep.to_numpy(dtype=bool)]
    if rows.empty:
        raise EstimationError("no serves in play with a direction, court side, serve number and winner; the "
                              "serve game needs tennis point data with serve directions")
    return pd.DataFrame({
        "match_id": rows["match_id"].astype(str).to_numpy(),
        "server": rows["hitter"].astype(str).to_numpy(),
        "receiver": rows["opponent"].astype(str).to_numpy(),
        "side": rows["court_side"].astype(str).to_numpy(),
        "serve": rows["serve_number"].astype(int).to_numpy(),
        "direction": rows["landing_area"].astype(str).to_numpy(),
        "won": rows["hitter_won"].astype(bool).to_numpy(),
    })


def serve_table(points: pd.DataFrame, *, by=("server", "side", "serve"), level: float = 0.95) -> pd.DataFrame:
    """Win rate of every direction within each cell of ``by``: serves, points won, rate, the direction's
    share of the cell's serves, and a Jeffreys interval (Beta(w + ½, n − w + ½) quantiles)."""
    by = list(by)
    grouped = points.groupby(by + ["direction"], sort=True)["won"].agg(serves="size", won="sum").reset_index()
    grouped["rate"] = grouped["won"] / grouped["serves"]
    grouped["share"] = grouped["serves"] / grouped.groupby(by)["serves"].transform("sum") if by else (
        grouped["serves"] / grouped["serves"].sum())
    tail = (1.0 - level) / 2.0
    a, b = grouped["won"] + 0.5, grouped["serves"] - grouped["won"] + 0.5
    grouped["lower"], grouped["upper"] = special.betaincinv(a, b, tail), special.betaincinv(a, b, 1.0 - tail)
    order = {d: i for i, d in enumerate(DIRECTIONS)}
    return (grouped.assign(_o=grouped["direction"].map(order)).sort_values(by + ["_o"]).drop(columns="_o")
            .reset_index(drop=True))


def pearson_chi2(won, serves) -> tuple[float, int]:
    """Pearson χ² of a k × 2 (won, lost) table and its k − 1 degrees of freedom."""
    won, serves = np.asarray(won, float), np.asarray(serves, float)
    observed = np.stack([won, serves - won], axis=1)
    expected = serves[:, None] * observed.sum(axis=0)[None, :] / serves.sum()
    return float(((observed - expected) ** 2 / expected).sum()), len(won) - 1


@dataclass(frozen=True)
class WalkerWooders:
    """Walker–Wooders test results: per cell, per server, all servers jointly, and the p-value uniformity."""

    cells: pd.DataFrame       # server, side, serve, directions, serves, chi2, df, p_value, min_expected
    servers: pd.DataFrame     # server, cells, serves, chi2, df, p_value
    joint: dict               # chi2, df, p_value, cells, servers
    uniformity: dict          # Kolmogorov–Smirnov statistic and p_value of the cell p-values vs U(0, 1)
    skipped: pd.DataFrame     # server, side, serve, reason
    min_count: int

    def rejected(self, alpha: float = 0.05) -> list[str]:
        """Servers whose win rates differ across directions at level ``alpha``."""
        return self.servers.loc[self.servers["p_value"] < alpha, "server"].tolist()


def walker_wooders(points: pd.DataFrame, *, min_count: int = 10, server: str | None = None) -> WalkerWooders:
    """Test equal win rates across serve directions per (server, side, serve) cell.

    ``points`` comes from :func:`serve_points`. Directions served fewer than ``min_count`` times in a cell
    are left out of that cell (listed in ``cells.left_out``); a cell needs two directions left and both
    won and lost points, else it is skipped (listed in ``skipped``).
    """
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise EstimationError(f"min_count must be a whole number >= 1, got {min_count!r}")
    if server is not None:
        if server not in set(points["server"]):
            raise EstimationError(f"unknown server {server!r}: no serves by that player in the data")
        points = points[points["server"] == server]
    counts = serve_table(points)
    cell_rows, skipped = [], []
    for key, cell in counts.groupby(CELL, sort=True):
        used = cell[cell["serves"] >= min_count]
        left_out = cell.loc[cell["serves"] < min_count, "direction"].tolist()
        reason = None
        if len(used) < 2:
            reason = f"fewer than two directions with {min_count} serves"
        elif used["won"].sum() in (0, used["serves"].sum()):
            reason = "every point won or every point lost"
        if reason:
            skipped.append(dict(zip(CELL, key), reason=reason))
            continue
        chi2, df = pearson_chi2(used["won"], used["serves"])
        n = used["serves"].to_numpy(float)
        totals = np.array([used["won"].sum(), n.sum() - used["won"].sum()])
        cell_rows.append({**dict(zip(CELL, key)), "directions": ";".join(used["direction"]),
                          "left_out": ";".join(left_out), "serves": int(n.sum()), "chi2": chi2, "df": df,
                          "p_value": float(special.chdtrc(df, chi2)),
                          "min_expected": float((n[:, None] * totals[None, :] / n.sum()).min())})
    cells = pd.DataFrame(cell_rows, columns=CELL + ["directions", "left_out", "serves", "chi2", "df", "p_value",
                                                     "min_expected"])
    skipped = pd.DataFrame(skipped, columns=CELL + ["reason"])
    if cells.empty:
        raise EstimationError(f"no (server, side, serve) cell has two directions served at least {min_count} "
                              "times; lower min_count or add data")
    servers = cells.groupby("server", sort=True).agg(cells=("chi2", "size"), serves=("serves", "sum"),
                                                     chi2=("chi2", "sum"), df=("df", "sum")).reset_index()
    servers["p_value"] = special.chdtrc(servers["df"], servers["chi2"])
    chi2_all, df_all = float(cells["chi2"].sum()), int(cells["df"].sum())
    joint = {"chi2": chi2_all, "df": df_all, "p_value": float(special.chdtrc(df_all, chi2_all)),
             "cells": int(len(cells)), "servers": int(len(servers))}
    from scipy import stats                 # kstest: imported here, not by every user of the package

    ks = stats.kstest(cells["p_value"].to_numpy(), "uniform")
    uniformity = {"statistic": float(ks.statistic), "p_value": float(ks.pvalue), "cells": int(len(cells))}
    return WalkerWooders(cells=cells, servers=servers, joint=joint, uniformity=uniformity, skipped=skipped,
                         min_count=int(min_count))
