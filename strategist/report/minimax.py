"""Minimax check (Walker & Wooders 2001): do a player's win rates differ across their choices more than
chance allows?

At a minimax equilibrium every choice a player uses in a decision state wins equally often. Per player and
cell — tennis: (side, serve number) with the serve direction as the choice, as in Walker & Wooders;
badminton: the decision state with the shot as the choice — Pearson's χ² of the choices × (won, lost)
table with k − 1 degrees of freedom; a player's statistic is the sum over their cells. Counts are rallies
(a choice made twice in one rally counts once). Choices made fewer than ``MIN_COUNT`` times in the cell
are left out; a cell needs two choices left and both outcomes. Within one match the counts are small and
expected counts under 5 make the χ² approximation rough: the smallest expected count is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from strategist.errors import EstimationError
from strategist.estimation.serve import pearson_chi2, serve_points, walker_wooders
from strategist.report.match import MatchData
#: What a state faces when the shot before was not recorded.
UNKNOWN_INCOMING = ("unknown", "unknown serve", "unknown direction")

MIN_COUNT = 5
ALPHA = 0.05


def choice_counts(md: MatchData) -> pd.DataFrame:
    """Rallies won and played per (player, cell, choice) in the match (badminton and rally strokes)."""
    s = md.strokes
    ok = s["winner"].notna().to_numpy(dtype=bool) & s["shot"].notna().to_numpy(dtype=bool)
    ok &= (s["shot"] != "unknown").fillna(False).to_numpy(dtype=bool)
    ok &= ~s["incoming"].astype(str).isin(UNKNOWN_INCOMING).to_numpy(dtype=bool)    # answers an unrecorded shot
    f = s[ok].assign(won=(s.loc[ok, "winner"] == s.loc[ok, "hitter"]).astype(int))
    f = f.drop_duplicates(["rally_id", "hitter", "state", "shot"])
    g = f.groupby(["hitter", "state", "shot"], sort=True)["won"].agg(n="size", won="sum").reset_index()
    return g.rename(columns={"hitter": "player", "state": "cell", "shot": "choice"})


def serve_counts(md: MatchData) -> pd.DataFrame:
    """Tennis: serves in play won and played per (server, side and serve, direction) in the match."""
    points = serve_points(md.strokes)
    g = points.groupby(["server", "side", "serve", "direction"], sort=True)["won"].agg(n="size", won="sum")
    g = g.reset_index()
    g["cell"] = g["side"] + ", " + g["serve"].map({1: "1st serve", 2: "2nd serve"})
    return g.rename(columns={"server": "player", "direction": "choice"})[["player", "cell", "choice", "n", "won"]]


def test_cells(counts: pd.DataFrame, min_count: int = MIN_COUNT) -> tuple[list[dict], list[dict]]:
    """Pearson χ² per (player, cell): (tested cells, skipped cells with the reason)."""
    cells, skipped = [], []
    for (player, cell), grp in counts.groupby(["player", "cell"], sort=True):
        used = grp[grp["n"] >= min_count]
        reason = None
        if len(used) < 2:
            reason = f"fewer than two choices made {min_count} times"
        elif used["won"].sum() in (0, used["n"].sum()):
            reason = "every rally won or every rally lost"
        if reason:
            skipped.append({"player": str(player), "cell": str(cell), "rallies": int(grp["n"].sum()),
                            "reason": reason})
            continue
        chi2, df = pearson_chi2(used["won"], used["n"])
        n = used["n"].to_numpy(float)
        w = used["won"].to_numpy(float)
        expected = n[:, None] * np.array([w.sum(), n.sum() - w.sum()])[None, :] / n.sum()
        cells.append({"player": str(player), "cell": str(cell), "choices": used["choice"].astype(str).tolist(),
                      "played": used["n"].astype(int).tolist(), "won": used["won"].astype(int).tolist(),
                      "left_out": grp.loc[grp["n"] < min_count, "choice"].astype(str).tolist(),
                      "chi2": chi2, "df": int(df), "p_value": float(special.chdtrc(df, chi2)),
                      "min_expected": float(expected.min())})
    return cells, skipped


def check(md: MatchData, *, min_count: int = MIN_COUNT) -> dict:
    """The minimax-check section (numbers only)."""
    notes = []
    if md.sport.name == "tennis":
        by = "serve direction per court side and serve number"
        try:
            counts = serve_counts(md)
        except EstimationError as exc:
            counts = pd.DataFrame(columns=["player", "cell", "choice", "n", "won"])
            notes.append(f"no serve data: {exc}")
    else:
        by = "shot per decision state"
        counts = choice_counts(md)
    if counts.empty and not notes:
        notes.append("no stroke with a recorded shot and rally winner: the minimax check could not be assessed")
    cells, skipped = test_cells(counts, min_count) if not counts.empty else ([], [])
    players = []
    for who in (md.player, md.opponent):
        mine = [c for c in cells if c["player"] == who]
        if not mine:
            players.append({"player": who, "cells": 0, "chi2": None, "df": 0, "p_value": None, "rejected": None})
            continue
        chi2, df = float(sum(c["chi2"] for c in mine)), int(sum(c["df"] for c in mine))
        p = float(special.chdtrc(df, chi2))
        players.append({"player": who, "cells": len(mine), "chi2": chi2, "df": df, "p_value": p,
                        "rejected": bool(p < ALPHA)})
    if counts.size and not cells:
        notes.append(f"no cell has two choices made at least {min_count} times with both outcomes: no test")
    if any(c["min_expected"] < 5 for c in cells):
        notes.append("some cells have expected counts under 5: their χ² p-values are rough")
    return {"status": "assessed" if cells else "not assessed", "notes": notes, "by": by, "min_count": min_count,
            "alpha": ALPHA, "players": players, "cells": cells, "skipped": skipped}


def walker_wooders_check(md: MatchData, min_count: int = MIN_COUNT):
    """Tennis: :func:`strategist.estimation.serve.walker_wooders` on the match (for cross-checks)."""
    return walker_wooders(serve_points(md.strokes), min_count=min_count)
