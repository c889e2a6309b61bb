"""Zero-sum stochastic games: against a linprog fixed-point loop, hand-solved games and the matrix-game solver."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from strategist import StochasticGameSolution, evaluate_policies, solve_stochastic_game, solve_zero_sum
from strategist.errors import InvalidGameError, StrategistError
from strategist.games import stochastic
from strategist.games.stochastic import StrategyIterationWarning, forever_states

from .conftest import assert_optimal, reference_value_positive_shift


# ----------------------------------------------------------------------------------------------- references
def random_game(seed: int, discount: float, max_states: int = 6, max_actions: int = 4, continuation: float = 0.5):
    """Random game with 1–6 states and 1–4 actions per player and state.

    γ < 1: each pair moves on with total probability ≤ ``continuation`` to random states.
    γ = 1 (stopping): the same, plus some pairs that move on surely, but only to higher-numbered states; the
    last state's pairs all leak, so no set of states can hold the play forever.
    """
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, max_states + 1))
    rewards, transitions = [], []
    for s in range(size):
        m, n = (int(k) for k in rng.integers(1, max_actions + 1, size=2))
        rewards.append(rng.uniform(-1, 1, size=(m, n)))
        p = rng.random((m, n, size)) * (rng.random((m, n, size)) < 0.6)
        total = p.sum(axis=2, keepdims=True)
        p = np.where(total > 0, p / np.where(total > 0, total, 1), 0) * rng.uniform(0, continuation, (m, n, 1))
        if discount == 1.0 and s < size - 1:
            sure = rng.random((m, n)) < 0.3
            ahead = rng.random((m, n, size)) * (np.arange(size) > s)
            ahead /= ahead.sum(axis=2, keepdims=True)
            p[sure] = ahead[sure]
        transitions.append(p)
    return rewards, transitions


def linprog_fixed_point(rewards, transitions, discount, tol=1e-13, max_sweeps=2000):
    """V ← val(r_s + γ P_s V), each state's game solved by its own linprog (conftest's positive-shift LP)."""
    v = np.zeros(len(rewards))
    for _ in range(max_sweeps):
        new = np.array([reference_value_positive_shift(np.asarray(r) + discount * (np.asarray(p) @ v))
                        for r, p in zip(rewards, transitions)])
        if np.abs(new - v).max() <= tol:
            return new
        v = new
    raise AssertionError("reference fixed-point loop did not converge")


def evaluate_by_iteration(rewards, transitions, x, y, discount, sweeps=3000):
    """Value of stationary strategies by repeating V ← r_xy + γ P_xy V (no linear solve)."""
    v = np.zeros(len(rewards))
    for _ in range(sweeps):
        v = np.array([x[s] @ (np.asarray(rewards[s]) + discount * (np.asarray(transitions[s]) @ v)) @ y[s]
                      for s in range(len(rewards))])
    return v


def hand_solved():
    """Two states, γ = 1, rewards = probability the row player wins the rally now.

    State 1 ('net', no continuation): [[0.1, 0.7], [0.6, 0.2]] has no saddle; value (0.1·0.2 − 0.7·0.6) /
    (0.1 + 0.2 − 0.7 − 0.6) = 0.4, row mix (0.4, 0.6), column mix (0.5, 0.5).
    State 0 ('baseline'): (attack, left) wins 0.6 and ends; (attack, right) wins 0.1, goes to the net w.p. 0.5;
    (rally, left) goes on in state 0 w.p. 0.8; (rally, right) wins 0.5, goes on in state 0 w.p. 0.4. With
    v = V(0): Q_0 = [[0.6, 0.1 + 0.5·0.4], [0.8v, 0.5 + 0.4v]] = [[0.6, 0.3], [0.8v, 0.5 + 0.4v]]. Without a
    saddle, v = (ad − bc)/(a + d − b − c) = 0.3 / (0.8 − 0.4v), i.e. 0.4v² − 0.8v + 0.3 = 0, v ∈ {0.5, 1.5};
    a win probability is ≤ 1, so v = 0.5 and Q_0 = [[0.6, 0.3], [0.4, 0.7]] (no saddle: maxmin 0.4 < minmax
    0.6). Row mix: 0.6p + 0.4(1 − p) = 0.3p + 0.7(1 − p) → p = 1/2; column: 0.6q + 0.3(1 − q) = 0.4q + 0.7(1 − q)
    → q = 2/3.
    """
    r0 = [[0.6, 0.1], [0.0, 0.5]]
    p0 = np.zeros((2, 2, 2))
    p0[0, 1, 1] = 0.5
    p0[1, 0, 0] = 0.8
    p0[1, 1, 0] = 0.4
    r1 = [[0.1, 0.7], [0.6, 0.2]]
    p1 = np.zeros((2, 2, 2))
    return [r0, r1], [p0, p1]


def rally_cycle(size=20, continuation=0.9, seed=0, actions=3):
    """A rally-shaped game: state s moves on to s+1, s+2 (mod size) with total probability ``continuation``."""
    rng = np.random.default_rng(seed)
    rewards, transitions = [], []
    for s in range(size):
        r = rng.uniform(0, 1 - continuation, size=(actions, actions))
        p = np.zeros((actions, actions, size))
        split = rng.uniform(0.2, 0.8, size=(actions, actions))
        p[:, :, (s + 1) % size] = continuation * split
        p[:, :, (s + 2) % size] += continuation * (1 - split)
        rewards.append(r)
        transitions.append(p)
    return rewards, transitions


def stage_game(rewards, transitions, discount, values, s):
    return np.asarray(rewards[s]) + discount * (np.asarray(transitions[s]) @ values)


# ------------------------------------------------------------------------------------------------------ tests
CASES = [(seed, 0.9) for seed in range(8)] + [(seed, 1.0) for seed in range(100, 108)]


@pytest.mark.parametrize("seed, discount", CASES, ids=[f"seed{s}-g{g}" for s, g in CASES])
def test_random_games_match_an_independent_linprog_fixed_point(seed, discount):
    rewards, transitions = random_game(seed, discount)
    reference = linprog_fixed_point(rewards, transitions, discount)
    for method in ("strategy", "value"):
        result = solve_stochastic_game(rewards, transitions, discount, method=method)
        np.testing.assert_allclose(result.values, reference, atol=1e-8, err_msg=method)
        assert result.residual <= 1e-10 * max(np.abs(r).max() for r in rewards)


@pytest.mark.parametrize("seed, discount", CASES[::3], ids=[f"seed{s}-g{g}" for s, g in CASES[::3]])
def test_returned_strategies_are_an_equilibrium_of_every_stage_game(seed, discount):
    rewards, transitions = random_game(seed, discount)
    result = solve_stochastic_game(rewards, transitions, discount)
    for s in range(len(rewards)):
        q = stage_game(rewards, transitions, discount, result.values, s)
        # optimal in Q_s, and Q_s's value is V(s) (the fixed point)
        assert_optimal(q, result.row_strategies[s], result.column_strategies[s], result.values[s], rel=1e-8)
        assert result.row_guarantees[s] == pytest.approx((result.row_strategies[s] @ q).min(), abs=1e-12)
        assert result.column_guarantees[s] == pytest.approx((q @ result.column_strategies[s]).max(), abs=1e-12)
        assert 0 <= result.duality_gaps[s] <= 1e-9
    exact = evaluate_policies(rewards, transitions, result.row_strategies, result.column_strategies, discount)
    np.testing.assert_allclose(exact, result.values, atol=1e-9)
    slow = evaluate_by_iteration(rewards, transitions, result.row_strategies, result.column_strategies, discount)
    np.testing.assert_allclose(exact, slow, atol=1e-9)


def test_one_state_without_transitions_is_the_matrix_game():
    a = np.random.default_rng(5).normal(size=(4, 3))
    result = solve_stochastic_game([a], [np.zeros((4, 3, 1))])
    single = solve_zero_sum(a)
    assert result.values[0] == pytest.approx(single.value, abs=1e-12)
    assert_optimal(a, result.row_strategies[0], result.column_strategies[0], single.value)
    assert result.iterations <= 2 and result.residual <= 1e-12


@pytest.mark.parametrize("method", ["strategy", "value"])
def test_hand_solved_two_state_game(method):
    rewards, transitions = hand_solved()
    result = solve_stochastic_game(rewards, transitions, method=method,
                                   state_labels=["baseline", "net"],
                                   row_labels=[["attack", "rally"], None], column_labels=[["left", "right"], None])
    np.testing.assert_allclose(result.values, [0.5, 0.4], atol=1e-9)
    np.testing.assert_allclose(result.row_strategies[0], [0.5, 0.5], atol=1e-8)
    np.testing.assert_allclose(result.column_strategies[0], [2 / 3, 1 / 3], atol=1e-8)
    np.testing.assert_allclose(result.row_strategies[1], [0.4, 0.6], atol=1e-8)
    np.testing.assert_allclose(result.column_strategies[1], [0.5, 0.5], atol=1e-8)
    np.testing.assert_allclose(result.stage_games[0], [[0.6, 0.3], [0.4, 0.7]], atol=1e-9)
    assert result.value_by_state == pytest.approx({"baseline": 0.5, "net": 0.4}, abs=1e-9)
    assert result.row_mixes["baseline"] == pytest.approx({"attack": 0.5, "rally": 0.5}, abs=1e-8)
    assert result.column_mixes["net"] == pytest.approx({"c1": 0.5, "c2": 0.5}, abs=1e-8)
    net = result.state("net")
    assert net.value == pytest.approx(0.4, abs=1e-9) and net.column_mix == pytest.approx({"c1": 0.5, "c2": 0.5})
    assert result.to_dict()["states"]["baseline"]["value"] == pytest.approx(0.5, abs=1e-9)
    assert result.method == method and not result.fell_back
    assert isinstance(result, StochasticGameSolution)


def test_discounting_is_applied():
    # one state, one action pair: win 0.5 now, then play again w.p. 1 → V = 0.5 / (1 − γ)
    result = solve_stochastic_game([[[0.5]]], [[[[1.0]]]], discount=0.8)
    assert result.values[0] == pytest.approx(2.5, abs=1e-9)


def test_strategy_iteration_agrees_with_value_iteration_in_far_fewer_sweeps():
    rewards, transitions = rally_cycle()
    fast = solve_stochastic_game(rewards, transitions, method="strategy")
    slow = solve_stochastic_game(rewards, transitions, method="value")
    np.testing.assert_allclose(fast.values, slow.values, atol=1e-8)
    assert fast.method == "strategy" and slow.method == "value"
    assert slow.iterations > 100          # continuation 0.9 around a cycle: ~ log(1e-10) / log(0.9) sweeps
    assert fast.iterations <= 15, fast.iterations
    assert fast.linear_solves >= 1 and slow.linear_solves == 0


def test_stacked_arrays_are_accepted():
    rewards, transitions = rally_cycle(size=5)
    listed = solve_stochastic_game(rewards, transitions)
    stacked = solve_stochastic_game(np.stack(rewards), np.stack(transitions))
    np.testing.assert_allclose(stacked.values, listed.values, atol=1e-12)


@pytest.mark.parametrize("factor", [1e-9, 1e9])
def test_units_do_not_change_the_strategies(factor):
    rewards, transitions = random_game(3, 0.9)
    base = solve_stochastic_game(rewards, transitions, 0.9)
    scaled = solve_stochastic_game([r * factor for r in rewards], transitions, 0.9)
    np.testing.assert_allclose(scaled.values, base.values * factor, rtol=1e-8, atol=1e-9 * factor)
    for s in range(len(rewards)):
        np.testing.assert_allclose(scaled.row_strategies[s], base.row_strategies[s], atol=1e-8)
        np.testing.assert_allclose(scaled.column_strategies[s], base.column_strategies[s], atol=1e-8)


def test_a_strategy_iteration_that_does_not_pay_falls_back_to_value_iteration_and_says_so(monkeypatch):
    rewards, transitions = rally_cycle(size=8)
    reference = solve_stochastic_game(rewards, transitions, method="value")
    # every strategy-iteration step now lands on a useless point, so each is rejected
    monkeypatch.setattr(stochastic, "_solve_chain", lambda game, r, p: np.full(game.size, 50.0))
    with pytest.warns(StrategyIterationWarning, match="fell back to value iteration"):
        result = solve_stochastic_game(rewards, transitions, method="strategy")
    assert result.method == "strategy+value" and result.fell_back
    assert result.value_sweeps > 0
    np.testing.assert_allclose(result.values, reference.values, atol=1e-8)


def test_no_warning_when_strategy_iteration_finishes():
    rewards, transitions = rally_cycle(size=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = solve_stochastic_game(rewards, transitions)
    assert result.method == "strategy"


# ------------------------------------------------------------------------------------------ games without end
def forever_game():
    """'serve' ends or moves to 'rally A'; 'rally A' ↔ 'rally B' continue surely when both play action 0."""
    r = [np.array([[0.5]]), np.array([[0.0, 0.2], [0.3, 0.1]]), np.array([[0.0, 0.4], [0.6, 0.5]])]
    p0 = np.zeros((1, 1, 3))
    p0[0, 0, 1] = 0.5
    p1 = np.zeros((2, 2, 3))
    p1[0, 0, 2] = 1.0            # rally A → rally B surely
    p1[1, 1, 0] = 0.5
    p2 = np.zeros((2, 2, 3))
    p2[0, 0, 1] = 0.7            # rally B → rally A or B surely
    p2[0, 0, 2] = 0.3
    p2[1, 0, 1] = 0.4
    return r, [p0, p1, p2]


def test_a_game_that_can_go_on_forever_is_refused_naming_its_states():
    rewards, transitions = forever_game()
    labels = ["serve", "rally A", "rally B"]
    with pytest.raises(InvalidGameError, match=r"forever in states \['rally A', 'rally B'\]") as info:
        solve_stochastic_game(rewards, transitions, state_labels=labels)
    assert "serve" not in str(info.value).split("]")[0]
    assert forever_states(rewards, transitions, state_labels=labels) == ["rally A", "rally B"]
    # discounting ends it: fine
    assert np.isfinite(solve_stochastic_game(rewards, transitions, 0.95).values).all()


def test_a_sure_continuation_that_eventually_leaks_is_a_stopping_game():
    rewards, transitions = forever_game()
    transitions[2] = transitions[2].copy()
    transitions[2][0, 0, 2] = 0.2   # rally B's pair now leaks 0.1: no pair can stay forever
    assert forever_states(rewards, transitions) == []
    result = solve_stochastic_game(rewards, transitions)
    reference = linprog_fixed_point(rewards, transitions, 1.0)
    np.testing.assert_allclose(result.values, reference, atol=1e-8)


def test_policy_evaluation_refuses_strategies_that_never_end_the_game():
    rewards, transitions = forever_game()
    x = [[1.0], [1.0, 0.0], [1.0, 0.0]]
    y = [[1.0], [1.0, 0.0], [1.0, 0.0]]
    labels = ["serve", "rally A", "rally B"]
    with pytest.raises(InvalidGameError, match=r"never end the game from states \['rally A', 'rally B'\]"):
        evaluate_policies(rewards, transitions, x, y, state_labels=labels)
    # almost never ending: the leak is a 1e-13 mix weight — refused by the spectral radius, not solved
    x_tiny = [[1.0], [1.0 - 1e-13, 1e-13], [1.0, 0.0]]
    y_tiny = [[1.0], [1.0 - 1e-13, 1e-13], [1.0, 0.0]]
    with pytest.raises(InvalidGameError, match=r"spectral radius.*'rally A', 'rally B'"):
        evaluate_policies(rewards, transitions, x_tiny, y_tiny, state_labels=labels)
    # strategies that leave the cycle are evaluated exactly
    x_ok = [[1.0], [0.0, 1.0], [0.0, 1.0]]
    y_ok = [[1.0], [0.0, 1.0], [1.0, 0.0]]
    v = evaluate_policies(rewards, transitions, x_ok, y_ok)
    np.testing.assert_allclose(v, evaluate_by_iteration(rewards, transitions, np.array(x_ok, dtype=object),
                                                        np.array(y_ok, dtype=object), 1.0), atol=1e-12)


def test_policy_evaluation_accepts_mixes_by_label():
    rewards, transitions = hand_solved()
    kw = dict(row_labels=[["attack", "rally"], None], column_labels=[["left", "right"], None])
    v = evaluate_policies(rewards, transitions, [{"attack": 0.5, "rally": 0.5}, [0.4, 0.6]],
                          [{"left": 2 / 3, "right": 1 / 3}, {"c1": 0.5, "c2": 0.5}], **kw)
    np.testing.assert_allclose(v, [0.5, 0.4], atol=1e-12)


# -------------------------------------------------------------------------------------------------- bad input
def _bad(kind):
    rewards, transitions = hand_solved()
    rewards = [np.array(r, dtype=float) for r in rewards]
    transitions = [p.copy() for p in transitions]
    discount = 1.0
    if kind == "row sums above 1":
        transitions[0][1, 0, :] = [0.8, 0.3]
    elif kind == "negative probability":
        transitions[1][0, 1, 0] = -0.1
    elif kind == "transition shape":
        transitions[1] = np.zeros((2, 3, 2))
    elif kind == "missing next-state axis":
        transitions[0] = np.zeros((2, 2))
    elif kind == "nan reward":
        rewards[1][1, 0] = np.nan
    elif kind == "inf transition":
        transitions[0][0, 1, 1] = np.inf
    elif kind == "discount 0":
        discount = 0.0
    elif kind == "discount above 1":
        discount = 1.5
    elif kind == "discount nan":
        discount = float("nan")
    elif kind == "no states":
        rewards, transitions = [], []
    elif kind == "empty stage game":
        rewards[1] = np.zeros((0, 2))
    elif kind == "one transition too few":
        transitions = transitions[:1]
    elif kind == "text payoffs":
        rewards[0] = [["a", "b"], ["c", "d"]]
    return rewards, transitions, discount


BAD = {
    "row sums above 1": r"state 0: row action 1, column action 0 moves on with total probability 1\.1",
    "negative probability": r"state 1: P\(next=0 \| row action 0, column action 1\) is -0\.1; expected a prob",
    "transition shape": r"transitions of state 1: shape \(2, 3, 2\); expected \(2, 2, 2\)",
    "missing next-state axis": r"transitions of state 0: shape \(2, 2\); expected \(2, 2, 2\)",
    "nan reward": r"rewards of state 1: cell \(1, 0\) is nan",
    "inf transition": r"state 0: P\(next=1 \| row action 0, column action 1\) is inf",
    "discount 0": r"discount: got 0\.0; expected a number in \(0, 1\]",
    "discount above 1": r"discount: got 1\.5",
    "discount nan": r"discount: got nan",
    "no states": r"no states",
    "empty stage game": r"rewards of state 1: the matrix is empty",
    "one transition too few": r"transitions: got 1 entries for 2 states",
    "text payoffs": r"rewards of state 0: cell \(0, 0\) is 'a'",
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_input_is_refused_naming_the_state(kind):
    rewards, transitions, discount = _bad(kind)
    with pytest.raises(InvalidGameError, match=BAD[kind]):
        solve_stochastic_game(rewards, transitions, discount)
    with pytest.raises(StrategistError):
        evaluate_policies(rewards, transitions, [[0.5, 0.5]] * 2, [[0.5, 0.5]] * 2, discount)


def test_bad_options_and_strategies_are_refused():
    rewards, transitions = hand_solved()
    with pytest.raises(InvalidGameError, match="method"):
        solve_stochastic_game(rewards, transitions, method="newton")
    with pytest.raises(InvalidGameError, match="tol"):
        solve_stochastic_game(rewards, transitions, tol=0)
    with pytest.raises(InvalidGameError, match="max_iterations"):
        solve_stochastic_game(rewards, transitions, max_iterations=0)
    with pytest.raises(InvalidGameError, match=r"row_strategies of state 1: .*sum to 0\.9"):
        evaluate_policies(rewards, transitions, [[0.5, 0.5], [0.3, 0.6]], [[0.5, 0.5]] * 2)
    with pytest.raises(InvalidGameError, match=r"column_strategies: expected one mix per state, 2 in all"):
        evaluate_policies(rewards, transitions, [[0.5, 0.5]] * 2, [[0.5, 0.5]])


def test_rows_rounding_just_above_one_are_accepted():
    rewards, transitions = forever_game()
    transitions[0] = transitions[0].copy()
    transitions[0][0, 0, :] = [0.0, 0.5 + 5e-10, 0.5]     # sums to 1 + 5e-10: rounding, rescaled to 1
    result = solve_stochastic_game(rewards, transitions, 0.9)
    assert np.isfinite(result.values).all()
    assert stochastic._prepare(rewards, transitions, 0.9).transitions[0].sum(axis=2).max() <= 1.0


def test_value_iteration_out_of_sweeps_is_a_solver_error():
    rewards, transitions = rally_cycle()
    with pytest.raises(StrategistError, match="did not converge in 10 sweeps"):
        solve_stochastic_game(rewards, transitions, method="value", max_iterations=10)


def test_a_sweep_warm_started_on_the_last_supports_equals_a_cold_one():
    rewards, transitions = random_game(7, 0.9, max_states=6, max_actions=5)
    game = stochastic._prepare(rewards, transitions, 0.9)
    v = np.random.default_rng(0).uniform(-1, 1, size=game.size)
    first = stochastic._sweep(game, v)
    for w in (v, v + 1e-3 * np.random.default_rng(1).normal(size=game.size)):
        cold, warm = stochastic._sweep(game, w), stochastic._sweep(game, w, first.kernels)
        np.testing.assert_allclose(warm.values, cold.values, atol=1e-12)
        for s in range(game.size):
            assert_optimal(warm.stage[s], warm.x[s], warm.y[s], cold.values[s])
        assert (warm.gap <= 1e-9).all()
