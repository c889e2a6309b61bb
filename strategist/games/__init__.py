"""Two-player games of a rally decision: the matrix game, exact solvers, responses and safe exploitation."""

from strategist.games.batch import BatchSolution, solve_zero_sum_batch
from strategist.games.general_sum import DegenerateGameWarning, Equilibrium, equilibria
from strategist.games.matrix_game import MatrixGame, as_game
from strategist.games.responses import BestResponse, best_response, exploitability, is_equilibrium
from strategist.games.safe_exploit import (SafeExploitation, exploitation_frontier, restricted_nash_response,
                                           safe_exploit)
from strategist.games.stochastic import (StochasticGameSolution, StrategyIterationWarning, evaluate_policies,
                                         solve_stochastic_game)
from strategist.games.zero_sum import ZeroSumSolution, solve_zero_sum

__all__ = [
    "BatchSolution", "BestResponse", "DegenerateGameWarning", "Equilibrium", "MatrixGame", "SafeExploitation",
    "StochasticGameSolution", "StrategyIterationWarning", "ZeroSumSolution", "as_game", "best_response",
    "equilibria", "evaluate_policies", "exploitability", "exploitation_frontier", "is_equilibrium",
    "restricted_nash_response", "safe_exploit", "solve_stochastic_game", "solve_zero_sum", "solve_zero_sum_batch",
]
