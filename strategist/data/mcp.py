"""Match Charting Project points files -> canonical table, one row per coded stroke.

Columns used: ``match_id, Pt, Set1, Set2, Gm1, Gm2, Pts, Gm#, Svr, 1st, 2nd, PtWinner`` (the current
14-column layout and the 2015 52-column layout both have them). Player 1 served first. Set = Set1+Set2+1,
game = Gm1+Gm2+1, rally = Pt. ``Pts`` is the game score before the point, server first. Court side: the
point's index in its game (``Y`` of ``Gm# = "X (Y)"``, else its position among the game's rows) even ->
deuce. Names: ``Player 1`` / ``Player 2`` of a ``charting-*-matches.csv(.gz)`` beside the file, else the
two last ``-``-separated parts of ``match_id``. A point whose codes are malformed, or whose decoded winner
differs from ``PtWinner``, is rejected whole. Rows with both code cells empty (the spreadsheet's pre-filled
next point) are skipped. A point charted only as S/R/P/Q gets one placeholder row (shot ``unknown``). The
grammar makes the order of play (serves first, then alternating players); a point of more than 1,000 coded
strokes is rejected (:mod:`strategist.data.order`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.data import tennis_score
from strategist.data.cells import blank, int_range, to_int
from strategist.data.checks import drop_rows, point_checks
from strategist.data.mcp_codes import ShotCodeError, parse_point
from strategist.data.order import MAX_STROKES, TOO_LONG, expected
from strategist.data.readcsv import ReadLimits, read_strings
from strategist.data.rejections import RejectionReport
from strategist.data.schema import conform, empty_table
from strategist.errors import DataFormatError
from strategist.sports import get_sport

LAYOUT = "mcp"

REQUIRED = ("match_id", "Pt", "Set1", "Set2", "Gm1", "Gm2", "Pts", "Gm#", "Svr", "1st", "2nd", "PtWinner")
_GAME = re.compile(r"^\s*(\d{1,6})\s*(?:\((\d{1,6})\))?\s*$")


def load_points(paths, *, strict: bool = False, limits: ReadLimits | None = None
                ) -> tuple[pd.DataFrame, RejectionReport]:
    """Load one or more MCP points files; ``limits`` caps each."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    report = RejectionReport()
    tables = [_load_one(p, strict=strict, report=report, limits=limits) for p in paths]
    return (pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]), report


def match_names(folder: Path) -> dict[str, tuple[str, str]]:
    """match id -> (Player 1, Player 2) from ``charting-*-matches.csv(.gz)`` files in ``folder``."""
    names: dict[str, tuple[str, str]] = {}
    for file in sorted(folder.glob("charting-*-matches.csv*")):
        try:
            frame, _ = read_strings(file)
        except DataFormatError:
            continue
        if not {"match_id", "Player 1", "Player 2"} <= set(frame.columns):
            continue
        for m, a, b in zip(frame["match_id"], frame["Player 1"], frame["Player 2"]):
            if m.strip() and a.strip() and b.strip():
                names.setdefault(m.strip(), (a.strip(), b.strip()))
    return names


def names_from_id(match_id: str) -> tuple[str, str] | None:
    """(Player 1, Player 2) from ``YYYYMMDD-G-Tournament-Round-Player_1-Player_2``, if it splits cleanly."""
    parts = match_id.split("-")
    if len(parts) != 6:
        return None
    return parts[4].replace("_", " "), parts[5].replace("_", " ")


