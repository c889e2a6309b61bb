"""Nash equilibria of general-sum bimatrix games through nashpy, with labels and a work limit.

A game is a row payoff matrix A and a column payoff matrix B (default −A: the zero-sum game, which has the
same equilibria as the constant-sum win-probability game 1 − A). (x, y) is an equilibrium when x is a best
response to y under A and y a best response to x under B; every returned pair is checked that way with a
tolerance. nashpy's algorithms are exponential in the game size, so each method's work is estimated first and
refused above ``max_work`` with a :class:`ComputationLimitError` instead of running for minutes.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Any

import numpy as np

from strategist.errors import ComputationLimitError, InvalidGameError
from strategist.games.matrix_game import (MatrixGame, StrategyMixes, UnitScale, _numeric_matrix, as_game,
                                         check_tolerance)

METHODS = ("support_enumeration", "vertex_enumeration", "lemke_howson")
_ALIASES = {"support": "support_enumeration", "vertex": "vertex_enumeration", "lh": "lemke_howson",
            "lemke-howson": "lemke_howson"}

#: Default limit on estimated work units (support pairs / candidate vertices / pivots).
MAX_WORK = 20_000


class DegenerateGameWarning(UserWarning):
    """The game is degenerate: equilibria may form continua and nashpy's output may be incomplete."""


class FallbackWarning(UserWarning):
    """The requested method found nothing; the equilibria returned come from another method (named in each)."""


@dataclass(frozen=True)
class Equilibrium(StrategyMixes):
    """A Nash equilibrium with both players' expected payoffs."""

    game: MatrixGame
    row_strategy: np.ndarray
    column_strategy: np.ndarray
    row_payoff: float
    column_payoff: float
    method: str = "support_enumeration"   # the method that found this equilibrium


def estimated_work(m: int, n: int, method: str, non_degenerate: bool = True) -> int:
    """Work units nashpy's ``method`` needs on an m × n game (support pairs, label sets or pivot paths)."""
    method = _ALIASES.get(method, method)
    if method == "support_enumeration":
        if non_degenerate:
            return sum(comb(m, k) * comb(n, k) for k in range(1, min(m, n) + 1))
        return (2 ** m - 1) * (2 ** n - 1)
    if method == "vertex_enumeration":
        return comb(m + n, min(m, n))
    if method == "lemke_howson":
        return (m + n) * min(m, n)
    raise InvalidGameError(f"unknown method {method!r}; expected one of {list(METHODS)}")


def is_degenerate(row_payoffs: np.ndarray, column_payoffs: np.ndarray, tol: float = 1e-12) -> bool:
    """Sufficient test: some pure strategy has more than one pure best response."""
    span = max(np.ptp(row_payoffs), np.ptp(column_payoffs), 1e-300)
    a_best = row_payoffs.max(axis=0, keepdims=True)
    b_best = column_payoffs.max(axis=1, keepdims=True)
    return bool(((row_payoffs >= a_best - tol * span).sum(axis=0) > 1).any() or
                ((column_payoffs >= b_best - tol * span).sum(axis=1) > 1).any())


def _is_nash(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray, tol: float) -> bool:
    """No pure deviation gains more than ``tol`` × that player's payoff range, on the payoffs as given.

    Each matrix is divided by its max |entry| first (no overflow near ±1e308); a floor of 64 ulps of that
    size absorbs the rounding of x·A·y, so the check means the same at any scaling of either player's payoffs.
    """
    eps = 64 * np.finfo(np.float64).eps
    for payoffs, gains in ((a, lambda p: (p @ y, x @ p @ y)), (b.T, lambda p: (p @ x, x @ p.T @ y))):
        size = float(np.abs(payoffs).max())
        size = size if size > 0 else 1.0
        shrunk = payoffs / size
        span = float(shrunk.max() - shrunk.min())
        best, now = gains(shrunk)
        if not best.max() <= now + tol * span + eps:
            return False
    return True


def _indifferent_mix(payoffs: np.ndarray, tol: float) -> np.ndarray | None:
    """Mix z with payoffs @ z constant across rows and Σz = 1 (least squares if not square); None if none."""
    k_rows, k_cols = payoffs.shape
    system = np.zeros((k_rows + 1, k_cols + 1))
    system[:k_rows, :k_cols] = payoffs
    system[:k_rows, k_cols] = -1.0
    system[k_rows, :k_cols] = 1.0
    rhs = np.zeros(k_rows + 1)
    rhs[-1] = 1.0
    sol, *_ = np.linalg.lstsq(system, rhs, rcond=None)
    if np.abs(system @ sol - rhs).max() > tol * max(1.0, np.abs(payoffs).max()):
        return None
    return sol[:k_cols]


