"""Trends: the opponent's tendencies by year and by tournament, with a test for change.

Tendencies (each a share, counted per match): rallies won; rallies lost by their own error; rallies won with
their own winner; backhands among their strokes; attacking shots among their strokes; each of their
commonest shots; their commonest serve among their serves. Per year and per tournament: the pooled share
with its Wilson 95 % interval. The test for change is a permutation test that shuffles whole matches
between the years (tournaments) and recomputes Pearson's χ² of the year x (yes, no) table
(:func:`strategist.scout.stats.cluster_permutation_test`): strokes of one match are not independent, so
matches, not strokes, are the units. The p-values of a grouping are adjusted together by Benjamini–Hochberg.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.scout import stats, text
from strategist.scout.rallies import RallyView

TOP_SHOTS = 3
PERMUTATIONS = 2000


def _per_match(frame: pd.DataFrame, hit: np.ndarray) -> pd.DataFrame:
    """Per match: k (hits) and n (rows) of a tendency."""
    return pd.DataFrame({"match_id": frame["match_id"].astype("string").to_numpy(dtype=object),
                         "k": hit.astype(int)}).groupby("match_id")["k"].agg(k="sum", n="size")


def tendencies(view: RallyView, opponent: str) -> list[tuple[str, pd.DataFrame]]:
    """(label, per-match k and n) of each tendency the data can fill."""
    sides = view.sides[(view.sides["player"] == opponent).to_numpy(dtype=bool, na_value=False)]
    known = sides[sides["won"].notna().to_numpy()]
    out = [("rallies won", _per_match(known, known["won"].to_numpy(dtype=bool)))]
    if view.complete:
        ended = sides[sides["ending"].notna().to_numpy()]
        out.append(("rallies lost by their own error", _per_match(ended, (ended["ending"] == "their error").to_numpy())))
        out.append(("rallies won with their own winner", _per_match(ended, (ended["ending"] == "their winner").to_numpy())))
        s = view.strokes[(view.strokes["hitter"] == opponent).to_numpy(dtype=bool, na_value=False)]
        s = s[s["k"].to_numpy() > 1]
        wing = s[s["wing"].notna().to_numpy()]
        if len(wing):
            out.append(("backhands among their strokes", _per_match(wing, (wing["wing"] == "backhand").to_numpy())))
        grouped = s[s["group"].notna().to_numpy()]
        if len(grouped):
            out.append(("attacking shots among their strokes", _per_match(grouped, (grouped["group"] == "attack").to_numpy())))
        shots = s[(s["shot"] != "unknown").to_numpy(dtype=bool, na_value=False)]
        counts = shots["shot"].value_counts()
        for shot in counts[counts > 0].head(TOP_SHOTS).index:
            out.append((f"{text.plural(shot)} among their strokes", _per_match(shots, (shots["shot"] == shot).to_numpy())))
    served = view.rallies[(view.rallies["server"] == opponent).to_numpy(dtype=bool, na_value=False)
                          & view.rallies["serve"].notna().to_numpy()]
    if len(served):
        top = served["serve"].value_counts().index[0]
        out.append((f"{text.plural(str(top))} among their serves", _per_match(served, (served["serve"] == top).to_numpy())))
    return out


def _by(per_match: pd.DataFrame, groups: pd.Series, order: list, seed: int) -> dict:
    joined = per_match.join(groups.rename("group"), how="inner").dropna(subset=["group"])
    pooled = joined.groupby("group")[["k", "n"]].sum()
    matches = joined.groupby("group").size()
    rates = {str(g): {**stats.rate(pooled.loc[g, "k"], pooled.loc[g, "n"]), "matches": int(matches.loc[g])}
             for g in order if g in pooled.index}
    counts = np.c_[joined["k"].to_numpy(), (joined["n"] - joined["k"]).to_numpy()]
    return {"groups": rates, "test": stats.cluster_permutation_test(counts, joined["group"].astype(str).tolist(),
                                                                     permutations=PERMUTATIONS, seed=seed)}


def assess(view: RallyView, opponent: str, name: str, info: pd.DataFrame, *, info_notes=(),
           alpha: float = stats.ALPHA, seed: int = 0) -> dict:
    """The trends section (``info``: tournament, year, date per match id; see :mod:`strategist.scout.matchinfo`)."""
    matches = view.sides.loc[(view.sides["player"] == opponent).to_numpy(dtype=bool, na_value=False), "match_id"]
    info = info.reindex(sorted(set(matches.astype(str))))
    notes = list(info_notes)
    out = {"status": "assessed", "notes": notes, "correction": "Benjamini-Hochberg", "alpha": alpha,
           "test": "permutation of whole matches, Pearson's chi-square statistic", "groupings": {}}
    dated = info.sort_values(["date", "tournament"], na_position="last")
    for grouping, column in (("year", "year"), ("tournament", "tournament")):
        groups = dated[column].dropna()
        order = list(dict.fromkeys(groups.tolist()))
        if len(order) < 2:
            notes.append(f"{name}'s matches in the data come from {len(order)} {grouping}"
                         f"{'' if len(order) == 1 else 's'}: no change to test by {grouping}")
            continue
        rows = [{"tendency": label, **_by(per_match, groups, order, seed)}
                for label, per_match in tendencies(view, opponent)]
        for row, q in zip(rows, stats.bh_adjust([r["test"]["p"] if r["test"]["p"] is not None else np.nan
                                                 for r in rows])):
            row["q"] = None if np.isnan(q) else float(q)
            row["significant"] = bool(row["q"] is not None and row["q"] < alpha)
        out["groupings"][grouping] = {"order": [str(g) for g in order], "rows": rows}
    out["sentences"] = _sentences(out, name)
    if not out["groupings"]:
        out["status"] = "not available"
    return out


def _sentences(section: dict, name: str) -> list[str]:
    """One sentence per significant change by year: first and last year's shares."""
    year = section["groupings"].get("year")
    if not year:
        return []
    sentences = []
    for row in year["rows"]:
        if not row["significant"]:
            continue
        years = [y for y in year["order"] if y in row["groups"]]
        a, b = row["groups"][years[0]], row["groups"][years[-1]]
        sentences.append(f"{name}'s {row['tendency']}: {text.percent(a['rate'])} in {years[0]} (n = {a['n']:,}), "
                         f"{text.percent(b['rate'])} in {years[-1]} (n = {b['n']:,}); the change across years is "
                         f"significant (q = {row['q']:.3f}).")
    return sentences
