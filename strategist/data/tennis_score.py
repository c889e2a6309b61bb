"""Tennis game scores as point counts, tiebreak detection and the court a point is served from.

Game points 0/15/30/40/AD read 0/1/2/3/4; in a tiebreak the numbers are the points themselves. A game
is a tiebreak when any of its scores is a number other than 0/15/30/40 (every tiebreak shows a 1 after
its first point). The k-th point of a game (k = 0, 1, ...) is served from the deuce court when k is even.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGULAR = {"0": 0, "15": 1, "30": 2, "40": 3, "AD": 4, "A": 4}


def is_score(cells: pd.Series) -> np.ndarray:
    """Cells that read as a game score: 0/15/30/40/AD or a non-negative integer (tiebreak)."""
    text = cells.str.strip().str.upper()
    return (text.isin(list(REGULAR)) | text.str.fullmatch(r"\d{1,3}")).to_numpy(dtype=bool, na_value=False)


def tiebreak_games(cells: pd.Series, game: pd.Series) -> np.ndarray:
    """Per row: does the row's game (rows sharing a ``game`` key) hold a tiebreak-only score value?"""
    text = cells.str.strip().str.upper()
    odd = (~text.isin(list(REGULAR)) & text.str.fullmatch(r"\d{1,3}")).to_numpy(dtype=bool, na_value=False)
    return pd.Series(odd).groupby(game.to_numpy()).transform("any").to_numpy(dtype=bool)


def points(cells: pd.Series, tiebreak: np.ndarray) -> pd.Series:
    """Point counts (nullable ints) of score cells; NA where a cell is not a score."""
    text = cells.str.strip().str.upper()
    regular = text.map(REGULAR).astype("Float64")
    counted = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,3}").fillna(False)), errors="coerce")
    values = np.where(tiebreak, counted.to_numpy(dtype=float, na_value=np.nan),
                      regular.to_numpy(dtype=float, na_value=np.nan))
    return pd.Series(pd.array(values, dtype="Float64").astype("Int64"), index=cells.index)


def court_side(point_in_game: np.ndarray, sides: tuple[str, str]) -> np.ndarray:
    """Side of each point given its 0-based index within the game."""
    return np.where(np.asarray(point_in_game) % 2 == 0, sides[0], sides[1])
