"""The stochastic-game solver's bookkeeping and warm starts: the counts it reports add up, strategy iteration
gives up after exactly PATIENCE useless steps, its sweep budget is honoured to the sweep, and a sweep warm-started
from the previous supports sends only the games whose support changed to the batch solver."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.errors import InvalidGameError, SolverError
from strategist.games import stochastic
from strategist.games.stochastic import PATIENCE, StrategyIterationWarning, solve_stochastic_game


def stopping_game(seed: int, size: int = 30, actions: int = 4):
    """``size`` states of ``actions`` × ``actions`` games; every pair moves on with probability 0.3–0.8."""
    rng = np.random.default_rng(seed)
    rewards = [rng.uniform(0, 1, (actions, actions)) for _ in range(size)]
    transitions = []
    for _ in range(size):
        p = rng.random((actions, actions, size)) * (rng.random((actions, actions, size)) < 0.3)
        total = p.sum(axis=2, keepdims=True)
        p = np.where(total > 0, p / np.where(total > 0, total, 1), 0) * rng.uniform(0.3, 0.8, (actions, actions, 1))
        transitions.append(p)
    return rewards, transitions


@pytest.mark.parametrize("seed", range(3))
def test_the_reported_counts_add_up(seed):
    """Every sweep but the first is a strategy step's trial or a value-iteration step."""
    sol = solve_stochastic_game(*stopping_game(seed))
    assert sol.method == "strategy" and sol.linear_solves >= 1
    assert sol.iterations == 1 + sol.linear_solves + sol.value_sweeps


def test_strategy_iteration_gives_up_after_exactly_patience_useless_steps(monkeypatch):
    rewards, transitions = stopping_game(0, size=8)
    reference = solve_stochastic_game(rewards, transitions, method="value")
    monkeypatch.setattr(stochastic, "_solve_chain", lambda game, r, p: np.full(game.size, 50.0))
    with pytest.warns(StrategyIterationWarning):
        sol = solve_stochastic_game(rewards, transitions)
    assert sol.method == "strategy+value"
    assert sol.linear_solves == PATIENCE
    assert sol.iterations == 1 + sol.linear_solves + sol.value_sweeps and sol.value_sweeps > PATIENCE
    np.testing.assert_allclose(sol.values, reference.values, atol=1e-8)


@pytest.mark.parametrize("method", ["strategy", "value"])
def test_the_sweep_budget_is_honoured_to_the_sweep(method):
    rewards, transitions = stopping_game(1, size=10)
    needed = solve_stochastic_game(rewards, transitions, method=method).iterations
    assert solve_stochastic_game(rewards, transitions, method=method, max_iterations=needed).iterations == needed
    with pytest.raises(SolverError, match="did not converge"):
        solve_stochastic_game(rewards, transitions, method=method, max_iterations=needed - 1)


def test_a_warm_sweep_at_the_solution_solves_nothing_again(batch_calls):
    rewards, transitions = stopping_game(0)
    sol = solve_stochastic_game(rewards, transitions)
    game = stochastic._prepare(rewards, transitions, 1.0, None, None, None)
    batch_calls.clear()
    cold = stochastic._sweep(game, sol.values)
    assert sum(batch_calls) == 30                                   # no kernels: every stage game
    batch_calls.clear()
    warm = stochastic._sweep(game, sol.values, cold.kernels)
    assert sum(batch_calls) == 0                                    # the supports still hold: none
    np.testing.assert_allclose(warm.values, cold.values, atol=1e-12)
    for s in range(30):
        np.testing.assert_allclose(warm.x[s], cold.x[s], atol=1e-9)
        np.testing.assert_allclose(warm.y[s], cold.y[s], atol=1e-9)
    assert (warm.gap <= 1e-9).all()


@pytest.mark.parametrize("seed", range(3))
def test_strategy_iteration_warm_starts_each_sweep(batch_calls, seed):
    """30 states, 4–6 sweeps: solved cold in every sweep that would be 120–180 stage games; warm-started, the
    first sweep's 30 and the few whose support changed."""
    sol = solve_stochastic_game(*stopping_game(seed))
    assert sol.iterations >= 4 and batch_calls[0] == 30
    assert sum(batch_calls) < 3 * 30


