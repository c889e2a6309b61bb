"""Summary of a match: score per set, rallies, rally lengths, and points won by ending shot and phase.

A set's score is the data's running score (the score before the set's last rally plus its winner), so that
rallies the table lacks (rejected when the data were loaded) still count in it; they are counted and named.
In tennis a set's score is in games: the games before the set's last point, plus one to its winner where that
point won the game (4 points and two clear, 7 in a tiebreak at 6–6); a set that did not end (a retirement, or
points missing from the data) has no winner.
Every other count is over the rallies kept: a rally's length is its number of strokes, its ending shot and phase are those
of its last stroke, and it is won by ``winner`` (rallies without a recorded winner are counted apart).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.report.match import MatchData

#: Rally-length bands (strokes), lower bounds; the last is open.
LENGTH_BANDS = (1, 4, 7, 11, 21)


def length_band(n: int) -> str:
    edges = list(LENGTH_BANDS) + [None]
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi is None or n < hi:
            return f"{lo}+" if hi is None else f"{lo}-{hi - 1}"
    raise AssertionError(n)  # pragma: no cover


def rally_frame(md: MatchData) -> pd.DataFrame:
    """One row per rally: set, rally, strokes, last shot and phase, who hit it, winner (NA if unknown)."""
    s = md.strokes
    g = s.groupby("rally_id", sort=False)
    last = g.tail(1).set_index("rally_id")
    out = pd.DataFrame({
        "set": last["set"].astype(int),
        "rally": last["rally"].astype(int),
        "strokes": g.size(),
        "last_shot": last["shot"].astype("string").fillna("not recorded"),
        "last_phase": last["phase"].astype(str),
        "last_hitter": last["hitter"].astype(str),
        "server": last["server"].astype(str),
        "winner": g["winner"].agg(lambda w: w.dropna().iloc[0] if w.notna().any() else pd.NA),
    })
    out["player_won"] = (out["winner"] == md.player).astype("boolean").where(out["winner"].notna())
    return out.reset_index()


def _game_won(before: tuple, winner_first: bool, games: tuple) -> bool:
    """Whether the point won the game: ``before`` the (first, second) point score, ``winner_first`` whether the
    first side won it, ``games`` the (first, second) games before it (a tiebreak at 6–6: first to 7)."""
    after = (before[0] + winner_first, before[1] + (not winner_first))
    target = 7 if tuple(games) == (6, 6) else 4
    return max(after) >= target and abs(after[0] - after[1]) >= 2


def _set_over(games: tuple) -> bool:
    """Whether a tennis set ends at ``games``: six or more with two clear, or 7–6."""
    return (max(games) >= 6 and abs(games[0] - games[1]) >= 2) or sorted(games) == [6, 7]


def _tennis_set_score(md: MatchData, number, last: pd.DataFrame) -> dict | None:
    """A tennis set's score in games (module docstring) and its winner; None where the games are not recorded."""
    row = last.iloc[0]
    cells = [row.get(c) for c in ("hitter_games", "opponent_games", "hitter_score", "opponent_score", "winner")]
    if any(pd.isna(c) for c in cells):
        return None
    hg, og, hs, os_, winner = cells
    mine_first = row["hitter"] == md.player
    games = (int(hg), int(og)) if mine_first else (int(og), int(hg))
    points = (int(hs), int(os_)) if mine_first else (int(os_), int(hs))
    if _game_won(points, winner == md.player, games):
        games = (games[0] + (winner == md.player), games[1] + (winner == md.opponent))
    done = _set_over(games)
    return {"score": games, "set_winner": (md.player if games[0] > games[1] else md.opponent) if done else None}


def _set_score(md: MatchData, number, grp: pd.DataFrame) -> dict:
    """A set's score as the data's running score says (the score before its last rally plus that rally's
    winner), the rallies kept, those without a winner and those the score counts that the table lacks."""
    kn = grp[grp["winner"].notna()]
    p, o = int((kn["winner"] == md.player).sum()), int((kn["winner"] == md.opponent).sum())
    last = md.strokes[(md.strokes["set"] == number).to_numpy(dtype=bool)].tail(1)
    if md.sport.family == "tennis":
        games = _tennis_set_score(md, number, last) if len(last) else None
        score = games["score"] if games else (None, None)
        return {"missing_rallies": [], "set": int(number), "rallies": int(len(grp)), "player_points": score[0],
                "opponent_points": score[1], "rallies_won": p, "rallies_lost": o,
                "unknown": int(len(grp) - len(kn)), "missing": 0, "in": "games",
                "set_winner": games["set_winner"] if games else None}
    score = None
    if len(last) and last["hitter_score"].notna().all() and last["opponent_score"].notna().all():
        hs, os_ = int(last["hitter_score"].iat[0]), int(last["opponent_score"].iat[0])
        mine, theirs = (hs, os_) if last["hitter"].iat[0] == md.player else (os_, hs)
        winner = last["winner"].iat[0]
        if not pd.isna(winner):
            mine += int(winner == md.player)
            theirs += int(winner == md.opponent)
            score = (mine, theirs)
    if score is None:
        score = (p, o)
    missing = max(score[0] + score[1] - len(grp), 0)
    numbers = set(int(n) for n in grp["rally"])
    gaps = [n for n in range(1, max(numbers | {0}) + 1) if n not in numbers]
    return {"missing_rallies": gaps, "set": int(number), "rallies": int(len(grp)), "player_points": score[0],
            "opponent_points": score[1], "rallies_won": p, "rallies_lost": o, "unknown": int(len(grp) - len(kn)),
            "missing": int(missing), "in": "points",
            "set_winner": (md.player if score[0] > score[1] else md.opponent if score[1] > score[0] else None)}


