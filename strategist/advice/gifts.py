"""Risking only what has been won: the gifts of a match so far (Ganzfried & Sandholm, safe exploitation).

In a repeated zero-sum game a deviation from the recommended play is safe when it is paid for by **gifts**:
what the player has won so far above the game's value, in expectation. After the match's completed rallies

    k = Σ over the player's decisions τ of those rallies of  (Q_s[a_τ] · q_s − v_s)

where s is the situation of the decision (from the strokes before it, with where and how high they landed
when recorded), a_τ the shot the player played, q_s where the opponent usually stands there, Q_s the rally
game's point estimate of each shot's win probability against each position and v_s the value of s as
recommended. A decision whose shot is not in its situation's game, or a situation the game lacks, adds
nothing and is counted. The rule of the Advisor: the safe-exploitation margin allowed at the next stroke is
``max(0, k)`` (and at most the margin the coach asks for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategist.advice.history import read_history
from strategist.data.states import state_before


@dataclass(frozen=True)
class Gifts:
    """What the match has won above the value, and from how many decision points."""

    total: float
    decisions: int
    skipped: int
    per_rally: tuple                 # (rally number, gift of that rally)

    @property
    def allowed(self) -> float:
        """The margin the rule allows: max(0, total)."""
        return max(0.0, self.total)


def decision_gift(advisor, rally, t: int) -> float | None:
    """The gift of the player's stroke ``t`` of ``rally`` (a :class:`~strategist.advice.history.RallySoFar`),
    or None when its situation or shot is not in the game."""
    label = state_before(advisor.sport, rally.shots[:t], rally.hitters[:t], advisor.player, areas=rally.areas[:t],
                         heights=rally.heights[:t], rally=advisor.rally_rule, zones=advisor.zones,
                         with_heights=advisor.heights)
    name = f"player: {label}"
    game = advisor.game
    if name not in game.labels:
        return None
    g = game.index(name)
    stage = game.stage(g)
    if rally.shots[t] not in stage.rows:
        return None
    q = np.asarray(stage.observed_column, dtype=float)
    return float(stage.mean[stage.rows.index(rally.shots[t])] @ q - game.value(g))


def match_gifts(advisor, rallies) -> Gifts:
    """Gifts of ``rallies``: an iterable of ``(rally number, strokes, finished)``, strokes in any form
    :func:`strategist.advice.history.read_history` reads; only finished rallies count."""
    total = 0.0
    decisions = skipped = 0
    per_rally = []
    for number, strokes, finished in rallies:
        if not finished:
            continue
        rally = read_history(strokes)
        gift = 0.0
        for t, hitter in enumerate(rally.hitters):
            if hitter != advisor.player:
                continue
            value = decision_gift(advisor, rally, t)
            if value is None:
                skipped += 1
                continue
            gift += value
            decisions += 1
        total += gift
        per_rally.append((number, gift))
    return Gifts(total, decisions, skipped, tuple(per_rally))
