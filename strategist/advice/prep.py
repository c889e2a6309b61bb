"""Match preparation, read off the Advisor's rally game: the opponent's tendencies, the player's habits and
what the game recommends instead, the best shots against the opponent's usual positions, three keys to the
match, and the value of serving and returning.

Every figure comes with the strokes behind it, and every value with its basis: *as played* (both keep their
habits), *as recommended* (the recommendation, on the point estimates) or *at the lower bound* (what the
recommendation guarantees wherever the receiver stands).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.advice.sentence import pct
from strategist.data.states import describe_situation

STROKE_BUCKETS = ((1, "1 (serve)"), (2, "2 (return)"), (3, "3"), (4, "4"), (5, "5"), (6, "6+"))
#: Strokes of the opponent against this player below which tendencies are taken against everyone.
MIN_PAIR_STROKES = 30
#: How a shot whose type the data do not record is named and grouped: a missing shot and a sport's ``unknown``
#: type (which its groupings put in no group) alike.
UNRECORDED = "not recorded"


def _bucket(stroke: pd.Series) -> pd.Series:
    s = stroke.astype("Int64").clip(upper=6)
    return s.map(dict(STROKE_BUCKETS)).astype("string")


def stroke_of_rally(table: pd.DataFrame, serves) -> pd.Series:
    """Each stroke's number counted from the serve: the rally's leading serves by its first hitter (a fault
    and the second serve in tennis) are all stroke 1, the next stroke is the return (2), and so on; a rally
    whose first stroke is not a recorded serve keeps the data's numbers. Indexed like ``table``."""
    t = table[["rally_id", "stroke", "hitter", "shot"]].sort_values(["rally_id", "stroke"], kind="stable")
    first = t.groupby("rally_id", sort=False)["hitter"].transform("first")
    serving = (t["shot"].isin(serves) & (t["hitter"] == first)).fillna(False).astype(int)
    leading = serving.groupby(t["rally_id"], sort=False).cumprod()          # 1 while the serves last
    k = leading.groupby(t["rally_id"], sort=False).transform("sum")
    stroke = t["stroke"].astype("Int64")
    number = stroke.where(k == 0, (stroke - k + 1).where(leading == 0, 1))
    return number.reindex(table.index)


def shot_names(shots: pd.Series) -> pd.Series:
    """The shots as read on a page: a missing shot and the ``unknown`` type are both ``not recorded``."""
    return shots.astype("string").replace("unknown", UNRECORDED).fillna(UNRECORDED).astype(str)


def shot_group(groups: dict, shot: str) -> str:
    """The shot's group under ``groups`` (a sport's grouping): ``other`` for a shot it leaves out, ``not
    recorded`` for an unrecorded one (named so by :func:`shot_names`, or a type the grouping puts in no group)."""
    if shot == UNRECORDED:
        return UNRECORDED
    group = groups.get(shot, "other")
    return UNRECORDED if group is None else group


def tendencies_by_stroke(advisor) -> pd.DataFrame:
    """The opponent's shot choices by stroke number (counted from the serve, :func:`stroke_of_rally`: a second
    serve is still the serve): stroke, shot, group, strokes, share, n;
    against this player when there are enough such strokes, else against everyone (``scope`` column)."""
    a = advisor.table
    mine = a[(a["hitter"] == advisor.opponent) & (a["opponent"] == advisor.player)]
    scope = "against this player"
    if len(mine) < MIN_PAIR_STROKES:
        mine, scope = a[a["hitter"] == advisor.opponent], "against everyone"
    if mine.empty:
        return pd.DataFrame(columns=["stroke", "shot", "strokes", "share", "n", "group", "scope"])
    serves = set(advisor.sport.serves)
    numbers = stroke_of_rally(a[a["rally_id"].isin(mine["rally_id"].unique())], serves)
    frame = pd.DataFrame({"stroke": _bucket(numbers.reindex(mine.index)), "shot": shot_names(mine["shot"])})
    # a non-serve recorded at stroke 1 or a serve later is the data's own mislabel: shown as it is, flagged
    counts = frame.value_counts().rename("strokes").reset_index()
    totals = counts.groupby("stroke")["strokes"].transform("sum")
    counts["share"] = counts["strokes"] / totals
    counts["n"] = totals
    tactic = dict(advisor.sport.groupings.get("tactic", {}))
    counts["group"] = counts["shot"].map(lambda shot: shot_group(tactic, shot))
    counts.loc[counts["shot"].isin(serves) & (counts["stroke"] != "1 (serve)"), "group"] = "serve"
    counts["scope"] = scope
    order = {label: k for k, label in STROKE_BUCKETS}
    return counts.sort_values(["stroke", "strokes"], key=lambda s: s.map(order) if s.name == "stroke" else -s)\
        .reset_index(drop=True)


