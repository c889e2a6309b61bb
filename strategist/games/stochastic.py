"""Zero-sum stochastic games (Shapley 1953): a rally as a sequence of matrix games.

In state s the row player picks a ∈ A_s, the column player b ∈ B_s at once; the stage pays r_s(a, b) to the row
player and the game moves to s' with probability P_s(a, b, s') or ends with the rest. The values solve

    V(s) = val Q_s(V),    Q_s(V) = r_s + γ Σ_s' P_s(·, ·, s') V(s')        (the Shapley operator T)

Every sweep solves all states' matrix games at once: states are grouped by shape (m_s, n_s) and each group goes
to :func:`strategist.games.batch.solve_zero_sum_batch` in one call (nothing padded). Two methods:

- ``"value"``: Shapley value iteration V ← T(V).
- ``"strategy"`` (default): strategy iteration for both players (Pollatschek & Avi-Itzhak 1969, Newton's
  method on V − T(V)): (x, y) optimal in every Q_s(V), then V ← the exact value of (x, y), one linear solve.
  It can cycle far from the solution, so a step is kept only when it cuts ‖V − T(V)‖∞ to at most ACCEPT
  (0.9) of what it was — accepted steps alone then converge geometrically; otherwise a value-iteration sweep
  is taken instead (counted in ``value_sweeps``). After PATIENCE such replacements the solve is finished by
  value iteration: the solver warns and ``method`` reads ``"strategy+value"``.

With γ = 1 the game must be *stopping*: every stationary strategy pair ends it with probability one. This is
checked up front (:func:`forever_states`) and a game that can go on forever is refused, naming the states.
A game over :data:`MAX_STATES` states or :data:`MAX_TRANSITIONS` transition probabilities is refused before
anything is allocated (:class:`~strategist.errors.ComputationLimitError`).
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from strategist.errors import ComputationLimitError, InvalidGameError, InvalidStrategyError, SolverError
from strategist.games.batch import _bordered, solve_zero_sum_batch
from strategist.games.matrix_game import MatrixGame, _labels, _numeric_matrix, as_strategy
from strategist.games.zero_sum import GAP_TOL, ZeroSumSolution, check_size

#: Transition rows may sum to at most 1 + PROB_TOL (rounding of normalised rows); such rows are rescaled to 1.
PROB_TOL = 1e-9
#: A pair whose continuation probability is at least 1 − STOP_TOL counts as never ending the game (γ = 1).
STOP_TOL = 1e-9
#: Strategy-iteration steps replaced by value-iteration sweeps before the rest is value iteration.
PATIENCE = 10
#: A strategy-iteration step is kept when it leaves at most this fraction of ‖V − T(V)‖∞.
ACCEPT = 0.9
#: Most states a game may have (policy evaluation solves a dense S × S system: 200 MB at 5,000).
MAX_STATES = 5_000
#: Most transition probabilities (Σₛ mₛ nₛ S) a game may have (160 MB of float64).
MAX_TRANSITIONS = 20_000_000
METHODS = ("strategy", "value")


class StrategyIterationWarning(UserWarning):
    """Strategy iteration gave up and value iteration finished the solve (``method`` says so)."""


# ---------------------------------------------------------------------------------------------------- the game
@dataclass(frozen=True)
class _Game:
    rewards: tuple[np.ndarray, ...]        # r_s, (m_s, n_s)
    transitions: tuple[np.ndarray, ...]    # P_s, (m_s, n_s, S)
    discount: float
    state_labels: tuple[str, ...]
    row_labels: tuple[tuple[str, ...], ...]
    column_labels: tuple[tuple[str, ...], ...]
    groups: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...] = field(repr=False)  # (states, R, P) per shape

    @property
    def size(self) -> int:
        return len(self.rewards)

    @property
    def scale(self) -> float:
        """Largest |reward| (1 if all are 0): the unit of the residual tolerance."""
        top = max(float(np.abs(r).max()) for r in self.rewards)
        return top if top > 0 else 1.0

    def name(self, s: int) -> str:
        return f"state {s} ({self.state_labels[s]!r})" if self.state_labels[s] != str(s) else f"state {s}"


def _state_list(data: Any, what: str, ndim: int) -> list:
    """A list of per-state arrays from a list/tuple or a stacked array with a leading state axis."""
    if isinstance(data, np.ndarray):
        if data.ndim != ndim + 1:
            raise InvalidGameError(f"{what}: expected a list of per-state arrays or one array with a leading "
                                   f"state axis ({ndim + 1}-D), got an array of shape {data.shape}")
        return list(data)
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
        raise InvalidGameError(f"{what}: expected a list with one entry per state, got {type(data).__name__}")
    return list(data)


def _transitions(raw: Any, shape: tuple[int, int], size: int, where: str) -> np.ndarray:
    """One state's (m × n × S) transition probabilities, checked (finite, >= 0, each action pair moving on
    with total probability at most 1 + PROB_TOL) and read-only; a total within PROB_TOL above 1 is scaled
    to 1."""
    m, n = shape
    try:
        arr = np.asarray(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidGameError(f"{where}: not a numeric array ({exc}); expected shape ({m}, {n}, {size})") from None
    if arr.dtype.kind not in "biuf" or isinstance(raw, (str, bytes)):
        raise InvalidGameError(f"{where}: expected numbers of shape ({m}, {n}, {size}), got an array of {arr.dtype}")
    if arr.shape != (m, n, size):
        raise InvalidGameError(f"{where}: shape {arr.shape}; expected ({m}, {n}, {size}) "
                               f"(rewards of this state are {m} × {n}, the game has {size} states)")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        a, b, t = (int(k) for k in np.argwhere(bad)[0])
        raise InvalidGameError(f"{where}: P(next={t} | row action {a}, column action {b}) "
                               f"is {arr[a, b, t]}; expected a probability in [0, 1]")
    if (arr < 0).any():
        a, b, t = (int(k) for k in np.argwhere(arr < 0)[0])
        raise InvalidGameError(f"{where}: P(next={t} | row action {a}, column action {b}) "
                               f"is {arr[a, b, t]:g}; expected a probability >= 0")
    total = arr.sum(axis=2)
    if (total > 1.0 + PROB_TOL).any():
        a, b = (int(k) for k in np.argwhere(total > 1.0 + PROB_TOL)[0])
        raise InvalidGameError(f"{where}: row action {a}, column action {b} moves on with "
                               f"total probability {total[a, b]:.12g}; expected at most 1 (the rest ends "
                               "the game)")
    over = total > 1.0
    arr[over] /= total[over][:, None]
    arr.setflags(write=False)
    return arr


def _prepare(rewards: Any, transitions: Any, discount: Any, state_labels=None, row_labels=None,
             column_labels=None) -> _Game:
    """Validate and normalise a stochastic game; every error names the state (and actions) at fault."""
    if isinstance(discount, bool) or not isinstance(discount, numbers.Real) or not np.isfinite(discount) \
            or not 0.0 < float(discount) <= 1.0:
        raise InvalidGameError(f"discount: got {discount!r}; expected a number in (0, 1]")
    gamma = float(discount)
    r_list = _state_list(rewards, "rewards", 2)
    size = len(r_list)
    if size == 0:
        raise InvalidGameError("rewards: the game has no states; expected at least one (m × n) stage matrix")
    states = _labels(state_labels, size, "", "state labels")
    if state_labels is None:
        states = tuple(str(s) for s in range(size))

    def name(s: int) -> str:
        return f"state {s} ({states[s]!r})" if states[s] != str(s) else f"state {s}"

    r_out = tuple(_numeric_matrix(r, f"rewards of {name(s)}") for s, r in enumerate(r_list))
    for r in r_out:
        r.setflags(write=False)

    def per_state_labels(labels, what, axis):
        if labels is None:
            return tuple(_labels(None, r.shape[axis], "r" if axis == 0 else "c", what) for r in r_out)
        if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence) or len(labels) != size:
            raise InvalidGameError(f"{what}: expected one list of labels (or None) per state, {size} in all")
        return tuple(_labels(lab, r_out[s].shape[axis], "r" if axis == 0 else "c", f"{what} of {name(s)}")
                     for s, lab in enumerate(labels))

    rows = per_state_labels(row_labels, "row labels", 0)
    cols = per_state_labels(column_labels, "column labels", 1)

    _check_work(r_out)
    p_list = _state_list(transitions, "transitions", 3)
    if len(p_list) != size:
        raise InvalidGameError(f"transitions: got {len(p_list)} entries for {size} states; expected one "
                               "(m_s × n_s × S) array per state")
    p_out = [_transitions(raw, r_out[s].shape, size, f"transitions of {name(s)}") for s, raw in enumerate(p_list)]

    shapes: dict[tuple[int, int], list[int]] = {}
    for s, r in enumerate(r_out):
        shapes.setdefault(r.shape, []).append(s)
    groups = tuple((np.array(idx), np.stack([r_out[s] for s in idx]), np.stack([p_out[s] for s in idx]))
                   for idx in shapes.values())
    return _Game(r_out, tuple(p_out), gamma, states, rows, cols, groups)


def _check_work(rewards: tuple[np.ndarray, ...]) -> None:
    """Refuse, before anything is allocated, a game over :data:`MAX_STATES` states or :data:`MAX_TRANSITIONS`
    transition probabilities (Σₛ mₛ nₛ S), or a stage game over the matrix solver's limit."""
    size = len(rewards)
    if size > MAX_STATES:
        raise ComputationLimitError(f"the game has {size:,} states, over the limit of {MAX_STATES:,} "
                                    "(strategist.games.stochastic.MAX_STATES; each sweep solves S x S linear systems)")
    cells = sum(r.size for r in rewards) * size
    if cells > MAX_TRANSITIONS:
        raise ComputationLimitError(f"the game has {cells:,} transition probabilities, over the limit of "
                                    f"{MAX_TRANSITIONS:,} (strategist.games.stochastic.MAX_TRANSITIONS)")
    for r in rewards:
        check_size(*r.shape)


