"""Grand Slam point-by-point files (IBM SlamTracker, 2011 layout) -> canonical table of serves.

Each point gives its serves only (no rally shots): a point played on the second serve has a faulted
first serve (stroke 1, direction unknown) and the second serve (stroke 2). ``Serve_Direction`` 1/2/3 =
wide/body/T is the serve in play (0 = none went in). First serve in play iff
``P1FirstSrvIn + P2FirstSrvIn == 1`` (``ServeIndicator`` tracks the server, not the serve number).
Court side: the k-th point of a game (k from 0, by ``PointNumber``) is served from deuce when k is even.
Scores in the source are after the point; the table holds those before it (points: previous point of
the same game, 0-0 on a game's first point; games: each player's fewest games on any point of the game,
since the count changes only on the game's last point). Per-match header rows
(``PointNumber`` 0) are dropped. Names: ``player1`` / ``player2`` of the ``<event>-matches.csv`` file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.data import tennis_score
from strategist.data.cells import blank, int_range, to_code, to_flag, to_int
from strategist.data.checks import drop_rows, point_checks
from strategist.data.readcsv import ReadLimits, read_strings
from strategist.data.rejections import RejectionReport
from strategist.data.schema import conform, empty_table
from strategist.errors import DataFormatError
from strategist.sports import get_sport

LAYOUT = "slam-pbp"

REQUIRED = ("match_id", "SetNo", "GameNo", "PointNumber", "PointWinner", "PointServer", "P1Score", "P2Score",
            "P1GamesWon", "P2GamesWon", "P1FirstSrvIn", "P2FirstSrvIn", "Serve_Direction",
            "P1Ace", "P2Ace", "P1DoubleFault", "P2DoubleFault")
_POINTS_FILE = re.compile(r"^(.*)-points\.csv(\.gz)?$")


def load_points(paths, *, strict: bool = False, limits: ReadLimits | None = None
                ) -> tuple[pd.DataFrame, RejectionReport]:
    """Load one or more ``*-points.csv(.gz)`` files (matches files are found next to them); ``limits`` caps each."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    report = RejectionReport()
    tables = [_load_one(p, strict=strict, report=report, limits=limits) for p in paths]
    table = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    return table, report


def match_names(points_file: Path) -> dict[str, tuple[str, str]]:
    """match id -> (player1, player2) from the ``<event>-matches.csv(.gz)`` beside a points file."""
    found = _POINTS_FILE.match(points_file.name)
    if not found:
        return {}
    for candidate in (points_file.with_name(f"{found.group(1)}-matches.csv"),
                      points_file.with_name(f"{found.group(1)}-matches.csv.gz")):
        if candidate.exists():
            try:
                frame, _ = read_strings(candidate)
            except DataFormatError:
                return {}
            if {"match_id", "player1", "player2"} <= set(frame.columns):
                return {m.strip(): (a.strip(), b.strip())
                        for m, a, b in zip(frame["match_id"], frame["player1"], frame["player2"])
                        if a.strip() and b.strip()}
    return {}


def _load_one(path: Path, *, strict: bool, report: RejectionReport, limits: ReadLimits | None) -> pd.DataFrame:
    sport = get_sport("tennis")
    raw, too_long = read_strings(path, limits=limits)
    if "PointNumber" in raw:
        raw = drop_rows(raw, (raw["PointNumber"].str.strip() == "0").to_numpy(), report,
                        f"{path.name}: {{count}} per-match header rows (PointNumber 0) dropped")
    checks = point_checks(raw, too_long, ("match_id", "PointNumber"), REQUIRED, path=path,
                          what="a point-by-point file", strict=strict, report=report)
    if raw.empty:  # nothing but rows of the wrong width (or none): they are reported, no point is left
        checks.keep()
        return empty_table()

    for column in REQUIRED:
        checks.fail(blank(raw[column]), "missing value", column, "a value on every point")
    ints = {}
    for column, low in (("SetNo", 1), ("GameNo", 1), ("PointNumber", 1), ("P1GamesWon", 0), ("P2GamesWon", 0)):
        ints[column], bad = to_int(raw[column], minimum=low)
        checks.fail(bad, f"bad {column}", column, int_range(low))
    for column in ("PointServer", "PointWinner"):
        ints[column], bad = to_int(raw[column], minimum=1)
        bad |= ~blank(raw[column]) & ~raw[column].str.strip().isin(["1", "2"]).to_numpy()
        checks.fail(bad, f"bad {column}", column, "1 or 2")
    direction, bad = to_code(raw["Serve_Direction"], ["0", "1", "2", "3"])
    checks.fail(bad, "bad serve direction", "Serve_Direction", "0, 1, 2 or 3")
    flags = {}
    for column in ("P1FirstSrvIn", "P2FirstSrvIn", "P1Ace", "P2Ace", "P1DoubleFault", "P2DoubleFault"):
        flags[column], bad = to_flag(raw[column])
        checks.fail(bad, "bad flag", column, "0 or 1")
    game_key = (raw["match_id"] + "|" + raw["SetNo"] + "|" + raw["GameNo"]).to_numpy(dtype=object)
    fewest = [ints[c].groupby(game_key).transform("min") for c in ("P1GamesWon", "P2GamesWon")]
    level = (fewest[0] == fewest[1]).to_numpy(dtype=bool, na_value=False)
    tiebreak = tennis_score.tiebreak_games([raw["P1Score"], raw["P2Score"]], game_key, level)
    for column in ("P1Score", "P2Score"):
        checks.fail(tennis_score.bad_scores(raw[column], tiebreak), "bad game score", column,
                    "0, 15, 30, 40 or AD (in a tiebreak: the points won)")
    dup = np.zeros(len(raw), bool)
    ok = checks.key != ""
    dup[ok] = pd.Series(checks.key[ok]).duplicated(keep=False).to_numpy()
    checks.fail(dup, "duplicate point number", "PointNumber", "each PointNumber once per match")
    keep = checks.keep()

    server_no = ints["PointServer"].to_numpy(dtype=float, na_value=np.nan)
    winner_no = ints["PointWinner"].to_numpy(dtype=float, na_value=np.nan)
    frame = pd.DataFrame({
        "match_id": raw["match_id"].str.strip(), "set": ints["SetNo"], "game": ints["GameNo"],
        "rally": ints["PointNumber"], "server_no": server_no, "winner_no": winner_no,
        "direction": direction.map(dict(sport.labels["slam_pbp"]["serve_area"])),
        "first_in": flags["P1FirstSrvIn"].astype(int) + flags["P2FirstSrvIn"].astype(int) == 1,
        "ace": np.where(server_no == 1, flags["P1Ace"], flags["P2Ace"]),
        "double_fault": np.where(server_no == 1, flags["P1DoubleFault"], flags["P2DoubleFault"]),
        "p1_after": raw["P1Score"], "p2_after": raw["P2Score"], "tiebreak": tiebreak,
        "g1_after": ints["P1GamesWon"], "g2_after": ints["P2GamesWon"],
        "serving_to": raw["ServingTo"].str.strip() if "ServingTo" in raw else "",
        "keep": keep,
    }).sort_values(["match_id", "rally"], kind="stable").reset_index(drop=True)
    return _assemble(frame, match_names(path), sport, report, path)


