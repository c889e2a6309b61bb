"""Exact solution of many small zero-sum games at once.

By the Shapley–Snow theorem every matrix game has an optimal pair supported on a square kernel M of A
whose bordered system is non-singular:  [Mᵀ −1; 1ᵀ 0]·[x; v] = [0; 1]  and  [M −1; 1ᵀ 0]·[y; v] = [0; 1].
We enumerate kernels by size (1×1 saddle points first), solve each kernel's two bordered systems for every
still-unsolved game with one batched ``numpy.linalg.solve``, and accept a game's candidate as soon as its
certificate (row and column guarantees on the *full* matrix) closes to the tolerance. Games are processed in
chunks so memory stays flat in the batch size; any game no kernel certifies (or shapes with too many kernels)
is solved by the LP of :func:`strategist.games.zero_sum.solve_zero_sum`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Any, Callable

import numpy as np

from strategist.errors import InvalidGameError
from strategist.games.zero_sum import GAP_TOL, solve_zero_sum

#: Above this many kernel pairs per game, enumeration is slower than the LP; use the LP loop instead.
MAX_KERNELS = 5000
#: Games per chunk: bounds peak memory independently of the batch size.
CHUNK = 8192


@dataclass(frozen=True)
class BatchSolution:
    """Zero-sum solutions of a batch: the names of :class:`ZeroSumSolution` with a leading batch axis."""

    value: np.ndarray              # (B,)
    row_strategy: np.ndarray       # (B, m)
    column_strategy: np.ndarray    # (B, n)
    row_guarantee: np.ndarray      # (B,)
    column_guarantee: np.ndarray   # (B,)
    duality_gap: np.ndarray        # (B,)
    lp_fallbacks: int              # games solved by the LP instead of kernel enumeration

    def __len__(self) -> int:
        return self.value.shape[0]


def _as_batch(payoffs: Any) -> np.ndarray:
    try:
        raw = np.asarray(payoffs)
    except (TypeError, ValueError) as exc:
        raise InvalidGameError(f"payoffs: expected a numeric array of shape (B, m, n) ({exc})") from None
    if raw.dtype.kind == "b":
        raise InvalidGameError(f"payoffs: got an array of booleans (shape {raw.shape}); expected numbers (convert "
                               "with .astype(float) if 0/1 payoffs are meant)")
    if raw.dtype.kind not in "iuf":
        raise InvalidGameError(f"payoffs: expected a numeric array of shape (B, m, n), got an array of {raw.dtype} "
                               f"(shape {raw.shape}): text and objects are not payoffs")
    arr = raw.astype(np.float64)
    if arr.ndim != 3:
        raise InvalidGameError(f"payoffs: expected shape (B, m, n), got an array with shape {arr.shape}")
    if 0 in arr.shape[1:]:
        raise InvalidGameError(f"payoffs: games are empty (shape {arr.shape}); expected m, n >= 1")
    bad = ~np.isfinite(arr)
    if bad.any():
        b, i, j = (int(k) for k in np.argwhere(bad)[0])
        raise InvalidGameError(f"payoffs: game {b}, cell ({i}, {j}) is {arr[b, i, j]}; expected a finite number")
    return arr


def kernel_count(m: int, n: int) -> int:
    """Number of square kernels (row subset, column subset of equal size) of an m × n matrix."""
    return sum(comb(m, k) * comb(n, k) for k in range(1, min(m, n) + 1))


def _bordered(sub: np.ndarray) -> np.ndarray:
    """Stack of bordered matrices [[S, −1], [1ᵀ, 0]] for S of shape (G, k, k)."""
    g, k, _ = sub.shape
    out = np.zeros((g, k + 1, k + 1))
    out[:, :k, :k] = sub
    out[:, :k, k] = -1.0
    out[:, k, :k] = 1.0
    return out


def _solve_chunk(a: np.ndarray, tol: float):
    """Kernel enumeration on a chunk of [1, 2]-scaled games; returns x, y and a mask of solved games."""
    bsz, m, n = a.shape
    x = np.zeros((bsz, m))
    y = np.zeros((bsz, n))
    # 1x1 kernels: pure saddle points.
    row_min, col_max = a.min(axis=2), a.max(axis=1)
    i_star, j_star = row_min.argmax(axis=1), col_max.argmin(axis=1)
    solved = col_max.min(axis=1) - row_min.max(axis=1) <= tol
    idx = np.flatnonzero(solved)
    x[idx, i_star[idx]] = 1.0
    y[idx, j_star[idx]] = 1.0
    for k in range(2, min(m, n) + 1):
        for rows in combinations(range(m), k):
            for cols in combinations(range(n), k):
                todo = np.flatnonzero(~solved)
                if todo.size == 0:
                    return x, y, solved
                sub = a[np.ix_(todo, rows, cols)]
                systems = np.concatenate([_bordered(sub.transpose(0, 2, 1)), _bordered(sub)])
                det = np.linalg.det(systems)
                ok = np.abs(det) > 1e-12
                systems[~ok] = np.eye(k + 1)
                rhs = np.zeros((systems.shape[0], k + 1, 1))
                rhs[:, k, 0] = 1.0
                sol = np.linalg.solve(systems, rhs)[..., 0]
                g = todo.size
                xs, ys = sol[:g, :k], sol[g:, :k]
                ok = ok[:g] & ok[g:] & (xs >= -tol).all(axis=1) & (ys >= -tol).all(axis=1)
                if not ok.any():
                    continue
                cand = todo[ok]
                xf = np.zeros((cand.size, m))
                yf = np.zeros((cand.size, n))
                xf[:, rows] = np.clip(xs[ok], 0.0, None)
                yf[:, cols] = np.clip(ys[ok], 0.0, None)
                xf /= xf.sum(axis=1, keepdims=True)
                yf /= yf.sum(axis=1, keepdims=True)
                full = a[cand]
                gap = np.einsum("gij,gj->gi", full, yf).max(axis=1) - np.einsum("gi,gij->gj", xf, full).min(axis=1)
                good = gap <= tol
                hit = cand[good]
                x[hit], y[hit] = xf[good], yf[good]
                solved[hit] = True
    return x, y, solved


def solve_zero_sum_batch(payoffs: Any, *, tol: float = GAP_TOL, chunk: int = CHUNK,
                         progress: Callable[[int, int], None] | None = None) -> BatchSolution:
    """Solve every zero-sum game in ``payoffs`` (shape (B, m, n)) exactly.

    Each game is rescaled to [1, 2] (so ``tol`` is relative to its payoff range, and kernels of a positive
    matrix have non-zero value); results are reported in the original units. ``progress(done, total)`` is
    called after each chunk. Agrees with :func:`solve_zero_sum` to ``tol`` in value; where a game has several
    optimal strategies, any optimal pair may be returned.
    """
    arr = _as_batch(payoffs)
    bsz, m, n = arr.shape
    value = np.empty(bsz)
    x_all, y_all = np.empty((bsz, m)), np.empty((bsz, n))
    fallbacks = 0
    use_kernels = kernel_count(m, n) <= MAX_KERNELS
    for start in range(0, bsz, max(1, chunk)):
        block = arr[start:start + chunk]
        # divide by max|A| first: the range of payoffs near ±1e308 overflows
        size = np.abs(block).max(axis=(1, 2))
        size = np.where(size > 0, size, 1.0)
        shrunk = block / size[:, None, None]
        low = shrunk.min(axis=(1, 2))
        span = shrunk.max(axis=(1, 2)) - low
        constant = span == 0
        span = np.where(constant, 1.0, span)
        scaled = (shrunk - low[:, None, None]) / span[:, None, None] + 1.0
        if use_kernels:
            x, y, solved = _solve_chunk(scaled, tol)
        else:
            x, y, solved = np.zeros((len(block), m)), np.zeros((len(block), n)), np.zeros(len(block), bool)
        x[constant], y[constant] = 1.0 / m, 1.0 / n
        solved |= constant
        for b in np.flatnonzero(~solved):
            sol = solve_zero_sum(scaled[b], tol=tol)
            x[b], y[b] = sol.row_strategy, sol.column_strategy
            fallbacks += 1
        x_all[start:start + chunk], y_all[start:start + chunk] = x, y
        lo_s = np.einsum("bi,bij->bj", x, scaled).min(axis=1)
        hi_s = np.einsum("bij,bj->bi", scaled, y).max(axis=1)
        value[start:start + chunk] = (low + span * (0.5 * (lo_s + hi_s) - 1.0)) * size
        if progress is not None:
            progress(min(start + chunk, bsz), bsz)
    size = np.abs(arr).max(axis=(1, 2))
    size = np.where(size > 0, size, 1.0)
    shrunk = arr / size[:, None, None]
    row_guarantee = np.einsum("bi,bij->bj", x_all, shrunk).min(axis=1)
    column_guarantee = np.einsum("bij,bj->bi", shrunk, y_all).max(axis=1)
    gap = np.maximum(column_guarantee - row_guarantee, 0.0) * size
    row_guarantee, column_guarantee = row_guarantee * size, column_guarantee * size
    return BatchSolution(value, x_all, y_all, row_guarantee, column_guarantee, gap, fallbacks)
