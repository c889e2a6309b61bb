"""Direct pandas computations of the scouting figures, written apart from strategist.scout (the tests compare)."""

import numpy as np
import pandas as pd

DEPTH_EDGES = {"badminton": 6.70 / 3}
SIDE_EDGES = {"badminton": 5.18 / 6}


def in_play(table: pd.DataFrame) -> pd.DataFrame:
    """Strokes of the serve in play onwards, with the rally's length, last stroke and ending."""
    t = table.sort_values(["rally_id", "stroke"]).copy()
    t["serve_number"] = t["serve_number"].fillna(1)
    t = t[t["serve_number"] == t.groupby("rally_id")["serve_number"].transform("max")].copy()
    t["k"] = t.groupby("rally_id").cumcount() + 1
    t["L"] = t.groupby("rally_id")["k"].transform("max")
    ending = t[t["k"] == t["L"]].set_index("rally_id")["end"]
    t["ended"] = t["rally_id"].map(ending.notna()) & t["winner"].notna()
    t["decisive"] = t["ended"] & (t["k"] >= t["L"] - 1)
    t["lost"] = t["decisive"] & (t["winner"] != t["hitter"])
    t["won"] = t["decisive"] & (t["winner"] == t["hitter"])
    t["prev"] = t.groupby("rally_id")["shot"].shift(1)
    return t


def zone(x: pd.Series, y: pd.Series) -> pd.Series:
    """'rear left' etc. from side-frame metres (badminton), by pd.cut."""
    depth = pd.cut(y, [-np.inf, 6.70 / 3, 2 * 6.70 / 3, np.inf], labels=["front", "mid", "rear"], right=False)
    side = pd.cut(x, [-np.inf, -5.18 / 6, 5.18 / 6, np.inf], labels=["left", "centre", "right"], right=False)
    return (depth.astype("object") + " " + side.astype("object")).where(depth.notna() & side.notna())


def rally_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (rally, player): won, how it ended for them, score before, length."""
    t = in_play(table)
    first = t[t["k"] == 1].set_index("rally_id")
    last = t[t["k"] == t["L"]].set_index("rally_id")
    rows = []
    for who, other in (("hitter", "opponent"), ("opponent", "hitter")):
        d = pd.DataFrame({"player": first[who], "rival": first[other], "winner": first["winner"],
                          "score": first[f"{who}_score"] if who == "hitter" else first["opponent_score"],
                          "rival_score": first["opponent_score"] if who == "hitter" else first["hitter_score"],
                          "serving": who == "hitter", "length": first["L"], "match_id": first["match_id"],
                          "set": first["set"], "rally": first["rally"],
                          "last_hitter": last["hitter"], "ended": first["ended"], "error": last["error"],
                          "games": first["hitter_games"] if who == "hitter" else first["opponent_games"],
                          "rival_games": first["opponent_games"] if who == "hitter" else first["hitter_games"]})
        rows.append(d)
    r = pd.concat(rows).reset_index()
    r["won"] = (r["winner"] == r["player"]).where(r["winner"].notna())
    return r
