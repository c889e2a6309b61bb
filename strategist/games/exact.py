"""Exact minimax strategies of a small matrix game, in rational arithmetic.

Every float is a rational number, so a game can be solved with no rounding at all: by the Shapley–Snow
theorem some optimal pair lives on a square kernel M (rows R, columns C) whose bordered systems
[Mᵀ −1; 1ᵀ 0]·[x; v] = [0; 1] and [M −1; 1ᵀ 0]·[y; v] = [0; 1] are non-singular; kernels are tried by size
and the first pair with x, y ≥ 0 whose guarantees on the *whole* matrix meet (minⱼ (xᵀA)ⱼ = maxᵢ (Ay)ᵢ, in
exact arithmetic) is returned. Used where payoffs span more than a floating-point LP resolves (an entry of
1e308 beside entries of 2, 3, 4); the number of kernels grows fast, so only small games are solved this way.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from math import comb

import numpy as np

#: Most square kernels tried (a 6 × 6 game has 923).
MAX_KERNELS = 1000


def kernel_count(m: int, n: int) -> int:
    """Number of square kernels (row subset, column subset of equal size) of an m × n matrix."""
    return sum(comb(m, k) * comb(n, k) for k in range(1, min(m, n) + 1))


def _solve(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """Gauss–Jordan elimination in exact arithmetic; None for a singular matrix."""
    size = len(rhs)
    rows = [row[:] + [b] for row, b in zip(matrix, rhs)]
    for col in range(size):
        pivot = next((r for r in range(col, size) if rows[r][col] != 0), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [value / lead for value in rows[col]]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
    return [row[-1] for row in rows]


def _bordered(sub: list[list[Fraction]]) -> tuple[list[Fraction], Fraction] | None:
    """Weights w ≥ 0 summing to 1 with every row of ``sub`` · w equal to v, and v; None if none such."""
    k = len(sub)
    matrix = [row + [Fraction(-1)] for row in sub] + [[Fraction(1)] * k + [Fraction(0)]]
    solution = _solve(matrix, [Fraction(0)] * k + [Fraction(1)])
    if solution is None or any(w < 0 for w in solution[:k]):
        return None
    return solution[:k], solution[k]


def exact_guarantees(payoffs, x, y) -> tuple[Fraction, Fraction]:
    """(minⱼ (xᵀA)ⱼ, maxᵢ (Ay)ᵢ) of float strategies x, y, computed without rounding."""
    a = [[Fraction(float(v)) for v in row] for row in np.asarray(payoffs)]
    fx, fy = [Fraction(float(p)) for p in x], [Fraction(float(p)) for p in y]
    row = min(sum(fx[i] * a[i][j] for i in range(len(a))) for j in range(len(a[0])))
    column = max(sum(a[i][j] * fy[j] for j in range(len(a[0]))) for i in range(len(a)))
    return row, column


def solve_exact(payoffs: np.ndarray) -> tuple[np.ndarray, np.ndarray, Fraction] | None:
    """Optimal (x, y, value) of the game ``payoffs`` found exactly (x, y rounded to floats at the end), or None
    when the game has more than :data:`MAX_KERNELS` kernels."""
    m, n = payoffs.shape
    if kernel_count(m, n) > MAX_KERNELS:
        return None
    a = [[Fraction(float(v)) for v in row] for row in payoffs]
    for k in range(1, min(m, n) + 1):
        for rows in combinations(range(m), k):
            for cols in combinations(range(n), k):
                found = _kernel_pair(a, rows, cols)
                if found is not None:
                    return found
    return None  # pragma: no cover - some kernel always holds an optimal pair (Shapley–Snow)


def _kernel_pair(a, rows, cols):
    row_side = _bordered([[a[i][j] for i in rows] for j in cols])     # Mᵀ x = v 1
    if row_side is None:
        return None
    col_side = _bordered([[a[i][j] for j in cols] for i in rows])     # M y = v 1
    if col_side is None or col_side[1] != row_side[1]:
        return None
    m, n = len(a), len(a[0])
    x, y = [Fraction(0)] * m, [Fraction(0)] * n
    for i, w in zip(rows, row_side[0]):
        x[i] = w
    for j, w in zip(cols, col_side[0]):
        y[j] = w
    value = row_side[1]
    if min(sum(x[i] * a[i][j] for i in range(m)) for j in range(n)) < value:
        return None
    if max(sum(a[i][j] * y[j] for j in range(n)) for i in range(m)) > value:
        return None
    return np.array([float(w) for w in x]), np.array([float(w) for w in y]), value
