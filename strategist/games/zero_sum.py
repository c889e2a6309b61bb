"""Exact minimax solution of a zero-sum matrix game by linear programming (scipy's HiGHS).

Row LP on the payoffs rescaled to [0, 1]:  max v  s.t.  Aᵀx ≥ v·1,  1ᵀx = 1,  x ≥ 0.
The column player's optimal mix y is the LP's dual (the marginals of Aᵀx ≥ v·1). The certificate recomputes,
from the returned strategies alone, the row guarantee minⱼ (xᵀA)ⱼ and the column guarantee maxᵢ (Ay)ᵢ;
their difference (the duality gap) is ≥ 0 and, for an exact solution, 0.

Limits. The LP resolves payoffs to ``tol`` (1e-9) of their range. Where the entries span more than that —
an entry of 1e308 beside entries of 2, 3 and 4 — its answer can be far off for the payoffs that decide the
value (it said 3 for a value of 4). So an LP answer is returned only when its duality gap, in the payoffs'
own units, is within :data:`RESOLUTION` (1e-6) of the payoffs near the value (:func:`near_scale`); otherwise a
game of at most :data:`~strategist.games.exact.MAX_KERNELS` kernels (e.g. 6 × 6) is solved exactly in
rational arithmetic (:mod:`strategist.games.exact`), a larger one gets its pure security strategies when they
certify it as well (lo = maxᵢ minⱼ aᵢⱼ and hi = minⱼ maxᵢ aᵢⱼ within that gap), and is refused otherwise
(:class:`~strategist.errors.InvalidGameError`, one line). A game of more than :data:`MAX_CELLS` payoffs (250,000, e.g.
500 × 500: about 4 s) is refused before any work (:class:`~strategist.errors.ComputationLimitError`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategist.errors import ComputationLimitError, InvalidGameError, SolverError
from strategist.games.exact import exact_guarantees, solve_exact
from strategist.games.matrix_game import MatrixGame, StrategyMixes, as_game, check_tolerance

#: Tolerance on the certificate's duality gap, relative to the payoff range.
GAP_TOL = 1e-9

#: Most payoff cells (m × n) one game may have; a larger game is refused before any work.
MAX_CELLS = 250_000

#: Widest duality gap accepted from the LP, as a fraction of the payoffs near the value (:func:`near_scale`).
RESOLUTION = 1e-6

#: Tighter HiGHS tolerances, used when the certificate of a solve with HiGHS's defaults does not close.
_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


class SolverFallbackWarning(UserWarning):
    """The row LP's duals did not give the column strategy; a second LP (the column player's) did."""


@dataclass(frozen=True)
class ZeroSumSolution(StrategyMixes):
    """Optimal mixed strategies, the game value and the certificate that proves them.

    ``method`` says how the strategies were found: ``"row LP"`` (x from the LP, y from its duals),
    ``"column LP"`` (y from a second LP: the duals were unusable), ``"exact"`` (rational arithmetic),
    ``"pure"`` (the pure security strategies) or ``"constant"`` (every strategy is optimal).
    """

    game: MatrixGame
    value: float
    row_strategy: np.ndarray
    column_strategy: np.ndarray
    row_guarantee: float       # min_j (xᵀA)_j: what the row strategy earns against any column action
    column_guarantee: float    # max_i (Ay)_i: the most the row player can earn against the column strategy
    duality_gap: float         # column_guarantee - row_guarantee, >= 0
    method: str = "row LP"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: value, both strategies as label -> probability, the certificate and the method."""
        return {
            "value": self.value,
            "row_strategy": self.row_mix,
            "column_strategy": self.column_mix,
            "certificate": {"row_guarantee": self.row_guarantee, "column_guarantee": self.column_guarantee,
                            "duality_gap": self.duality_gap},
            "method": self.method,
        }


def linprog(*args, **kwargs):
    """:func:`scipy.optimize.linprog`, imported on first use: scipy.optimize takes a tenth of a second to import,
    and most games (saddle points, the batch solver's kernels) never reach an LP."""
    from scipy.optimize import linprog as highs_linprog

    return highs_linprog(*args, **kwargs)


def check_size(m: int, n: int) -> None:
    """Refuse a game of more than :data:`MAX_CELLS` payoffs before any work."""
    if m * n > MAX_CELLS:
        raise ComputationLimitError(f"a {m} x {n} game has {m * n:,} payoffs, over the limit of {MAX_CELLS:,} "
                                    "(strategist.games.zero_sum.MAX_CELLS; a 500 x 500 game takes about 4 s)")


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


def _lp_strategies(a: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, str]:
    """x from the row LP and y from its duals (HiGHS's defaults, then tighter tolerances while the certificate
    does not close); the column player's own LP where the duals are unusable (method ``"column LP"``)."""
    method = "row LP"
    for options in (None, _HIGHS):
        x, y = _row_lp(a, options)
        x = _normalise(x)
        if not np.isfinite(y).all() or y.sum() <= 0 or (y < -1e-7 * max(1.0, float(np.abs(y).max()))).any():
            y, method = _column_lp(a), "column LP"
        y = _normalise(y)
        if certificate(a, x, y)[2] <= tol:
            break
    else:
        y, method = _normalise(_column_lp(a)), "column LP"
    return x, y, method