def _support_enumeration(a: np.ndarray, b: np.ndarray, equal_sizes: bool, tol: float):
    """Support enumeration with tolerances: for each support pair (I, J) solve the indifference equations.

    nashpy's ``support_enumeration`` tests signs and best responses with exact float comparisons and drops
    correct equilibria of ordinary random games, so the same equations are solved here with tolerances.
    """
    m, n = a.shape
    for size_i in range(1, m + 1):
        for rows in combinations(range(m), size_i):
            for size_j in ([size_i] if equal_sizes else range(1, n + 1)):
                if size_j > n:
                    continue
                for cols in combinations(range(n), size_j):
                    y_j = _indifferent_mix(a[np.ix_(rows, cols)], tol)
                    if y_j is None or (y_j < -tol).any():
                        continue
                    x_i = _indifferent_mix(b[np.ix_(rows, cols)].T, tol)
                    if x_i is None or (x_i < -tol).any():
                        continue
                    x, y = np.zeros(m), np.zeros(n)
                    x[list(rows)], y[list(cols)] = x_i, y_j
                    yield x, y


def equilibria(game: Any, column_payoffs: Any = None, *, method: str = "support_enumeration",
               max_work: int = MAX_WORK, tol: float = 1e-9) -> list[Equilibrium]:
    """All Nash equilibria nashpy's ``method`` finds, verified and deduplicated.

    ``method``: "support_enumeration" (default; all equilibria of a non-degenerate game),
    "vertex_enumeration" (all extreme equilibria), or "lemke_howson" (one path per initial label; fast, finds
    a subset). ``column_payoffs`` defaults to −A (zero-sum). Raises :class:`ComputationLimitError` when the
    estimated work exceeds ``max_work``; warns with :class:`DegenerateGameWarning` on degenerate games.
    """
    tol = check_tolerance(tol)
    if isinstance(max_work, bool) or not isinstance(max_work, numbers.Integral) or max_work < 1:
        raise InvalidGameError(f"max_work: got {max_work!r}; expected a whole number >= 1")
    game = as_game(game)
    a = game.payoffs
    b = -a if column_payoffs is None else _numeric_matrix(column_payoffs, "column payoffs")
    if b.shape != a.shape:
        raise InvalidGameError(f"column payoffs have shape {b.shape}; expected the row payoffs' shape {a.shape}")
    method = _ALIASES.get(method, method)
    if method not in METHODS:
        raise InvalidGameError(f"unknown method {method!r}; expected one of {list(METHODS)}")
    # every method runs on each player's payoffs rescaled to [0, 1] (equilibria are unchanged by a positive
    # affine map of either player's payoffs), so its tolerances and pivots mean the same in any units
    a_unit, b_unit = UnitScale.of(a).unit, UnitScale.of(b).unit
    degenerate = is_degenerate(a_unit, b_unit)
    m, n = a.shape
    work = estimated_work(m, n, method, non_degenerate=not degenerate)
    if work > max_work:
        raise ComputationLimitError(
            f"{method} on a {m}x{n} game needs about {work:,} work units, over the limit of {max_work:,}; use "
            "solve_zero_sum for zero-sum games, method='lemke_howson', or raise max_work")
    found = _candidates(a_unit, b_unit, method, degenerate, tol)
    out = _verified(game, a, b, found, tol, method)
    if not out and method in ("vertex_enumeration", "lemke_howson") and \
            estimated_work(m, n, "support_enumeration", not degenerate) <= max_work:
        # nashpy's pivoting and polytope methods can come back empty on degenerate games: say so, and label
        # what support enumeration finds as its own
        out = _verified(game, a, b, _support_enumeration(a_unit, b_unit, equal_sizes=not degenerate, tol=tol), tol,
                        "support_enumeration")
        if out:
            warnings.warn(f"{method} found no verified equilibrium of this {m}x{n} game; the {len(out)} "
                          "equilibria returned were found by support_enumeration (see Equilibrium.method)",
                          FallbackWarning, stacklevel=2)
    if degenerate:
        warnings.warn(f"the {m}x{n} game is degenerate (some pure strategy has several best responses): "
                      f"equilibria may form a continuum and {method} may list only some of them",
                      DegenerateGameWarning, stacklevel=2)
    if not out:
        raise ComputationLimitError(f"{method} found no verified equilibrium on this {m}x{n} game within its "
                                    "limits; try method='support_enumeration' or raise max_work")
    return out


