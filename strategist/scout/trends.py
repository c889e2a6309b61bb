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


class _Matches:
    """The opponent's matches, and per-match counts of a row selection (rows keyed by match id)."""

    def __init__(self, match_ids):
        self.ids = pd.Index(sorted(set(map(str, match_ids))))

    def count(self, frame: pd.DataFrame, hit) -> tuple[np.ndarray, np.ndarray]:
        column = frame["match_id"]
        if isinstance(column.dtype, pd.CategoricalDtype):
            lookup = np.r_[self.ids.get_indexer(column.cat.categories.astype(str)), -1]
            code = lookup[column.cat.codes.to_numpy()]
        else:
            code = self.ids.get_indexer(column.astype("string").to_numpy(dtype=object))
        ok = code >= 0
        size = len(self.ids)
        return (np.bincount(code[ok], weights=np.asarray(hit, float)[ok], minlength=size).astype(int),
                np.bincount(code[ok], minlength=size))


def tendencies(view: RallyView, opponent: str, matches: _Matches) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, per-match k, per-match n) of each tendency the data can fill."""
    sides = view.sides[(view.sides["player"] == opponent).to_numpy(dtype=bool, na_value=False)]
    known = sides[sides["won"].notna().to_numpy()]
    many = text.rally_words(view.sport)[1]                 # rallies, or points in tennis
    out = [(f"{many} won", *matches.count(known, known["won"].to_numpy(dtype=bool)))]
    if view.complete:
        ended = sides[sides["ending"].notna().to_numpy()]
        out.append((f"{many} lost by their own error", *matches.count(ended, ended["ending"] == "their error")))
        out.append((f"{many} won with their own winner", *matches.count(ended, ended["ending"] == "their winner")))
        s = view.strokes[(view.strokes["hitter"] == opponent).to_numpy(dtype=bool, na_value=False)]
        s = s[s["k"].to_numpy() > 1]
        wing = s[s["wing"].notna().to_numpy()]
        if len(wing):
            out.append(("backhands among their strokes", *matches.count(wing, wing["wing"] == "backhand")))
        grouped = s[s["group"].notna().to_numpy()]
        if len(grouped):
            out.append(("attacking shots among their strokes", *matches.count(grouped, grouped["group"] == "attack")))
        shots = s[(s["shot"] != "unknown").to_numpy(dtype=bool, na_value=False)]
        counts = shots["shot"].value_counts()
        for shot in counts[counts > 0].head(TOP_SHOTS).index:
            out.append((f"{text.plural(shot)} among their strokes", *matches.count(shots, shots["shot"] == shot)))
    served = view.rallies[(view.rallies["server"] == opponent).to_numpy(dtype=bool, na_value=False)
                          & view.rallies["serve"].notna().to_numpy()]
    if len(served):
        top = str(served["serve"].value_counts().index[0])
        # a serve named by its type (short service) or by its direction (tennis: T, body, wide)
        name = text.plural(top) if "serv" in top else f"{top} serves"
        out.append((f"{name} among their serves", *matches.count(served, served["serve"] == top)))
    return out


def _by(k: np.ndarray, n: np.ndarray, group_of: np.ndarray, order: list, seed: int) -> dict:
    """Pooled rates per group (``group_of``: each match's index into ``order``, -1 unknown) and the test."""
    ok = (group_of >= 0) & (n > 0)
    g = len(order)
    pooled_k = np.bincount(group_of[ok], weights=k[ok], minlength=g)
    pooled_n = np.bincount(group_of[ok], weights=n[ok], minlength=g)
    matches = np.bincount(group_of[ok], minlength=g)
    rates = {str(order[i]): {**stats.rate(pooled_k[i], pooled_n[i]), "matches": int(matches[i])}
             for i in range(g) if matches[i]}
    counts = np.c_[k[ok], n[ok] - k[ok]]
    return {"groups": rates, "test": stats.cluster_permutation_test(counts, group_of[ok].tolist(),
                                                                     permutations=PERMUTATIONS, seed=seed)}


def assess(view: RallyView, opponent: str, name: str, info: pd.DataFrame, *, info_notes=(),
           alpha: float = stats.ALPHA, seed: int = 0) -> dict:
    """The trends section (``info``: tournament, year, date per match id; see :mod:`strategist.scout.matchinfo`)."""
    own = view.sides.loc[(view.sides["player"] == opponent).to_numpy(dtype=bool, na_value=False), "match_id"]
    matches = _Matches(own)
    info = info.reindex(matches.ids)
    notes = list(info_notes)
    out = {"status": "assessed", "notes": notes, "correction": "Benjamini-Hochberg", "alpha": alpha,
           "test": "permutation of whole matches, Pearson's chi-square statistic", "groupings": {}}
    dated = info.sort_values(["date", "tournament"], na_position="last")
    found = None
    for grouping, column in (("year", "year"), ("tournament", "tournament")):
        order = list(dict.fromkeys(dated[column].dropna().tolist()))
        if len(order) < 2:
            notes.append(f"{name}'s matches in the data come from {len(order)} {grouping}"
                         f"{'' if len(order) == 1 else 's'}: no change to test by {grouping}")
            continue
        found = found if found is not None else tendencies(view, opponent, matches)
        position = {value: i for i, value in enumerate(order)}
        group_of = np.array([position.get(v, -1) if pd.notna(v) else -1 for v in info[column]], dtype=int)
        rows = [{"tendency": label, **_by(k, n, group_of, order, seed)} for label, k, n in found]
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
