"""Frequency model: how often each player chose each shot in each decision state, shrunk to the population.

Levels of context: the phase (serve, return, rally), then the decision state (what the stroke faces, the
sport's rule in :mod:`strategist.data.states`); per player, shrunk toward the population
(:mod:`strategist.opponent.backoff`). The state of the next stroke is computed from the rally so far
(:func:`strategist.opponent.base.next_state`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.opponent.backoff import BackoffModel
from strategist.opponent.base import Context, History, _clean, next_state
from strategist.sports.registry import get_sport


class FrequencyModel(BackoffModel):
    """P(next shot | decision state, player), shrunk toward the population's choices in that state."""

    kind = "frequency"
    levels = 2

    def _table_keys(self, frame: pd.DataFrame, shots: np.ndarray, pos: np.ndarray) -> list[list]:
        labels = list(self.vocabulary.shots)
        names = [labels[s] for s in shots]
        hitters = frame["hitter"].astype(str).tolist()
        areas = [None if _clean(a) is None else str(a) for a in frame["landing_area"].tolist()] \
            if "landing_area" in frame else [None] * len(names)
        sides = frame["court_side"].tolist() if "court_side" in frame else [None] * len(names)
        serves = set(get_sport(self.sport).serves)
        states, memo = [], {}
        start, all_serves = 0, True
        for row in range(len(names)):
            if pos[row] == 0:
                start, all_serves = row, True
            elif names[row - 1] not in serves:
                all_serves = False
            if row == start:
                key = ((), hitters[row], None)
            else:
                # the state depends only on the rally's leading serves, its last stroke and the next hitter
                # (states.state_before): a rally past its serves is cut to a non-serve and its last stroke
                shots_so_far = tuple(names[start:row]) if all_serves else (None, names[row - 1])
                key = (shots_so_far, hitters[row] == hitters[row - 1], areas[row - 1])
            side = _clean(sides[start])
            state = memo.get((key, side))
            if state is None:
                state = memo[(key, side)] = next_state(self.sport, names[start:row], hitters[start:row],
                                                       hitters[row], areas[start:row], side)
            states.append(state)
        return [[s.split(" ", 1)[0] for s in states], states]

    def _inputs(self, history: History, context: Context, known: bool) -> tuple[str, ...]:
        """The state rests on the shots and hitters, the incoming shot's landing area where the sport's rule
        looks at it (and it is recorded), the side served from where serve states are told apart by it."""
        rule = get_sport(self.sport).decisions
        used = ["shot", "hitter"]
        if rule.return_of == "area" and any(a is not None for a in history.areas):
            used.append("landing_area")
        if "court_side" in rule.serve and context.court_side is not None:
            used.append("court_side")
        return tuple(used) + (("player",) if known else ())

    def _history_keys(self, history: History, context: Context) -> tuple:
        labels = self.vocabulary.shots
        state = next_state(self.sport, [labels[s] for s in history.shots], list(history.hitters), context.player,
                           list(history.areas), context.court_side)
        return (state.split(" ", 1)[0], state)
