"""Hypothesis strategies shared by the fuzz targets: hostile text cells, data files in every layout, payoffs.

Every target asks one thing of the package: whatever the input, it returns or raises a
:class:`strategist.errors.StrategistError` — never another exception.
"""

from __future__ import annotations

import csv
import gzip
import io

import numpy as np
from hypothesis import strategies as st

from strategist.data.schema import COLUMNS
from strategist.sports import get_sport

#: Cells that have broken parsers: huge and tiny numbers, non-numbers, separators, quotes, marks and blanks.
HOSTILE = ["", " ", "0", "-0", "1", "-1", "1.5", "3.0", "1e308", "-1e308", "1e999", "5e-324", "nan", "NaN", "inf",
           "-inf", str(2 ** 63), str(2 ** 64), str(-(2 ** 63) - 1), "9" * 40, "0x10", "1_000", "٣", "½", "\ufeff",
           '"', "a,b", "x\ny", "\r", "=1+1", "A", "B", "C", "AD", "True", "null", "None", "-", "+", ".", "e5",
           "\x00", "𝟘", "ÿ", "A;B", "40", "15", "99999999999"]

_BADMINTON = get_sport("badminton")
_TENNIS = get_sport("tennis")
_SHUTTLESET_SHOTS = sorted(_BADMINTON.translate("shuttleset", "shot"))

SHUTTLESET_COLUMNS = ("match_id,set,rally,ball_round,time,frame_num,roundscore_A,roundscore_B,player,type,"
                      "aroundhead,backhand,landing_height,landing_area,lose_reason,getpoint_player,flaw,"
                      "player_location_area,player_location_x,player_location_y,opponent_location_area,"
                      "opponent_location_x,opponent_location_y").split(",")
SLAM_COLUMNS = ("match_id,SetNo,GameNo,PointNumber,PointWinner,PointServer,P1Score,P2Score,P1GamesWon,P2GamesWon,"
                "P1FirstSrvIn,P2FirstSrvIn,Serve_Direction,P1Ace,P2Ace,P1DoubleFault,P2DoubleFault,"
                "ServingTo").split(",")
MCP_COLUMNS = "match_id,Pt,Set1,Set2,Gm1,Gm2,Pts,Gm#,TbSet,Svr,1st,2nd,Notes,PtWinner".split(",")
CANONICAL_COLUMNS = list(COLUMNS)


def _ints(low, high):
    return st.integers(low, high).map(str)


#: Plausible values per column (a fuzz case mixes these with hostile cells).
PLAUSIBLE = {
    "match_id": st.sampled_from(["m1", "m2", "20990101-M-T-F-Ann_Ace-Bea_Break"]),
    "set": _ints(1, 3), "rally": _ints(1, 4), "ball_round": _ints(1, 5), "roundscore_A": _ints(0, 22),
    "roundscore_B": _ints(0, 22), "player": st.sampled_from(["A", "B"]),
    "type": st.sampled_from(_SHUTTLESET_SHOTS),
    "getpoint_player": st.sampled_from(["A", "B", ""]), "lose_reason": st.sampled_from(["出界", "落地致勝", ""]),
    "landing_area": _ints(1, 16), "landing_height": st.sampled_from(["1", "2", ""]),
    "SetNo": _ints(1, 3), "GameNo": _ints(1, 13), "PointNumber": _ints(0, 6), "PointWinner": _ints(1, 2),
    "PointServer": _ints(1, 2), "P1Score": st.sampled_from(["0", "15", "30", "40", "AD", "1", "7"]),
    "P2Score": st.sampled_from(["0", "15", "30", "40", "AD", "2"]), "P1GamesWon": _ints(0, 7),
    "P2GamesWon": _ints(0, 7), "Serve_Direction": _ints(0, 3), "Pt": _ints(1, 6), "Svr": _ints(1, 2),
    "PtWinner": _ints(1, 2), "Set1": _ints(0, 2), "Set2": _ints(0, 2), "Gm1": _ints(0, 6), "Gm2": _ints(0, 6),
    "Pts": st.sampled_from(["0-0", "15-0", "40-AD", "3-2"]), "Gm#": st.sampled_from(["1 (1)", "1 (2)", "2"]),
    "1st": st.sampled_from(["6f27b1*", "4n", "5*", "S", "6d", "4f37b2f1s3w@", "c4+b27v1*", ""]),
    "2nd": st.sampled_from(["", "5b28f1n@", "4x", "R"]),
    "sport": st.sampled_from(["badminton", "tennis"]), "source": st.just("canonical"),
    "rally_id": st.sampled_from(["m1|1|1", "m1|1|2", "m2|1|1"]), "stroke": _ints(1, 5),
    "hitter": st.sampled_from(["Ann", "Bea"]), "opponent": st.sampled_from(["Ann", "Bea"]),
    "shot": st.sampled_from(["short service", "clear", "smash", "serve", "forehand", "unknown"]),
    "server": st.sampled_from(["Ann", "Bea"]), "winner": st.sampled_from(["Ann", "Bea", ""]),
    "hitter_won": st.sampled_from(["True", "False", ""]), "serve_number": _ints(1, 2),
    "hitter_score": _ints(0, 21), "opponent_score": _ints(0, 21),
}
for _flag in ("aroundhead", "backhand", "flaw", "P1FirstSrvIn", "P2FirstSrvIn", "P1Ace", "P2Ace", "P1DoubleFault",
              "P2DoubleFault"):
    PLAUSIBLE[_flag] = st.sampled_from(["0", "1", ""])

