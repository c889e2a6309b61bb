"""Fuzz the game solvers with payoffs of every magnitude and with hostile numeric arguments.

Each call either raises a StrategistError or returns an answer whose certificate holds when recomputed here,
in the payoffs' own units: strategies are probability vectors, the guarantees are what the strategies earn,
and the duality gap is no wider than the solver's tolerance nor than what pure strategies already certify.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from strategist.errors import StrategistError
from strategist.games import (best_response, equilibria, evaluate_policies, exploitability, is_equilibrium,
                              restricted_nash_response, safe_exploit, solve_stochastic_game, solve_zero_sum,
                              solve_zero_sum_batch)
from strategist.games.zero_sum import GAP_TOL

from .strategies import matrices, mixes

FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])
#: Numbers handed to numeric arguments (tolerances, chunk sizes, margins, weights).
NUMBERS = st.one_of(st.floats(), st.integers(-3, 10), st.sampled_from([0, 1, 1e-300, 1e300, True, None, "1e-9"]))


def _size(a: np.ndarray) -> float:
    top = float(np.abs(a).max())
    return top if top > 0 else 1.0


def _probabilities(p: np.ndarray, n: int) -> None:
    assert p.shape == (n,) and np.isfinite(p).all() and (p >= 0).all() and abs(p.sum() - 1.0) <= 1e-9


def _checked(a: np.ndarray, x: np.ndarray, y: np.ndarray, value: float, tol: float = GAP_TOL) -> None:
    """The pair's certificate, recomputed on a / max|a| (no overflow) and compared in those units."""
    m, n = a.shape
    _probabilities(x, m)
    _probabilities(y, n)
    size = _size(a)
    unit = a / size
    row, column = float((x @ unit).min()), float((unit @ y).max())
    lo, hi = float(unit.min(axis=1).max()), float(unit.max(axis=0).min())   # what pure strategies certify
    width = float(unit.max() - unit.min()) or 1.0
    # rounding is judged against the payoffs near the value, not the range an outlier may stretch
    near = max(abs(lo), abs(hi), float(np.median(np.abs(unit))))
    slack = 1e-11 * near + 1e-322
    assert column - row <= tol * width + slack, (column - row, tol * width)
    # and no wider than what the pure strategies certify, or than a millionth of the payoffs near the value
    assert column - row <= max(hi - lo, 1e-6 * near) + slack, ("gap too wide", column - row, hi - lo, near)
    assert row - slack - 1e-12 * width <= value / size <= column + slack + 1e-12 * width


@FUZZ
@given(a=matrices())
@example(a=np.array([[1e308, 2.0], [3.0, 4.0]]))        # value 4: an LP on the [0, 1] scale sees 3
@example(a=np.array([[1e12, 2.0], [3.0, 4.0]]))
@example(a=np.array([[5e-324]]))
def test_solve_zero_sum(a):
    try:
        sol = solve_zero_sum(a)
    except StrategistError:
        return
    _checked(a, sol.row_strategy, sol.column_strategy, sol.value)
    assert np.isfinite([sol.row_guarantee, sol.column_guarantee, sol.duality_gap]).all()


@FUZZ
@given(a=matrices(), tol=NUMBERS)
def test_solve_zero_sum_with_any_tolerance(a, tol):
    try:
        sol = solve_zero_sum(a, tol=tol)
    except StrategistError:
        return
    assert isinstance(tol, (int, float)) and 0 < tol < 1 and np.isfinite(tol)
    _checked(a, sol.row_strategy, sol.column_strategy, sol.value, tol=max(tol, GAP_TOL))


@FUZZ
@given(data=st.data(), batch=st.integers(1, 6), chunk=NUMBERS, tol=NUMBERS)
def test_solve_zero_sum_batch(data, batch, chunk, tol):
    m, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    games = np.stack([data.draw(_same_shape(m, n)) for _ in range(batch)])
    try:
        result = solve_zero_sum_batch(games, chunk=chunk, tol=tol)
    except StrategistError:
        return
    assert len(result) == batch
    for b in range(batch):
        _checked(games[b], result.row_strategy[b], result.column_strategy[b], result.value[b], tol=max(tol, GAP_TOL))


def _same_shape(m: int, n: int):
    return matrices(shape=(m, n)) | st.builds(lambda v: np.full((m, n), v), st.floats(-1e308, 1e308))


