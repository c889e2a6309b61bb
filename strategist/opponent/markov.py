"""Markov model of order k: the next shot given the last k shots of the rally.

Levels of context are the last 0, 1, ..., k shots (a rally's start is padded with a start mark, so the
serve is the order-1 context "start"); estimates are interpolated from order to order and from the
population to the player (:mod:`strategist.opponent.backoff`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.errors import OpponentModelError
from strategist.opponent.backoff import BackoffModel
from strategist.opponent.base import Context, History

START = -1


class MarkovModel(BackoffModel):
    """P(next shot | last ``order`` shots, player), interpolated across orders and from the population.

    >>> MarkovModel(order=2).fit(table).predict_proba(history, {"player": "Viktor AXELSEN"})  # doctest: +SKIP
    """

    kind = "markov"

    def __init__(self, sport="badminton", *, order: int = 2, **kwargs):
        if int(order) != order or order < 1:
            raise OpponentModelError(f"order must be a positive integer, got {order!r}")
        super().__init__(sport, **kwargs)
        self.order = int(order)
        self.levels = self.order

    def config(self) -> dict:
        return {**super().config(), "order": self.order}

    def _table_keys(self, frame: pd.DataFrame, shots: np.ndarray, pos: np.ndarray) -> list[np.ndarray]:
        n = len(shots)
        prev = []
        for j in range(1, self.order + 1):
            shifted = np.full(n, START, dtype=np.int64)
            if n > j:
                shifted[j:] = shots[:-j]
            shifted[pos < j] = START
            prev.append(shifted)
        # level k: the last k shots, oldest first, one row per stroke
        return [np.column_stack([prev[j - 1] for j in range(k, 0, -1)]) for k in range(1, self.order + 1)]

    def _history_keys(self, history: History, context: Context) -> tuple:
        padded = (START,) * self.order + tuple(history.shots)
        return tuple(padded[len(padded) - k:] for k in range(1, self.order + 1))

    def _load_state(self, tensors: dict, meta: dict) -> None:
        self.order = self.levels = int(meta["config"]["order"])
        super()._load_state(tensors, meta)
