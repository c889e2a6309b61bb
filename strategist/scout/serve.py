"""Serve and return: how the opponent serves by court side and score, what follows each serve, how they return.

* **Serve mix** — the serve the opponent chose (badminton: its shot; tennis: its direction, wide / body / T)
  by court side, by score state (game or break point, ahead / level / behind in badminton) and, in tennis,
  by first or second serve: shares with Wilson 95 % intervals and Pearson's χ² test of whether the mix
  depends on the split.
* **After the serve** — per serve: the rallies, the opponent's win rate; per serve and return (data with
  rally shots): the win rate, the share decided within three strokes, and the opponent's commonest third shot.
* **Returns** — per serve the opponent faced: their win rate and (with rally shots) their return mix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.scout import stats, text
from strategist.scout.pressure import situations
from strategist.scout.rallies import RallyView

MIN_PAIR = 10
TOP_RETURNS = 3


def score_states(sides: pd.DataFrame, sport: str) -> np.ndarray:
    """One score state per player-rally: game (break) points first, then ahead / level / behind
    (badminton) or tiebreak / other (tennis)."""
    masks = situations(sides, sport)
    score = sides["score"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    rival = sides["rival_score"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if sport == "badminton":
        base = np.where(score > rival, "ahead", np.where(score < rival, "behind", "level"))
        order = ("game point against them", "game point for them")
    else:
        with np.errstate(invalid="ignore"):
            game_point = sides["serving"].to_numpy(dtype=bool) & (score >= 3) & (score > rival) & ~masks["tiebreak"]
        masks = {**masks, "game point for them": game_point}
        base = np.where(masks["tiebreak"], "tiebreak", "other")
        order = ("game point for them", "break point for them", "break point against them")
    out = np.where(np.isnan(score) | np.isnan(rival), None, base).astype(object)
    for label in order:
        out = np.where(masks[label], label, out)
    return out


def _mix_by(labels: pd.Series, split: pd.Series) -> dict:
    """Shares of each label within each value of ``split``, and the χ² test of the split x label table."""
    ok = labels.notna().to_numpy() & split.notna().to_numpy()
    labels, split = labels[ok].astype(str), split[ok].astype(str)
    categories = sorted(labels.unique())
    groups = sorted(split.unique())
    table = pd.crosstab(split, labels).reindex(index=groups, columns=categories, fill_value=0).to_numpy()
    return {"categories": categories,
            "groups": {g: {"n": int(table[i].sum()),
                           "shares": {c: stats.rate(table[i, j], table[i].sum()) for j, c in enumerate(categories)}}
                       for i, g in enumerate(groups)},
            "test": stats.chi2_test(table)}


def _outcomes(frame: pd.DataFrame, by: list[str], won: pd.Series) -> list[dict]:
    frame = frame.assign(_won=won.to_numpy(dtype=float))
    rows = []
    for key, part in frame.groupby(by, sort=True, dropna=True):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**{b: str(k) for b, k in zip(by, key)}, "won": stats.rate(int(part["_won"].sum()), len(part))})
    return rows


def assess(view: RallyView, opponent: str, name: str) -> dict:
    """The serve-and-return section."""
    r, sides = view.rallies, view.sides
    known = r["winner"].notna().to_numpy()
    serving = (r["server"] == opponent).to_numpy(dtype=bool, na_value=False)
    receiving = (r["receiver"] == opponent).to_numpy(dtype=bool, na_value=False)
    if not serving.any() and not receiving.any():
        return {"status": "not available", "notes": [f"no rally of {name}"], "serve_mix": {}}
    notes = []
    own_sides = sides[(sides["player"] == opponent).to_numpy(dtype=bool, na_value=False)]
    state = pd.Series(score_states(own_sides, view.sport.name), index=own_sides["rally_code"].to_numpy())
    served = r[serving].set_index("rally_code")
    unlabelled = int(served["serve"].isna().sum())
    if unlabelled:
        notes.append(f"{unlabelled} of {name}'s {len(served)} serves have no recorded serve type or direction: "
                     f"left out of the serve mix and of the outcomes by serve")
    mix = {"by court side": _mix_by(served["serve"], served["court_side"]),
           "by score": _mix_by(served["serve"], state.reindex(served.index))}
    if view.sport.serves_per_point > 1:
        mix["by serve number"] = _mix_by(served["serve"], served["serve_number"].astype("string"))
    out = {"status": "assessed", "notes": notes, "serve_mix": mix}
    srv = r[serving & known]
    won_srv = srv["winner"] == opponent
    out["serve_outcomes"] = _outcomes(srv, ["serve"], won_srv)
    ret = r[receiving & known]
    won_ret = ret["winner"] == opponent
    out["return_outcomes"] = _outcomes(ret, ["serve"], won_ret)
    if view.complete:
        out["first_three"] = _first_three(srv, won_srv)
        out["return_mix"] = _returns(ret, won_ret)
    else:
        notes.append("the return mix and the first three strokes are left out: " + text.no_rally_shots(view.sport))
    if view.sport.serves_per_point > 1:
        out["serve_outcomes_by_number"] = _outcomes(srv.assign(serve_number=srv["serve_number"].astype("string")),
                                                    ["serve_number", "serve"], won_srv)
    return out


def _first_three(srv: pd.DataFrame, won: pd.Series) -> list[dict]:
    """Per (serve, return) with at least :data:`MIN_PAIR` rallies: win rate, decided within three strokes,
    the commonest third shot (theirs)."""
    frame = srv.assign(_won=won.to_numpy(dtype=float), _short=(srv["length"] <= 3).to_numpy(dtype=float))
    rows = []
    for (serve, ret), part in frame.groupby(["serve", "shot2"], sort=True, dropna=True):
        if len(part) < MIN_PAIR:
            continue
        third = part["shot3"].dropna()
        top = third.value_counts()
        top = top[top > 0]
        rows.append({"serve": str(serve), "return": str(ret), "won": stats.rate(part["_won"].sum(), len(part)),
                     "within_three": stats.rate(part["_short"].sum(), len(part)),
                     "third": None if top.empty else {"shot": str(top.index[0]),
                                                      **stats.rate(top.iloc[0], len(third))}})
    rows.sort(key=lambda x: -x["won"]["n"])
    return rows


def _returns(ret: pd.DataFrame, won: pd.Series) -> list[dict]:
    """Per serve faced: the opponent's commonest returns (share of their returns, win rate after each)."""
    frame = ret.assign(_won=won.to_numpy(dtype=float))
    rows = []
    for serve, part in frame.groupby("serve", sort=True, dropna=True):
        returned = part[part["shot2"].notna()]
        top = returned["shot2"].value_counts()
        top = top[top > 0].head(TOP_RETURNS)
        rows.append({"serve": str(serve), "won": stats.rate(part["_won"].sum(), len(part)),
                     "returns": [{"shot": str(shot), "share": stats.rate(count, len(returned)),
                                  "won": stats.rate(returned.loc[returned["shot2"] == shot, "_won"].sum(), count)}
                                 for shot, count in top.items()]})
    return rows
