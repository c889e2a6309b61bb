"""Weaknesses and strengths: where the opponent loses and wins rallies, against the other players.

**Shot situations.** Each of the opponent's strokes in play (in rallies whose ending is recorded) is in
several situations: its shot type, its wing, the court zone the opponent hit it from, wing and zone
together, and the shot it answered. Per situation: the share of those strokes that lost the rally (their
error, or the reply was a winner) and that won it (a winner, or the reply was an error) — see
:mod:`strategist.scout.rallies` — against the same shares of every other player's strokes in that situation.

**Endings.** Per rally of the opponent: the share lost by their own error (by kind: net, out, ...; and by
the zone they hit it from), lost to the rival's winner, won by their winner, won by the rival's error,
against the same shares of the other players' rallies.

Each comparison: both rates with Wilson 95 % intervals and Fisher's exact two-sided p; the p-values of the
whole section are adjusted together by Benjamini–Hochberg (:mod:`strategist.scout.stats`). A situation is
tested when the opponent has at least ``min_n`` strokes (rallies) in it. A **weakness** is a significant
(q < alpha) difference that hurts the opponent: more of their strokes (rallies) lost than the other players',
or fewer won; a **strength** one that helps them. The three largest of each, by the size of the difference in
rate, become sentences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.scout import stats, text
from strategist.scout.rallies import RallyView

MIN_N = 30
TOP = 3


def _situations(strokes: pd.DataFrame, view: RallyView) -> list[tuple[str, str, pd.Series]]:
    """(family, label, key per stroke) for each family of situations (keys NA where it does not apply)."""
    families = [("shot", "shot", strokes["shot"].where(strokes["shot"] != "unknown"))]
    if strokes["wing"].notna().any():
        families.append(("wing", "wing", strokes["wing"]))
    if view.has_positions:
        families.append(("zone", "zone", strokes["zone"]))
        families.append(("wing and zone", "wing_zone", _joined(strokes["wing"], strokes["zone"])))
    families.append(("incoming shot", "incoming", strokes["incoming"].where(strokes["incoming"] != "unknown")))
    return families


def _joined(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a|b`` of two categorical columns, categorical (NA where either is)."""
    a, b = a.astype("category"), b.astype("category")
    ca, cb = a.cat.codes.to_numpy(), b.cat.codes.to_numpy()
    names = [f"{x}|{y}" for x in a.cat.categories for y in b.cat.categories]
    codes = np.where((ca < 0) | (cb < 0), -1, ca * len(b.cat.categories) + cb)
    return pd.Series(pd.Categorical.from_codes(codes, categories=names) if names else [None] * len(a),
                     index=a.index)


def _compare(mine_k, mine_n, other_k, other_n) -> dict:
    return {"opponent": stats.rate(mine_k, mine_n), "others": stats.rate(other_k, other_n),
            "p": stats.fisher_p(mine_k, mine_n, other_k, other_n)}


def shot_situations(view: RallyView, opponent: str, *, min_n: int = MIN_N) -> list[dict]:
    """Per situation with at least ``min_n`` of the opponent's strokes: lost and won rates, theirs and the
    other players', with Fisher's p (unadjusted)."""
    s = view.strokes[view.strokes["ended"].to_numpy()]
    mine = (s["hitter"] == opponent).to_numpy(dtype=bool, na_value=False)
    lost = s["lost_here"].to_numpy(dtype=bool)
    won = s["won_here"].to_numpy(dtype=bool)
    rows = []
    for family, kind, key in _situations(s, view):
        codes, keys = pd.factorize(key, use_na_sentinel=True)
        ok = codes >= 0
        size = len(keys)

        def count(mask):
            return np.bincount(codes[ok & mask], minlength=size)

        n_mine, n_other = count(mine), count(~mine)
        hits = {o: (count(mine & flag), count(~mine & flag)) for o, flag in (("lost", lost), ("won", won))}
        for i in np.flatnonzero(n_mine >= min_n):
            for outcome in ("lost", "won"):
                rows.append({"family": family, "kind": kind, "key": str(keys[i]), "outcome": outcome,
                             "unit": "strokes", **_compare(hits[outcome][0][i], n_mine[i], hits[outcome][1][i],
                                                           n_other[i])})
    return rows


