"""strategist: what to play in a racket-sport rally.

Top-level names are loaded lazily, so ``import strategist.optim`` pulls in nothing else of the package.
"""

from __future__ import annotations

from strategist._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    # errors
    "StrategistError": "strategist.errors",
    # games
    "MatrixGame": "strategist.games.matrix_game",
    "solve_zero_sum": "strategist.games.zero_sum",
    "ZeroSumSolution": "strategist.games.zero_sum",
    "solve_zero_sum_batch": "strategist.games.batch",
    "BatchSolution": "strategist.games.batch",
    "solve_stochastic_game": "strategist.games.stochastic",
    "evaluate_policies": "strategist.games.stochastic",
    "StochasticGameSolution": "strategist.games.stochastic",
    "equilibria": "strategist.games.general_sum",
    "best_response": "strategist.games.responses",
    "exploitability": "strategist.games.responses",
    "safe_exploit": "strategist.games.safe_exploit",
    "restricted_nash_response": "strategist.games.safe_exploit",
    "exploitation_frontier": "strategist.games.safe_exploit",
    # data
    "load_rallies": "strategist.data.load",
    "LoadResult": "strategist.data.load",
    "get_sport": "strategist.sports",
    # post-match reports
    "build_report": "strategist.report",
    # estimation
    "estimate_payoff": "strategist.estimation",
    "bootstrap_payoff": "strategist.estimation",
    "walker_wooders": "strategist.estimation",
    # the rally game
    "rally_game": "strategist.rally.game",
    "RallyGame": "strategist.rally.game",
    "play_out": "strategist.rally.playout",
    "practise": "strategist.rally.practice",
    # advice
    "Advisor": "strategist.advice.advisor",
    "Advice": "strategist.advice.advisor",
    "MatchLog": "strategist.matchlog",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = sorted(_EXPORTS)