# ------------------------------------------------------------------------------------------ stopping analysis
def _forever_set(game: _Game) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """Greatest set C of states in which every state has an action pair that stays in C with probability 1.

    Returns C and, per state of C, one such pair. C ≠ ∅: pure strategies playing those pairs never end the game
    from C. C = ∅: every stationary pair (x, y) ends it w.p. 1 — otherwise its chain has a recurrent class
    K ⊆ S that never leaks, every pair in the support of (x_s, y_s), s ∈ K, stays in K, so K ⊆ C.
    """
    alive = np.ones(game.size, dtype=bool)
    stays = [p.sum(axis=2) >= 1.0 - STOP_TOL for p in game.transitions]
    changed = True
    while changed:
        changed = False
        for s in np.flatnonzero(alive):
            leaves = (game.transitions[s][:, :, ~alive] > 0).any(axis=2)
            if not (stays[s] & ~leaves).any():
                alive[s] = False
                changed = True
    witness = {}
    for s in np.flatnonzero(alive):
        leaves = (game.transitions[s][:, :, ~alive] > 0).any(axis=2)
        a, b = np.argwhere(stays[s] & ~leaves)[0]
        witness[int(s)] = (int(a), int(b))
    return [int(s) for s in np.flatnonzero(alive)], witness