def replies_after(advisor) -> pd.DataFrame:
    """After each of the player's shots: the opponent's next shot by group (shares), with the strokes behind
    them; against this opponent when there are enough, else against everyone (``scope`` column)."""
    from strategist.data.states import annotate_states

    table = advisor.table
    rallies = table.loc[table["hitter"] == advisor.player, "rally_id"].unique()
    a = annotate_states(table[table["rally_id"].isin(rallies)], advisor.sport)   # replies lie in the rally
    mine = a[(a["hitter"] == advisor.player) & a["reply_shot"].notna()]
    pair = mine[mine["opponent"] == advisor.opponent]
    scope = "against this opponent"
    if len(pair) >= MIN_PAIR_STROKES:
        mine = pair
    else:
        scope = "against everyone"
    groups = dict(advisor.sport.groupings.get("tactic", {}))
    shots, replies = shot_names(mine["shot"]), shot_names(mine["reply_shot"])
    frame = pd.DataFrame({"player's shot": shots, "reply": replies.map(lambda shot: shot_group(groups, shot))})
    table = pd.crosstab(frame["player's shot"], frame["reply"])
    n = table.sum(axis=1)
    shares = table.div(n, axis=0)
    shares["n"] = n
    top = replies.groupby(shots).agg(lambda s: s.value_counts().index[0])
    shares["commonest reply"] = top                    # aligned on the player's shots
    shares = shares.sort_values("n", ascending=False)
    shares["scope"] = scope
    return shares


def _player_states(advisor) -> list[int]:
    st = advisor.game.states
    return [g for g in np.flatnonzero((st["who"] == "player").to_numpy()) if st["visits"].iat[g] > 0]


def _shot_wins(advisor):
    """Per situation the player met: (state index, its shot arrays, its stage, and every shot's win
    probability against the opponent's usual positions: point estimate, low, high)."""
    game = advisor.game
    for g in _player_states(advisor):
        sa = advisor._arrays_of(g)
        stage = game.stage(g)
        q = sa.positions
        yield g, sa, stage, stage.mean @ q, stage.low @ q, stage.high @ q


def habits(advisor) -> pd.DataFrame:
    """Per situation the player met this opponent in: the player's habit and what it wins as played, the
    recommendation and what it wins, the recommendation's basis, and the strokes behind them."""
    game = advisor.game
    rows = []
    for g in _player_states(advisor):
        stage = game.stage(g)
        played = stage.counts.sum(axis=1)
        x = stage.observed_row
        rows.append({"situation": describe_situation(game.states["decision_state"].iat[g]),
                     "state": game.states["decision_state"].iat[g],
                     "strokes against this opponent": int(game.states["visits"].iat[g]),
                     "habit": _mix_text(stage.rows, x, played),
                     "as played": float(game.observed_value(g)),
                     "recommended": _mix_text(stage.rows, stage.recommended, played),
                     "as recommended": float(game.value(g)), "basis": stage.basis,
                     "habit exploitable by": max(float(stage.pessimistic_value - (x @ stage.pessimistic).min()), 0.0)})
    frame = pd.DataFrame(rows)
    return frame.sort_values("strokes against this opponent", ascending=False).reset_index(drop=True) if rows \
        else frame


def _mix_text(labels, mix, counts, top: int = 3) -> str:
    """The mix's ``top`` shots with their shares and the strokes behind each (``counts``: the player's there)."""
    order = np.argsort(-np.asarray(mix))
    return ", ".join(f"{labels[i]} {pct(mix[i])} (n={int(counts[i])})" for i in order[:top] if mix[i] >= 0.005)