def endings(view: RallyView, opponent: str, *, min_n: int = MIN_N) -> list[dict]:
    """Per way a rally ends (and per error kind and per zone of the erring stroke): the share of the
    opponent's rallies against the share of the other players' rallies (both with a recorded ending)."""
    sides = view.sides[view.sides["ending"].notna()]
    mine = (sides["player"] == opponent).to_numpy(dtype=bool, na_value=False)
    n_mine, n_other = int(mine.sum()), int((~mine).sum())
    rows = []
    if n_mine < min_n:
        return rows
    events = [("ending", e, (sides["ending"] == e).to_numpy()) for e in sides["ending"].dropna().unique()]
    own_error = (sides["ending"] == "their error").to_numpy()
    for kind in sides["error"].dropna().unique():
        same = (sides["error"] == kind).to_numpy(dtype=bool, na_value=False)
        events.append(("error kind", str(kind), own_error & same))
    if view.has_positions:
        for zone in sides["last_zone"].dropna().unique():
            events.append(("error zone", str(zone),
                           own_error & (sides["last_zone"] == zone).to_numpy(dtype=bool, na_value=False)))
    for family, key, hit in events:
        if hit[mine].sum() == 0 and hit[~mine].sum() == 0:
            continue
        outcome = "won" if family == "ending" and key in ("their winner", "rival's error") else "lost"
        rows.append({"family": family, "kind": family.replace(" ", "_"), "key": key, "outcome": outcome,
                     "unit": "rallies", **_compare(hit[mine].sum(), n_mine, hit[~mine].sum(), n_other)})
    return rows


def _harm(row: dict) -> float:
    """> 0 when the row's difference hurts the opponent: more rallies lost, or fewer won."""
    return row["difference"] if row["outcome"] == "lost" else -row["difference"]


def assess(view: RallyView, opponent: str, name: str, *, min_n: int = MIN_N, alpha: float = stats.ALPHA) -> dict:
    """The weaknesses section: every tested comparison with its q-value, and the sentences."""
    if not view.complete:
        return {"status": "not available", "notes": [text.no_rally_shots(view.sport, section=True)], "rows": [],
                "weaknesses": [], "strengths": []}
    rows = shot_situations(view, opponent, min_n=min_n) + endings(view, opponent, min_n=min_n)
    q = stats.bh_adjust([r["p"] for r in rows])
    for row, q_value in zip(rows, q):
        row["q"] = float(q_value)
        row["difference"] = row["opponent"]["rate"] - row["others"]["rate"]
        row["significant"] = bool(q_value < alpha)
        row["sentence"] = text.situation_sentence(name, row, view.sport.name)
    notes = []
    if not view.has_positions:
        notes.append("no positions in metres: situations by court zone are left out")
    picked = {}
    for label, single, sign in (("weaknesses", "weakness", 1), ("strengths", "strength", -1)):
        chosen = [r for r in rows if r["significant"] and _harm(r) * sign > 0]
        chosen.sort(key=lambda r: (-abs(r["difference"]), -r["opponent"]["n"]))
        picked[label] = chosen[:TOP]
        if not chosen:
            notes.append(f"no significant {single} at q < {alpha:g} "
                         f"among {len(rows)} comparisons")
    return {"status": "assessed", "notes": notes, "rows": rows, "tests": len(rows), "alpha": alpha,
            "correction": "Benjamini-Hochberg", "min_n": min_n,
            "weaknesses": [r["sentence"] for r in picked["weaknesses"]],
            "strengths": [r["sentence"] for r in picked["strengths"]],
            "weakness_rows": [rows.index(r) for r in picked["weaknesses"]],
            "strength_rows": [rows.index(r) for r in picked["strengths"]]}
