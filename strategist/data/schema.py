"""The canonical rally table: one row per stroke, the same columns for every sport and source.

A rally is identified by ``rally_id`` (``match_id|set|rally``); its strokes are ordered by ``stroke``
(1 = the serve). Scores are those *before* the rally. Players are real names, never the source's
A/B labels. Areas are strings from the sport's court-area vocabulary; unknown values are missing (NA).
"""

from __future__ import annotations

import pandas as pd

from strategist.errors import DataFormatError

#: column -> pandas dtype. Order is the canonical column order.
COLUMNS: dict[str, str] = {
    "sport": "string",            # sport key, e.g. "badminton", "tennis"
    "source": "string",           # loader / layout the row came from
    "match_id": "string",
    "set": "Int64",               # set number (badminton game, tennis set), from 1
    "game": "Int64",              # game within the set (tennis); NA where the sport has none
    "rally": "Int64",             # rally (point) number within the set, from 1
    "rally_id": "string",         # f"{match_id}|{set}|{rally}" (tennis: point id within the match)
    "stroke": "Int64",            # stroke number within the rally, 1 = serve
    "hitter": "string",           # player who hit this stroke
    "opponent": "string",         # the other player (the receiver of this stroke)
    "shot": "string",             # shot type, English label of the sport's vocabulary
    "landing_area": "string",     # where the stroke landed / was directed (sport's area codes)
    "hitter_area": "string",      # hitter's court area at contact
    "opponent_area": "string",    # opponent's court area at contact
    "hitter_x": "float64",
    "hitter_y": "float64",
    "opponent_x": "float64",
    "opponent_y": "float64",
    "server": "string",           # player who served this rally
    "hitter_score": "Int64",      # hitter's score in the current set (tennis: game) before the rally
    "opponent_score": "Int64",    # opponent's score before the rally
    "winner": "string",           # player who won the rally; NA when not recorded
    "hitter_won": "boolean",      # winner == hitter; NA when the winner is unknown
    "end": "string",              # on the rally's last stroke: how it ended (e.g. "winner", "out", "net")
}

KEY = ["match_id", "set", "rally", "stroke"]


def empty_table() -> pd.DataFrame:
    """A canonical table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS.items()})


def conform(frame: pd.DataFrame, *, where: str = "table") -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns, in order and with canonical dtypes.

    Missing optional columns are filled with NA; a column whose values cannot take the dtype raises
    :class:`DataFormatError` naming the column.
    """
    out = {}
    n = len(frame)
    for column, dtype in COLUMNS.items():
        if column in frame:
            try:
                out[column] = frame[column].astype(dtype)
            except (TypeError, ValueError) as exc:
                raise DataFormatError(f"cannot convert to {dtype}: {exc}", path=where, field=column) from None
        else:
            out[column] = pd.Series(pd.NA if dtype != "float64" else float("nan"), index=frame.index,
                                    dtype=dtype) if n else pd.Series(dtype=dtype)
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def validate(frame: pd.DataFrame, *, where: str = "table") -> None:
    """Check the invariants every loader guarantees; raise :class:`DataFormatError` on the first failure."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(f"missing canonical columns {missing}", path=where)
    for column in ("match_id", "rally_id", "stroke", "hitter", "shot"):
        if frame[column].isna().any():
            row = int(frame.index[frame[column].isna()][0])
            raise DataFormatError("value is missing; every stroke needs it", path=where, row=row, field=column)
    if frame.duplicated(["rally_id", "stroke"]).any():
        row = int(frame.index[frame.duplicated(["rally_id", "stroke"])][0])
        raise DataFormatError("duplicate (rally_id, stroke)", path=where, row=row, field="stroke")