def test_a_game_refused_for_going_on_forever_names_the_pair_and_where_it_leads():
    """Rally A → rally B surely, rally B → rally A or B surely (both play action 0)."""
    r = [np.array([[0.5]]), np.array([[0.0, 0.2], [0.3, 0.1]]), np.array([[0.0, 0.4], [0.6, 0.5]])]
    p0, p1, p2 = np.zeros((1, 1, 3)), np.zeros((2, 2, 3)), np.zeros((2, 2, 3))
    p0[0, 0, 1] = 0.5
    p1[0, 0, 2], p1[1, 1, 0] = 1.0, 0.5
    p2[0, 0, 1], p2[0, 0, 2], p2[1, 0, 1] = 0.7, 0.3, 0.4
    with pytest.raises(InvalidGameError, match=r"\(e\.g\. state 1 \('rally A'\): row action 'r1' against column "
                                               r"action 'c1' moves on to \['rally B'\]\)"):
        solve_stochastic_game(r, [p0, p1, p2], state_labels=["serve", "rally A", "rally B"])


@pytest.mark.parametrize("kwargs, message", [
    ({"rewards": "abc"}, r"^rewards: "), ({"transitions": 3}, r"^transitions: "),
    ({"state_labels": ["a"]}, r"^state labels"), ({"row_labels": [["x"], ["y"]]}, r"^row labels of state 0"),
    ({"column_labels": [["x", "y"], ["z"]]}, r"^column labels of state 1"), ({"discount": True}, r"^discount"),
    ({"discount": "0.9"}, r"^discount")])
def test_bad_arguments_are_refused_by_their_name(kwargs, message):
    rewards = [np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.5, 0.1], [0.3, 0.9]])]
    transitions = [np.full((2, 2, 2), 0.25), np.full((2, 2, 2), 0.1)]
    args = {"rewards": rewards, "transitions": transitions, **kwargs}
    with pytest.raises(InvalidGameError, match=message):
        solve_stochastic_game(args.pop("rewards"), args.pop("transitions"), **args)


def test_the_solution_as_json_and_by_state():
    rewards = [np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.5, 0.1], [0.3, 0.9]])]
    transitions = [np.full((2, 2, 2), 0.25), np.full((2, 2, 2), 0.1)]
    sol = solve_stochastic_game(rewards, transitions, state_labels=["serve", "rally"],
                                row_labels=[["short", "long"], ["drop", "clear"]])
    d = sol.to_dict()
    assert list(d["states"]) == ["serve", "rally"]
    assert d["states"]["rally"]["value"] == float(sol.values[1])
    assert d["states"]["serve"]["row_strategy"] == sol.row_mixes["serve"] and set(sol.row_mixes["serve"]) == {
        "short", "long"}
    assert d["states"]["rally"]["column_strategy"] == sol.column_mixes["rally"]
    cert = d["states"]["serve"]["certificate"]
    assert (cert["row_guarantee"], cert["column_guarantee"], cert["duality_gap"]) == (
        float(sol.row_guarantees[0]), float(sol.column_guarantees[0]), float(sol.duality_gaps[0]))
    assert (d["discount"], d["method"], d["iterations"], d["linear_solves"], d["value_sweeps"], d["residual"]) == (
        1.0, sol.method, sol.iterations, sol.linear_solves, sol.value_sweeps, sol.residual)
    stage = sol.state("rally")
    assert stage.value == pytest.approx(float(sol.values[1]), abs=1e-9)
    np.testing.assert_allclose(stage.game.payoffs, sol.stage_games[1])
    assert stage.game.row_labels == ("drop", "clear") and sol.state(1).value == stage.value
    with pytest.raises(InvalidGameError, match="unknown state 'lob'"):
        sol.state("lob")
    with pytest.raises(InvalidGameError, match="state 2 out of range; the game has 2 states"):
        sol.state(2)
    with pytest.raises(InvalidGameError, match="out of range"):
        sol.state(-1)


def _value_iteration_by_hand(rewards, transitions, tol=1e-10):
    """Shapley's sweeps V ← val(r + P V), each stage game by the single-game solver; how many until
    ‖T(V) − V‖∞ ≤ tol·max|r|."""
    from strategist.games import solve_zero_sum

    target = tol * max(float(np.abs(r).max()) for r in rewards)
    v, sweeps = np.zeros(len(rewards)), 0
    while True:
        new = np.array([solve_zero_sum(r + p @ v).value for r, p in zip(rewards, transitions)])
        sweeps += 1
        if np.abs(new - v).max() <= target:
            return new, sweeps
        v = new


