"""Property tests of the zero-sum solver and safe exploitation on generated games.

References: two LP formulations solved independently with scipy, nashpy's vertex enumeration, and the
guarantees recomputed from the returned strategies alone.
"""

from __future__ import annotations

import warnings

import nashpy
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, example, given, reject, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog

from strategist import restricted_nash_response, safe_exploit, solve_zero_sum
from strategist.errors import InvalidGameError

from .conftest import (assert_optimal, column_guarantee, optimal_spread, reference_column_lp,
                       reference_value_positive_shift, row_guarantee, span, tolerance)

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

@st.composite
def games(draw, min_side: int = 1, max_side: int = 5):
    """Payoff matrices: arbitrary floats in [−100, 100], or small integers (many ties and duplicate actions)."""
    m = draw(st.integers(min_side, max_side))
    n = draw(st.integers(min_side, max_side))
    elements = draw(st.sampled_from([
        st.floats(-100, 100, allow_subnormal=False),
        st.integers(-3, 3).map(float),
        st.integers(0, 1).map(float),
    ]))
    return draw(arrays(np.float64, (m, n), elements=elements))


@st.composite
def mixes(draw, size: int):
    """A probability vector of the given size (often sparse)."""
    weights = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 0.25, 1.0, 2.0, 3.5]) | st.floats(0, 1),
                                     min_size=size, max_size=size)))
    assume(weights.sum() > 1e-3)
    return weights / weights.sum()


def unit_scaled(a: np.ndarray) -> tuple[np.ndarray, float, float]:
    low = float(a.min())
    width = span(a)
    return (a - low) / width, low, width


# ---------------------------------------------------------------------------------------------- minimax
@PROPERTY
@given(games())
def test_value_equals_the_row_and_column_reference_lps(a):
    sol = solve_zero_sum(a)
    scaled, low, width = unit_scaled(a)
    row_value = low + width * reference_value_positive_shift(scaled)
    column_value = low + width * reference_column_lp(scaled)[0]
    tol = tolerance(a)
    assert abs(row_value - column_value) <= tol          # minimax theorem, through the two references
    assert abs(sol.value - row_value) <= tol
    assert abs(sol.value - column_value) <= tol


@PROPERTY
@given(games())
def test_returned_strategies_guarantee_the_value(a):
    sol = solve_zero_sum(a)
    assert_optimal(a, sol.row_strategy, sol.column_strategy, sol.value)
    tol = tolerance(a)
    assert sol.row_guarantee == pytest.approx(row_guarantee(a, sol.row_strategy), abs=tol)
    assert sol.column_guarantee == pytest.approx(column_guarantee(a, sol.column_strategy), abs=tol)
    assert 0.0 <= sol.duality_gap <= tol


@PROPERTY
@given(games(), st.floats(1e-3, 1e3), st.floats(-1e3, 1e3))
def test_invariance_under_positive_affine_transforms(a, scale, offset):
    b = scale * a + offset
    sol, moved = solve_zero_sum(a), solve_zero_sum(b)
    # b's entries are a's rounded: allow that rounding (in a's units) on top of the usual tolerance.
    tol_a = tolerance(a) + tolerance(b) / scale
    assert abs((moved.value - offset) / scale - sol.value) <= tol_a
    # b's optimal strategies are optimal in a
    assert row_guarantee(a, moved.row_strategy) >= sol.value - tol_a
    assert column_guarantee(a, moved.column_strategy) <= sol.value + tol_a


@PROPERTY
@given(games(max_side=4), st.data())
def test_invariance_under_action_permutations(a, data):
    m, n = a.shape
    rows = np.array(data.draw(st.permutations(range(m))))
    cols = np.array(data.draw(st.permutations(range(n))))
    sol = solve_zero_sum(a)
    perm = solve_zero_sum(a[np.ix_(rows, cols)])
    assert abs(perm.value - sol.value) <= tolerance(a)
    # perm.row_strategy[k] is the weight of original row rows[k]: undo the permutation
    x, y = np.empty(m), np.empty(n)
    x[rows], y[cols] = perm.row_strategy, perm.column_strategy
    assert_optimal(a, x, y, sol.value)
    if optimal_spread(a, sol.value, "row") < 1e-6:
        np.testing.assert_allclose(x, sol.row_strategy, atol=1e-6)
    if optimal_spread(a, sol.value, "column") < 1e-6:
        np.testing.assert_allclose(y, sol.column_strategy, atol=1e-6)