def forever_states(rewards: Any, transitions: Any, *, state_labels=None) -> list[str]:
    """Labels of the states from which some stationary pure pair never ends the game (empty: a stopping game)."""
    game = _prepare(rewards, transitions, 1.0, state_labels)
    return [game.state_labels[s] for s in _forever_set(game)[0]]


def _check_stopping(game: _Game) -> None:
    if game.discount < 1.0:
        return
    cycle, witness = _forever_set(game)
    if cycle:
        s = cycle[0]
        a, b = witness[s]
        nxt = [game.state_labels[t] for t in np.flatnonzero(game.transitions[s][a, b] > 0)]
        names = ", ".join(repr(game.state_labels[t]) for t in cycle)
        raise InvalidGameError(
            f"with discount=1 the game can go on forever in states [{names}]: in each of them some action pair "
            f"continues with probability 1 without leaving them (e.g. {game.name(s)}: row action "
            f"{game.row_labels[s][a]!r} against column action {game.column_labels[s][b]!r} moves on to {nxt}); "
            "expected every cycle to end with positive probability, or a discount < 1")


# ---------------------------------------------------------------------------------------------- one sweep
@dataclass(frozen=True)
class _Sweep:
    values: np.ndarray           # T(V)
    x: list[np.ndarray]
    y: list[np.ndarray]
    row_guarantee: np.ndarray
    column_guarantee: np.ndarray
    gap: np.ndarray
    stage: list[np.ndarray]      # Q_s(V)
    kernels: dict = field(default_factory=dict, repr=False)   # state -> (rows, columns) of its solution's support


