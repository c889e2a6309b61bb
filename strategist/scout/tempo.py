"""Rally length and tempo: the opponent's win rate by rally length, and how their shot mix shifts as rallies
grow long.

* **Win rate by length** (strokes in play; rallies with a recorded ending): per length band, the opponent's
  win rate against the other players' (Wilson 95 % intervals, Fisher's two-sided p, Benjamini–Hochberg over
  the bands), and Pearson's χ² test of whether their win rate depends on the band at all.
* **Mean length** of their rallies and of the other players', with normal 95 % intervals (mean ± 1.96 s/√n).
* **Shot mix by phase** (their strokes in play after the serve, by stroke number): the tactic groups' shares
  (attack / neutral / defence: the tempo) and their commonest shots' shares per phase, χ² test of homogeneity
  over the phases, and the shots whose share moves most between the first and the last phase.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.scout import stats, text
from strategist.scout.rallies import RallyView

LENGTH_BANDS = {"badminton": ((1, 3), (4, 6), (7, 10), (11, 15), (16, None)),
                "tennis": ((1, 2), (3, 4), (5, 8), (9, None))}
PHASES = {"badminton": ((2, 4), (5, 8), (9, 14), (15, None)), "tennis": ((2, 3), (4, 6), (7, 10), (11, None))}
TOP_SHOTS = 6
SHIFTS = 3


def band_label(band: tuple[int, int | None]) -> str:
    low, high = band
    return f"{low}+" if high is None else f"{low}-{high}"


def bands(values, spec) -> np.ndarray:
    """The band label of each value (None outside every band)."""
    values = np.asarray(values, float)
    out = np.full(len(values), None, dtype=object)
    for band in spec:
        low, high = band
        inside = (values >= low) & (values <= (np.inf if high is None else high))
        out[inside] = band_label(band)
    return out


def _mean(values: np.ndarray) -> dict:
    values = values[~np.isnan(values)]
    n = len(values)
    if n < 2:
        return {"n": n, "mean": float(values.mean()) if n else None, "low": None, "high": None}
    half = stats.Z95 * values.std(ddof=1) / np.sqrt(n)
    mean = float(values.mean())
    return {"n": n, "mean": mean, "low": mean - float(half), "high": mean + float(half)}


def by_length(view: RallyView, opponent: str) -> dict:
    """Win rate per length band, theirs and the other players'."""
    spec = LENGTH_BANDS.get(view.sport.name, LENGTH_BANDS["badminton"])
    sides = view.sides[view.sides["ended"].to_numpy() & view.sides["won"].notna().to_numpy()]
    mine = (sides["player"] == opponent).to_numpy(dtype=bool, na_value=False)
    won = sides["won"].to_numpy(dtype=bool)
    band = bands(sides["length"].astype("Float64").to_numpy(dtype=float, na_value=np.nan), spec)
    rows, table = [], []
    for b in spec:
        label = band_label(b)
        inside = band == label
        k1, n1 = int((won & mine & inside).sum()), int((mine & inside).sum())
        k2, n2 = int((won & ~mine & inside).sum()), int((~mine & inside).sum())
        rows.append({"band": label, "opponent": stats.rate(k1, n1), "others": stats.rate(k2, n2),
                     "p": stats.fisher_p(k1, n1, k2, n2)})
        table.append([k1, n1 - k1])
    for row, q in zip(rows, stats.bh_adjust([r["p"] for r in rows])):
        row["q"] = float(q)
    lengths = sides["length"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return {"rows": rows, "test": stats.chi2_test(np.array(table)), "mean_length": {
        "opponent": _mean(lengths[mine]), "others": _mean(lengths[~mine])}}


def by_phase(view: RallyView, opponent: str) -> dict:
    """Their shot mix (tactic groups and commonest shots) per phase of the rally."""
    spec = PHASES.get(view.sport.name, PHASES["badminton"])
    s = view.strokes[(view.strokes["hitter"] == opponent).to_numpy(dtype=bool, na_value=False)
                     & (view.strokes["k"].to_numpy() >= spec[0][0])]
    phase = pd.Series(bands(s["k"].to_numpy(float), spec), index=s.index)
    labels = [band_label(b) for b in spec]
    out = {"phases": labels}
    counts = s["shot"][s["shot"] != "unknown"].value_counts()
    top = counts[counts > 0].head(TOP_SHOTS).index.tolist()
    shot = s["shot"].astype("object").where(s["shot"].isin(top), "other").where(s["shot"] != "unknown")
    for name, column in (("groups", s["group"].astype("object")), ("shots", shot)):
        ok = column.notna().to_numpy() & phase.notna().to_numpy()
        table = pd.crosstab(phase[ok], column[ok]).reindex(index=labels, fill_value=0)
        categories = [str(c) for c in table.columns]
        counts = table.to_numpy()
        out[name] = {"categories": categories,
                     "shares": {p: {c: stats.rate(counts[i, j], counts[i].sum()) for j, c in enumerate(categories)}
                                for i, p in enumerate(labels)},
                     "test": stats.chi2_test(counts)}
    out["shifts"] = _shifts(out["shots"], labels)
    return out


def _shifts(shots: dict, labels: list[str]) -> list[dict]:
    """The shots whose share changes most from the first phase to the last one with strokes."""
    filled = [p for p in labels if any(v["n"] for v in shots["shares"][p].values())]
    if len(filled) < 2:
        return []
    first, last = filled[0], filled[-1]
    rows = []
    for c in shots["categories"]:
        a, b = shots["shares"][first][c], shots["shares"][last][c]
        if a["rate"] is None or b["rate"] is None or c == "other":
            continue
        rows.append({"shot": c, "from_phase": first, "to_phase": last, "from": a, "to": b,
                     "change": b["rate"] - a["rate"]})
    rows.sort(key=lambda r: -abs(r["change"]))
    return rows[:SHIFTS]


def assess(view: RallyView, opponent: str, name: str) -> dict:
    """The rally-length-and-tempo section."""
    if not view.complete:
        return {"status": "not available", "notes": [text.no_rally_shots(view.sport, section=True)]}
    length = by_length(view, opponent)
    phase = by_phase(view, opponent)
    sentences = [f"{name}'s {text.plural(r['shot'])} go from {text.percent(r['from']['rate'])} of their shots at "
                 f"strokes {r['from_phase']} to {text.percent(r['to']['rate'])} at strokes {r['to_phase']} "
                 f"(n = {r['from']['n']:,} and {r['to']['n']:,})." for r in phase["shifts"]]
    return {"status": "assessed", "notes": [], "by_length": length, "by_phase": phase, "sentences": sentences,
            "correction": "Benjamini-Hochberg"}
