"""Exact minimax solution of a zero-sum matrix game by linear programming (scipy's HiGHS).

Row LP on the payoffs rescaled to [0, 1]:  max v  s.t.  Aᵀx ≥ v·1,  1ᵀx = 1,  x ≥ 0.
The column player's optimal mix y is the LP's dual (the marginals of Aᵀx ≥ v·1). The certificate recomputes,
from the returned strategies alone, the row guarantee minⱼ (xᵀA)ⱼ and the column guarantee maxᵢ (Ay)ᵢ;
their difference (the duality gap) is ≥ 0 and, for an exact solution, 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from strategist.errors import SolverError
from strategist.games.matrix_game import MatrixGame, as_game

#: Tolerance on the certificate's duality gap, relative to the payoff range.
GAP_TOL = 1e-9

#: Tighter HiGHS tolerances, used when the certificate of a solve with HiGHS's defaults does not close.
_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass(frozen=True)
class ZeroSumSolution:
    """Optimal mixed strategies, the game value and the certificate that proves them."""

    game: MatrixGame
    value: float
    row_strategy: np.ndarray
    column_strategy: np.ndarray
    row_guarantee: float       # min_j (xᵀA)_j: what the row strategy earns against any column action
    column_guarantee: float    # max_i (Ay)_i: the most the row player can earn against the column strategy
    duality_gap: float         # column_guarantee - row_guarantee, >= 0

    @property
    def row_mix(self) -> dict[str, float]:
        return self.game.mix(self.row_strategy, "row")

    @property
    def column_mix(self) -> dict[str, float]:
        return self.game.mix(self.column_strategy, "column")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: value, both strategies as label -> probability, and the certificate."""
        return {
            "value": self.value,
            "row_strategy": self.row_mix,
            "column_strategy": self.column_mix,
            "certificate": {"row_guarantee": self.row_guarantee, "column_guarantee": self.column_guarantee,
                            "duality_gap": self.duality_gap},
        }


def _normalise(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.0, None)
    return p / p.sum()


def _row_lp(a: np.ndarray, options: dict | None = None):
    """Solve max v s.t. Aᵀx ≥ v, Σx = 1 on a [0, 1]-scaled matrix; return (x, y from duals)."""
    m, n = a.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-a.T, np.ones((n, 1))])
    a_eq = np.zeros((1, m + 1))
    a_eq[0, :m] = 1.0
    bounds = [(0.0, None)] * m + [(None, None)]
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs",
                  options=options or {})
    if res.status != 0:
        raise SolverError(f"HiGHS could not solve the row player's LP: {res.message}")
    return res.x[:m], -res.ineqlin.marginals


def _column_lp(a: np.ndarray) -> np.ndarray:
    """Solve min w s.t. Ay ≤ w, Σy = 1 on a [0, 1]-scaled matrix; return y."""
    m, n = a.shape
    c = np.zeros(n + 1)
    c[-1] = 1.0
    a_ub = np.hstack([a, -np.ones((m, 1))])
    a_eq = np.zeros((1, n + 1))
    a_eq[0, :n] = 1.0
    bounds = [(0.0, None)] * n + [(None, None)]
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(m), A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs",
                  options=_HIGHS)
    if res.status != 0:
        raise SolverError(f"HiGHS could not solve the column player's LP: {res.message}")
    return res.x[:n]


def certificate(payoffs: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(row guarantee minⱼ(xᵀA)ⱼ, column guarantee maxᵢ(Ay)ᵢ, their gap) for strategies x, y."""
    row_guarantee = float((x @ payoffs).min())
    column_guarantee = float((payoffs @ y).max())
    return row_guarantee, column_guarantee, column_guarantee - row_guarantee


def solve_zero_sum(game: Any, *, tol: float = GAP_TOL) -> ZeroSumSolution:
    """Minimax strategies and value of the zero-sum (or constant-sum) game ``game``.

    ``game`` is a :class:`MatrixGame` or anything :func:`as_game` accepts. Payoffs are rescaled to [0, 1]
    internally, so ``tol`` (on the certificate's duality gap) is relative to the payoff range. A constant
    matrix has value equal to its entry and every strategy optimal; the uniform mixes are returned.
    Raises :class:`SolverError` if HiGHS fails or the certificate does not verify.
    """
    game = as_game(game)
    scale = game.unit()
    a = scale.unit
    m, n = a.shape
    if scale.constant:
        x, y = np.full(m, 1.0 / m), np.full(n, 1.0 / n)
    else:
        for options in (None, _HIGHS):
            x, y = _row_lp(a, options)
            x = _normalise(x)
            if not np.isfinite(y).all() or y.sum() <= 0:
                y = _column_lp(a)
            y = _normalise(y)
            if certificate(a, x, y)[2] <= tol:
                break
        else:
            y = _normalise(_column_lp(a))
    lo_s, hi_s, gap_s = certificate(a, x, y)
    if gap_s > tol:
        raise SolverError(f"zero-sum solution failed its certificate: duality gap {gap_s:.3g} (relative to the "
                          f"payoff range) exceeds {tol:.1g}")
    # the certificate in the payoffs' own units, computed on payoffs / max|A| so that entries near ±1e308
    # cannot overflow the sums
    row_guarantee, column_guarantee, gap = (scale.size * v for v in
                                            certificate(game.payoffs / scale.size, x, y))
    value = scale.to_units(0.5 * (lo_s + hi_s))
    return ZeroSumSolution(game, float(value), x, y, float(row_guarantee), float(column_guarantee),
                           max(float(gap), 0.0))
