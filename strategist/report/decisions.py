"""Decision review: each of the player's shots against the recommendation, and the win probability given up.

Definition (stated in the report). In the decision state of the stroke, a recommender
(:mod:`strategist.report.recommend`: the Advisor, or the equilibrium of the state's payoff matrix when the
Advisor is not installed) gives the game A (P(player wins the rally) for the player's shot i against the
opponent's answer j, fitted without this match), a recommended mix x and the opponent's answer y. The
recommendation is worth xᵀA y; playing shot a is worth (A y)ₐ; the decision **gave up** xᵀA y − (A y)ₐ.
Intervals: the cells are drawn from their Beta posteriors (``alpha``/``beta`` of the estimate) with x and y
held fixed, and the 2.5 % and 97.5 % quantiles of the given-up value over the draws are reported. A shot
outside the matrix (too rare for the player, or not recorded) is not assessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.report.match import MatchData
from strategist.report.payoffs import UNKNOWN_INCOMING, StateGame, choices_of
from strategist.report.recommend import recommender

DRAWS = 400
LEVEL = 0.95
#: How many of the costliest decisions the report lists.
COSTLIEST = 10
CAVEAT = ("Read it as where the estimated game disagrees with the choice, not as points lost: the state says "
          "what the stroke answers, not where the shuttle was, so a shot that is only playable on some balls (a "
          "rush at the net, a smash of a high lift) looks available everywhere and the recommendation may lean "
          "on it")


def definition(rec) -> str:
    return (f"{rec.definition}; {int(LEVEL * 100)} % intervals from {DRAWS} draws of the matrix cells from their "
            f"Beta posteriors, mixes held fixed. {CAVEAT}")


def mix_text(labels, mix, top: int = 3) -> str:
    order = np.argsort(-np.asarray(mix))
    parts = [f"{labels[i]} {mix[i]:.0%}" for i in order[:top] if mix[i] >= 0.005]
    return ", ".join(parts)


def _draws(game: StateGame, rng: np.random.Generator) -> np.ndarray:
    """``DRAWS`` matrices drawn from the cells' Beta posteriors, shape (draws, m, n)."""
    est = game.estimate
    return rng.beta(est.alpha[None], est.beta[None], size=(DRAWS,) + est.alpha.shape)


def rally_contexts(strokes: pd.DataFrame, player: str, before: int = 3) -> list[str]:
    """For every stroke (in ``strokes``' order, sorted by rally and stroke): the strokes of its rally before
    it, up to ``before``, e.g. ``... opponent: clear > player: smash``; ``(first stroke)`` for a serve."""
    rally = strokes["rally_id"].astype(str).tolist()
    who = ["player" if h == player else "opponent" for h in strokes["hitter"].astype(str)]
    shot = [str(x) if pd.notna(x) else "not recorded" for x in strokes["shot"]]
    out = []
    for k in range(len(rally)):
        first = k
        while first > 0 and rally[first - 1] == rally[k]:
            first -= 1
        parts = [f"{who[j]}: {shot[j]}" for j in range(max(first, k - before), k)]
        out.append(("... " if k - first > before else "") + " > ".join(parts) if parts else "(first stroke)")
    return out


