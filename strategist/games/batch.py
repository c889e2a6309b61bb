"""Exact solution of many small zero-sum games at once.

By the Shapley–Snow theorem every matrix game has an optimal pair supported on a square kernel M of A
whose bordered system is non-singular:  [Mᵀ −1; 1ᵀ 0]·[x; v] = [0; 1]  and  [M −1; 1ᵀ 0]·[y; v] = [0; 1].
We enumerate kernels by size (1×1 saddle points first), solve each kernel's two bordered systems for every
still-unsolved game with one batched ``numpy.linalg.solve``, and accept a game's candidate as soon as its
certificate (row and column guarantees on the *full* matrix) closes to the tolerance. Games are processed in
chunks so memory stays flat in the batch size; any game no kernel certifies (or shapes with too many kernels)
is solved by the LP of :func:`strategist.games.zero_sum.solve_zero_sum`, and so is any game whose certificate,
in its own units, is wider than the solver accepts (payoffs spanning more than the rescaled solve resolves:
see :mod:`strategist.games.zero_sum`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Callable

import numpy as np

from strategist.errors import ComputationLimitError, InvalidGameError
from strategist.games.exact import kernel_count
from strategist.games.zero_sum import GAP_TOL, allowed_gap, check_size, check_tolerance, solve_zero_sum

#: Above this many kernel pairs per game, enumeration is slower than the LP; use the LP loop instead.
MAX_KERNELS = 5000
#: Games per chunk: bounds peak memory independently of the batch size.
CHUNK = 8192
#: Most payoffs (B × m × n) one batch may hold (160 MB of float64; the solve holds a few copies of a chunk).
MAX_BATCH_CELLS = 20_000_000


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


def _solve_block(block: np.ndarray, tol: float, use_kernels: bool):
    """x, y and values of one chunk of games, and how many went to the LP."""
    bsz, m, n = block.shape
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
        x, y, solved = np.zeros((bsz, m)), np.zeros((bsz, n)), np.zeros(bsz, bool)
    x[constant], y[constant] = 1.0 / m, 1.0 / n
    solved |= constant
    todo = np.flatnonzero(~solved)
    for b in todo:
        sol = solve_zero_sum(scaled[b], tol=tol)
        x[b], y[b] = sol.row_strategy, sol.column_strategy
    lo_s = np.einsum("bi,bij->bj", x, scaled).min(axis=1)
    hi_s = np.einsum("bij,bj->bi", scaled, y).max(axis=1)
    return x, y, (low + span * (0.5 * (lo_s + hi_s) - 1.0)) * size, len(todo)


def _certificates(arr: np.ndarray, x: np.ndarray, y: np.ndarray):
    """Per game: row and column guarantees on payoffs / max|A| (nothing overflows), max|A|, and whether the gap
    is wider than :func:`~strategist.games.zero_sum.allowed_gap` of the payoffs near the value."""
    size = np.abs(arr).max(axis=(1, 2))
    size = np.where(size > 0, size, 1.0)
    shrunk = arr / size[:, None, None]
    row = np.einsum("bi,bij->bj", x, shrunk).min(axis=1)
    column = np.einsum("bij,bj->bi", shrunk, y).max(axis=1)
    lo, hi = shrunk.min(axis=2).max(axis=1), shrunk.max(axis=1).min(axis=1)
    near = np.maximum(np.maximum(np.abs(lo), np.abs(hi)), np.median(np.abs(shrunk), axis=(1, 2)))
    return row, column, size, column - row > allowed_gap(near)


def _check_arguments(arr: np.ndarray, tol: Any, chunk: Any, progress: Any) -> float:
    tol = check_tolerance(tol)
    if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1:
        raise InvalidGameError(f"chunk: got {chunk!r}; expected a whole number of games >= 1")
    if progress is not None and not callable(progress):
        raise InvalidGameError(f"progress: got {progress!r}; expected a function progress(done, total) or None")
    if arr.size > MAX_BATCH_CELLS:
        raise ComputationLimitError(f"a batch of {arr.shape[0]:,} games of {arr.shape[1]} x {arr.shape[2]} has "
                                    f"{arr.size:,} payoffs, over the limit of {MAX_BATCH_CELLS:,} "
                                    "(strategist.games.batch.MAX_BATCH_CELLS); solve it in parts")
    check_size(*arr.shape[1:])
    return tol


def solve_zero_sum_batch(payoffs: Any, *, tol: float = GAP_TOL, chunk: int = CHUNK,
                         progress: Callable[[int, int], None] | None = None) -> BatchSolution:
    """Solve every zero-sum game in ``payoffs`` (shape (B, m, n)) exactly.

    Each game is rescaled to [1, 2] (so ``tol``, a number in (0, 1), is relative to its payoff range, and
    kernels of a positive matrix have non-zero value); results are reported in the original units.
    ``chunk`` (a whole number >= 1) games are solved at a time; ``progress(done, total)`` is called after each
    chunk. Agrees with :func:`solve_zero_sum` to ``tol`` in value; where a game has several optimal strategies,
    any optimal pair may be returned. A game whose payoffs span more than the rescaled solve resolves is solved
    by :func:`solve_zero_sum` on its own payoffs (which may refuse it, naming the game); a batch of more than
    :data:`MAX_BATCH_CELLS` payoffs, or games over :data:`~strategist.games.zero_sum.MAX_CELLS`, are refused.
    """
    arr = _as_batch(payoffs)
    tol = _check_arguments(arr, tol, chunk, progress)
    bsz, m, n = arr.shape
    if bsz == 0:
        empty = np.empty(0)
        return BatchSolution(empty, np.empty((0, m)), np.empty((0, n)), empty, empty.copy(), empty.copy(), 0)
    value = np.empty(bsz)
    x_all, y_all = np.empty((bsz, m)), np.empty((bsz, n))
    fallbacks = 0
    use_kernels = kernel_count(m, n) <= MAX_KERNELS
    for start in range(0, bsz, chunk):
        stop = min(start + chunk, bsz)
        x_all[start:stop], y_all[start:stop], value[start:stop], lp = _solve_block(arr[start:stop], tol, use_kernels)
        fallbacks += lp
        if progress is not None:
            progress(stop, bsz)
    row_guarantee, column_guarantee, size, unresolved = _certificates(arr, x_all, y_all)
    for b in np.flatnonzero(unresolved):
        try:
            sol = solve_zero_sum(arr[b], tol=tol)
        except InvalidGameError as exc:
            raise InvalidGameError(f"game {b}: {exc}") from None
        x_all[b], y_all[b], value[b] = sol.row_strategy, sol.column_strategy, sol.value
        row_guarantee[b], column_guarantee[b] = sol.row_guarantee / size[b], sol.column_guarantee / size[b]
        fallbacks += 1
    gap = np.maximum(column_guarantee - row_guarantee, 0.0) * size
    return BatchSolution(value, x_all, y_all, row_guarantee * size, column_guarantee * size, gap, fallbacks)
