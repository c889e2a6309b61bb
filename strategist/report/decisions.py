"""Decision review: each of the player's shots against the Advisor's recommendation, and the win probability
given up.

Definition (stated in the report). Before each of the player's strokes the Advisor — fitted without this
match — is asked for advice on the rally so far, exactly as on the live page. Its options give every candidate
shot's win probability w against the opponent as predicted, both then playing as they do (a point estimate with
a 90 % interval); its recommendation x is the rally game's (the equilibrium at the lower bounds, or the habit
where the data do not support a change). The decision gave up

    given up = Σᵢ xᵢ·wᵢ − w(played)

in points of rally win probability (negative: the shot played was estimated better than the recommendation),
with an interval from the options' standard errors (sd √(Σ xᵢ²·sdᵢ² + sd(played)²), taken independent). A shot
that is not a candidate there (all players play it under 2 % of the time) is not assessed, and the reason is
given; a recommendation never contains such a shot, so the costliest decisions are always real choices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.advice.advisor import PAIRING_SHARE
from strategist.errors import StrategistError
from strategist.estimation.shrinkage import two_sided_z
from strategist.report.match import MatchData
from strategist.report.recommend import ADVISOR_DEFINITION, ADVISOR_SOURCE

LEVEL = 0.9
Z_LEVEL = two_sided_z(LEVEL)
#: How many of the costliest decisions the report lists.
COSTLIEST = 10
HISTORY_COLUMNS = ["shot", "hitter", "landing_area", "landing_height", "stroke"]


def definition(sport=None) -> str:
    """How "given up" is computed, in the sport's words (rally or point)."""
    from strategist.scout.text import rally_words

    return (f"{ADVISOR_DEFINITION.format(one=rally_words(sport)[0])}; {int(LEVEL * 100)} % intervals from the "
            "options' standard errors. The recommendation uses only shots the player has played there and all players "
            "play there at a meaningful rate")


def mix_text(labels, mix, top: int = 3) -> str:
    order = np.argsort(-np.asarray(mix))
    return ", ".join(f"{labels[i]} {mix[i]:.0%}" for i in order[:top] if mix[i] >= 0.005)


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


def _score(stroke, player: str) -> str:
    """The score before the rally, the player first: ``"14-12"``; in tennis the games, then the points as
    called (``"4-3, 40-30"``; a tiebreak's count at 6-6)."""
    from strategist.matchlog.scoring import tennis_call

    hs, os_ = stroke.get("hitter_score"), stroke.get("opponent_score")
    if not _known(hs) or not _known(os_):
        return ""
    first = stroke["hitter"] == player
    mine, theirs = (int(hs), int(os_)) if first else (int(os_), int(hs))
    hg, og = stroke.get("hitter_games"), stroke.get("opponent_games")
    if not _known(hg) or not _known(og):
        return f"{mine}-{theirs}"
    games = (int(hg), int(og)) if first else (int(og), int(hg))
    points = f"{mine}-{theirs}" if games == (6, 6) else f"{tennis_call(mine, theirs)}-{tennis_call(theirs, mine)}"
    return f"{games[0]}-{games[1]}, {points}"


def _known(value) -> bool:
    return value is not None and not (isinstance(value, float) and value != value) and value is not pd.NA


