"""Risking only what has been won: the gifts of a match so far (Ganzfried & Sandholm, safe exploitation).

In a repeated zero-sum game a deviation from equilibrium is safe when it is paid for by **gifts**: what
the player has won so far above the game's value, in expectation against the opponent's actual actions.
After the match's completed rallies

    k = Σ over the player's decision points τ of those rallies of  (A_s[a_τ, b_τ] − v_s)

where s is the decision state, a_τ the shot the player played, b_τ the opponent's actual reply (its group:
the game's column) and v_s the state's value. A decision point whose shot or reply is not in its state's
game, or whose state has no game, adds nothing; a stroke that ended the rally has no reply and adds
nothing (as in the payoff estimate). The rule of the Advisor: the safe-exploitation margin allowed at the
next stroke is ``max(0, k)`` (and at most the margin the coach asks for), so that, in expectation, the
match never falls below the value per decision while it exploits as far as its surplus pays for.
"""

from __future__ import annotations

from dataclasses import dataclass

from strategist.advice.predict import next_state


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


def match_gifts(advisor, rallies) -> Gifts:
    """Gifts of ``rallies``: an iterable of ``(rally number, strokes, finished)`` with strokes a list of
    ``(shot, hitter)`` in order; only finished rallies count."""
    total = 0.0
    decisions = skipped = 0
    per_rally = []
    for number, strokes, finished in rallies:
        if not finished:
            continue
        gift = 0.0
        shots = [s for s, _ in strokes]
        hitters = [h for _, h in strokes]
        for t, (shot, hitter) in enumerate(strokes):
            if hitter != advisor.player:
                continue
            reply = next((s for s, h in strokes[t + 1:] if h != hitter), None)
            if reply is None:
                continue
            state = next_state(advisor.sport, shots[:t], hitters[:t], hitter)
            sg = advisor.games.get(state)
            column = advisor._groups.get(reply)
            if sg is None or shot not in sg.rows or column not in sg.columns:
                skipped += 1
                continue
            gift += float(sg.payoffs[sg.rows.index(shot), sg.columns.index(column)]) - sg.value
            decisions += 1
        total += gift
        per_rally.append((number, gift))
    return Gifts(total, decisions, skipped, tuple(per_rally))