def _stage_games(game: _Game, v: np.ndarray):
    """Q for every group: R + γ P V, shape (G, m, n) per shape group."""
    return [rg + game.discount * (pg @ v) for _, rg, pg in game.groups]


def _on_kernels(q: np.ndarray, rows: np.ndarray, cols: np.ndarray):
    """Solve each game q[g] on the square kernel (rows[g], cols[g]) by its bordered systems (as the batch solver
    does, on payoffs scaled to [1, 2]); return x, y and which candidates the full-matrix certificate accepts."""
    g, m, n = q.shape
    k = rows.shape[1]
    low = q.min(axis=(1, 2))
    span = q.max(axis=(1, 2)) - low
    span = np.where(span == 0, 1.0, span)
    a = (q - low[:, None, None]) / span[:, None, None] + 1.0
    sub = a[np.arange(g)[:, None, None], rows[:, :, None], cols[:, None, :]]
    systems = np.concatenate([_bordered(sub.transpose(0, 2, 1)), _bordered(sub)])
    ok = np.abs(np.linalg.det(systems)) > 1e-12
    systems[~ok] = np.eye(k + 1)
    rhs = np.zeros((2 * g, k + 1, 1))
    rhs[:, k, 0] = 1.0
    sol = np.linalg.solve(systems, rhs)[..., 0]
    xs, ys = sol[:g, :k], sol[g:, :k]
    ok = ok[:g] & ok[g:] & (xs >= -GAP_TOL).all(axis=1) & (ys >= -GAP_TOL).all(axis=1)
    x, y = np.zeros((g, m)), np.zeros((g, n))
    np.put_along_axis(x, rows, np.clip(xs, 0.0, None), axis=1)
    np.put_along_axis(y, cols, np.clip(ys, 0.0, None), axis=1)
    ok &= (x.sum(axis=1) > 0) & (y.sum(axis=1) > 0)
    x[~ok], y[~ok] = 1.0 / m, 1.0 / n
    x /= x.sum(axis=1, keepdims=True)
    y /= y.sum(axis=1, keepdims=True)
    gap = np.einsum("gij,gj->gi", a, y).max(axis=1) - np.einsum("gi,gij->gj", x, a).min(axis=1)
    return x, y, ok & (gap <= GAP_TOL)