def _load_one(path: Path, *, strict: bool, report: RejectionReport, limits: ReadLimits | None) -> pd.DataFrame:
    sport = get_sport("tennis")
    raw, too_long = read_strings(path, limits=limits)
    if "1st" in raw and "2nd" in raw:
        raw = drop_rows(raw, blank(raw["1st"]) & blank(raw["2nd"]), report,
                        f"{path.name}: {{count}} rows with empty 1st and 2nd skipped")
    checks = point_checks(raw, too_long, ("match_id", "Pt"), REQUIRED, path=path, what="an MCP points file",
                          strict=strict, report=report)
    if raw.empty:  # nothing but rows of the wrong width (or none): they are reported, no point is left
        checks.keep()
        return empty_table()

    for column in ("match_id", "Pt", "Set1", "Set2", "Gm1", "Gm2", "Svr", "PtWinner", "Pts"):
        checks.fail(blank(raw[column]), "missing value", column, "a value on every point")
    ints = {}
    for column, low in (("Pt", 1), ("Set1", 0), ("Set2", 0), ("Gm1", 0), ("Gm2", 0)):
        ints[column], bad = to_int(raw[column], minimum=low)
        checks.fail(bad, f"bad {column}", column, int_range(low))
    for column in ("Svr", "PtWinner"):
        bad = ~raw[column].str.strip().isin(["1", "2"]).to_numpy() & ~blank(raw[column])
        checks.fail(bad, f"bad {column}", column, "1 or 2")
    game_parts = raw["Gm#"].str.extract(_GAME)
    checks.fail(game_parts[0].isna().to_numpy() & ~blank(raw["Gm#"]), "bad game number", "Gm#",
                "X or 'X (Y)' with integers of at most 6 digits")
    pts = raw["Pts"].str.upper().str.split("-", n=1, expand=True).reindex(columns=[0, 1]).fillna("")
    game_key = (raw["match_id"] + "|" + game_parts[0].fillna("")).to_numpy(dtype=object)
    level = (ints["Gm1"] == ints["Gm2"]).to_numpy(dtype=bool, na_value=False)
    tiebreak = tennis_score.tiebreak_games([pts[0], pts[1]], game_key, level)
    bad_pts = (tennis_score.bad_scores(pts[0], tiebreak) | tennis_score.bad_scores(pts[1], tiebreak)
               | ((pts[0] == "") | (pts[1] == "")).to_numpy()) & ~blank(raw["Pts"])
    checks.fail(bad_pts, "bad game score", "Pts", "server's-receiver's score such as 15-30 or AD-40 "
                "(in a tiebreak: points won, e.g. 3-2)")
    dup = np.zeros(len(raw), bool)
    has_key = checks.key != ""
    dup[has_key] = pd.Series(checks.key[has_key]).duplicated(keep=False).to_numpy()
    checks.fail(dup, "duplicate point number", "Pt", "each Pt once per match")

    server_is_1 = (raw["Svr"] == "1").to_numpy()
    svr_ok = raw["Svr"].isin(["1", "2"]).to_numpy()
    points, code_bad = [], np.zeros(len(raw), bool)
    code_cell, code_why = np.full(len(raw), "1st", dtype=object), np.full(len(raw), "", dtype=object)
    wrong_winner = np.zeros(len(raw), bool)
    for i, (first, second, winner) in enumerate(zip(raw["1st"], raw["2nd"], raw["PtWinner"].str.strip())):
        try:
            point = parse_point(first, second)
        except ShotCodeError as exc:
            code_bad[i], code_cell[i], code_why[i] = True, exc.cell, exc.detail
            points.append(None)
            continue
        won_by_1 = (point.winner == "server") == server_is_1[i]
        wrong_winner[i] = winner in ("1", "2") and svr_ok[i] and won_by_1 != (winner == "1")
        points.append(point)
    codes = raw["1st"].str.strip() + np.where(raw["2nd"].str.strip() != "", " / " + raw["2nd"].str.strip(), "")
    checks.fail(code_bad, "malformed shot code", code_cell, code_why,
                value=np.where(code_cell == "1st", raw["1st"].to_numpy(dtype=object), raw["2nd"].to_numpy(dtype=object)))
    checks.fail(wrong_winner, "decoded winner differs from PtWinner", "PtWinner",
                "the winner the shot codes imply", value=codes)
    too_long = np.array([p is not None and len(p.strokes) > MAX_STROKES for p in points], dtype=bool)
    checks.fail(too_long, TOO_LONG, np.where(raw["2nd"].str.strip() != "", "2nd", "1st"),
                expected(TOO_LONG, sport), value=codes)
    keep = checks.keep()
    return _assemble(raw, keep, points, pts, game_parts, tiebreak, ints, sport, report, path)


