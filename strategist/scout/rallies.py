"""The rally view of a stroke table: strokes in play with what each led to, one row per rally, one row per
player and rally.

Strokes in play: those of the serve that put the rally in play (tennis: a faulted first serve is not in
play) and after it; ``k`` numbers them from 1 (the serve), ``length`` counts them. A stroke **lost the
rally** when the rally ended on it or on the reply and its hitter lost (their error, or the reply was a
winner); it **won the rally** when the rally ended on it or on the reply and its hitter won (a winner, or
the reply was an error). Both need the rally's ending and winner recorded. A table records rally shots
(``complete``) when at least half its rallies have their ending recorded (ShuttleSet, the MCP); the
Slam point-by-point files record serves only.

Each rally ends in one of four ways for each of its players: ``their winner`` (they hit the last stroke
and won), ``their error`` (hit it and lost), ``rival's winner``, ``rival's error``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from strategist.data.court import CourtModel, court_model
from strategist.errors import StrategistError
from strategist.scout.coordinates import landing_zones, position_zones
from strategist.sports import Sport, get_sport

ENDINGS = ("their winner", "their error", "rival's winner", "rival's error")
COMPLETE_SHARE = 0.5
_CATEGORIES = ("match_id", "hitter", "receiver", "shot", "wing", "group", "incoming", "landing_area",
               "zone", "landing_zone", "error", "end", "winner")


class ScoutError(StrategistError, ValueError):
    """A scouting report cannot be made: a player not in the data, a table that is not a rally table."""


@dataclass(frozen=True)
class RallyView:
    """Strokes in play (``strokes``), rallies (``rallies``) and player-rallies (``sides``) of one table."""

    strokes: pd.DataFrame
    rallies: pd.DataFrame
    sides: pd.DataFrame
    sport: Sport
    court: CourtModel
    complete: bool
    has_positions: bool


def _sport_of(table: pd.DataFrame) -> Sport:
    needed = {"sport", "rally_id", "stroke", "hitter", "opponent", "shot", "winner"}
    missing = sorted(needed - set(table.columns))
    if missing:
        raise ScoutError(f"not a canonical rally table: missing column(s) {missing}")
    if table.empty:
        raise ScoutError("the table holds no stroke")
    sports = table["sport"].dropna().unique()
    if len(sports) != 1:
        raise ScoutError(f"the table mixes sports {sorted(map(str, sports))}; scout one sport at a time")
    return get_sport(str(sports[0]))


def rally_view(table: pd.DataFrame) -> RallyView:
    """Build the :class:`RallyView` of a canonical table."""
    sport = _sport_of(table)
    court = court_model(sport.name)
    codes, _ = table["rally_id"].factorize()
    stroke = table["stroke"].to_numpy(dtype=float, na_value=np.nan)
    order = np.lexsort((stroke, codes))
    codes = codes[order]
    serve_no = table["serve_number"].fillna(1).to_numpy(dtype=int)[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    in_play = serve_no == np.repeat(np.maximum.reduceat(serve_no, starts), sizes) if len(codes) else serve_no > 0
    s = table.take(order[in_play]).reset_index(drop=True)
    codes = codes[in_play]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    k = np.arange(len(codes)) - np.repeat(starts, sizes) + 1
    length = np.repeat(sizes, sizes)
    last = k == length
    known = s["winner"].notna().to_numpy()
    ended = np.repeat(s["end"].notna().to_numpy()[last], sizes) & known
    decisive = ended & (k >= length - 1)
    hit_won = known & (s["winner"] == s["hitter"]).to_numpy(dtype=bool, na_value=False)
    prev_shot = s["shot"].shift(1).where(k > 1)
    group = s["shot"].map(dict(sport.groupings["tactic"])) if "tactic" in sport.groupings else pd.NA
    strokes = pd.DataFrame({
        "rally_id": s["rally_id"], "rally_code": codes, "match_id": s["match_id"], "set": s["set"],
        "rally": s["rally"], "k": k,
        "length": length, "last": last, "hitter": s["hitter"], "receiver": s["opponent"], "shot": s["shot"],
        "wing": s["wing"], "group": group, "incoming": prev_shot, "landing_area": s["landing_area"],
        "zone": position_zones(s["hitter_x_m"], s["hitter_y_m"], court),
        "landing_zone": landing_zones(s["landing_x_m"], s["landing_y_m"], court),
        "hitter_x_m": s["hitter_x_m"], "hitter_y_m": s["hitter_y_m"],
        "landing_x_m": s["landing_x_m"], "landing_y_m": s["landing_y_m"],
        "error": s["error"], "end": s["end"], "winner": s["winner"], "ended": ended,
        "lost_here": decisive & ~hit_won, "won_here": decisive & hit_won,
    })
    for column in _CATEGORIES:  # categories: equality tests and row selections cost a fraction of strings
        strokes[column] = strokes[column].astype("category")
    rallies = _rallies(s, strokes, codes, sport)
    complete = bool(rallies["ended"].mean() >= COMPLETE_SHARE) if len(rallies) else False
    has_positions = bool(strokes["zone"].notna().any())
    return RallyView(strokes, rallies, _sides(rallies), sport, court, complete, has_positions)


def _serve_label(first: pd.DataFrame, sport: Sport) -> pd.Series:
    """What the serve was: its shot where the sport has several serve shots (badminton; NA when the first
    stroke is recorded as another or an unknown shot), else where it was aimed (tennis: wide / body / T)."""
    if len(sport.serves) > 1:
        return first["shot"].astype("string").where(first["shot"].isin(sport.serves))
    return first["landing_area"].astype("string")


def _rallies(s: pd.DataFrame, strokes: pd.DataFrame, codes: np.ndarray, sport: Sport) -> pd.DataFrame:
    """One row per rally (``rally_code`` = the strokes' code of it), from its first and last stroke in play."""
    k = strokes["k"].to_numpy()
    is_last = strokes["last"].to_numpy()
    first = s.loc[k == 1].set_axis(codes[k == 1])
    last = strokes.loc[is_last].set_axis(codes[is_last])
    by_k = {n: strokes.loc[k == n, "shot"].astype("string").set_axis(codes[k == n]) for n in (2, 3)}
    out = pd.DataFrame({
        "rally_id": first["rally_id"], "match_id": first["match_id"], "set": first["set"], "rally": first["rally"],
        "game": first["game"],
        "server": first["hitter"], "receiver": first["opponent"],
        "server_score": first["hitter_score"], "receiver_score": first["opponent_score"],
        "server_games": first["hitter_games"], "receiver_games": first["opponent_games"],
        "court_side": first["court_side"], "serve_number": first["serve_number"],
        "serve": _serve_label(first, sport), "shot1": first["shot"],
    })
    out["shot2"] = by_k[2].reindex(out.index)
    out["shot3"] = by_k[3].reindex(out.index)
    for column in ("length", "hitter", "shot", "zone", "end", "error", "winner", "ended"):
        values = last[column].astype("string") if isinstance(last[column].dtype, pd.CategoricalDtype) else last[column]
        out["last_" + column if column in ("hitter", "shot", "zone") else column] = values.reindex(out.index)
    out["ended"] = out["ended"].fillna(False).astype(bool)
    return out.rename_axis("rally_code").reset_index()


def _sides(rallies: pd.DataFrame) -> pd.DataFrame:
    """Two rows per rally, one per player: won, serving, own and rival's score, how the rally ended for them."""
    parts = []
    for me, rival, serving in (("server", "receiver", True), ("receiver", "server", False)):
        player = rallies[me]
        known = rallies["winner"].notna().to_numpy()
        won = (rallies["winner"] == player).to_numpy(dtype=bool, na_value=False)
        hit_last = (rallies["last_hitter"] == player).to_numpy(dtype=bool, na_value=False)
        ending = np.select([hit_last & won, hit_last & ~won, ~hit_last & ~won, ~hit_last & won], ENDINGS, "")
        ending = np.where(rallies["ended"].to_numpy() & known, ending, None)
        parts.append(pd.DataFrame({
            "rally_id": rallies["rally_id"], "rally_code": rallies["rally_code"], "match_id": rallies["match_id"],
            "set": rallies["set"], "rally": rallies["rally"], "game": rallies["game"], "player": player,
            "rival": rallies[rival], "serving": serving,
            "won": pd.Series(won, index=rallies.index, dtype="boolean").where(known),
            "score": rallies[f"{me}_score"], "rival_score": rallies[f"{rival}_score"],
            "games": rallies[f"{me}_games"], "rival_games": rallies[f"{rival}_games"],
            "length": rallies["length"], "ended": rallies["ended"], "ending": ending,
            "error": rallies["error"].where(pd.Series(ending == "their error", index=rallies.index)),
            "last_zone": rallies["last_zone"].where(pd.Series(hit_last, index=rallies.index)),
        }))
    return pd.concat(parts, ignore_index=True).sort_values(["match_id", "set", "rally", "serving"],
                                                          kind="stable", ignore_index=True)