def _sweep(game: _Game, v: np.ndarray, kernels: dict | None = None) -> _Sweep:
    """Apply the Shapley operator once: every state's matrix game Q_s(V), one batched solve per shape group.

    ``kernels`` (from the previous sweep) warm-starts it: each state's game is first solved on the support its
    last solution had, and kept if the certificate on the full matrix closes (supports rarely change from one
    sweep to the next); only the others go to :func:`solve_zero_sum_batch`.
    """
    kernels = kernels or {}
    size = game.size
    x: list = [None] * size
    y: list = [None] * size
    stage: list = [None] * size
    for (idx, _, _), q in zip(game.groups, _stage_games(game, v)):
        todo = np.ones(len(idx), dtype=bool)
        by_size: dict[int, list[int]] = {}
        for k, s in enumerate(idx):
            if s in kernels:
                by_size.setdefault(len(kernels[s][0]), []).append(k)
        for members in by_size.values():
            members = np.array(members)
            rows = np.array([kernels[idx[k]][0] for k in members])
            cols = np.array([kernels[idx[k]][1] for k in members])
            xs, ys, ok = _on_kernels(q[members], rows, cols)
            for k, xk, yk in zip(members[ok], xs[ok], ys[ok]):
                x[idx[k]], y[idx[k]] = xk, yk
            todo[members[ok]] = False
        if todo.any():
            sol = solve_zero_sum_batch(q[todo], tol=GAP_TOL)
            for k, xk, yk in zip(np.flatnonzero(todo), sol.row_strategy, sol.column_strategy):
                x[idx[k]], y[idx[k]] = xk, yk
        for k, s in enumerate(idx):
            stage[s] = q[k]
    lo = np.array([float((x[s] @ stage[s]).min()) for s in range(size)])
    hi = np.array([float((stage[s] @ y[s]).max()) for s in range(size)])
    support = {}
    for s in range(size):
        rows, cols = np.flatnonzero(x[s] > 0), np.flatnonzero(y[s] > 0)
        if len(rows) == len(cols):
            support[s] = (rows, cols)
    return _Sweep(0.5 * (lo + hi), x, y, lo, hi, np.maximum(hi - lo, 0.0), stage, support)


# ------------------------------------------------------------------------------------------ linear algebra
def _pair_chain(game: _Game, x: Sequence[np.ndarray], y: Sequence[np.ndarray]):
    """(r_xy, P_xy): expected stage payoff and next-state matrix when the pair (x, y) is played everywhere."""
    r = np.array([x[s] @ game.rewards[s] @ y[s] for s in range(game.size)])
    p = np.stack([np.einsum("a,abt,b->t", x[s], game.transitions[s], y[s]) for s in range(game.size)])
    return r, p


def _solve_chain(game: _Game, r: np.ndarray, p: np.ndarray) -> np.ndarray:
    """V = (I − γP)⁻¹ r."""
    try:
        v = np.linalg.solve(np.eye(game.size) - game.discount * p, r)
    except np.linalg.LinAlgError:
        raise SolverError("policy evaluation: I − γP is singular although the game was checked to be "
                          "stopping") from None
    if not np.isfinite(v).all():
        raise SolverError("policy evaluation produced non-finite values")
    return v