LAYOUT_COLUMNS = {"shuttleset": SHUTTLESET_COLUMNS, "slam-pbp": SLAM_COLUMNS, "mcp": MCP_COLUMNS,
                  "canonical": CANONICAL_COLUMNS}


def cell(column: str):
    """A cell for ``column``: usually plausible, often hostile, sometimes any text."""
    plausible = PLAUSIBLE.get(column, st.sampled_from(["", "1", "100.5"]))
    return st.one_of(plausible, plausible, plausible, st.sampled_from(HOSTILE),
                     st.text(max_size=8))


@st.composite
def csv_text(draw, layout: str) -> bytes:
    """A CSV in ``layout``'s columns (some dropped, duplicated or reordered; maybe a BOM), with up to 14 rows of
    fuzzed cells, written either by the csv module (quoted) or by joining cells with commas (unquoted)."""
    columns = list(LAYOUT_COLUMNS[layout])
    if draw(st.booleans()):
        columns = draw(st.permutations(columns))
    if draw(st.integers(0, 4)) == 0 and len(columns) > 1:
        del columns[draw(st.integers(0, len(columns) - 1))]
    if draw(st.integers(0, 9)) == 0:
        columns.append(draw(st.sampled_from(columns)))
    rows = draw(st.lists(st.tuples(*[cell(c) for c in columns]), max_size=14))
    if draw(st.booleans()):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerow(columns)
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        text = "\n".join(",".join(r) for r in [columns, *rows]) + draw(st.sampled_from(["", "\n", "\n\n"]))
    data = text.encode("utf-8", errors="surrogatepass")
    return (b"\xef\xbb\xbf" if draw(st.integers(0, 5)) == 0 else b"") + data


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


# ---------------------------------------------------------------------------------------------- payoffs
#: Payoff entries over every magnitude a float has, and the ties and tiny values that break solvers.
ENTRIES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-1.0, 1.0),
    st.integers(-3, 3).map(float),
    st.sampled_from([0.0, 5e-324, -5e-324, 1e-300, 1e300, 1e308, -1e308, 1.7976931348623157e308, 1e-9, 1 - 1e-16]),
)


@st.composite
def matrices(draw, max_side: int = 5, elements=ENTRIES, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Payoff matrices up to ``max_side`` a side (or of ``shape``), entries over every magnitude, often scaled."""
    m, n = shape if shape is not None else (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    scale = draw(st.sampled_from([1.0, 1.0, 1e-9, 1e9, 1e-300, 1e300]))
    cells = draw(st.lists(elements, min_size=m * n, max_size=m * n))
    with np.errstate(over="ignore", under="ignore"):
        a = np.array(cells, dtype=np.float64).reshape(m, n) * scale
    return np.where(np.isfinite(a), a, np.sign(a) * 1e308)


@st.composite
def mixes(draw, size: int) -> np.ndarray:
    weights = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.0, 1e-12, 0.3]) | st.floats(0, 1),
                                     min_size=size, max_size=size)))
    if weights.sum() <= 0:
        weights[draw(st.integers(0, size - 1))] = 1.0
    return weights / weights.sum()
