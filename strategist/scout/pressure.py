"""Pressure and momentum: the opponent's win rate and shot mix in tight moments, against their other rallies.

Situations, from the score before the rally as the opponent sees it (``score`` theirs, ``rival`` the other's):

* badminton — *game point for them*: score >= 20 and ahead, or 29-all (the next point wins the game);
  *game point against them*: the same for the rival; *from 18-all*: both >= 18.
* tennis — *break point against them*: serving, the receiver has >= 3 points and leads (not in a tiebreak);
  *break point for them*: the same when they receive; *tiebreak*: games 6-all or more and level.
* both — *after losing two rallies in a row* / *after winning two in a row*: the two rallies before, in the
  same set, with consecutive numbers.

Per situation: the opponent's win rate in it against the rest of their rallies (Wilson 95 % intervals,
Fisher's two-sided p, Benjamini–Hochberg over the section), and their shot mix in it against the rest
(tactic groups; serve directions when the data record serves only), Pearson's χ² test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.scout import stats, text
from strategist.scout.rallies import RallyView

MIN_N = 10
#: A situation's name as a table shows it, in the sport's words (``{many}``: rallies, or points in tennis); the
#: row's ``situation`` keeps the key.
NAMES = {"after losing two rallies in a row": "after losing two {many} in a row",
         "after winning two rallies in a row": "after winning two {many} in a row"}
#: How a sentence opens for each situation.
LEADS = {"game point for them": "at game point for them", "game point against them": "at game point against them",
         "from 18-all": "from 18-all", "break point against them": "at break point against them",
         "break point for them": "at break point for them", "tiebreak": "in tiebreaks", **NAMES}


def _int(series: pd.Series) -> np.ndarray:
    return series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def streaks(sides: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per player-rally: (lost the two rallies before, won the two before), same set, consecutive numbers."""
    order = sides.sort_values(["player", "match_id", "set", "rally"], kind="stable")
    same = (order["player"] == order["player"].shift(1)) & (order["match_id"] == order["match_id"].shift(1)) & \
           (order["set"] == order["set"].shift(1)) & (order["rally"] - order["rally"].shift(1) == 1)
    same = same.to_numpy(dtype=bool, na_value=False)
    won = order["won"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    prev1 = np.r_[np.nan, won[:-1]]
    prev2 = np.r_[np.nan, np.nan, won[:-2]]
    chain = same & np.r_[False, same[:-1]]
    lost_two = chain & (prev1 == 0) & (prev2 == 0)
    won_two = chain & (prev1 == 1) & (prev2 == 1)
    out_lost, out_won = np.zeros(len(sides), bool), np.zeros(len(sides), bool)
    position = sides.index.get_indexer(order.index)
    out_lost[position], out_won[position] = lost_two, won_two
    return out_lost, out_won


def situations(sides: pd.DataFrame, sport: str) -> dict[str, np.ndarray]:
    """Situation label -> mask over ``sides`` (see the module docstring)."""
    score, rival = _int(sides["score"]), _int(sides["rival_score"])
    lost_two, won_two = streaks(sides)
    with np.errstate(invalid="ignore"):
        if sport == "badminton":
            out = {"game point for them": ((score >= 20) & (score > rival)) | ((score == 29) & (rival == 29)),
                   "game point against them": ((rival >= 20) & (rival > score)) | ((score == 29) & (rival == 29)),
                   "from 18-all": (score >= 18) & (rival >= 18)}
        else:
            games, rival_games = _int(sides["games"]), _int(sides["rival_games"])
            tiebreak = (games >= 6) & (games == rival_games)
            serving = sides["serving"].to_numpy(dtype=bool)
            out = {"break point against them": serving & (rival >= 3) & (rival > score) & ~tiebreak,
                   "break point for them": ~serving & (score >= 3) & (score > rival) & ~tiebreak,
                   "tiebreak": tiebreak}
    out["after losing two rallies in a row"] = lost_two
    out["after winning two rallies in a row"] = won_two
    return {k: np.asarray(v, dtype=bool) for k, v in out.items()}


def _mix(view: RallyView, rally_ids: np.ndarray, rest_ids: np.ndarray, opponent: str) -> dict:
    """The opponent's mix in the situation's rallies against the rest: tactic groups of their strokes in
    play, or the serve they chose where the data record serves only."""
    if view.complete:
        s = view.strokes[(view.strokes["hitter"] == opponent).to_numpy(dtype=bool, na_value=False)
                         & view.strokes["group"].notna().to_numpy()]
        labels, rally = s["group"].astype(str), s["rally_code"].to_numpy()
        what = "tactic group of their strokes"
    else:
        r = view.rallies[(view.rallies["server"] == opponent).to_numpy(dtype=bool, na_value=False)
                         & view.rallies["serve"].notna().to_numpy()]
        labels, rally = r["serve"].astype(str), r["rally_code"].to_numpy()
        what = "their serve"
    inside = np.isin(rally, rally_ids)
    rest = np.isin(rally, rest_ids)
    categories = sorted(labels.unique())
    table = np.array([[int(((labels == c).to_numpy() & m).sum()) for c in categories] for m in (inside, rest)])
    shares = {name: {c: stats.rate(table[i, j], table[i].sum()) for j, c in enumerate(categories)}
              for i, name in enumerate(("in", "rest"))}
    return {"of": what, "categories": categories, **shares, "test": stats.chi2_test(table)}


def assess(view: RallyView, opponent: str, name: str, *, alpha: float = stats.ALPHA) -> dict:
    """The pressure section: one row per situation with at least one rally of the opponent in it."""
    sides = view.sides
    mine = sides[(sides["player"] == opponent).to_numpy(dtype=bool, na_value=False)
                 & sides["won"].notna().to_numpy()].reset_index(drop=True)
    if mine.empty:
        return {"status": "not available", "notes": [f"no rally of {name} with a recorded winner"], "rows": []}
    won = mine["won"].to_numpy(dtype=bool)
    one, many = text.rally_words(view.sport)
    rows, notes = [], []
    for label, mask in situations(mine, view.sport.name).items():
        k_in, n_in = int(won[mask].sum()), int(mask.sum())
        k_out, n_out = int(won[~mask].sum()), int((~mask).sum())
        if n_in == 0:
            notes.append(f"no {one} of {name} {LEADS.get(label, label).format(many=many)} in the data")
            continue
        ids_in = mine["rally_code"].to_numpy()[mask]
        ids_out = mine["rally_code"].to_numpy()[~mask]
        rows.append({"situation": label, "named": NAMES.get(label, label).format(many=many),
                     "in": stats.rate(k_in, n_in), "rest": stats.rate(k_out, n_out),
                     "p": stats.fisher_p(k_in, n_in, k_out, n_out), "mix": _mix(view, ids_in, ids_out, opponent),
                     "few": n_in < MIN_N})
    for row, q in zip(rows, stats.bh_adjust([r["p"] for r in rows])):
        row["q"] = float(q)
        row["significant"] = bool(q < alpha)
        lead = LEADS.get(row["situation"], row["situation"]).format(many=many)
        row["sentence"] = (f"{lead[:1].upper() + lead[1:]}, {name} wins {text.percent(row['in']['rate'])} of {many} "
                           f"(n = {row['in']['n']:,}), against {text.percent(row['rest']['rate'])} of their other "
                           f"{many} (n = {row['rest']['n']:,}).")
    return {"status": "assessed", "notes": notes, "rows": rows, "correction": "Benjamini-Hochberg", "alpha": alpha}
