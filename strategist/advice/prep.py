"""Match preparation: the opponent's tendencies, how exploitable the player's habits are, keys to the match.

Every figure comes with the number of strokes behind it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STROKE_BUCKETS = ((1, "1 (serve)"), (2, "2 (return)"), (3, "3"), (4, "4"), (5, "5"), (6, "6+"))


def _bucket(stroke: pd.Series) -> pd.Series:
    s = stroke.astype("Int64").clip(upper=6)
    return s.map(dict(STROKE_BUCKETS)).astype("string")


def tendencies_by_stroke(advisor) -> pd.DataFrame:
    """The opponent's shot choices by stroke number (of the rally): stroke, shot, group, strokes, share, n."""
    a = advisor.annotated
    mine = a[(a["hitter"] == advisor.opponent) & (a["opponent"] == advisor.player)]
    scope = "against this player"
    if len(mine) < 30:
        mine, scope = a[a["hitter"] == advisor.opponent], "against everyone"
    frame = pd.DataFrame({"stroke": _bucket(mine["stroke"]), "shot": mine["shot"].astype(str)})
    counts = frame.value_counts().rename("strokes").reset_index()
    totals = counts.groupby("stroke")["strokes"].transform("sum")
    counts["share"] = counts["strokes"] / totals
    counts["n"] = totals
    counts["group"] = counts["shot"].map(dict(advisor.sport.groupings["tactic"])).fillna("other")
    counts.attrs["scope"] = scope
    order = {label: k for k, label in STROKE_BUCKETS}
    return counts.sort_values(["stroke", "strokes"], key=lambda s: s.map(order) if s.name == "stroke" else -s)\
        .reset_index(drop=True)


def replies_after(advisor) -> pd.DataFrame:
    """After each of the player's shots: the opponent's reply (group) shares, with the strokes behind them."""
    a = advisor.annotated
    mine = a[(a["hitter"] == advisor.player) & a["reply_shot"].notna()]
    scope = "against this opponent"
    pair = mine[mine["opponent"] == advisor.opponent]
    if len(pair) >= 30:
        mine = pair
    else:
        scope = "against everyone"
    groups = dict(advisor.sport.groupings["tactic"])
    frame = pd.DataFrame({"player's shot": mine["shot"].astype(str),
                          "reply": mine["reply_shot"].astype(str).map(groups).fillna("other")})
    table = pd.crosstab(frame["player's shot"], frame["reply"])
    n = table.sum(axis=1)
    shares = table.div(n, axis=0)
    shares["n"] = n
    top = mine.groupby(mine["shot"].astype(str))["reply_shot"].agg(lambda s: s.astype(str).value_counts().index[0])
    shares["commonest reply"] = top.reindex(shares.index)
    shares = shares.sort_values("n", ascending=False)
    shares.attrs["scope"] = scope
    return shares


def habits(advisor) -> pd.DataFrame:
    """Per state: the value, the player's habitual mix's guarantee and exploitability, decision points."""
    rows = []
    for state, sg in advisor.games.items():
        counts = np.asarray(sg.row_counts, float)
        x = counts / counts.sum()
        guarantee = float((x @ sg.payoffs).min())
        rows.append({"state": state, "value": sg.value, "habitual guarantee": guarantee,
                     "exploitability": max(sg.value - guarantee, 0.0), "decision points": sg.points,
                     "habitual mix": ", ".join(f"{a} {p:.0%}" for a, p in sorted(zip(sg.rows, x), key=lambda kv: -kv[1])
                                               [:3])})
    return pd.DataFrame(rows).sort_values("decision points", ascending=False).reset_index(drop=True)


def observed_reply(sg) -> np.ndarray:
    """The opponent's observed reply mix in a state's game (how often they answered with each column)."""
    counts = np.asarray(sg.estimate.column_counts, float)
    return counts / counts.sum() if counts.sum() > 0 else sg.column_strategy


