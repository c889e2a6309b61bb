"""The opponent's next shot: the decision state of the next stroke, and the Advisor's built-in prediction.

:func:`next_state` names the decision state of the next stroke from the rally so far, by the rule of
:func:`strategist.data.states.annotate_states` (the phase comes from the strokes already played).

:class:`FrequencyPrediction` is the Advisor's own model, used when no opponent model is given and
:mod:`strategist.opponent` offers none: how often the opponent chose each shot in the decision state,
shrunk toward all players' choices in that state, ``p = (c + s·π) / (n + s)`` with ``s`` prior strokes
(default 10). A state the opponent never played in is predicted as the population (``source`` says so).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.data.states import annotate_states, state_before
from strategist.sports import get_sport


def next_state(sport, shots, hitters, next_hitter, court_side=None, areas=()) -> str:
    """Decision state of the stroke ``next_hitter`` plays after ``shots`` (hit by ``hitters``)."""
    return state_before(sport, shots, hitters, next_hitter, areas=areas, court_side=court_side)


class FrequencyPrediction:
    """P(next shot | decision state, hitter), shrunk toward all hitters in the state (see the module doc)."""

    kind = "frequency (built-in)"

    def __init__(self, table: pd.DataFrame, sport=None, strength: float = 10.0, annotated=None):
        self.sport = get_sport(sport or str(table["sport"].dropna().iloc[0]))
        self.shots = tuple(self.sport.shots)
        self.strength = float(strength)
        frame = annotated if annotated is not None else annotate_states(table, self.sport)
        index = {s: i for i, s in enumerate(self.shots)}
        codes = frame["shot"].astype(str).map(index)
        ok = codes.notna().to_numpy()
        frame = frame[ok]
        codes = codes[ok].astype(int).to_numpy()
        k = len(self.shots)
        self._population: dict[str, np.ndarray] = {}
        self._player: dict[tuple[str, str], np.ndarray] = {}
        states = frame["state"].astype(str).to_numpy()
        hitters = frame["hitter"].astype(str).to_numpy()
        for state in np.unique(states):
            mask = states == state
            self._population[state] = np.bincount(codes[mask], minlength=k).astype(float)
            for hitter in np.unique(hitters[mask]):
                sub = mask & (hitters == hitter)
                self._player[(hitter, state)] = np.bincount(codes[sub], minlength=k).astype(float)
        self._all = np.bincount(codes, minlength=k).astype(float)
        self._index = pd.Index(self.shots, name="shot")
        self._cache: dict = {}

    def predict_state(self, player: str, state: str) -> tuple[np.ndarray, int, str]:
        """(probabilities, evidence n, source) for ``player`` hitting in ``state``."""
        key = (player, state)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        pop = self._population.get(state)
        if pop is None or pop.sum() == 0:
            pop, source = self._all, "fallback"
        else:
            source = "population"
        prior = (pop + 0.5) / (pop.sum() + 0.5 * len(pop))
        own = self._player.get(key)
        n = 0 if own is None else int(own.sum())
        if n:
            probs = (own + self.strength * prior) / (n + self.strength)
            source = "player"
        else:
            probs = prior
        self._cache[key] = out = (probs, n, source)
        return out

    def predict_proba(self, history=None, context=None) -> pd.Series:
        """The interface of :mod:`strategist.opponent` models: P(next shot) over the sport's shots."""
        context = dict(context or {})
        shots, hitters = [], []
        if history is not None and len(history):
            shots = history["shot"].astype(str).tolist()
            hitters = history["hitter"].astype(str).tolist()
        player = context.get("player")
        if player is None:
            player = history["opponent"].iloc[-1] if len(shots) else context.get("server")
        state = next_state(self.sport, shots, hitters, player, context.get("court_side"))
        probs, n, source = self.predict_state(str(player), state)
        out = pd.Series(probs, index=self._index, name="p")
        out.attrs.update(n=n, source=source, model=self.kind, state=state, player=player)
        return out