@st.composite
def integer_games(draw):
    """Small games with distinct integer payoffs: well-conditioned inputs on which nashpy is a sound reference.

    (On near-ties such as 1.2e-7 against 6.1e-5, nashpy's vertex enumeration returns pairs that are not
    equilibria, so arbitrary floats would test nashpy rather than the solver.)
    """
    shape = (draw(st.integers(2, 4)), draw(st.integers(2, 4)))
    return draw(arrays(np.float64, shape, elements=st.integers(-20, 20).map(float), unique=True))


@PROPERTY
@given(integer_games())
def test_agreement_with_nashpy_vertex_enumeration(a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = list(nashpy.Game(a, -a).vertex_enumeration())
    assume(found)  # nashpy finds nothing on some degenerate games
    sol = solve_zero_sum(a)
    tol = tolerance(a, 1e-7)
    for x, y in found:
        # every Nash equilibrium of a zero-sum game is a pair of optimal strategies earning the value
        assert float(x @ a @ y) == pytest.approx(sol.value, abs=tol)
        assert row_guarantee(a, x) >= sol.value - tol
        assert column_guarantee(a, y) <= sol.value + tol
    if len(found) == 1 and max(optimal_spread(a, sol.value, "row"), optimal_spread(a, sol.value, "column")) < 1e-6:
        event("unique equilibrium: strategies compared")
        x, y = found[0]
        np.testing.assert_allclose(sol.row_strategy, x, atol=1e-6)
        np.testing.assert_allclose(sol.column_strategy, y, atol=1e-6)


def test_agreement_with_nashpy_on_generic_random_games():
    """Uniform random games are non-degenerate with probability 1: a unique equilibrium to match exactly."""
    rng = np.random.default_rng(2024)
    for _ in range(25):
        m, n = rng.integers(2, 5, size=2)
        a = rng.uniform(-1, 1, size=(m, n))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x, y), = list(nashpy.Game(a, -a).vertex_enumeration())
        sol = solve_zero_sum(a)
        np.testing.assert_allclose(sol.row_strategy, x, atol=1e-9)
        np.testing.assert_allclose(sol.column_strategy, y, atol=1e-9)
        assert sol.value == pytest.approx(float(x @ a @ y), abs=1e-9)