# ---------------------------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class StochasticGameSolution:
    """Values, stationary optimal strategies and per-state certificates of a zero-sum stochastic game.

    The certificate of state s is that of its stage game Q_s = r_s + γ P_s V at the returned ``values``:
    ``row_guarantees[s]`` = minⱼ (xᵀQ_s)ⱼ, ``column_guarantees[s]`` = maxᵢ (Q_s y)ᵢ, ``duality_gaps`` their
    difference. ``residual`` = ‖V − T(V)‖∞ (the Shapley operator applied once more).
    """

    values: np.ndarray
    row_strategies: list[np.ndarray]
    column_strategies: list[np.ndarray]
    row_guarantees: np.ndarray
    column_guarantees: np.ndarray
    duality_gaps: np.ndarray
    stage_games: list[np.ndarray]
    iterations: int                # Shapley sweeps (batched solves of all states' matrix games)
    linear_solves: int             # policy evaluations (strategy iteration only)
    value_sweeps: int              # strategy iteration's safeguard: steps taken by value iteration instead
    residual: float
    method: str                    # "strategy", "value" or "strategy+value" (value iteration finished it)
    discount: float
    state_labels: tuple[str, ...]
    row_labels: tuple[tuple[str, ...], ...]
    column_labels: tuple[tuple[str, ...], ...]

    @property
    def fell_back(self) -> bool:
        """True when strategy iteration gave up and value iteration finished the solve."""
        return self.method == "strategy+value"

    def _index(self, state: int | str) -> int:
        if isinstance(state, str):
            if state not in self.state_labels:
                raise InvalidGameError(f"unknown state {state!r}; expected one of {list(self.state_labels)}")
            return self.state_labels.index(state)
        if not 0 <= int(state) < len(self.values):
            raise InvalidGameError(f"state {state} out of range; the game has {len(self.values)} states")
        return int(state)

    def state(self, state: int | str) -> ZeroSumSolution:
        """The stage game Q_s of ``state`` (index or label) and its solution, as :func:`solve_zero_sum` gives."""
        s = self._index(state)
        game = MatrixGame(self.stage_games[s], self.row_labels[s], self.column_labels[s])
        lo, hi = float(self.row_guarantees[s]), float(self.column_guarantees[s])
        return ZeroSumSolution(game, 0.5 * (lo + hi), self.row_strategies[s], self.column_strategies[s], lo, hi,
                               float(self.duality_gaps[s]))

    @property
    def value_by_state(self) -> dict[str, float]:
        return {label: float(v) for label, v in zip(self.state_labels, self.values)}

    @property
    def row_mixes(self) -> dict[str, dict[str, float]]:
        return {label: dict(zip(self.row_labels[s], map(float, self.row_strategies[s])))
                for s, label in enumerate(self.state_labels)}

    @property
    def column_mixes(self) -> dict[str, dict[str, float]]:
        return {label: dict(zip(self.column_labels[s], map(float, self.column_strategies[s])))
                for s, label in enumerate(self.state_labels)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per state its value, both mixes by label and the certificate; then the solve's figures."""
        return {
            "states": {label: {"value": float(self.values[s]),
                               "row_strategy": self.row_mixes[label],
                               "column_strategy": self.column_mixes[label],
                               "certificate": {"row_guarantee": float(self.row_guarantees[s]),
                                               "column_guarantee": float(self.column_guarantees[s]),
                                               "duality_gap": float(self.duality_gaps[s])}}
                       for s, label in enumerate(self.state_labels)},
            "discount": self.discount, "method": self.method, "iterations": self.iterations,
            "linear_solves": self.linear_solves, "value_sweeps": self.value_sweeps, "residual": self.residual,
        }


# ---------------------------------------------------------------------------------------------- solvers
def _value_iteration(game: _Game, v: np.ndarray, target: float, budget: int, sweep: _Sweep | None = None):
    """V ← T(V) until ‖T(V) − V‖∞ ≤ target; returns (V, its sweep, sweeps used) or raises when out of budget.

    ``sweep``: T applied to ``v`` already, if at hand (not counted again)."""
    sweeps = 0
    kernels = sweep.kernels if sweep is not None else {}
    while True:
        if sweep is None:
            sweep = _sweep(game, v, kernels)
            sweeps += 1
        residual = float(np.abs(sweep.values - v).max())
        if residual <= target:
            return v, sweep, sweeps
        if sweeps >= budget:
            raise SolverError(f"value iteration did not converge in {sweeps} sweeps: ‖V − T(V)‖∞ = {residual:.3g}, "
                              f"expected at most {target:.3g}; raise max_iterations or use method='strategy'")
        v, kernels, sweep = sweep.values, sweep.kernels, None


def _strategy_iteration(game: _Game, target: float, budget: int):
    """Pollatschek–Avi-Itzhak with a safeguard; returns (V, its sweep, sweeps, linear solves, value sweeps,
    whether value iteration finished the solve).

    Step: (x, y) optimal in every Q_s(V) → V' = value of (x, y) (one linear solve). V' is accepted when it
    leaves at most ACCEPT of ‖V − T(V)‖∞; otherwise the step is replaced by a value-iteration sweep
    V' = T(V). After PATIENCE replaced steps the rest is value iteration. Either every step shrinks the
    residual by ACCEPT or value iteration (a contraction, in a weighted norm when γ = 1) finishes: the
    method always converges.
    """
    v = np.zeros(game.size)
    sweep = _sweep(game, v)
    sweeps, solves, rejected, value_sweeps = 1, 0, 0, 0
    residual = float(np.abs(sweep.values - v).max())
    while residual > target:
        if sweeps >= budget:
            raise SolverError(f"strategy iteration did not converge in {sweeps} sweeps: ‖V − T(V)‖∞ = "
                              f"{residual:.3g}, expected at most {target:.3g}; raise max_iterations")
        if rejected >= PATIENCE:
            v, sweep, more = _value_iteration(game, v, target, max(budget - sweeps, 1), sweep)
            return v, sweep, sweeps + more, solves, value_sweeps + more, True
        candidate = _solve_chain(game, *_pair_chain(game, sweep.x, sweep.y))
        solves += 1
        trial = _sweep(game, candidate, sweep.kernels)
        sweeps += 1
        trial_residual = float(np.abs(trial.values - candidate).max())
        if trial_residual <= ACCEPT * residual:
            v, sweep, residual = candidate, trial, trial_residual
            continue
        rejected += 1                      # the step did not pay: take the value-iteration step T(V) instead
        v = sweep.values
        sweep = _sweep(game, v, trial.kernels)
        sweeps += 1
        value_sweeps += 1
        residual = float(np.abs(sweep.values - v).max())
    return v, sweep, sweeps, solves, value_sweeps, False


def solve_stochastic_game(rewards: Any, transitions: Any, discount: float = 1.0, tol: float = 1e-10,
                          method: str = "strategy", max_iterations: int = 10_000, *, state_labels=None,
                          row_labels=None, column_labels=None) -> StochasticGameSolution:
    """Values V(s) = val[r_s + γ Σ_s' P_s(s') V(s')] and stationary optimal strategies of a zero-sum stochastic game.

    ``rewards[s]``: the (m_s × n_s) stage payoffs to the row player (a list, or one (S, m, n) array);
    ``transitions[s]``: (m_s × n_s × S) next-state probabilities, each (a, b) summing to at most 1 (the rest ends
    the game; a list, or one (S, m, n, S) array). ``discount`` γ ∈ (0, 1]; with γ = 1 a game that some
    stationary pair can play forever is refused (:class:`InvalidGameError` naming the states). The solve stops
    when ‖V − T(V)‖∞ ≤ ``tol`` × max|r| (``tol`` in (0, 1); units do not matter); ``max_iterations`` bounds the
    Shapley sweeps.
    ``method``: ``"strategy"`` (Pollatschek–Avi-Itzhak, safeguarded; default) or ``"value"`` (Shapley). Labels are
    optional: ``state_labels`` (one per state), ``row_labels``/``column_labels`` (one list or None per state).
    """
    if method not in METHODS:
        raise InvalidGameError(f"method: got {method!r}; expected one of {list(METHODS)}")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        raise InvalidGameError(f"tol: got {tol!r}; expected a number in (0, 1), a fraction of the largest |reward|")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, numbers.Integral) or max_iterations < 1:
        raise InvalidGameError(f"max_iterations: got {max_iterations!r}; expected a positive integer")
    game = _prepare(rewards, transitions, discount, state_labels, row_labels, column_labels)
    _check_stopping(game)
    target = float(tol) * game.scale
    if method == "value":
        v, sweep, sweeps = _value_iteration(game, np.zeros(game.size), target, int(max_iterations))
        solves, value_sweeps, used = 0, 0, "value"
    else:
        v, sweep, sweeps, solves, value_sweeps, gave_up = _strategy_iteration(game, target, int(max_iterations))
        used = "strategy+value" if gave_up else "strategy"
        if gave_up:
            warnings.warn(f"strategy iteration fell back to value iteration: {PATIENCE} of its steps did not cut "
                          f"‖V − T(V)‖∞ to {ACCEPT:g} of what it was; value iteration finished the solve "
                          f"({value_sweeps} of {sweeps} sweeps)", StrategyIterationWarning, stacklevel=2)
    residual = float(np.abs(sweep.values - v).max())
    return StochasticGameSolution(
        values=v.copy(), row_strategies=list(sweep.x), column_strategies=list(sweep.y),
        row_guarantees=sweep.row_guarantee, column_guarantees=sweep.column_guarantee, duality_gaps=sweep.gap,
        stage_games=list(sweep.stage), iterations=sweeps, linear_solves=solves,
        value_sweeps=value_sweeps, residual=residual, method=used,
        discount=game.discount, state_labels=game.state_labels, row_labels=game.row_labels,
        column_labels=game.column_labels)