def _assess(advisor, history: list, stroke: dict, player: str) -> dict:
    """The assessment of one stroke: the advice before it (``history``: the rally's earlier strokes as
    (shot, hitter, landing area, landing height)) and what playing the shot gave up, or why not."""
    shot = stroke["shot"]
    if not _known(shot) or shot == "unknown":
        return {"assessed": False, "reason": "shot not recorded"}
    if any(not _known(h[0]) or h[0] == "unknown" for h in history):
        return {"assessed": False, "reason": "the rally so far has a shot that was not recorded"}
    context = {"next": player}
    for key in ("server", "court_side", "match_id"):
        value = stroke.get(key)
        if _known(value):
            context[key] = str(value)
    try:
        advice = advisor.advise(history, context)
    except StrategistError as exc:
        return {"assessed": False, "reason": f"the Advisor could not advise: {exc}"}
    options = advice.options
    if advice.equilibrium is None or options is None:
        return {"assessed": False, "state": advice.state,
                "reason": f"the data hold no strokes of {player} in this situation"}
    if advisor.sport.decisions.serve_action == "area" and shot in advisor.sport.serves:
        area = stroke.get("landing_area")          # a tennis server's action is the serve's direction
        if not _known(area):
            return {"assessed": False, "state": advice.state, "reason": "the serve's direction was not recorded"}
        shot = f"{area} serve"
    if shot not in options.index:
        return {"assessed": False, "state": advice.state,
                "reason": f"'{shot}' is not a candidate there (all players play it under 2 % of the time)"}
    advised = bool(options.at[shot, "advised"])
    if not advised and options.at[shot, "population_share"] < advisor.min_share:
        return {"assessed": False, "state": advice.state,
                "reason": f"'{shot}' is not a candidate there ({options.at[shot, 'reason']})"}
    labels = list(options.index)
    x = np.array([advice.equilibrium.mix.get(r, 0.0) for r in labels], dtype=float)
    x = x / x.sum()
    w = options["win_probability"].to_numpy(float)
    sd = options["sd"].to_numpy(float)            # not read back from the interval, which is clipped to [0, 1]
    a = labels.index(shot)
    given = float(x @ w - w[a])
    half = Z_LEVEL * float(np.sqrt(np.sum(x ** 2 * sd ** 2) + sd[a] ** 2))
    return {"assessed": True, "state": advice.state, "played": shot, "recommended": mix_text(labels, x),
            "basis": advice.equilibrium.basis, "in_support": bool(x[a] > 1e-6), "p_played": float(w[a]),
            "p_recommended": float(x @ w), "given_up": 0.0 if abs(given) < 1e-12 else given,
            "lower": given - half, "upper": given + half, "advised_shot": advised,
            "evidence_pairing": float(advice.evidence.get("pairing", 0.0)),
            "matrix": "pairing" if advice.scope == "pairing" else "player"}


def review(md: MatchData, *, seed: int = 0, recommendation: str = "advisor") -> dict:
    """The decision-review section (numbers only). ``seed`` and ``recommendation`` are kept for the callers of
    earlier versions; the Advisor is the one recommendation."""
    notes = []
    try:
        advisor = md.advisor()
    except StrategistError as exc:
        return {"status": "not assessed", "notes": [f"the Advisor cannot be built without this match: {exc}"],
                "definition": definition(md.sport), "recommender": "advisor", "recommendation_source": ADVISOR_SOURCE,
                "decisions": 0, "assessed": 0, "given_up_total": 0.0, "given_up_mean": None,
                "in_support_share": None, "per_state": [], "costliest": [], "all": []}
    s = md.strokes
    contexts = dict(zip(s.index, rally_contexts(s, md.player)))
    rows = []
    columns = [c for c in dict.fromkeys(["set", "rally", "stroke", "rally_id", "state", "winner", "server",
                                         "court_side", "match_id", "hitter_score", "opponent_score", "hitter_games",
                                         "opponent_games",
                                         *HISTORY_COLUMNS]) if c in s.columns]
    records = s[columns].astype(object).where(s[columns].notna(), None).to_dict("records")
    index = s.index.to_list()
    start = 0
    while start < len(records):
        end = start
        while end < len(records) and records[end]["rally_id"] == records[start]["rally_id"]:
            end += 1
        rally = records[start:end]
        winners = [r["winner"] for r in rally if r["winner"] is not None]
        won = bool(winners[0] == md.player) if winners else None
        history = [(r["shot"], r["hitter"], r.get("landing_area"), r.get("landing_height")) for r in rally]
        for k, stroke in enumerate(rally):
            if stroke["hitter"] != md.player:
                continue
            entry = {"set": int(stroke["set"]), "rally": int(stroke["rally"]), "stroke": int(stroke["stroke"]),
                     "rally_id": str(stroke["rally_id"]), "state": str(stroke["state"]),
                     "shot": None if stroke["shot"] is None else str(stroke["shot"]),
                     "score": _score(stroke, md.player), "rally_won": won, "context": contexts[index[start + k]]}
            entry.update(_assess(advisor, history[:k], stroke, md.player))
            rows.append(entry)
        start = end
    assessed = [r for r in rows if r["assessed"]]
    reasons = pd.Series([r["reason"].split(" (")[0] for r in rows if not r["assessed"]], dtype=object)
    notes += list(advisor.notes)
    if not rows:
        notes.append(f"{md.player} hit no stroke in this match: no decision could be reviewed")
    elif len(assessed) < len(rows):
        notes.append(f"{len(rows) - len(assessed)} of {len(rows)} decisions not assessed: "
                     + "; ".join(f"{k} ({v})" for k, v in reasons.value_counts().items()))
    costly = sorted(assessed, key=lambda r: (-r["given_up"], r["set"], r["rally"], r["stroke"]))[:COSTLIEST]
    total = float(sum(r["given_up"] for r in assessed))
    return {
        "status": "assessed" if assessed else "not assessed", "notes": notes, "definition": definition(md.sport),
        "recommender": "advisor", "recommendation_source": ADVISOR_SOURCE, "model": advisor.model_label,
        "decisions": len(rows), "assessed": len(assessed), "given_up_total": total,
        "given_up_mean": total / len(assessed) if assessed else None,
        "in_support_share": float(np.mean([r["in_support"] for r in assessed])) if assessed else None,
        "per_state": _per_state(advisor, rows), "costliest": costly, "all": rows,
    }