def _pure_pair(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pure security strategies: the row whose worst payoff is largest, the column whose best is smallest."""
    m, n = unit.shape
    return np.eye(m)[int(unit.min(axis=1).argmax())], np.eye(n)[int(unit.max(axis=0).argmin())]


def near_scale(payoffs: np.ndarray) -> float:
    """The size of the payoffs near the value: the largest of |lo|, |hi| (the pure security levels) and the
    median |payoff|. An answer is judged against it, not against the range an outlier may stretch."""
    lo, hi = float(payoffs.min(axis=1).max()), float(payoffs.max(axis=0).min())
    return max(abs(lo), abs(hi), float(np.median(np.abs(payoffs))))


def allowed_gap(near):
    """The widest duality gap accepted from the LP: :data:`RESOLUTION` of the payoffs near the value (plus a
    few of the smallest subnormals, for rounding at the bottom of the float range)."""
    return RESOLUTION * near + 2e-323


def _resolved(game: MatrixGame, size: float, x, y, method: str):
    """The LP's pair if its certificate, in the payoffs' own units, is within :func:`allowed_gap`; else the pure
    pair (a saddle point), an exact pair (small games), the pure pair again when lo and hi agree within the
    allowed gap, or a refusal. Returns (x, y, method, exact guarantees or None)."""
    unit = game.payoffs / size
    lo, hi = float(unit.min(axis=1).max()), float(unit.max(axis=0).min())
    allowed = allowed_gap(near_scale(unit))
    if certificate(unit, x, y)[2] <= allowed:
        return x, y, method, None
    if hi - lo <= 1e-12 * near_scale(unit) + 2e-323:
        px, py = _pure_pair(unit)
        return px, py, "pure", None
    exact = solve_exact(game.payoffs)
    if exact is not None:
        ex, ey, _ = exact
        return ex, ey, "exact", exact_guarantees(game.payoffs, ex, ey)
    if hi - lo <= allowed:
        px, py = _pure_pair(unit)
        return px, py, "pure", None
    raise InvalidGameError(
        f"payoffs span more than the solver can certify: entries from {float(game.payoffs.min()):.6g} to "
        f"{float(game.payoffs.max()):.6g}, while the value lies between {lo * size:.6g} and {hi * size:.6g} "
        f"(an LP resolves about 1e-9 of the range); rescale or cap the extreme payoffs")


def solve_zero_sum(game: Any, *, tol: float = GAP_TOL) -> ZeroSumSolution:
    """Minimax strategies and value of the zero-sum (or constant-sum) game ``game``.

    ``game`` is a :class:`MatrixGame` or anything :func:`as_game` accepts. Payoffs are rescaled to [0, 1]
    internally, so ``tol`` (on the certificate's duality gap, a number in (0, 1)) is relative to the payoff
    range. A constant matrix has value equal to its entry and every strategy optimal; the uniform mixes are
    returned. Payoffs spanning more than the LP resolves, and games over :data:`MAX_CELLS` payoffs, are handled
    as the module docstring says. Raises :class:`SolverError` if HiGHS fails or the certificate does not verify.
    """
    tol = check_tolerance(tol)
    game = as_game(game)
    check_size(*game.shape)
    scale = game.unit()
    a = scale.unit
    m, n = a.shape
    if scale.constant:
        x, y, method = np.full(m, 1.0 / m), np.full(n, 1.0 / n), "constant"
    else:
        x, y, method = _lp_strategies(a, tol)
    lo_s, hi_s, gap_s = certificate(a, x, y)
    if gap_s > tol:
        raise SolverError(f"zero-sum solution failed its certificate: duality gap {gap_s:.3g} (relative to the "
                          f"payoff range) exceeds {tol:.1g}")
    if method == "column LP":
        warnings.warn("the row LP's duals did not give an optimal column strategy; the column player's LP was "
                      "solved instead (method 'column LP')", SolverFallbackWarning, stacklevel=2)
    x, y, method, exact = _resolved(game, scale.size, x, y, method) if not scale.constant else (x, y, method, None)
    if exact is not None:  # guarantees of the returned floats, computed without rounding
        row_guarantee, column_guarantee = float(exact[0]), float(exact[1])
        gap, value = float(exact[1] - exact[0]), float((exact[0] + exact[1]) / 2)
    else:
        # the certificate in the payoffs' own units, computed on payoffs / max|A| so that entries near ±1e308
        # cannot overflow the sums
        row_guarantee, column_guarantee, gap = (scale.size * v for v in
                                                certificate(game.payoffs / scale.size, x, y))
        lo_s, hi_s, _ = certificate(a, x, y)
        value = scale.to_units(0.5 * (lo_s + hi_s))
    return ZeroSumSolution(game, float(value), x, y, float(row_guarantee), float(column_guarantee),
                           max(float(gap), 0.0), method)
