"""In-match adaptation, measured: predict each rally of a match knowing the match's earlier rallies.

:func:`predict_in_match` walks every match in rally order; before a match the model forgets earlier
updates (:meth:`~strategist.opponent.base.OpponentModel.reset`), then for each rally it predicts every
stroke from the strokes before it, and learns the rally once it is complete
(:meth:`~strategist.opponent.base.OpponentModel.update`): so the prediction for rally 30 knows rallies
1-29 of the same match, and nothing of its own later strokes or later rallies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.opponent.base import OpponentModel, rally_frame


def predict_in_match(model: OpponentModel, table: pd.DataFrame) -> np.ndarray:
    """(rows of ``rally_frame(table)``, shots): predictions with in-match updates (see module docstring)."""
    frame = rally_frame(table)
    out = np.zeros((len(frame), len(model.vocabulary.shots)))
    rally_order = frame.groupby("rally_id", sort=False).agg(match=("match_id", "first"), set=("set", "first"),
                                                            rally=("rally", "first"))
    rally_order = rally_order.sort_values(["match", "set", "rally"], kind="stable")
    rows_of = frame.groupby("rally_id", sort=False).indices
    try:
        current = None
        for rally_id, match in zip(rally_order.index, rally_order["match"]):
            if match != current:
                model.reset()
                current = match
            rows = rows_of[rally_id]
            rows = slice(int(rows[0]), int(rows[-1]) + 1)  # a rally's strokes are contiguous in the frame
            rally = frame.iloc[rows]
            out[rows] = model.predict_table(rally)
            model.update(rally)
    finally:
        model.reset()
    return out
