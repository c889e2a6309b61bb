"""Win probability through each rally: P(the player wins the rally) after every stroke.

From the rally game of the report's Advisor (fitted without this match): the value of the situation the rally
is in after each stroke when both players play as they do (``observed_value``; the value as recommended is
kept beside it). A situation the game lacks, or a game that cannot be built, takes the empirical value below,
flagged.

Empirical value: after stroke t the rally stands in the decision state of stroke t + 1 with its hitter to play; the
probability is the rate at which the player won rallies from that state in the population — as the hitter
when the player hits next, as the receiver otherwise — shrunk toward all players' rate in the state
(Beta posterior with ``PRIOR`` pseudo-rallies at the all-players rate, Jeffreys when there is nothing to
shrink to), with its 95 % interval. Before the serve it is the state of the serve; after the last stroke
it is the outcome (1 or 0; missing when the winner is not recorded). Counts are rallies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from strategist.report.match import MatchData

PRIOR = 10.0
SOURCE = ("empirical P(player wins | situation, who hits next) from the data without this match (the rally game "
          "could not be built)")
GAME_SOURCE = ("the rally game (strategist.rally) of {who}, fitted without this match: the value of the situation "
               "after each stroke when both play as they do")


def _rates(md: MatchData) -> dict:
    pop = md.annotated_population()
    pop = pop[pop["winner"].notna()]
    f = pop.drop_duplicates(["rally_id", "hitter", "state"])
    won = (f["winner"] == f["hitter"]).to_numpy(float)
    frame = pd.DataFrame({"state": f["state"].astype(str).to_numpy(), "won": won,
                          "as_player": (f["hitter"] == md.player).to_numpy(bool),
                          "vs_player": (f["opponent"] == md.player).to_numpy(bool)})
    everyone = frame.groupby("state")["won"].agg(["sum", "size"])
    hits = frame[frame["as_player"]].groupby("state")["won"].agg(["sum", "size"])
    recv = frame[frame["vs_player"]].groupby("state")["won"].agg(["sum", "size"])
    return {"all": everyone, "hits": hits, "receives": recv}


def _posterior(rates: dict, state: str, player_hits: bool) -> tuple[float, float, float, int]:
    """(mean, lower, upper, rallies) of P(player wins) from ``state`` with the player hitting or not."""
    allr = rates["all"]
    if state in allr.index:
        p0 = allr.loc[state, "sum"] / allr.loc[state, "size"]
        a0, b0 = PRIOR * p0 + 0.5, PRIOR * (1 - p0) + 0.5
    else:
        a0 = b0 = 0.5
    own = rates["hits" if player_hits else "receives"]
    w, n = (own.loc[state, "sum"], own.loc[state, "size"]) if state in own.index else (0.0, 0.0)
    a, b = a0 + w, b0 + n - w            # the hitter's win probability
    if not player_hits:
        a, b = b, a
    lo, hi = special.betaincinv(a, b, [0.025, 0.975])
    return float(a / (a + b)), float(lo), float(hi), int(n)


def _game_values(md: MatchData):
    """(values by (rally_id, stroke) of the state each stroke is hit in, source text, note) from the Advisor's
    rally game (the one game of the whole report), or (None, None, note) when it cannot be built."""
    from strategist.errors import StrategistError

    try:
        advisor = md.advisor()
    except StrategistError as exc:
        return None, None, f"the rally game could not be fitted ({exc}); empirical values stand in"
    states = advisor.game.states
    observed, recommended = states["observed_value"].to_numpy(float), states["value"].to_numpy(float)
    values, found = {}, {}
    for r, k, h, st in zip(md.strokes["rally_id"], md.strokes["stroke"], md.strokes["hitter"], md.strokes["state"]):
        key = ("player" if h == md.player else "opponent", str(st))
        if key not in found:        # a situation this match left open (height, zone) averages the usual ones
            g, w = advisor.states_of(key[1], key[0])
            found[key] = (float(np.dot(w, observed[g])), float(np.dot(w, recommended[g]))) if g else None
        if found[key] is not None:
            values[(str(r), int(k))] = found[key]
    return values, GAME_SOURCE.format(who=f"{md.player} against {md.opponent}"), None


def trajectories(md: MatchData) -> dict:
    """The win-probability section: one series per rally."""
    game_values, game_source, failure = _game_values(md)
    rates = None                                     # the empirical rates, fitted only when a point needs them
    s = md.strokes
    cache: dict = {}
    missing = 0
    series = []
    for rally_id, grp in s.groupby("rally_id", sort=False):
        points = []
        states = grp["state"].astype(str).tolist()
        hitters = grp["hitter"].astype(str).tolist()
        strokes_ = grp["stroke"].astype(int).tolist()
        for t in range(len(grp)):
            key = (states[t], hitters[t] == md.player)
            point = {"after": t, "next_state": states[t], "next_hitter": "player" if key[1] else "opponent"}
            found = None if game_values is None else game_values.get((str(rally_id), int(strokes_[t])))
            if found is not None:
                point.update(p=found[0], equilibrium=found[1], lower=None, upper=None, rallies=None,
                             source="rally game")
            else:
                missing += game_values is not None
                if key not in cache:
                    rates = _rates(md) if rates is None else rates
                    cache[key] = _posterior(rates, *key)
                m, lo, hi, n = cache[key]
                point.update(p=m, lower=lo, upper=hi, rallies=n, source="empirical")
            points.append(point)
        winner = grp["winner"].dropna()
        outcome = None if winner.empty else float(winner.iloc[0] == md.player)
        series.append({"rally_id": str(rally_id), "set": int(grp["set"].iloc[0]), "rally": int(grp["rally"].iloc[0]),
                       "strokes": int(len(grp)), "shots": grp["shot"].astype("string").fillna("?").tolist(),
                       "hitters": ["player" if h == md.player else "opponent" for h in hitters],
                       "points": points, "outcome": outcome})
    notes = [failure] if failure else []
    if md.in_sample:
        notes.append("estimated from this match itself (no other data)")
    if game_values is not None and missing:
        notes.append(f"{missing} strokes are in states the rally game lacks: their values are the empirical ones")
    used = game_values is not None
    return {"status": "assessed", "source": game_source if used else SOURCE,
            "values": "rally game" if used else "empirical", "notes": notes, "rallies": series}