def _candidates(a: np.ndarray, b: np.ndarray, method: str, degenerate: bool, tol: float) -> list:
    """Candidate strategy pairs from ``method`` (not yet verified); one-action games are solved directly."""
    m, n = a.shape
    if m == 1 or n == 1:
        return _one_action_equilibria(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "support_enumeration":
            return list(_support_enumeration(a, b, equal_sizes=not degenerate, tol=tol))
        if method == "vertex_enumeration":
            import nashpy

            try:
                return list(nashpy.Game(_positive(a), _positive(b)).vertex_enumeration())
            except Exception:  # nashpy/Qhull fail on flat polytopes (e.g. constant payoffs)
                return []
        pivots = 4 * (m + n) ** 2           # per path; m, n >= 2 here, so at least 64
        if m > n:
            # nashpy's tableaux end at non-equilibria on games with more rows than columns: follow the same
            # paths on the transposed game (B^T, A^T), where label k of a row is label k + n of a column, and
            # swap the strategies back
            pairs = (_lemke_howson(b.T, a.T, label + n if label < m else label - m, pivots)
                     for label in range(m + n))
            return [(y, x) for pair in pairs if pair is not None for x, y in [pair]]
        return [pair for label in range(m + n) if (pair := _lemke_howson(a, b, label, pivots)) is not None]


def _verified(game: MatrixGame, a: np.ndarray, b: np.ndarray, found, tol: float,
              method: str) -> list[Equilibrium]:
    """Keep the candidate pairs that are equilibria of (a, b) — the game as given — within ``tol``, without
    duplicates, labelled with the ``method`` that found them."""
    m, n = a.shape
    out: list[Equilibrium] = []
    for x, y in found:
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.shape != (m,) or y.shape != (n,) or not (np.isfinite(x).all() and np.isfinite(y).all()):
            continue
        if (x < -tol).any() or (y < -tol).any() or x.sum() <= 0 or y.sum() <= 0:
            continue
        x, y = np.clip(x, 0, None), np.clip(y, 0, None)
        x, y = x / x.sum(), y / y.sum()
        if not _is_nash(a, b, x, y, tol):
            continue
        if any(np.abs(e.row_strategy - x).max() <= 1e-9 and np.abs(e.column_strategy - y).max() <= 1e-9
               for e in out):
            continue
        out.append(Equilibrium(game, x, y, _expected(a, x, y), _expected(b, x, y), method))
    return out


def _expected(payoffs: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """x·A·y without overflow for entries near ±1e308 (a convex combination of the entries)."""
    size = float(np.abs(payoffs).max()) or 1.0
    return float(x @ (payoffs / size) @ y) * size


def _positive(payoffs: np.ndarray) -> np.ndarray:
    """Shift to entries >= 1: nashpy's polytopes and tableaux assume positive payoffs (equilibria unchanged)."""
    return payoffs - payoffs.min() + 1.0


def _one_action_equilibria(a: np.ndarray, b: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """A player with one action plays it; the other plays any of its best replies (pure ones listed)."""
    m, n = a.shape
    if m == 1:
        best = np.flatnonzero(b[0] >= b[0].max() - 1e-12 * max(np.ptp(b), 1.0))
        return [(np.ones(1), np.eye(n)[j]) for j in best]
    best = np.flatnonzero(a[:, 0] >= a[:, 0].max() - 1e-12 * max(np.ptp(a), 1.0))
    return [(np.eye(m)[i], np.ones(1)) for i in best]


def _lemke_howson(a: np.ndarray, b: np.ndarray, label: int, max_pivots: int):
    """nashpy's Lemke–Howson path from ``label`` on positive-shifted payoffs, stopped after ``max_pivots``.

    nashpy's own loop has no limit and cycles forever on some games; None when the path does not close.
    """
    from itertools import cycle

    from nashpy.linalg import create_col_tableau, create_row_tableau

    try:
        col_tableau = create_col_tableau(_positive(a), True)
        row_tableau = create_row_tableau(_positive(b), True)
        order = (row_tableau, col_tableau) if label in row_tableau.non_basic_variables else \
            (col_tableau, row_tableau)
        tableaux = cycle(order)
        entering = label
        for _ in range(max_pivots):
            entering = next(tableaux).pivot_and_drop_label(entering)
            if col_tableau.non_basic_variables | row_tableau.non_basic_variables == col_tableau.labels:
                return (row_tableau.to_strategy(col_tableau.non_basic_variables),
                        col_tableau.to_strategy(row_tableau.non_basic_variables))
    except Exception:  # nashpy raises assorted errors on degenerate paths; other labels may still succeed
        return None
    return None
