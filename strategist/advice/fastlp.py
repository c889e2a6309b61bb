"""The safe-exploitation LP of a small game solved by enumerating its vertices, prepared once per game.

``max_x xᵀc  s.t.  (xᵀA)ⱼ ≥ f for every column j,  x ∈ Δ`` (c = A q) attains its optimum at a vertex of
the feasible polytope. Every vertex solves a square system: the simplex equality plus k − 1 active column
constraints on a support S of k rows (k ≤ n + 1). For a fixed game those systems do not depend on q or f:
each vertex is ``x(f) = u + f·w`` with ``u``, ``w`` computed once (:class:`VertexTable`), so a call is a few
array operations — tens of microseconds instead of a linear program's milliseconds. Ties in the objective
are broken toward the larger guarantee, as :func:`strategist.games.safe_exploit` does (over the whole face of
optimal mixes: a small linear program where several vertices tie); a floor above the game's value gives the
maximin mix. Games too large to
enumerate (more than ``max_vertices`` candidate systems) use :func:`strategist.games.safe_exploit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

#: Relative tolerance (of the payoff range) on feasibility and ties.
TOL = 1e-9
#: A floor this far (relative to the payoff range) above every mix's guarantee is above the game's value by
#: rounding, and the safest vertex stands for the maximin; further above, the maximin is solved for.
ROUNDING = 1e-7


@dataclass(frozen=True)
class VertexTable:
    payoffs: np.ndarray        # (m, n)
    u: np.ndarray              # (V, m): vertex at f = 0 ...
    w: np.ndarray              # (V, m): ... and its slope in f
    ua: np.ndarray             # (V, n): column payoffs of u ...
    wa: np.ndarray             # (V, n): ... and of w
    span: float

    @classmethod
    def of(cls, payoffs, max_vertices: int = 20000) -> "VertexTable | None":
        a = np.asarray(payoffs, dtype=float)
        m, n = a.shape
        span = float(a.max() - a.min()) or 1.0
        us, ws = [], []
        count = 0
        for k in range(1, min(m, n + 1) + 1):
            supports = list(combinations(range(m), k))
            actives = list(combinations(range(n), k - 1))
            count += len(supports) * len(actives)
            if count > max_vertices:
                return None
            if not supports or not actives:
                continue
            s_idx = np.array(supports)                          # (S, k)
            for j_idx in actives:
                j_idx = list(j_idx)
                mat = np.empty((len(s_idx), k, k))
                mat[:, 0, :] = 1.0
                if k > 1:
                    # rows 1..k-1: column constraints (A_{S,j})ᵀ x_S = f
                    mat[:, 1:, :] = a[s_idx][:, :, j_idx].transpose(0, 2, 1)
                det = np.linalg.det(mat)
                ok = np.abs(det) > 1e-12 * max(span, 1.0) ** (k - 1)
                if not ok.any():
                    continue
                inv = np.linalg.inv(mat[ok])                     # (K, k, k)
                u_s = inv[:, :, 0]                               # x_S at f = 0
                w_s = inv[:, :, 1:].sum(axis=2) if k > 1 else np.zeros_like(u_s)
                u = np.zeros((ok.sum(), m))
                w = np.zeros((ok.sum(), m))
                rows = s_idx[ok]
                np.put_along_axis(u, rows, u_s, axis=1)
                np.put_along_axis(w, rows, w_s, axis=1)
                us.append(u)
                ws.append(w)
        u = np.vstack(us)
        w = np.vstack(ws)
        return cls(a, u, w, u @ a, w @ a, span)

    def solve(self, c: np.ndarray, floor: float) -> np.ndarray:
        """The maximiser of xᵀc over the simplex with every column payoff ≥ ``floor`` (ties: the safest).

        Two cases leave the vertices for a small linear program: a floor above what any mix guarantees (not
        by rounding) gives the safest mix, the game's maximin; several optimal vertices span a face of optimal
        mixes (with different column payoffs), whose safest point may lie inside it."""
        tol = TOL * self.span
        x = self.u + floor * self.w
        g = self.ua + floor * self.wa
        nonneg = (x >= -1e-10).all(axis=1)
        feasible = nonneg & (g >= floor - tol).all(axis=1)
        if not feasible.any():
            guarantee = np.where(nonneg, g.min(axis=1), -np.inf)
            best = int(np.argmax(guarantee))
            if guarantee[best] >= floor - ROUNDING * self.span:   # above the game's value by rounding only
                return _clean(x[best])
            return _maximin(self.payoffs)
        obj = np.where(feasible, x @ c, -np.inf)
        top = obj.max()
        tied = feasible & (obj >= top - tol)
        best = x[int(np.argmax(np.where(tied, g.min(axis=1), -np.inf)))]
        if np.ptp(g[tied], axis=0).max() > tol:           # tied mixes that differ column by column
            return _safest_on_face(self.payoffs, np.asarray(c, dtype=float), top - tol, best, tol)
        return _clean(best)


def _maximin(a: np.ndarray) -> np.ndarray:
    """The row player's maximin mix of ``a`` (the zero-sum solver's)."""
    from strategist.games.zero_sum import solve_zero_sum

    return _clean(np.array(solve_zero_sum(a).row_strategy, dtype=float))


def _safest_on_face(a: np.ndarray, c: np.ndarray, level: float, vertex: np.ndarray, tol: float) -> np.ndarray:
    """max_x minⱼ (xᵀA)ⱼ over the mixes with xᵀc ≥ ``level`` (the face of optimal mixes); ``vertex`` (one of
    them) when the program fails or guarantees no more than ``tol`` beyond it."""
    from scipy.optimize import linprog

    m, n = a.shape
    cost = np.r_[np.zeros(m), -1.0]                                   # variables: x, then the guarantee t
    a_ub = np.vstack([np.hstack([-a.T, np.ones((n, 1))]), np.r_[-c, 0.0][None, :]])
    b_ub = np.r_[np.zeros(n), -level]
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=np.r_[np.ones(m), 0.0][None, :], b_eq=[1.0],
                  bounds=[(0, None)] * m + [(None, None)], method="highs")
    if res.status != 0 or (res.x[:m] @ a).min() <= (vertex @ a).min() + tol:
        return _clean(vertex)
    return _clean(res.x[:m])


def _clean(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, None)
    x[x < 1e-12] = 0.0
    return x / x.sum()