def review(md: MatchData, rec=None, *, seed: int = 0, recommendation: str = "auto") -> dict:
    """The decision-review section (numbers only)."""
    rec = recommender(md, recommendation) if rec is None else rec
    games = rec.games
    rng = np.random.default_rng(seed)
    s = md.strokes
    mine = s[s["hitter"] == md.player]
    cache = {}
    rows = []
    tail = (1 - LEVEL) / 2
    contexts = dict(zip(s.index, rally_contexts(s, md.player)))
    for idx, stroke in zip(mine.index, mine.to_dict("records")):
        state = str(stroke["state"])
        shot = stroke["shot"]
        won = stroke["winner"]
        entry = {"set": int(stroke["set"]), "rally": int(stroke["rally"]), "stroke": int(stroke["stroke"]),
                 "rally_id": str(stroke["rally_id"]), "state": state,
                 "shot": None if pd.isna(shot) else str(shot),
                 "score": _score(stroke, md.player),
                 "rally_won": None if pd.isna(won) else bool(won == md.player),
                 "context": contexts[idx]}
        rows_kind = choices_of(md, str(stroke["phase"]))[0] if rec.kind == "equilibrium" else "shot"
        label = _row_label(stroke, rows_kind, md)
        reason = game = None
        if label is None or label == "unknown":
            reason = {"area": "direction not recorded"}.get(rows_kind.split(":")[0], "shot not recorded")
        elif str(stroke["incoming"]) in UNKNOWN_INCOMING:
            reason = "the shot it answered was not recorded"
        else:
            def history(st=stroke):
                return s[(s["rally_id"] == st["rally_id"]).to_numpy(dtype=bool)
                         & (s["stroke"] < st["stroke"]).to_numpy(dtype=bool)]

            game, x, y, reason = rec.recommend(stroke, history)
            if game is not None and label not in game.estimate.row_labels:
                reason = f"'{label}' is not in the matrix (too rare for the player in this state)"
        if reason:
            rows.append({**entry, "assessed": False, "reason": reason})
            continue
        labels = list(game.estimate.row_labels)
        a = labels.index(label)
        if game.state not in cache:
            cache[game.state] = _draws(game, rng)
        ay_d = cache[game.state] @ y
        lost = ay_d @ x - ay_d[:, a]
        ay = game.estimate.mean @ y
        value = float(x @ ay)
        given = value - float(ay[a])
        rows.append({**entry, "assessed": True, "played": label,
                     "recommended": mix_text(labels, x),
                     "in_support": bool(x[a] > 1e-6),
                     "p_played": float(ay[a]), "p_recommended": value,
                     "given_up": 0.0 if abs(given) < 1e-12 else given,
                     "lower": float(np.quantile(lost, tail)),
                     "upper": float(np.quantile(lost, 1 - tail)), "matrix": game.whose})
    assessed = [r for r in rows if r["assessed"]]
    reasons = pd.Series([r["reason"].split(" (")[0] for r in rows if not r["assessed"]], dtype=object)
    notes = list(rec.notes)
    if not rows:
        notes.append(f"{md.player} hit no stroke in this match: no decision could be reviewed")
    elif not assessed:
        notes.append("no decision could be assessed: " + "; ".join(f"{k} ({v})" for k, v in
                                                                   reasons.value_counts().items()))
    elif len(assessed) < len(rows):
        notes.append(f"{len(rows) - len(assessed)} of {len(rows)} decisions not assessed: "
                     + "; ".join(f"{k} ({v})" for k, v in reasons.value_counts().items()))
    per_state = []
    for state, game in games.items():
        if any(f" {u}" in state for u in ("after unknown", "of unknown")):
            continue                                  # answers an unrecorded shot: not a state of its own
        mine_s = [r for r in rows if r["state"] == state]
        ok = [r for r in mine_s if r["assessed"]]
        entry = {"state": state, "decisions": len(mine_s), "assessed": len(ok),
                 "matrix": game.whose if game.ok else None, "note": game.note}
        if game.ok:
            est = game.estimate
            played = pd.Series([r["played"] for r in ok], dtype=object).value_counts()
            entry.update({
                "value": game.value, "rows": list(est.row_labels), "columns": list(est.column_labels),
                "equilibrium": [float(p) for p in game.row_mix],
                "opponent_equilibrium": [float(p) for p in game.column_mix],
                "played": [int(played.get(lab, 0)) for lab in est.row_labels],
                "row_names": _names(md, game.rows, est.row_labels),
                "column_names": _names(md, game.columns, est.column_labels),
                "mean": est.mean.tolist(), "lower": est.lower.tolist(), "upper": est.upper.tolist(),
                "counts": est.counts.astype(int).tolist(),
                "given_up_mean": float(np.mean([r["given_up"] for r in ok])) if ok else None,
                "in_support_share": float(np.mean([r["in_support"] for r in ok])) if ok else None,
            })
        per_state.append(entry)
    per_state.sort(key=lambda e: -e["decisions"])
    costly = sorted(assessed, key=lambda r: (-r["given_up"], r["set"], r["rally"], r["stroke"]))[:COSTLIEST]
    total = float(sum(r["given_up"] for r in assessed))
    return {
        "status": "assessed" if assessed else "not assessed",
        "notes": notes, "definition": definition(rec), "recommender": rec.kind,
        "recommendation_source": rec.source,
        "decisions": len(rows), "assessed": len(assessed),
        "given_up_total": total, "given_up_mean": total / len(assessed) if assessed else None,
        "in_support_share": float(np.mean([r["in_support"] for r in assessed])) if assessed else None,
        "per_state": per_state, "costliest": costly, "all": rows,
    }


def _names(md: MatchData, kind: str, labels) -> list[str]:
    """Readable names of a matrix's labels: court areas by their description, other labels as they are."""
    if kind.split(":")[0] in ("position", "area"):
        return [str(md.sport.areas.get(str(lab), lab)) for lab in labels]
    return [str(lab) for lab in labels]


def _row_label(stroke, rows: str, md: MatchData):
    """The label of the stroke in the matrix's rows (its shot, group or area)."""
    kind, _, detail = rows.partition(":")
    if kind == "shot":
        value = stroke["shot"]
    elif kind == "area":
        value = stroke["landing_area"]
    else:
        value = md.sport.group(pd.Series([stroke["shot"]], dtype="string"), detail or "tactic").iloc[0]
    return None if pd.isna(value) else str(value)


def _score(stroke, player: str) -> str:
    hs, os_ = stroke.get("hitter_score"), stroke.get("opponent_score")
    if pd.isna(hs) or pd.isna(os_):
        return ""
    mine, theirs = (hs, os_) if stroke["hitter"] == player else (os_, hs)
    return f"{int(mine)}-{int(theirs)}"
