"""An opponent model as a rally-game policy: where a side hits, the model's predicted shot distribution
averaged over the strokes of the data that reached the state.

    π_s(a) ∝ (1/|D_s|) Σ_{i ∈ D_s} P_model(a | the rally before stroke i, its hitter)

``D_s`` holds the side's strokes of the game (the pair's, or the player's against everyone, or all strokes
for the population game) in game state ``s``; ``a`` ranges over the state's actions (an action that is a
group gets the summed probability of its shots). The mass the model puts on shots that are not actions of
the state is dropped (the remainder renormalised) and reported per state (``outside``). Where the side
receives (its action is a position, which the model does not predict) and in a hitting state that no
stroke of the data reaches, the side's observed frequencies stand in, and the result says where.

The model is any fitted object with ``predict_table(table)`` (one probability row per stroke of the table
sorted by rally and stroke) and ``vocabulary.shots``: :mod:`strategist.opponent`'s models are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from strategist.data.states import annotate_states
from strategist.errors import EstimationError, StrategistError
from strategist.rally.policies import SIDES, side_policy


@dataclass(frozen=True)
class ModelPolicy:
    """One side's per-state mixes from an opponent model (a sequence of mixes, usable wherever a policy is)."""

    side: str
    model: str                      # what the model is (its kind)
    mixes: tuple                    # one mix per game state over the side's actions
    strokes: np.ndarray             # per state: strokes whose predictions were averaged (0: observed stands in)
    outside: np.ndarray             # per state: average predicted mass on shots outside the state's actions
    hitting: np.ndarray             # per state: the side hits there
    observed_states: tuple          # hitting states no stroke of the data reaches (observed frequencies)

    def __len__(self) -> int:
        return len(self.mixes)

    def __iter__(self):
        return iter(self.mixes)

    def __getitem__(self, g):
        return self.mixes[g]

    def __str__(self) -> str:
        return f"model ({self.model})"

    def summary(self) -> dict:
        """What stands behind the mixes: states from the model, from observed play, strokes, dropped mass."""
        from_model = self.hitting & (self.strokes > 0)
        weights = self.strokes[from_model]
        return {"policy": str(self), "side": self.side, "states_from_model": int(from_model.sum()),
                "states_observed": int((~from_model).sum()), "strokes": int(self.strokes.sum()),
                "hitting_states_without_data": list(self.observed_states),
                "outside_share": float(np.average(self.outside[from_model], weights=weights)) if weights.sum() else 0.0}


def _side_rows(frame: pd.DataFrame, game, side: str) -> np.ndarray:
    """The strokes of ``frame`` that are the side's strokes in the game (see the module docstring)."""
    hitter = frame["hitter"].astype("string")
    receiver = frame["opponent"].astype("string")
    if game.player is None:                       # the population game: every stroke, on both sides
        return (hitter.notna() & receiver.notna()).to_numpy(dtype=bool)
    me, other = (game.player, game.opponent) if side == "player" else (game.opponent, game.player)
    if side == "player":
        rows = hitter == me
        if other is not None:
            rows &= receiver == other
    else:
        rows = receiver == game.player
        if game.opponent is not None:
            rows &= hitter == game.opponent
    return rows.fillna(False).to_numpy(dtype=bool)


def model_policy(game, table: pd.DataFrame, model, side: str = "opponent") -> ModelPolicy:
    """The mixes of ``side`` in ``game`` that follow ``model``'s predictions on ``table`` (the data the game
    was estimated from), as in the module docstring."""
    if side not in SIDES:
        raise EstimationError(f"side {side!r}: expected 'player' or 'opponent'")
    if not hasattr(model, "predict_table") or not hasattr(model, "vocabulary"):
        raise EstimationError(f"a model policy needs a fitted opponent model (with predict_table and a vocabulary), "
                              f"got {type(model).__name__}")
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise EstimationError("a model policy needs the rally table the game was estimated from")
    structure = game.structure
    sport, settings = structure.sport, structure.settings
    model_sport = getattr(model, "sport", sport.name)
    if str(model_sport) != sport.name:
        raise EstimationError(f"the model predicts {model_sport} shots; the game is {sport.name}")
    ann = annotate_states(table, sport, rally=settings.states or sport.decisions.situation[0], zones=bool(settings.zones),
                          heights=bool(settings.heights))
    mine = _side_rows(ann, game, side)
    if not mine.any():
        raise EstimationError(f"no stroke of the {side} in the table: is it the game's data?")
    rallies = set(ann.loc[mine, "rally_id"].astype(str).unique())
    keep = ann["rally_id"].astype(str).isin(rallies).to_numpy(dtype=bool)
    frame = ann[keep].reset_index(drop=True)          # whole rallies, sorted: every history intact
    mine = mine[keep]
    try:
        probs = np.asarray(model.predict_table(frame), dtype=float)
    except StrategistError as exc:
        raise EstimationError(f"the opponent model could not predict the game's strokes: {exc}") from None
    if probs.shape != (len(frame), len(model.vocabulary.shots)):
        raise EstimationError(f"the model returned {probs.shape} probabilities for {len(frame)} strokes")

    who = "player" if side == "player" else "opponent"
    index = {label: g for g, label in enumerate(game.labels)}
    g_of = np.array([index.get(f"{who}: {state}", -1) for state in frame["state"].astype(str)], dtype=np.int64)
    use = mine & (g_of >= 0)
    size, k = len(game.labels), probs.shape[1]
    total = np.zeros((size, k))
    np.add.at(total, g_of[use], probs[use])
    count = np.bincount(g_of[use], minlength=size)

    hits_here = np.array([label.startswith(f"{who}: ") for label in game.labels], dtype=bool)
    labels = game.layout.row_labels if side == "player" else game.layout.column_labels
    action_of = _action_map(list(model.vocabulary.shots), settings.actions, sport)
    observed = side_policy(game, "observed", side)
    mixes, outside, unseen = [], np.zeros(size), []
    for g in range(size):
        if not hits_here[g] or count[g] == 0:
            if hits_here[g]:
                unseen.append(game.labels[g])
            mixes.append(np.asarray(observed[g], dtype=float))
            continue
        mean = total[g] / count[g]
        position = {label: j for j, label in enumerate(labels[g])}
        mix = np.zeros(len(labels[g]))
        for shot, p in zip(model.vocabulary.shots, mean):
            j = position.get(action_of.get(shot))
            if j is not None:
                mix[j] += p
        kept = mix.sum()
        outside[g] = 1.0 - kept / mean.sum()
        mixes.append(mix / kept if kept > 0 else np.asarray(observed[g], dtype=float))
    kind = str(getattr(model, "kind", type(model).__name__))
    return ModelPolicy(side, kind, tuple(mixes), np.where(hits_here, count, 0), outside, hits_here, tuple(unseen))


def _action_map(shots: list[str], actions: str, sport) -> dict:
    """Shot -> the game's action label (the shot itself, or its group)."""
    kind, _, grouping = actions.partition(":")
    if kind == "shot":
        return {s: s for s in shots}
    groups = dict(sport.groupings[grouping or "tactic"])
    return {s: groups.get(s) for s in shots}