# ---------------------------------------------------------------------------------------- policy evaluation
def never_ending(p: np.ndarray) -> np.ndarray:
    """Per state of the chain P (rows summing to at most 1, the rest ending it): whether the chain can never
    end from there — no path of positive probability leads to a state whose row leaks."""
    reach = p.sum(axis=1) < 1.0 - STOP_TOL
    edges = p > 0
    while True:
        more = reach | (edges[:, reach].any(axis=1))
        if (more == reach).all():
            return ~reach
        reach = more


def _termination_check(game: _Game, p: np.ndarray) -> None:
    """Refuse a pair whose chain γP does not end w.p. 1: a closed set of states, or spectral radius ≈ 1."""
    if game.discount < 1.0:
        return
    stuck = never_ending(p)
    if stuck.any():
        names = ", ".join(repr(game.state_labels[s]) for s in np.flatnonzero(stuck))
        raise InvalidGameError(f"these strategies never end the game from states [{names}] (with discount=1 the "
                               "play stays among them with probability 1); expected strategies that end it")
    if p.sum(axis=1).max() < 1.0 - STOP_TOL:      # ρ(P) <= ‖P‖∞ < 1 − tol: no eigenvalues needed
        return
    eig, vec = np.linalg.eig(p)
    k = int(np.argmax(np.abs(eig)))
    if abs(eig[k]) >= 1.0 - STOP_TOL:
        weight = np.abs(vec[:, k])
        names = ", ".join(repr(game.state_labels[s]) for s in np.flatnonzero(weight >= 1e-3 * weight.max()))
        raise InvalidGameError(f"these strategies end the game too rarely to be evaluated (spectral radius of "
                               f"the continuation matrix {abs(eig[k]):.12g}); the play lingers in states [{names}]")