def test_value_iteration_counts_its_sweeps_and_warm_starts_them(batch_calls):
    rewards, transitions = stopping_game(2, size=12)
    values, sweeps = _value_iteration_by_hand(rewards, transitions)
    batch_calls.clear()
    sol = solve_stochastic_game(rewards, transitions, method="value")
    assert sol.iterations == sweeps and (sol.linear_solves, sol.value_sweeps) == (0, 0)
    np.testing.assert_allclose(sol.values, values, atol=1e-9)
    assert batch_calls[0] == 12 and sum(batch_calls) < 3 * 12 < sweeps * 12     # later sweeps warm


def test_mixes_given_as_arrays_are_evaluated_like_lists():
    rewards = [np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.5, 0.1], [0.3, 0.9]])]
    transitions = [np.full((2, 2, 2), 0.25), np.full((2, 2, 2), 0.1)]
    x = np.array([[0.3, 0.7], [1.0, 0.0]])
    y = np.array([[0.5, 0.5], [0.2, 0.8]])
    from strategist.games import evaluate_policies

    as_arrays = evaluate_policies(rewards, transitions, x, y)
    np.testing.assert_allclose(as_arrays, evaluate_policies(rewards, transitions, list(x), list(y)), atol=1e-15)
    # by hand: V = r_xy + P_xy V
    r = np.array([x[s] @ rewards[s] @ y[s] for s in range(2)])
    p = np.array([np.einsum("a,abt,b->t", x[s], transitions[s], y[s]) for s in range(2)])
    np.testing.assert_allclose(as_arrays, np.linalg.solve(np.eye(2) - p, r), atol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    ({"tol": 1.0}, "tol"), ({"tol": 0.0}, "tol"), ({"tol": True}, "tol"), ({"max_iterations": 0}, "max_iterations"),
    ({"max_iterations": True}, "max_iterations"), ({"max_iterations": 2.0}, "max_iterations")])
def test_options_out_of_range_are_refused(kwargs, message):
    rewards, transitions = stopping_game(0, size=3)
    with pytest.raises(InvalidGameError, match=message):
        solve_stochastic_game(rewards, transitions, **kwargs)


def test_text_in_transitions_is_refused_naming_the_state():
    rewards = [np.array([[0.2, 0.8]]), np.array([[0.5]])]
    transitions = [[[["0.1", "0.2"], ["a", "b"]]], np.zeros((1, 1, 2))]
    with pytest.raises(InvalidGameError, match="transitions of state 0"):
        solve_stochastic_game(rewards, transitions)


def test_every_stage_solution_is_the_states_certificate():
    rewards, transitions = stopping_game(1, size=6)
    sol = solve_stochastic_game(rewards, transitions)
    for s in range(6):
        stage = sol.state(s)
        np.testing.assert_allclose(stage.row_strategy, sol.row_strategies[s])
        np.testing.assert_allclose(stage.column_strategy, sol.column_strategies[s])
        assert (stage.row_guarantee, stage.column_guarantee, stage.duality_gap) == (
            float(sol.row_guarantees[s]), float(sol.column_guarantees[s]), float(sol.duality_gaps[s]))
        assert stage.game.column_labels == sol.column_labels[s]
        x, y = sol.row_strategies[s], sol.column_strategies[s]
        assert (x >= 0).all() and (y >= 0).all() and abs(x.sum() - 1) < 1e-12 and abs(y.sum() - 1) < 1e-12


def test_states_and_actions_are_named_by_position_when_no_labels_are_given():
    rewards = [np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.5, 0.1]])]
    transitions = [np.full((2, 2, 2), 0.25), np.full((1, 2, 2), 0.1)]
    sol = solve_stochastic_game(rewards, transitions)
    assert sol.state_labels == ("0", "1")
    assert sol.row_labels == (("r1", "r2"), ("r1",)) and sol.column_labels == (("c1", "c2"), ("c1", "c2"))
    assert sol.state(0).value == pytest.approx(float(sol.values[0]), abs=1e-12)
    assert sol.state("0").game.row_labels == ("r1", "r2")


@pytest.mark.parametrize("shift", [-1.0, -5.0])
def test_games_of_negative_payoffs_are_solved_as_their_shifted_selves(shift):
    """Payoffs below zero (a warm-started sweep rescales each stage game by its own range): every state's value
    is the value-iteration fixed point computed stage game by stage game."""
    rewards, transitions = stopping_game(3, size=10)
    rewards = [r + shift for r in rewards]
    sol = solve_stochastic_game(rewards, transitions)
    values, _ = _value_iteration_by_hand(rewards, transitions, tol=1e-12)
    np.testing.assert_allclose(sol.values, values, atol=1e-8)
