"""Two-player games of a rally decision: the matrix game, exact solvers, responses and safe exploitation.

Names are loaded lazily, so importing one solver does not import the others (nor nashpy).
"""

from __future__ import annotations

import importlib

from strategist._lazy import lazy_exports

_EXPORTS = {
    "BatchSolution": "batch", "solve_zero_sum_batch": "batch",
    "DegenerateGameWarning": "general_sum", "Equilibrium": "general_sum", "FallbackWarning": "general_sum",
    "equilibria": "general_sum",
    "MatrixGame": "matrix_game", "as_game": "matrix_game", "MDPSolution": "mdp", "solve_mdp": "mdp",
    "BestResponse": "responses", "best_response": "responses", "exploitability": "responses",
    "is_equilibrium": "responses",
    "SafeExploitation": "safe_exploit", "exploitation_frontier": "safe_exploit",
    "restricted_nash_response": "safe_exploit", "safe_exploit": "safe_exploit",
    "StochasticGameSolution": "stochastic", "StrategyIterationWarning": "stochastic",
    "evaluate_policies": "stochastic", "solve_stochastic_game": "stochastic",
    "SolverFallbackWarning": "zero_sum", "ZeroSumSolution": "zero_sum", "solve_zero_sum": "zero_sum",
}


# The module safe_exploit shares its name with its function: importing the module sets the package's
# attribute to the module, so the function is bound here once, explicitly.
safe_exploit = importlib.import_module("strategist.games.safe_exploit").safe_exploit


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = sorted(_EXPORTS)
