"""The canonical rally table: one row per stroke, the same columns for every sport and source.

A rally (tennis: a point) is identified by ``rally_id`` (``match_id|set|rally``); its strokes are ordered
by ``stroke``, numbered from 1 with every recorded serve counted (a faulted first serve in tennis is
stroke 1 and the second serve stroke 2; ``serve_number`` says which serve a row belongs to). Scores are
those *before* the rally. Players are real names, never the source's A/B labels. Shots, areas, endings
and error kinds are English labels from the sport's vocabulary (:mod:`strategist.sports`); unknown
values are missing (NA). Columns a source does not record are NA.
"""

from __future__ import annotations

import pandas as pd

from strategist.errors import DataFormatError

#: column -> pandas dtype. Order is the canonical column order.
COLUMNS: dict[str, str] = {
    "sport": "string",            # sport key, e.g. "badminton", "tennis"
    "source": "string",           # layout the row came from (see strategist.data.detect.LAYOUTS)
    "match_id": "string",
    "set": "Int64",               # set number (badminton game, tennis set), from 1
    "game": "Int64",              # game within the set (tennis); NA where the sport has none
    "rally": "Int64",             # badminton: rally number within the set; tennis: point number in the match
    "rally_id": "string",         # f"{match_id}|{set}|{rally}"
    "stroke": "Int64",            # stroke number within the rally, from 1 (the first serve)
    "hitter": "string",           # player who hit this stroke
    "opponent": "string",         # the other player (the receiver of this stroke)
    "shot": "string",             # shot type, English label of the sport's vocabulary
    "wing": "string",             # "forehand" / "backhand" where the source says
    "landing_area": "string",     # where the stroke landed / was directed (sport's area codes)
    "landing_height": "string",   # "high" / "low": the shuttle above / below net height where it landed or
    #                               was taken (ShuttleSet landing_height 1 / 2); NA where not recorded
    "depth": "string",            # depth of the stroke where coded apart from the area (tennis return)
    "hitter_area": "string",      # hitter's court area at contact
    "opponent_area": "string",    # opponent's court area at contact
    "hitter_x": "float64",        # positions in the source's units (ShuttleSet: camera pixels)
    "hitter_y": "float64",
    "opponent_x": "float64",
    "opponent_y": "float64",
    # positions in metres, each in the frame of the player whose half it lies in (strategist.data.court):
    # x to that player's right of the centre line as they face the net, y from the net into their half
    "hitter_x_m": "float64",      # where the hitter stood at contact (the hitter's frame)
    "hitter_y_m": "float64",
    "opponent_x_m": "float64",    # where the opponent stood (the opponent's frame)
    "opponent_y_m": "float64",
    "landing_x_m": "float64",     # where the stroke landed (the receiver's frame; y < 0: short of the net)
    "landing_y_m": "float64",
    "server": "string",           # player who served this rally
    "serve_number": "Int64",      # serve that put this rally in play (tennis 1 or 2; 1 in one-serve sports)
    "court_side": "string",       # side the server serves from (badminton right/left, tennis deuce/ad)
    "hitter_score": "Int64",      # hitter's points in the set (tennis: in the game) before the rally
    "opponent_score": "Int64",    # opponent's points before the rally
    "hitter_games": "Int64",      # tennis: hitter's games in the set before the point; NA elsewhere
    "opponent_games": "Int64",
    "winner": "string",           # player who won the rally; NA when not recorded
    "hitter_won": "boolean",      # winner == hitter; NA when the winner is unknown
    "error": "string",            # on a stroke that failed: how (e.g. "net", "out", "wide")
    "end": "string",              # on the rally's last stroke: how it ended (sport's endings)
    "tags": "string",             # ";"-joined modifiers the source records (e.g. "approach;net cord")
    "flagged": "boolean",         # the source flags the annotation as doubtful; NA when it has no flag
}

KEY = ["match_id", "set", "rally", "stroke"]

#: Columns every row must fill.
REQUIRED = ("sport", "source", "match_id", "set", "rally", "rally_id", "stroke", "hitter", "opponent",
            "shot", "server")


def empty_table() -> pd.DataFrame:
    """A canonical table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS.items()})


def conform(frame: pd.DataFrame, *, where: str = "table") -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns, in order and with canonical dtypes.

    Missing optional columns are filled with NA; a column whose values cannot take the dtype raises
    :class:`DataFormatError` naming the column. The result has a fresh 0..n-1 index.
    """
    n = len(frame)
    out = {}
    for column, dtype in COLUMNS.items():
        if column in frame:
            values = frame[column]
            try:
                out[column] = values.astype(dtype)
            except (TypeError, ValueError) as exc:
                raise DataFormatError(f"cannot convert to {dtype}: {exc}", path=where, field=column) from None
            out[column] = out[column].reset_index(drop=True)
        else:
            fill = float("nan") if dtype == "float64" else pd.NA
            out[column] = pd.Series([fill] * n, dtype=dtype)
    return pd.DataFrame(out)


def validate(frame: pd.DataFrame, *, where: str = "table") -> None:
    """Check the invariants every loader guarantees; raise :class:`DataFormatError` on the first failure.

    Invariants: every canonical column present with its dtype; the required columns filled; one row per
    (rally_id, stroke); ``rally_id`` equal to ``match_id|set|rally``; ``hitter_won`` equal to
    ``winner == hitter`` wherever the winner is known.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(f"missing canonical columns {missing}", path=where)
    for column, dtype in COLUMNS.items():
        if str(frame[column].dtype) != dtype:
            raise DataFormatError(f"dtype is {frame[column].dtype}, expected {dtype}", path=where, field=column)
    for column in REQUIRED:
        bad = frame[column].isna().to_numpy()
        if bad.any():
            raise DataFormatError("value is missing; every stroke needs it", path=where,
                                  row=int(frame.index[bad][0]), field=column)
    dup = frame.duplicated(["rally_id", "stroke"]).to_numpy()
    if dup.any():
        raise DataFormatError("duplicate (rally_id, stroke)", path=where, row=int(frame.index[dup][0]),
                              field="stroke")
    expected_id = frame["match_id"] + "|" + frame["set"].astype("string") + "|" + frame["rally"].astype("string")
    bad = (expected_id != frame["rally_id"]).to_numpy(dtype=bool, na_value=True)
    if bad.any():
        raise DataFormatError("rally_id is not match_id|set|rally", path=where, row=int(frame.index[bad][0]),
                              field="rally_id")
    known = frame["winner"].notna().to_numpy()
    agrees = (frame["winner"] == frame["hitter"]).to_numpy(dtype=bool, na_value=False)
    won = frame["hitter_won"].to_numpy(dtype=bool, na_value=False)
    bad = known & (agrees != won) | (~known & frame["hitter_won"].notna().to_numpy())
    if bad.any():
        raise DataFormatError("hitter_won disagrees with winner == hitter", path=where,
                              row=int(frame.index[bad][0]), field="hitter_won")