def summarize(md: MatchData) -> dict:
    """The summary section (numbers only)."""
    from strategist.scout.text import rally_words

    r = rally_frame(md)
    known = r[r["winner"].notna()]
    one, many = rally_words(md.sport)
    notes = []
    if known.empty:
        notes.append(f"no {one} of this match has a recorded winner: the score and points won could not be "
                     "assessed")
    elif len(known) < len(r):
        lacking = len(r) - len(known)
        notes.append(f"{lacking} of {len(r)} {many} {'has' if lacking == 1 else 'have'} no recorded winner; the set "
                     "scores are the data's running score, the points won and the other figures leave "
                     f"{'it' if lacking == 1 else 'them'} out")
    if len(r) == 1:
        notes.append(f"the match has a single {one}: {one}-length statistics describe that {one} only")
    sets = [_set_score(md, k, grp) for k, grp in r.groupby("set", sort=True)]
    missing = sum(x["missing"] for x in sets)
    if missing:
        named = "; ".join(f"set {x['set']}: {many} {', '.join(map(str, x['missing_rallies']))}"
                          for x in sets if x["missing_rallies"])
        notes.append(f"{missing} {one if missing == 1 else many} counted in the data's running score "
                     f"{'is' if missing == 1 else 'are'} not in the table (rejected when "
                     "the data were loaded, or not recorded" + (f" — {named}" if named else "") + "): the set "
                     f"scores are the data's, the other figures count the {many} kept")
    lengths = r["strokes"].to_numpy(int)
    by_shot = []
    for shot, grp in known.groupby("last_shot", sort=True):
        mine = grp["last_hitter"] == md.player
        won = grp["winner"] == md.player
        by_shot.append({"shot": str(shot), "rallies": int(len(grp)),
                        "player_winners": int((mine & won).sum()), "player_errors": int((mine & ~won).sum()),
                        "opponent_winners": int((~mine & ~won).sum()), "opponent_errors": int((~mine & won).sum())})
    by_shot.sort(key=lambda d: (-d["rallies"], d["shot"]))
    by_phase = []
    for phase in ("serve", "return", "rally"):
        grp = known[known["last_phase"] == phase]
        if len(grp):
            by_phase.append({"phase": phase, "rallies": int(len(grp)),
                             "player_won": int((grp["winner"] == md.player).sum()),
                             "opponent_won": int((grp["winner"] == md.opponent).sum())})
    bands = known.assign(band=[length_band(int(n)) for n in known["strokes"]])
    by_length = []
    for lo in LENGTH_BANDS:
        label = length_band(lo)
        grp = bands[bands["band"] == label]
        if len(grp):
            by_length.append({"band": label, "rallies": int(len(grp)),
                              "player_won": int((grp["winner"] == md.player).sum()),
                              "opponent_won": int((grp["winner"] == md.opponent).sum())})
    serve = []
    for who in (md.player, md.opponent):
        grp = known[known["server"] == who]
        if len(grp):
            serve.append({"server": who, "rallies": int(len(grp)), "server_won": int((grp["winner"] == who).sum())})
    return {
        "status": "assessed" if not known.empty else "not assessed",
        "notes": notes,
        "rallies": int(len(r)), "rallies_with_winner": int(len(known)), "strokes": int(len(md.strokes)),
        "player_points": int((known["winner"] == md.player).sum()),
        "opponent_points": int((known["winner"] == md.opponent).sum()),
        "sets": sets,
        "rally_length": {"mean": float(lengths.mean()), "median": float(np.median(lengths)),
                         "max": int(lengths.max()), "min": int(lengths.min()),
                         "lengths": lengths.tolist()},
        "by_last_shot": by_shot, "by_phase": by_phase, "by_length": by_length, "by_server": serve,
    }