# ---------------------------------------------------------------------------------------------- safe exploitation
def reference_most_exploitative(a: np.ndarray, q: np.ndarray, floor: float) -> float:
    """max xᵀAq s.t. xᵀA ≥ floor, x ∈ Δ — solved in the test on [0, 1]-scaled payoffs."""
    scaled, low, width = unit_scaled(a)
    m, n = a.shape
    res = linprog(-(scaled @ q), A_ub=-scaled.T, b_ub=-np.full(n, (floor - low) / width), A_eq=np.ones((1, m)),
                  b_eq=[1.0], bounds=[(0, None)] * m, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    assert res.status == 0, res.message
    return low + width * -res.fun


def exploit(a, q, margin):
    """``safe_exploit(a, q, margin)``, or the example rejected where safe exploitation refuses the game. A refusal
    must be the documented one: entries the LP's resolution reads as the minimum (within 1e-9 of the range
    above it, not at it) put the value below what the LP can certify (e.g. [[1e-10, 1], [0, 0]])."""
    try:
        return safe_exploit(a, q, margin)
    except InvalidGameError as exc:
        assert "can certify" in str(exc)
        unit = (a - a.min()) / span(a)
        assert ((unit > 0) & (unit < 1e-9)).any()
        event("refused: value below the LP's resolution")
        reject()


@st.composite
def games_and_mixes(draw):
    a = draw(games(max_side=4))
    return a, draw(mixes(a.shape[1]))


@PROPERTY
@given(games_and_mixes())
def test_margin_zero_is_the_most_exploitative_optimal_strategy(case):
    a, q = case
    result = exploit(a, q, 0.0)
    value = solve_zero_sum(a).value
    tol = tolerance(a)
    assert result.value == pytest.approx(value, abs=tol)
    assert result.guarantee >= value - tol
    assert result.guarantee <= value + tol  # nothing guarantees more than the value
    assert row_guarantee(a, result.row_strategy) == pytest.approx(result.guarantee, abs=tol)
    assert result.expected_payoff == pytest.approx(float(result.row_strategy @ a @ q), abs=tol)
    # the best any optimal strategy does against q, by the test's own LP. The floor sits only a rounding
    # error under the value: the frontier can be steep (here 102 payoff units per unit of guarantee).
    best_optimal = reference_most_exploitative(a, q, value - 1e-12 * span(a))
    assert result.expected_payoff == pytest.approx(best_optimal, abs=tolerance(a, 1e-7))
    assert result.equilibrium_payoff == pytest.approx(result.expected_payoff, abs=tol)
    assert result.gain == pytest.approx(0.0, abs=tol)


@PROPERTY
@given(games_and_mixes())
def test_huge_margin_is_a_best_response(case):
    a, q = case
    result = exploit(a, q, 10.0 * span(a) + 1.0)
    tol = tolerance(a)
    assert result.expected_payoff == pytest.approx(float((a @ q).max()), abs=tol)
    assert result.best_response_payoff == pytest.approx(float((a @ q).max()), abs=tol)


@PROPERTY
@given(games_and_mixes(), st.lists(st.floats(0, 1.5), min_size=3, max_size=3))
# A frontier of slope 2e5 payoff units per unit of guarantee: a floor 1e-12 of the range under the value (as the
# solver once set it) bought 4e-7 of expected payoff at margin 0, against the reference's -5e-11. The floor now
# is what the equilibrium strategy itself guarantees, so no slack is bought.
@example(case=(np.array([[-1e-5, 2.0], [0.0, -1e-5]]), np.array([0.0, 1.0])), fractions=[0.0, 0.0, 0.0])
def test_safe_exploitation_interpolates_monotonically_and_concavely(case, fractions):
    a, q = case
    width = span(a)
    d1, d2, d3 = sorted(f * width for f in fractions)
    r1, r2, r3 = (exploit(a, q, d) for d in (d1, d2, d3))
    value = r1.value
    tol = tolerance(a)
    for delta, r in ((d1, r1), (d2, r2), (d3, r3)):
        assert r.guarantee >= value - delta - tol               # the safety promise
        assert r.expected_payoff <= float((a @ q).max()) + tol  # never beyond the best response
        assert r.expected_payoff >= r.equilibrium_payoff - tol  # never below equilibrium play
    loose = tolerance(a, 1e-8)
    assert r1.expected_payoff <= r2.expected_payoff + loose <= r3.expected_payoff + 2 * loose
    if d3 - d1 > 1e-6 * width:
        lam = (d3 - d2) / (d3 - d1)
        assert r2.expected_payoff >= lam * r1.expected_payoff + (1 - lam) * r3.expected_payoff - tolerance(a, 1e-7)
    # the LP optimum, checked against the test's own LP at the middle margin
    assert r2.expected_payoff == pytest.approx(reference_most_exploitative(a, q, value - d2),
                                               abs=tolerance(a, 1e-7))


@PROPERTY
@given(games_and_mixes(), st.lists(st.floats(0, 1.5), min_size=2, max_size=2))
# Against q = column 2 both rows earn 0; row 2 guarantees 0, any mix with row 1 less. At margin 0.5 the LP
# may return (0.5, 0.5) (guarantee −0.5) although (0, 1) earns as much with guarantee 0.
@example(case=(np.array([[0.0, 0.0, -1.0], [0.0, 0.0, 0.0]]), np.array([0.0, 1.0, 0.0])), fractions=[0.5, 1.0])
def test_guarantee_is_non_increasing_in_the_margin(case, fractions):
    a, q = case
    d1, d2 = sorted(f * span(a) for f in fractions)
    r1, r2 = exploit(a, q, d1), exploit(a, q, d2)
    assert r1.guarantee >= r2.guarantee - tolerance(a, 1e-8)


@PROPERTY
@given(st.floats(0, 1))
@example(0.0)
@example(0.5)
@example(1.0)
def test_safe_exploitation_is_not_dominated_when_the_prediction_is_indifferent(margin):
    """A margin that buys nothing against q must not cost any guarantee: x = (0, 1) earns 0 against q and
    guarantees 0 (the value), so any margin (over the whole payoff range, 1) must return a strategy
    guaranteeing 0."""
    a, q = np.array([[0.0, 0.0, -1.0], [0.0, 0.0, 0.0]]), np.array([0.0, 1.0, 0.0])
    result = exploit(a, q, margin)
    assert result.guarantee == pytest.approx(0.0, abs=1e-12)
    assert result.expected_payoff == pytest.approx(0.0, abs=1e-12)


@PROPERTY
@given(games_and_mixes(), st.floats(0, 1))
def test_any_margin_keeps_its_promise_and_exploits_at_least_as_much_as_margin_zero(case, fraction):
    a, q = case
    margin = fraction * span(a)  # margins over the whole payoff range
    result, at_zero = exploit(a, q, margin), exploit(a, q, 0.0)
    tol = tolerance(a)
    assert result.margin == margin
    assert result.guarantee >= result.value - margin - tol
    assert row_guarantee(a, result.row_strategy) >= result.value - margin - tol
    assert result.expected_payoff >= at_zero.expected_payoff - tol
    assert result.expected_payoff == pytest.approx(float(result.row_strategy @ a @ q), abs=tol)


@PROPERTY
@given(games_and_mixes(), st.floats(0.05, 0.95))
def test_restricted_nash_response_lies_on_the_safe_exploitation_frontier(case, p):
    a, q = case
    tol = tolerance(a)
    at_zero = restricted_nash_response(a, q, 0.0)
    assert at_zero.guarantee == pytest.approx(exploit(a, q, 0.0).guarantee, abs=tol)
    assert at_zero.guarantee == pytest.approx(at_zero.value, abs=tol)
    at_one = restricted_nash_response(a, q, 1.0)
    assert at_one.expected_payoff == pytest.approx(float((a @ q).max()), abs=tol)

    rnr = restricted_nash_response(a, q, p)
    assert rnr.weight == p
    assert rnr.guarantee == pytest.approx(row_guarantee(a, rnr.row_strategy), abs=tol)
    # the margin that allows exactly this guarantee buys exactly this expected payoff
    frontier = exploit(a, q, max(rnr.value - rnr.guarantee, 0.0))
    assert frontier.expected_payoff == pytest.approx(rnr.expected_payoff, abs=tolerance(a, 1e-7))

    # the RNR objective p·E + (1 − p)·g is maximal: no other strategy we can name does better
    def objective(r):
        return p * r.expected_payoff + (1 - p) * r.guarantee

    for other in (at_zero, at_one, *(exploit(a, q, f * span(a)) for f in (0.05, 0.2, 0.5))):
        assert objective(rnr) >= objective(other) - tolerance(a, 1e-8)
    for i in range(a.shape[0]):  # pure strategies
        assert objective(rnr) >= p * float(a[i] @ q) + (1 - p) * float(a[i].min()) - tolerance(a, 1e-8)


@PROPERTY
@given(games_and_mixes(), st.lists(st.floats(0, 1), min_size=2, max_size=2))
def test_restricted_nash_response_is_monotone_in_the_weight(case, weights):
    a, q = case
    p1, p2 = sorted(weights)
    r1, r2 = restricted_nash_response(a, q, p1), restricted_nash_response(a, q, p2)
    loose = tolerance(a, 1e-8)
    assert r1.expected_payoff <= r2.expected_payoff + loose
    assert r1.guarantee >= r2.guarantee - loose