def best_responses(advisor) -> pd.DataFrame:
    """Per situation: the advised shot that wins most against where the opponent usually stands (point
    estimate with its interval and its lower bound), against the habit's, with how often the player played it
    there (against anyone)."""
    game = advisor.game
    rows = []
    for g, sa, stage, win, low, high in _shot_wins(advisor):
        advised = np.flatnonzero(sa.advised)
        if not len(advised):
            continue
        i = advised[int(np.argmax(win[advised]))]
        rows.append({"situation": describe_situation(game.states["decision_state"].iat[g]),
                     "state": game.states["decision_state"].iat[g], "best shot": sa.rows[i], "wins": float(win[i]),
                     "low": float(low[i]), "high": float(high[i]), "lower bound": float((stage.pessimistic @ sa.positions)[i]),
                     "habit wins": float(sa.habit @ win), "times played": int(sa.played[i]),
                     "decisions": int(sa.played.sum())})
    return pd.DataFrame(rows)


def keys_to_the_match(advisor, k: int = 3, min_count: int = 10) -> list[dict]:
    """The ``k`` shots whose share most changes the win probability, where the data support the change: a
    shot played at least ``min_count`` times in a situation whose lower bound beats the player's usual mix
    there ("play it more"), or whose upper bound falls below it ("play it less"), ranked by the difference
    weighted by how often the situation comes up against this opponent."""
    game = advisor.game
    total = float(sum(game.states["visits"].iat[g] for g in _player_states(advisor))) or 1.0
    candidates = []
    for g, sa, _, win, low, high in _shot_wins(advisor):
        usual = float(sa.habit @ win)
        visits = int(game.states["visits"].iat[g])
        for i, shot in enumerate(sa.rows):
            n = int(sa.played[i])
            if n < min_count or not sa.advised[i]:
                continue
            more, less = low[i] > usual, high[i] < usual
            if not (more or less):
                continue
            effect = float(win[i] - usual)
            candidates.append({"state": game.states["decision_state"].iat[g], "shot": shot, "wins": float(win[i]),
                               "low": float(low[i]), "high": float(high[i]), "usual": usual, "effect": effect,
                               "strokes": n, "decisions": int(sa.played.sum()), "visits": visits,
                               "score": abs(effect) * (visits / total) ** 0.5})
    candidates.sort(key=lambda c: -c["score"])
    keys = []
    for c in candidates[:k]:
        more = c["effect"] > 0
        situation = describe_situation(c["state"])
        c["text"] = (f"{situation[0].upper()}{situation[1:]}: {c['shot']} wins {pct(c['wins'])} "
                     f"({pct(c['low'])}–{pct(c['high'])}) against {advisor.opponent}'s usual positions, "
                     f"{abs(c['effect']) * 100:.0f} points {'more' if more else 'less'} than {advisor.player}'s "
                     f"usual mix ({pct(c['usual'])}); {advisor.player} played it {c['strokes']} times in "
                     f"{c['decisions']} strokes there")
        c["advice"] = "play it more" if more else "play it less"
        keys.append(c)
    return keys


def rally_values(advisor, game=None) -> dict:
    """The value of serving and of returning, from the rally game: as played and as recommended, the mean over
    the states a point opens in weighted by how often each did (:meth:`~strategist.rally.game.RallyGame.openings`:
    tennis's deuce and ad first serves). ``serve_switch`` / ``return_switch``: the player alone as recommended,
    the opponent keeping their habits (the states' ``switch_value``). ``serve_state`` / ``return_state``: the
    most visited of them; ``serve_states`` / ``return_states``: each with its visits."""
    game = game or advisor.game
    out = {"source": "rally game", "label": "the whole rally as a stochastic game (strategist.rally)"}
    visits = game.states["visits"].to_numpy()
    for key, who in (("serve", "player"), ("return", "opponent")):
        states, w = game.openings(who)
        out[key] = float(game.recommendation.realized[states] @ w)
        out[f"{key}_observed"] = float(np.asarray(game.observed_values)[states] @ w)
        out[f"{key}_switch"] = float(game.states["switch_value"].to_numpy()[states] @ w)
        out[f"{key}_state"] = game.labels[states[int(np.argmax(w))]]
        out[f"{key}_states"] = {game.labels[g]: int(visits[g]) for g in states}
    return out