def evaluate_policies(rewards: Any, transitions: Any, row_strategies: Any, column_strategies: Any,
                      discount: float = 1.0, *, state_labels=None, row_labels=None,
                      column_labels=None) -> np.ndarray:
    """Exact values of stationary strategies: V = r_xy + γ P_xy V, one linear solve (I − γP_xy) V = r_xy.

    ``row_strategies[s]`` / ``column_strategies[s]``: each state's mix (a vector, or label -> probability).
    Refuses (:class:`InvalidGameError`, naming the states) a pair that does not end the game with probability
    one: a set of states the play never leaves, or a continuation matrix with spectral radius ≥ 1 − 1e-9.
    """
    game = _prepare(rewards, transitions, discount, state_labels, row_labels, column_labels)
    xs, ys = [], []
    for what, given, out, player in (("row_strategies", row_strategies, xs, "row"),
                                     ("column_strategies", column_strategies, ys, "column")):
        if isinstance(given, np.ndarray) and given.ndim == 2:
            given = list(given)
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence) or len(given) != game.size:
            raise InvalidStrategyError(f"{what}: expected one mix per state, {game.size} in all")
        for s, mix in enumerate(given):
            stage = MatrixGame(game.rewards[s], game.row_labels[s], game.column_labels[s])
            out.append(as_strategy(stage, mix, player, f"{what} of {game.name(s)}", tol=1e-9))
    r, p = _pair_chain(game, xs, ys)
    _termination_check(game, p)
    return _solve_chain(game, r, p)