def best_responses(advisor) -> pd.DataFrame:
    """Per state: the best response to the opponent's observed replies, what it wins, and its guarantee."""
    rows = []
    for state, sg in advisor.games.items():
        q = observed_reply(sg)
        aq = sg.payoffs @ q
        i = int(np.argmax(aq))
        habit = np.asarray(sg.row_counts, float)
        rows.append({"state": state, "best response": sg.rows[i], "wins": float(aq[i]),
                     "never less than": float(sg.payoffs[i].min()), "habitual mix wins": float(habit @ aq / habit.sum()),
                     "times played": int(sg.row_counts[i]), "replies seen": int(np.sum(sg.estimate.column_counts))})
    return pd.DataFrame(rows)


def keys_to_the_match(advisor, k: int = 3, min_count: int = 10) -> list[dict]:
    """The ``k`` conditions that move the win probability most: a shot in a state whose win probability
    against the opponent's usual replies differs most from the player's usual mix there, weighted by how
    often the state comes up; each with its sample size."""
    candidates = []
    total_points = sum(sg.points for sg in advisor.games.values()) or 1
    for state, sg in advisor.games.items():
        q = observed_reply(sg)
        aq = sg.payoffs @ q
        habit = np.asarray(sg.row_counts, float)
        base = float(habit @ aq / habit.sum())
        for shot, win, n in zip(sg.rows, aq, sg.row_counts):
            if n < min_count:
                continue
            effect = float(win - base)
            weight = sg.points / total_points
            candidates.append({"state": state, "shot": shot, "wins": float(win), "usual": base, "effect": effect,
                               "strokes": int(n), "decision points": sg.points, "score": abs(effect) * weight ** 0.5})
    candidates.sort(key=lambda c: -c["score"])
    keys = []
    for c in candidates[:k]:
        more = "more" if c["effect"] > 0 else "less"
        c["text"] = (f"{c['state'][0].upper()}{c['state'][1:]}: {c['shot']} wins {c['wins']:.0%} against "
                     f"{advisor.opponent}'s usual replies, {abs(c['effect']) * 100:.0f} points {more} than "
                     f"{advisor.player}'s usual mix ({c['usual']:.0%}); played {c['strokes']} times of "
                     f"{c['decision points']} decision points")
        c["advice"] = "play it more" if c["effect"] > 0 else "play it less"
        keys.append(c)
    return keys


def rally_game_function():
    """:func:`strategist.rally.game.rally_game` when this installation has it, else None."""
    try:
        from strategist.rally.game import rally_game
    except ImportError:
        return None
    return rally_game


def rally_values(advisor, game=None) -> dict:
    """The value of serving and of returning: from the rally game (:mod:`strategist.rally`) when this
    installation has it, otherwise the matrix-game values of the serve and return states, labelled so."""
    rally_game = rally_game_function()
    if rally_game is not None:
        try:
            game = game if game is not None else rally_game(advisor.table, advisor.player, advisor.opponent)
            serve = game.serve_state("player")
            receive = game.serve_state("opponent")
            return {"source": "rally game", "label": "rally-game value (the whole rally as a stochastic game)",
                    "serve": float(game.value(serve)), "serve_observed": float(game.observed_value(serve)),
                    "return": float(game.value(receive)), "return_observed": float(game.observed_value(receive))}
        except Exception as exc:  # a rally game that cannot be built here: say so, use the fallback
            note = f"the rally game could not be built ({exc})"
    else:
        note = "the rally game (strategist.rally) is not in this installation"
    return rally_values_fallback(advisor, note)


def rally_values_fallback(advisor, note: str) -> dict:
    """The matrix-game values of the serve and return states, labelled as the fallback they are."""
    serve = advisor.games.get("serve")
    returns = [sg for st, sg in advisor.games.items() if st.startswith("return")]
    ret = max(returns, key=lambda sg: sg.points) if returns else None
    return {"source": "matrix game", "note": note,
            "label": "matrix-game value of the state (fallback: " + note + ")",
            "serve": None if serve is None else serve.value, "serve_points": None if serve is None else serve.points,
            "return": None if ret is None else ret.value, "return_state": None if ret is None else ret.state,
            "return_points": None if ret is None else ret.points}