@FUZZ
@given(data=st.data(), margin=NUMBERS)
def test_safe_exploit(data, margin):
    a = data.draw(matrices())
    q = data.draw(mixes(a.shape[1]))
    try:
        result = safe_exploit(a, q, margin)
    except StrategistError:
        return
    _probabilities(result.row_strategy, a.shape[0])
    size = _size(a)
    width = float((a / size).max() - (a / size).min()) or 1.0
    slack = 2e-9 * width
    assert result.guarantee / size >= result.value / size - float(margin) / size - slack
    assert result.expected_payoff / size <= result.best_response_payoff / size + slack


@FUZZ
@given(data=st.data(), weight=NUMBERS)
def test_restricted_nash_response_and_responses(data, weight):
    a = data.draw(matrices())
    q = data.draw(mixes(a.shape[1]))
    x = data.draw(mixes(a.shape[0]))
    for call in (lambda: restricted_nash_response(a, q, weight), lambda: best_response(a, q, tol=weight),
                 lambda: exploitability(a, x), lambda: is_equilibrium(a, x, q, tol=weight)):
        try:
            call()
        except StrategistError:
            pass


@FUZZ
@given(a=matrices(max_side=3), b=st.none() | matrices(max_side=3),
       method=st.sampled_from(["support_enumeration", "vertex_enumeration", "lemke_howson", "lh", "nope"]))
def test_general_sum_equilibria(a, b, method):
    if b is not None:
        assume(b.shape == a.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = equilibria(a, b, method=method)
        except StrategistError:
            return
    for eq in found:
        _probabilities(eq.row_strategy, a.shape[0])
        _probabilities(eq.column_strategy, a.shape[1])


@st.composite
def stochastic_games(draw):
    states = draw(st.integers(1, 3))
    shapes = [(draw(st.integers(1, 3)), draw(st.integers(1, 3))) for _ in range(states)]
    rewards = [draw(matrices(shape=s) | st.builds(lambda v, s=s: np.full(s, v), st.floats(-1e6, 1e6)))
               for s in shapes]
    transitions = []
    for m, n in shapes:
        raw = np.array(draw(st.lists(st.floats(0, 1), min_size=m * n * states, max_size=m * n * states)))
        raw = raw.reshape(m, n, states)
        total = raw.sum(axis=2, keepdims=True)
        keep = draw(st.floats(0, 0.95))
        transitions.append(np.where(total > 0, raw / np.where(total > 0, total, 1) * keep, 0.0))
    return rewards, transitions


@FUZZ
@given(game=stochastic_games(), discount=st.one_of(st.floats(0, 1.2), st.just(1.0), NUMBERS),
       tol=st.one_of(st.just(1e-10), NUMBERS), method=st.sampled_from(["strategy", "value", "other"]))
def test_solve_stochastic_game(game, discount, tol, method):
    rewards, transitions = game
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sol = solve_stochastic_game(rewards, transitions, discount=discount, tol=tol, method=method,
                                        max_iterations=2000)
        except StrategistError:
            return
    assert np.isfinite(sol.values).all()
    for s, (x, y) in enumerate(zip(sol.row_strategies, sol.column_strategies)):
        _probabilities(x, rewards[s].shape[0])
        _probabilities(y, rewards[s].shape[1])
    try:  # the optimal strategies' own value is the game's value
        values = evaluate_policies(rewards, transitions, sol.row_strategies, sol.column_strategies, discount=discount)
    except StrategistError:
        return
    if isinstance(tol, float) and tol <= 1e-8 and float(discount) <= 0.95:  # V within tol·max|r| / (1 − γ)
        scale = max(float(np.abs(np.concatenate([r.ravel() for r in rewards])).max()), 1e-300)
        assert np.abs(values - sol.values).max() <= 10 * tol * scale / (1 - float(discount)) + 1e-9 * scale


@FUZZ
@given(text=st.one_of(st.binary(max_size=300),
                      st.lists(st.lists(st.sampled_from(["1", "0.5", "-2", "1e308", "nan", "", "x", "a b", "1,5",
                                                         "5e-324", str(2 ** 64), "\ufeff", '"q"']),
                                        min_size=1, max_size=4), min_size=1, max_size=4)
                      .map(lambda rows: "\n".join(",".join(r) for r in rows).encode())),
       delimiter=st.sampled_from([b",", b";", b"\t"]))
def test_payoff_csv_files(tmp_path_factory, text, delimiter):
    """A payoff matrix file of any content: read and solved, or refused with a StrategistError."""
    from strategist.games import MatrixGame

    path = tmp_path_factory.mktemp("csv") / "payoffs.csv"
    path.write_bytes(text.replace(b",", delimiter))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            game = MatrixGame.from_csv(path)
            sol = solve_zero_sum(game)
        except StrategistError:
            return
    _checked(game.payoffs, sol.row_strategy, sol.column_strategy, sol.value)
