"""Best responses, exploitability and a tolerance-aware equilibrium check.

Against a column mix q the row player's expected payoffs are A q; the best responses are every action within
``tol`` (relative to the payoff range) of max(A q). The exploitability of a row strategy x is how much a
best-responding opponent takes from it below the game value: v − minⱼ (xᵀA)ⱼ ≥ 0 (0 iff x is optimal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from strategist.games.matrix_game import MatrixGame, as_game, as_strategy, check_player
from strategist.games.zero_sum import check_tolerance, solve_zero_sum

#: Relative tolerance (fraction of the payoff range) below which two payoffs count as tied.
TIE_TOL = 1e-9


@dataclass(frozen=True)
class BestResponse:
    """All tied best actions of one player against a fixed opponent mix, and what they earn."""

    player: str                    # "row" or "column"
    actions: tuple[str, ...]       # labels of every best action (ties included)
    indices: tuple[int, ...]
    payoff: float                  # the row player's expected payoff when a best action is played
    action_payoffs: dict[str, float]   # the row player's expected payoff of each of this player's actions


def best_response(game: Any, opponent_mix: Any, *, player: str = "row", tol: float = TIE_TOL) -> BestResponse:
    """Best responses of ``player`` to ``opponent_mix`` (the other player's mix, vector or label mapping).

    For the row player: argmaxᵢ (A q)ᵢ; for the column player (who minimises the row payoff): argminⱼ (pᵀA)ⱼ.
    """
    tol = check_tolerance(tol, zero=True)
    game = as_game(game)
    other = "column" if check_player(player) == "row" else "row"
    mix = as_strategy(game, opponent_mix, other, what="opponent mix")
    _, span = game.scale()
    if player == "row":
        payoffs = game.payoffs @ mix
        best_value = payoffs.max()
        idx = np.flatnonzero(payoffs >= best_value - tol * span)
        labels = game.row_labels
    else:
        payoffs = mix @ game.payoffs
        best_value = payoffs.min()
        idx = np.flatnonzero(payoffs <= best_value + tol * span)
        labels = game.column_labels
    return BestResponse(player, tuple(labels[i] for i in idx), tuple(int(i) for i in idx), float(best_value),
                        {label: float(v) for label, v in zip(labels, payoffs)})


def guarantee(game: MatrixGame, strategy: np.ndarray, player: str = "row") -> float:
    """Worst-case payoff of a strategy: minⱼ (xᵀA)ⱼ for the row player, maxᵢ (A y)ᵢ for the column player."""
    check_player(player)
    if player == "row":
        return float((strategy @ game.payoffs).min())
    return float((game.payoffs @ strategy).max())


def exploitability(game: Any, strategy: Any, *, player: str = "row") -> float:
    """What a best-responding opponent gains against ``strategy`` relative to the game value (≥ 0).

    Row strategy x: v − minⱼ (xᵀA)ⱼ. Column strategy y: maxᵢ (A y)ᵢ − v. In the units of the payoffs.
    """
    game = as_game(game)
    vec = as_strategy(game, strategy, check_player(player))
    value = solve_zero_sum(game).value
    gain = value - guarantee(game, vec, "row") if player == "row" else guarantee(game, vec, "column") - value
    return max(float(gain), 0.0)


def is_equilibrium(game: Any, row_strategy: Any, column_strategy: Any, *, tol: float = TIE_TOL) -> bool:
    """True when each strategy is a best response to the other within ``tol`` × payoff range.

    Unlike an exact float comparison, this accepts solutions that are correct up to rounding.
    """
    tol = check_tolerance(tol, zero=True)
    game = as_game(game)
    x = as_strategy(game, row_strategy, "row")
    y = as_strategy(game, column_strategy, "column")
    _, span = game.scale()
    expected = float(x @ game.payoffs @ y)
    return bool((game.payoffs @ y).max() <= expected + tol * span and
                (x @ game.payoffs).min() >= expected - tol * span)
