"""Write simulated matches in ShuttleSet's layout, or straight into the canonical rally table.

ShuttleSet layout (see ``badminton_shuttleset/README.md``): one row per stroke with the upstream columns;
``player`` is ``A`` for the match winner and ``B`` for the loser; ``roundscore_A/B`` hold the game score
*after* the rally on every row of it; ``server`` is the stroke role (1 serve, 2 rally stroke, 3 last
stroke; a one-stroke rally is 1); ``getpoint_player``, ``win_reason`` and ``lose_reason`` are on the last
stroke. A matches file (upstream ``match.csv`` columns) names the players: ``video`` is the match id.
Positions are in court-model units (x 25–325, y 150–810, net at y = 480), not camera pixels.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.simulate.match import Match
from strategist.simulate.model import AREA_GRID, OUT_AREAS, SHOT_LABELS

STROKE_COLUMNS = [
    "source", "match_id", "set", "rally", "ball_round", "time", "frame_num", "roundscore_A", "roundscore_B",
    "player", "server", "type", "aroundhead", "backhand", "hit_height", "hit_area", "hit_x", "hit_y",
    "landing_height", "landing_area", "landing_x", "landing_y", "lose_reason", "win_reason", "getpoint_player",
    "flaw", "player_location_area", "player_location_x", "player_location_y", "opponent_location_area",
    "opponent_location_x", "opponent_location_y", "db",
]
MATCH_COLUMNS = ["id", "video", "tournament", "round", "year", "month", "day", "set", "duration", "winner",
                 "loser", "downcourt", "url"]
SOURCE = "strategist_demo"

#: ShuttleSet's reasons on the last stroke: ending -> (lose_reason, win_reason).
REASONS = {
    "winner": ("對手落地致勝", "落地致勝"),
    "out": ("出界", "對手出界"),
    "net": ("掛網", "對手掛網"),
    "not over": ("未過網", "對手未過網"),
}
#: The badminton sport's error kinds of the simulator's endings.
ERROR_KIND = {"out": "out", "net": "net", "not over": "not over net"}
OVERHEAD = {"clear", "smash", "wrist smash", "drop", "drive", "long service"}
FPS = 30


def _area_point(code: int | None, near: bool, rng: np.random.Generator) -> tuple[float, float]:
    """Court-model coordinates of a point in area ``code`` of the near (y > 480) or far half."""
    if code is None:
        return (np.nan, np.nan)
    depth_centre = (55.0, 200.0, 300.0)
    for d, row in enumerate(AREA_GRID):
        if code in row:
            x = 75.0 + 100.0 * row.index(code) + rng.uniform(-35, 35)
            dist = depth_centre[d] + rng.uniform(-25, 25)
            break
    else:
        for d, pair in enumerate(OUT_AREAS):
            if code in pair:
                x = 10.0 if code == pair[0] else 340.0
                dist = depth_centre[d]
                break
        else:  # beyond the back line
            x, dist = 175.0 + rng.uniform(-100, 100), 345.0
    y = 480.0 + dist if near else 480.0 - dist
    return (round(x, 1), round(y, 1))


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def shuttleset_frames(matches: list[Match], *, seed: int = 0, source: str = SOURCE):
    """(strokes, matches) DataFrames of string cells in ShuttleSet's layout."""
    rng = np.random.default_rng([seed, 7])
    rows, meta = [], []
    for m in matches:
        label = {m.winner: "A", m.loser: "B"}
        seconds = 300.0
        near = {m.players[0]: True, m.players[1]: False}
        current_game = 1
        score_after = {p: 0 for p in m.players}
        for rally in m.rallies:
            if rally.game != current_game:
                current_game = rally.game
                near = {p: not v for p, v in near.items()}
                seconds += 90.0
            score_after = dict(rally.score)
            score_after[rally.winner] += 1
            last = len(rally.strokes)
            previous_landing = (np.nan, np.nan)
            for s in rally.strokes:
                role = 1 if s.number == 1 else (3 if s.number == last else 2)
                lose, win = REASONS[s.end] if s.end else ("", "")
                landing_xy = _area_point(s.landing, not near[s.hitter], rng)
                hitter_xy = _area_point(s.hitter_area, near[s.hitter], rng)
                receiver_xy = _area_point(s.position, not near[s.hitter], rng)
                hit_xy = previous_landing if s.number > 1 else (np.nan, np.nan)
                rows.append([
                    source, m.match_id, str(rally.game), str(rally.number), str(s.number),
                    _clock(seconds), str(int(seconds * FPS)), str(score_after[m.winner]), str(score_after[m.loser]),
                    label[s.hitter], str(role), SHOT_LABELS[s.shot],
                    "1" if s.shot in OVERHEAD and rng.random() < 0.1 else "",
                    "1" if rng.random() < 0.3 else "",
                    "1" if s.shot in OVERHEAD else "2",
                    "" if s.number == 1 else str(s.hitter_area), _fmt(hit_xy[0]), _fmt(hit_xy[1]),
                    _landing_height(s, m.heights),
                    _fmt(s.landing), _fmt(landing_xy[0]), _fmt(landing_xy[1]),
                    lose, win, label[rally.winner] if s.end else "", "",
                    str(s.hitter_area), _fmt(hitter_xy[0]), _fmt(hitter_xy[1]),
                    str(s.position), _fmt(receiver_xy[0]), _fmt(receiver_xy[1]), "0",
                ])
                previous_landing = landing_xy
                seconds += 1.0 + rng.uniform(0.0, 0.6)
            seconds += 15.0 + rng.uniform(0.0, 15.0)
        meta.append([str(m.number), m.match_id, "Strategist Demo Open", f"Match {m.number}", "2025", "6",
                     str(1 + (m.number - 1) // 4), str(m.games), str(int((seconds - 300.0) // 60)), m.winner,
                     m.loser, "1" if near[m.winner] else "0", ""])
    return (pd.DataFrame(rows, columns=STROKE_COLUMNS, dtype="string"),
            pd.DataFrame(meta, columns=MATCH_COLUMNS, dtype="string"))


def _landing_height(stroke, heights: bool) -> str:
    """ShuttleSet's ``landing_height`` (1 high, 2 low): the simulated height in the height mode; otherwise, as
    the demo always had it, low at the front and high elsewhere."""
    if heights:
        return {"high": "1", "low": "2"}.get(stroke.height, "")
    return "" if stroke.landing is None else ("2" if stroke.landing in AREA_GRID[0] else "1")


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def write_shuttleset(matches: list[Match], out_dir: str | Path, *, seed: int = 0) -> tuple[Path, Path]:
    """Write ``strokes.csv.gz`` and ``matches.csv`` into ``out_dir``; byte-identical for equal inputs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    strokes, meta = shuttleset_frames(matches, seed=seed)
    strokes_path, matches_path = out_dir / "strokes.csv.gz", out_dir / "matches.csv"
    text = strokes.to_csv(index=False, lineterminator="\n").encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text)
    strokes_path.write_bytes(buffer.getvalue())
    matches_path.write_text(meta.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return strokes_path, matches_path


def canonical_table(matches: list[Match]) -> pd.DataFrame:
    """The simulated strokes as the canonical rally table (:mod:`strategist.data.schema`); ``landing_height``
    ("high"/"low") is filled for matches simulated with heights. Built column by column: a million strokes
    are one list per column, not a million dictionaries."""
    from strategist.data.schema import conform

    names = ("match_id", "set", "rally", "rally_id", "stroke", "hitter", "opponent", "shot", "landing_area",
             "landing_height", "hitter_area", "opponent_area", "server", "court_side", "hitter_score",
             "opponent_score", "winner", "hitter_won", "error", "end")
    columns = {name: [] for name in names}
    add = {name: columns[name].append for name in names}
    text = {}                                        # one string object per area, shared by every stroke

    def area(x):
        return text.setdefault(x, str(x))

    for m in matches:
        for rally in m.rallies:
            rally_id = f"{m.match_id}|{rally.game}|{rally.number}"
            winner = rally.winner
            side = "right" if rally.score[rally.server] % 2 == 0 else "left"
            for s in rally.strokes:
                add["match_id"](m.match_id)
                add["set"](rally.game)
                add["rally"](rally.number)
                add["rally_id"](rally_id)
                add["stroke"](s.number)
                add["hitter"](s.hitter)
                add["opponent"](s.receiver)
                add["shot"](s.shot)
                add["landing_area"](None if s.landing is None else area(s.landing))
                add["landing_height"](s.height if m.heights else None)
                add["hitter_area"](area(s.hitter_area))
                add["opponent_area"](area(s.position))
                add["server"](rally.server)
                add["court_side"](side)
                add["hitter_score"](rally.score[s.hitter])
                add["opponent_score"](rally.score[s.receiver])
                add["winner"](winner)
                add["hitter_won"](winner == s.hitter)
                add["error"](ERROR_KIND.get(s.end))
                add["end"](None if s.end is None else ("winner" if s.end == "winner" else "error"))
    n = len(columns["match_id"])
    frame = pd.DataFrame({"sport": ["badminton"] * n, "source": ["simulated"] * n, **columns,
                          "serve_number": [1] * n})
    return conform(frame, where="simulated matches")
