"""Small data files in the sources' layouts, written for tests with answers known by construction."""

from __future__ import annotations

import csv
from pathlib import Path

SHUTTLESET_COLUMNS = (
    "source,match_id,set,rally,ball_round,time,frame_num,roundscore_A,roundscore_B,player,server,type,aroundhead,"
    "backhand,hit_height,hit_area,hit_x,hit_y,landing_height,landing_area,landing_x,landing_y,lose_reason,"
    "win_reason,getpoint_player,flaw,player_location_area,player_location_x,player_location_y,"
    "opponent_location_area,opponent_location_x,opponent_location_y,db").split(",")

_RALLY_SHOTS = ["殺球", "挑球", "長球", "切球", "放小球", "推球"]


def shuttleset_rally(match_id, set_no, rally, server, strokes, winner, after, *, first_shot="發短球"):
    """Rows of one rally: strokes alternate from ``server`` (A/B); ``winner`` (A/B/None) is recorded on the last
    stroke (a winner when the last hitter won, else out); ``after`` = (A, B) set score after the rally."""
    rows = []
    other = {"A": "B", "B": "A"}
    for k in range(1, strokes + 1):
        hitter = server if k % 2 == 1 else other[server]
        last = k == strokes
        row = dict.fromkeys(SHUTTLESET_COLUMNS, "")
        row.update(source="test", match_id=match_id, set=str(set_no), rally=str(rally), ball_round=f"{k}.0",
                   time="00:01:00", frame_num=str(1000 * rally + k), roundscore_A=str(after[0]),
                   roundscore_B=str(after[1]), player=hitter, server="1" if k == 1 else ("3" if last else "2"),
                   type=first_shot if k == 1 else _RALLY_SHOTS[k % len(_RALLY_SHOTS)],
                   landing_area=str(1 + k % 9), player_location_area="8", opponent_location_area="8",
                   player_location_x=f"{100 + k}.0", player_location_y="200.0", opponent_location_x="300.0",
                   opponent_location_y=f"{400 + k}.0", backhand="1" if k % 3 == 0 else "", db="0")
        if last and winner is not None:
            row.update(getpoint_player=winner, lose_reason="對手落地致勝" if winner == hitter else "出界",
                       win_reason="落地致勝" if winner == hitter else "對手出界")
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict], columns=None) -> Path:
    """Write dict rows (missing keys blank) under ``columns`` (default: the first row's keys)."""
    columns = list(columns or (rows[0].keys() if rows else SHUTTLESET_COLUMNS))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def write_match_file(path: Path, matches: dict[str, tuple[str, str]]) -> Path:
    """A ShuttleSet match list: video = match id, winner = A's name, loser = B's name."""
    rows = [{"id": str(i), "video": m, "winner": w, "loser": l} for i, (m, (w, l)) in enumerate(matches.items(), 1)]
    return write_csv(path, rows, ["id", "video", "winner", "loser"])


# A two-set match whose before-rally scores, servers and court sides are worked out by hand in the tests:
# set 1: r1 A serves, A wins (1-0); r2 A serves, B wins (1-1); r3 B serves, no winner recorded (2-1);
# r4 missing from the file; r5 A serves, B wins (3-2 after, so 3-1 before); r6 B serves, no winner (4-2).
# set 2: r1 B serves, B wins (0-1).
HAND_MATCH = "Ann_ALPHA_Bea_BRAVO_Test_Open_Final"
HAND_NAMES = {HAND_MATCH: ("Ann ALPHA", "Bea BRAVO")}


def hand_match_rows() -> list[dict]:
    rows = []
    rows += shuttleset_rally(HAND_MATCH, 1, 1, "A", 3, "A", (1, 0))
    rows += shuttleset_rally(HAND_MATCH, 1, 2, "A", 4, "B", (1, 1))
    rows += shuttleset_rally(HAND_MATCH, 1, 3, "B", 2, None, (2, 1))
    rows += shuttleset_rally(HAND_MATCH, 1, 5, "A", 5, "B", (3, 2))
    rows += shuttleset_rally(HAND_MATCH, 1, 6, "B", 1, None, (4, 2))
    rows += shuttleset_rally(HAND_MATCH, 2, 1, "B", 2, "B", (0, 1))
    return rows
