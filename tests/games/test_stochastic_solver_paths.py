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


@pytest.fixture
def batch_calls(monkeypatch):
    """The number of stage games each call hands to the batch solver."""
    calls = []
    real = stochastic.solve_zero_sum_batch

    def counting(q, **kw):
        calls.append(len(q))
        return real(q, **kw)

    monkeypatch.setattr(stochastic, "solve_zero_sum_batch", counting)
    return calls


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
