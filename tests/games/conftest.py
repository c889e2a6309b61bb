"""Shared references of the game tests: hand-solved games and independent float64 checks.

The helpers here never call strategist: they are the second algorithm the tests compare against
(scipy's ``linprog`` on the textbook LP formulations, guarantees recomputed with plain numpy). One fixture,
``batch_calls``, counts the stage games the stochastic solver hands to the batch solver per call.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

#: Evert (rows: passing shot) against Navratilova (columns: where she covers); Evert's win percentage.
#: Value 62; Evert plays down the line 0.7, Navratilova covers the line 0.6 (Dixit & Skeath's textbook game).
EVERT_NAVRATILOVA = [[50.0, 80.0], [90.0, 20.0]]


def as_array(payoffs) -> np.ndarray:
    """Float64 payoffs of an array, nested list or MatrixGame."""
    return np.asarray(getattr(payoffs, "payoffs", payoffs), dtype=np.float64)


def span(payoffs) -> float:
    """Payoff range (1 for a constant matrix), the unit of every relative tolerance."""
    a = as_array(payoffs)
    s = float(a.max() - a.min())
    return s if s > 0 else 1.0


def tolerance(payoffs, rel: float = 1e-9) -> float:
    """``rel`` × range, plus the rounding floor of evaluating xᵀA in the payoffs' own units.

    Products such as xᵀA carry an absolute rounding error of a few ulps of max|A| whatever the range, so a
    game like [[1, 1 + 1e-12]] cannot be checked to 1e-9 of its range in its own units; the floor (64 ulps
    of max|A|) is invisible for well-scaled games.
    """
    a = as_array(payoffs)
    return rel * span(a) + 64 * np.finfo(float).eps * float(np.abs(a).max())


def row_guarantee(payoffs, x) -> float:
    """minⱼ (xᵀA)ⱼ: what the row strategy x earns against the column player's best reply."""
    return float((np.asarray(x) @ as_array(payoffs)).min())


def column_guarantee(payoffs, y) -> float:
    """maxᵢ (Ay)ᵢ: the most the row player earns against the column strategy y."""
    return float((as_array(payoffs) @ np.asarray(y)).max())


def assert_is_distribution(p, size: int) -> None:
    p = np.asarray(p)
    assert p.shape == (size,)
    assert np.isfinite(p).all()
    assert (p >= -1e-12).all(), p
    assert abs(p.sum() - 1.0) <= 1e-9, p.sum()


def assert_optimal(payoffs, x, y, value, rel: float = 1e-9) -> None:
    """x guarantees at least ``value`` and y concedes at most ``value``, within ``rel`` × range."""
    a = as_array(payoffs)
    tol = tolerance(a, rel)
    assert_is_distribution(x, a.shape[0])
    assert_is_distribution(y, a.shape[1])
    assert row_guarantee(a, x) >= value - tol, (row_guarantee(a, x), value)
    assert column_guarantee(a, y) <= value + tol, (column_guarantee(a, y), value)


def reference_value_positive_shift(payoffs) -> float:
    """Game value by the classic substitution u = x / v on a strictly positive shift of A.

    With A' = A − min(A) + 1 > 0:  min 1ᵀu  s.t.  A'ᵀu ≥ 1, u ≥ 0;  value(A') = 1 / 1ᵀu.
    A different LP from the solver's (no free variable, no rescaling to [0, 1]).
    """
    a = as_array(payoffs)
    shift = 1.0 - a.min()
    pos = a + shift
    m, n = pos.shape
    res = linprog(np.ones(m), A_ub=-pos.T, b_ub=-np.ones(n), bounds=[(0, None)] * m, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    return 1.0 / res.fun - shift


def reference_column_lp(payoffs) -> tuple[float, np.ndarray]:
    """The column player's LP solved directly: min w s.t. Ay ≤ w·1, 1ᵀy = 1, y ≥ 0 (original units)."""
    a = as_array(payoffs)
    m, n = a.shape
    c = np.zeros(n + 1)
    c[-1] = 1.0
    res = linprog(c, A_ub=np.hstack([a, -np.ones((m, 1))]), b_ub=np.zeros(m),
                  A_eq=np.hstack([np.ones((1, n)), np.zeros((1, 1))]), b_eq=[1.0],
                  bounds=[(0, None)] * n + [(None, None)], method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    return float(res.x[-1]), res.x[:n]


def optimal_spread(payoffs, value, player: str = "row", slack: float = 1e-7) -> float:
    """Largest range maxₖ (max pₖ − min pₖ) over the player's (near-)optimal strategy set.

    0 (to LP precision) when the player's optimal strategy is unique. Row: {x ∈ Δ : xᵀA ≥ v − slack·range}.
    """
    a = as_array(payoffs)
    if player == "column":
        a = -a.T
        value = -value
    m, n = a.shape
    floor = value - slack * span(a)
    widest = 0.0
    for k in range(m):
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(m)
            c[k] = sign
            res = linprog(c, A_ub=-a.T, b_ub=-np.full(n, floor), A_eq=np.ones((1, m)), b_eq=[1.0],
                          bounds=[(0, None)] * m, method="highs")
            assert res.status == 0, res.message
            ends.append(res.x[k])
        widest = max(widest, ends[1] - ends[0])
    return widest


def brute_force_is_nash(a, b, x, y, rel: float = 1e-9) -> bool:
    """No pure deviation gains more than ``rel`` × range for either player (bimatrix game (A, B))."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    x, y = np.asarray(x), np.asarray(y)
    row_now, col_now = x @ a @ y, x @ b @ y
    row_best = max(float(a[i] @ y) for i in range(a.shape[0]))
    col_best = max(float(x @ b[:, j]) for j in range(b.shape[1]))
    return row_best <= row_now + tolerance(a, rel) and col_best <= col_now + tolerance(b, rel)


@pytest.fixture
def evert_navratilova():
    from strategist import MatrixGame

    return MatrixGame(EVERT_NAVRATILOVA, ["down the line", "cross-court"], ["cover line", "cover cross-court"])


@pytest.fixture
def write_csv(tmp_path):
    """Write text (or bytes) to a CSV file in a temporary folder and return its path."""

    def write(text: str | bytes, name: str = "payoffs.csv"):
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def fifo(tmp_path):
    """A named pipe. A helper thread opens its write end and closes it at once, so that code which wrongly
    opens the pipe for reading sees an empty file instead of blocking the test run forever."""
    import os
    import threading

    path = tmp_path / "pipe.csv"
    os.mkfifo(path)

    def unblock():
        with open(path, "w"):
            pass

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    yield path
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # release the helper if nothing opened the pipe
    thread.join(timeout=5)
    os.close(fd)


@pytest.fixture
def batch_calls(monkeypatch):
    """The number of stage games each call of the stochastic solver hands to the batch solver."""
    from strategist.games import stochastic

    calls = []
    real = stochastic.solve_zero_sum_batch

    def counting(q, **kw):
        calls.append(len(q))
        return real(q, **kw)

    monkeypatch.setattr(stochastic, "solve_zero_sum_batch", counting)
    return calls
