"""Win probability through each rally: P(the player wins the rally) after every stroke.

With the rally game installed (:func:`strategist.rally.game.rally_game`): the value of the state the rally
is in after each stroke when both players play as observed (``observed_value``; the equilibrium value is
kept beside it), from the game of the player (against this opponent when the data outside the match hold
the pair, else against everyone) fitted without this match; no interval (the game is solved once). A state
the game lacks takes the empirical value below, flagged.

Stand-in (the rally game is not installed): the empirical probability from the population.
After stroke t the rally stands in the decision state of stroke t + 1 with its hitter to play; the
probability is the rate at which the player won rallies from that state in the population — as the hitter
when the player hits next, as the receiver otherwise — shrunk toward all players' rate in the state
(Beta posterior with ``PRIOR`` pseudo-rallies at the all-players rate, Jeffreys when there is nothing to
shrink to), with its 95 % interval. Before the serve it is the state of the serve; after the last stroke
it is the outcome (1 or 0; missing when the winner is not recorded). Counts are rallies.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

from strategist.data.states import annotate_states
from strategist.report.match import MatchData

PRIOR = 10.0
SOURCE = ("stand-in for the rally game (not installed): empirical P(player wins | state, who hits next) from "
          "the data without this match")
GAME_SOURCE = ("the rally stochastic game (strategist.rally) of {who}, fitted without this match: the value of the "
               "state after each stroke when both play as observed")


def _rates(md: MatchData) -> dict:
    pop = md.population
    pop = annotate_states(pop, md.sport) if "state" not in pop.columns else pop
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
    lo, hi = stats.beta.ppf([0.025, 0.975], a, b)
    return float(a / (a + b)), float(lo), float(hi), int(n)


def _game_values(md: MatchData):
    """(values by (rally_id, stroke) of the state each stroke is hit in, source text, note) from the rally
    game, or (None, None, note) when the package is absent or cannot fit these data."""
    try:
        from strategist.rally.game import rally_game
    except ImportError:
        return None, None, None
    from strategist.errors import StrategistError

    failure = None
    for who in ((md.player, md.opponent), (md.player, None)):
        try:
            game = rally_game(md.population, *who, sport=md.sport.name)
            break
        except StrategistError as exc:
            failure = exc
    else:
        return None, None, f"the rally game could not be fitted ({failure}); empirical values stand in"
    table = game.states.set_index("state")
    zoned = annotate_states(md.strokes, md.sport, zones=True)
    values = {}
    for r, k, h, st in zip(zoned["rally_id"], zoned["stroke"], zoned["hitter"], zoned["state"]):
        label = f"{'player' if h == md.player else 'opponent'}: {st}"
        if label in table.index:
            values[(str(r), int(k))] = (float(table.at[label, "observed_value"]), float(table.at[label, "value"]))
    name = md.player + (f" against {md.opponent}" if who[1] is not None else " against everyone")
    return values, GAME_SOURCE.format(who=name), None


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