def _assemble(raw, keep, points, pts, game_parts, tiebreak, ints, sport, report: RejectionReport,
              path: Path) -> pd.DataFrame:
    if not keep.any():
        return empty_table()
    names = match_names(path.parent)
    unnamed = sorted(set(raw.loc[keep, "match_id"].str.strip()) - set(names))
    guessed = 0
    for m in unnamed:
        split = names_from_id(m)
        guessed += split is not None
        names[m] = split or (f"player 1 [{m}]", f"player 2 [{m}]")
    if unnamed:
        report.note(f"{path.name}: {len(unnamed)} match(es) not in a charting-*-matches file: names taken from "
                    f"the match id ({guessed}) or 'player 1/2 [match]' ({len(unnamed) - guessed})")

    match_id = raw["match_id"].str.strip()
    game_no = pd.to_numeric(game_parts[0], errors="coerce")
    point_in_game = pd.to_numeric(game_parts[1], errors="coerce") - 1
    order = pd.DataFrame({"m": match_id, "g": game_no, "pt": ints["Pt"]}).sort_values(["m", "pt"], kind="stable")
    counted = order.groupby(["m", "g"], sort=False).cumcount().reindex(order.index).sort_index()
    point_in_game = point_in_game.fillna(counted).to_numpy(dtype=int)
    server_pts = tennis_score.points(pts[0], tiebreak)
    receiver_pts = tennis_score.points(pts[1], tiebreak)
    side = tennis_score.court_side(point_in_game, sport.court_sides)
    wing = dict(sport.groupings["wing"])

    rows = []
    for i in np.flatnonzero(keep):
        point = points[i]
        p1, p2 = names[match_id.iat[i]]
        server, receiver = (p1, p2) if raw["Svr"].iat[i].strip() == "1" else (p2, p1)
        winner = server if point.winner == "server" else receiver
        players = {"server": server, "receiver": receiver}
        scores = {"server": server_pts.iat[i], "receiver": receiver_pts.iat[i]}
        g1, g2 = ints["Gm1"].iat[i], ints["Gm2"].iat[i]
        games = {server: g1 if server == p1 else g2, receiver: g2 if server == p1 else g1}
        strokes = point.strokes or [None]
        for n, stroke in enumerate(strokes, start=1):
            role = stroke.role if stroke else "server"
            hitter = players[role]
            other = "receiver" if role == "server" else "server"
            shot = stroke.shot if stroke else "unknown"
            rows.append((match_id.iat[i], ints["Set1"].iat[i] + ints["Set2"].iat[i] + 1,
                         g1 + g2 + 1, ints["Pt"].iat[i], n, hitter, players[other], shot, wing.get(shot),
                         stroke.area if stroke else None, stroke.depth if stroke else None,
                         server, stroke.serve_number if stroke else pd.NA, side[i],
                         scores[role], scores[other], games[hitter], games[players[other]],
                         winner, hitter == winner, stroke.error if stroke else None,
                         point.end if n == len(strokes) else None,
                         ";".join(stroke.tags) if stroke and stroke.tags else
                         (None if stroke else "no strokes recorded")))
    columns = ["match_id", "set", "game", "rally", "stroke", "hitter", "opponent", "shot", "wing", "landing_area",
               "depth", "server", "serve_number", "court_side", "hitter_score", "opponent_score",
               "hitter_games", "opponent_games", "winner", "hitter_won", "error", "end", "tags"]
    table = pd.DataFrame.from_records(rows, columns=columns)
    table.insert(0, "sport", sport.name)
    table.insert(1, "source", LAYOUT)
    table["rally_id"] = (table["match_id"] + "|" + table["set"].astype("Int64").astype("string") + "|"
                         + table["rally"].astype("Int64").astype("string"))
    table = table.sort_values(["match_id", "rally", "stroke"], kind="stable")
    return conform(table, where=str(path))