def _per_state(advisor, rows: list[dict]) -> list[dict]:
    """Per situation of the match: the decisions there and the rally game's stage (matrix, intervals, counts,
    the recommended mix and the player's shots in this match); its values as played (``observed_value``), with
    both as recommended (``value``) and with the player alone as recommended (``switch_value``)."""
    game = advisor.game
    out = []
    by_state: dict = {}
    for r in rows:
        by_state.setdefault(r.get("state") or r["state"], []).append(r)
    for state, items in by_state.items():
        ok = [r for r in items if r["assessed"]]
        entry = {"state": state, "decisions": len(items), "assessed": len(ok)}
        name = f"player: {state}"
        averaged = bool(ok) and all(r.get("basis") == "averaged" for r in ok)   # the advice read other states
        if name in game.labels and not averaged:
            st = game.stage(name)
            played = pd.Series([r["played"] for r in ok], dtype=object).value_counts()
            g = game.index(name)
            entry.update({
                "matrix": "pairing" if float(game.states["pairing"].iat[g]) >= PAIRING_SHARE else "player",
                "value": float(game.value(g)), "observed_value": float(game.observed_value(g)),
                "switch_value": float(game.states["switch_value"].iat[g]),
                "rows": list(st.rows), "columns": list(st.columns), "row_names": list(st.rows),
                "column_names": [f"{advisor.opponent} at the {c}" if c in ("front", "middle", "back") else str(c)
                                 for c in st.columns],
                "equilibrium": [float(p) for p in st.recommended], "basis": st.basis,
                "opponent_equilibrium": [float(p) for p in st.opponent],
                "played": [int(played.get(lab, 0)) for lab in st.rows],
                "mean": st.mean.tolist(), "lower": st.low.tolist(), "upper": st.high.tolist(),
                "counts": st.counts.astype(int).tolist(),
                "given_up_mean": float(np.mean([r["given_up"] for r in ok])) if ok else None,
                "in_support_share": float(np.mean([r["in_support"] for r in ok])) if ok else None, "note": ""})
        else:
            # a situation the match left open (the height or zone not recorded): the states it may be, weighted,
            # as the Advisor read them for these decisions
            g, w = advisor.states_of(state, "player")
            means = {"given_up_mean": float(np.mean([r["given_up"] for r in ok])) if ok else None,
                     "in_support_share": float(np.mean([r["in_support"] for r in ok])) if ok else None}
            if g:
                pairing = float(np.dot(w, game.states["pairing"].to_numpy(float)[g]))
                entry.update({"matrix": "pairing" if pairing >= PAIRING_SHARE else "player", **means,
                              "value": float(np.dot(w, game.states["value"].to_numpy(float)[g])),
                              "observed_value": float(np.dot(w, game.states["observed_value"].to_numpy(float)[g])),
                              "switch_value": float(np.dot(w, game.states["switch_value"].to_numpy(float)[g])),
                              "averaged_over": [{"state": game.labels[i].split(": ", 1)[1], "weight": float(x)}
                                                for i, x in zip(g, w)], "note": ""})
            else:
                entry.update({"matrix": None, **means,
                              "note": f"the data hold no strokes of {advisor.player} in this situation"})
        out.append(entry)
    out.sort(key=lambda e: -e["decisions"])
    return out