def _assemble(frame: pd.DataFrame, names, sport, report: RejectionReport, path: Path) -> pd.DataFrame:
    """Scores before each point and its court side come from every row of the game, rejected ones included
    (a skipped point was still played); then the rejected rows go."""
    game_key = (frame["match_id"] + "|" + frame["set"].astype("string") + "|"
                + frame["game"].astype("string")).to_numpy(dtype=object)
    tiebreak = frame["tiebreak"].to_numpy()
    k = frame.groupby(game_key, sort=False).cumcount().to_numpy()
    opening = k == 0
    p1 = tennis_score.points(frame["p1_after"], tiebreak).groupby(game_key).shift().mask(opening, 0)
    p2 = tennis_score.points(frame["p2_after"], tiebreak).groupby(game_key).shift().mask(opening, 0)
    g1 = frame["g1_after"].groupby(game_key).transform("min")
    g2 = frame["g2_after"].groupby(game_key).transform("min")
    side = tennis_score.court_side(k, sport.court_sides)
    keep = frame["keep"].to_numpy()
    if not keep.any():
        return empty_table()
    frame, p1, p2, g1, g2, side = frame[keep], p1[keep], p2[keep], g1[keep], g2[keep], side[keep]
    given = frame["serving_to"].map({"d": "deuce", "a": "ad"})
    differs = int((given.notna() & (given != side)).sum())
    if differs:
        report.note(f"{path.name}: court side from the point count differs from ServingTo on {differs} points "
                    f"(the point count is used)")

    unnamed = sorted(set(frame["match_id"]) - set(names))
    names = dict(names)
    for m in unnamed:
        names[m] = (f"player 1 [{m}]", f"player 2 [{m}]")
    if unnamed:
        report.note(f"{path.name}: no player names for {len(unnamed)} match(es) (no <event>-matches.csv with "
                    f"player1, player2): named 'player 1 [match]' / 'player 2 [match]'")
    n1 = frame["match_id"].map({m: n[0] for m, n in names.items()}).astype("string")
    n2 = frame["match_id"].map({m: n[1] for m, n in names.items()}).astype("string")
    server_is_1 = frame["server_no"].to_numpy() == 1
    server = n1.where(server_is_1, n2)
    receiver = n2.where(server_is_1, n1)
    winner = n1.where(frame["winner_no"].to_numpy() == 1, n2)
    server_won = frame["winner_no"].to_numpy() == frame["server_no"].to_numpy()

    second = ~frame["first_in"].to_numpy()
    point = pd.DataFrame({
        "sport": sport.name, "source": LAYOUT, "match_id": frame["match_id"], "set": frame["set"],
        "game": frame["game"], "rally": frame["rally"], "hitter": server, "opponent": receiver, "shot": "serve",
        "server": server, "court_side": side,
        "hitter_score": np.where(server_is_1, p1, p2), "opponent_score": np.where(server_is_1, p2, p1),
        "hitter_games": np.where(server_is_1, g1, g2), "opponent_games": np.where(server_is_1, g2, g1),
        "winner": winner, "hitter_won": server_won,
    })
    in_play = point.assign(
        stroke=np.where(second, 2, 1), serve_number=np.where(second, 2, 1),
        landing_area=frame["direction"].where(~frame["double_fault"].to_numpy()),
        error=np.where(frame["double_fault"], "unknown", None),
        end=np.select([frame["ace"].to_numpy(), frame["double_fault"].to_numpy()], ["ace", "double fault"], None),
    )
    fault = point.loc[second].assign(stroke=1, serve_number=1, landing_area=None, error="unknown", end=None)
    table = pd.concat([fault, in_play]).sort_values(["match_id", "rally", "stroke"], kind="stable")
    table["rally_id"] = table["match_id"] + "|" + table["set"].astype("string") + "|" + table["rally"].astype("string")
    return conform(table, where=str(path))
