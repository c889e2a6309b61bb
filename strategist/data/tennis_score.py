"""Tennis game scores as point counts, tiebreak detection and the court a point is served from.

Game points 0/15/30/40/AD read 0/1/2/3/4; in a tiebreak the numbers are the points themselves. A game
is a tiebreak when it starts level in games, shows a score from 1 to 14 (every tiebreak passes through 1)
and no score exceeds the points recorded in it; a score that fits neither kind of game is invalid. The k-th point of a game
(k = 0, 1, ...) is served from the deuce court when k is even.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGULAR = {"0": 0, "15": 1, "30": 2, "40": 3, "AD": 4, "A": 4}


def _kinds(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    text = cells.str.strip().str.upper()
    regular = text.isin(list(REGULAR)).to_numpy(dtype=bool, na_value=False)
    counted = text.str.fullmatch(r"\d{1,2}").to_numpy(dtype=bool, na_value=False)
    return regular, counted


def tiebreak_games(score_columns: list[pd.Series], game: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per row: is the row's game (rows sharing ``game``) a tiebreak? ``level``: games are level before it.

    A tiebreak starts level in games, shows a score from 1 to 14 (every tiebreak passes through 1) and
    none of its scores exceeds the number of points recorded in it.
    """
    small = np.zeros(len(game), dtype=bool)
    biggest = np.zeros(len(game))
    for cells in score_columns:
        _, counted = _kinds(cells)
        values = pd.to_numeric(cells.where(counted), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small |= counted & (values >= 1) & (values <= 14)
        biggest = np.fmax(biggest, np.nan_to_num(values))
    frame = pd.DataFrame({"small": small, "level": np.asarray(level, dtype=bool), "biggest": biggest})
    grouped = frame.groupby(np.asarray(game), sort=False)
    fits = grouped["biggest"].transform("max") <= grouped["biggest"].transform("size")
    return (grouped["small"].transform("any") & grouped["level"].transform("all") & fits).to_numpy(dtype=bool)


def bad_scores(cells: pd.Series, tiebreak: np.ndarray) -> np.ndarray:
    """Non-blank cells that are not a score of their kind of game (0/15/30/40/AD, or a tiebreak count)."""
    regular, counted = _kinds(cells)
    blank = (cells.str.strip() == "").to_numpy(dtype=bool, na_value=True)
    return ~blank & ~np.where(tiebreak, counted, regular)


def points(cells: pd.Series, tiebreak: np.ndarray) -> pd.Series:
    """Point counts (nullable ints) of score cells; NA where a cell is not a score of its kind of game."""
    text = cells.str.strip().str.upper()
    regular = text.map(REGULAR).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    counted = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,2}").fillna(False)), errors="coerce")
    values = np.where(tiebreak, counted.to_numpy(dtype=float, na_value=np.nan), regular)
    return pd.Series(pd.array(values, dtype="Float64").astype("Int64"), index=cells.index)


def court_side(point_in_game: np.ndarray, sides: tuple[str, str]) -> np.ndarray:
    """Side of each point given its 0-based index within the game."""
    return np.where(np.asarray(point_in_game) % 2 == 0, sides[0], sides[1])
