"""Policy iteration against a hand-solved process, value iteration run to convergence in float64, and the
stochastic-game solver on the same process; minimising; a policy that never ends; bad shapes."""

from __future__ import annotations

import numpy as np
import pytest

from strategist import solve_stochastic_game
from strategist.errors import SolverError, StrategistError
from strategist.games.mdp import solve_mdp


def random_mdp(states: int, seed: int, actions=(1, 5), end=0.05):
    """Rewards in [0, 1] and transitions that end the process with probability >= ``end`` from every action."""
    rng = np.random.default_rng(seed)
    rewards, transitions = [], []
    for _ in range(states):
        a = int(rng.integers(actions[0], actions[1] + 1))
        p = rng.dirichlet(np.full(states + 1, 0.3), size=a)
        stay = p[:, :states] * (1.0 - end)
        rewards.append(rng.uniform(size=a) * (1.0 - stay.sum(axis=1)))
        transitions.append(stay)
    return rewards, transitions


def value_iteration(rewards, transitions, maximise=True):
    pick = np.max if maximise else np.min
    v = np.zeros(len(rewards))
    for _ in range(100_000):
        new = np.array([pick(r + t @ v) for r, t in zip(rewards, transitions)])
        if np.abs(new - v).max() < 1e-15:
            return new
        v = new
    raise AssertionError("value iteration did not converge")


def test_a_hand_solved_process():
    """State 0: 'safe' pays 0.5 and ends; 'risky' pays 0.2 and returns to state 1 with probability 0.8.
    State 1: one action paying 0.6 and ending. V1 = 0.6; risky is worth 0.2 + 0.8·0.6 = 0.68 > 0.5."""
    sol = solve_mdp([np.array([0.5, 0.2]), np.array([0.6])],
                    [np.array([[0.0, 0.0], [0.0, 0.8]]), np.array([[0.0, 0.0]])])
    np.testing.assert_allclose(sol.values, [0.68, 0.6], atol=1e-15)
    assert list(sol.actions) == [1, 0]
    np.testing.assert_allclose(sol.q_values[0], [0.5, 0.68], atol=1e-15)
    assert [list(x) for x in sol.policy()] == [[0.0, 1.0], [1.0]]
    worst = solve_mdp([np.array([0.5, 0.2]), np.array([0.6])],
                      [np.array([[0.0, 0.0], [0.0, 0.8]]), np.array([[0.0, 0.0]])], maximise=False)
    np.testing.assert_allclose(worst.values, [0.5, 0.6], atol=1e-15)
    assert list(worst.actions) == [0, 0]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("maximise", [True, False])
def test_policy_iteration_agrees_with_value_iteration(seed, maximise):
    rewards, transitions = random_mdp(30, seed)
    sol = solve_mdp(rewards, transitions, maximise=maximise)
    reference = value_iteration(rewards, transitions, maximise)
    np.testing.assert_allclose(sol.values, reference, atol=1e-12)
    # the chosen actions are optimal against the reference values
    for r, t, a in zip(rewards, transitions, sol.actions):
        q = r + t @ reference
        assert q[a] == pytest.approx(q.max() if maximise else q.min(), abs=1e-12)
    assert 1 <= sol.steps < 30


def test_policy_iteration_agrees_with_the_stochastic_game_solver():
    """The same process as a stochastic game whose column player has one action in every state."""
    rewards, transitions = random_mdp(25, 11)
    sol = solve_mdp(rewards, transitions)
    game = solve_stochastic_game([r[:, None] for r in rewards], [t[:, None, :] for t in transitions])
    np.testing.assert_allclose(sol.values, game.values, atol=1e-9)


def test_ties_keep_the_first_action_and_the_values():
    """Two actions worth the same everywhere: the first stays chosen (no change of less than 1e-12 of the payoffs
    counts as an improvement)."""
    rewards = [np.array([0.3, 0.3]), np.array([0.1])]
    transitions = [np.array([[0.0, 0.5], [0.0, 0.5]]), np.array([[0.0, 0.0]])]
    sol = solve_mdp(rewards, transitions)
    assert list(sol.actions) == [0, 0] and sol.steps == 1
    np.testing.assert_allclose(sol.values, [0.35, 0.1], atol=1e-15)


def test_a_policy_that_never_ends_is_refused():
    # state 1 loops on itself for ever and pays nothing: I − P_π is singular
    with pytest.raises(SolverError, match="never ends") as info:
        solve_mdp([np.array([1.0]), np.array([0.0])], [np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]])])
    assert isinstance(info.value, StrategistError)


@pytest.mark.parametrize("rewards, transitions", [
    ([np.array([1.0])], [np.array([[0.0, 0.0]])]),               # transitions to 2 states of a 1-state MDP
    ([np.array([])], [np.zeros((0, 1))]),                         # a state without an action
], ids=["wrong-width", "no-action"])
def test_bad_shapes_are_refused(rewards, transitions):
    with pytest.raises(SolverError, match="needs rewards"):
        solve_mdp(rewards, transitions)


def test_a_closed_chain_the_solver_does_not_call_singular_is_refused():
    """Five states that pass the process round for ever: rounding leaves LAPACK a tiny pivot, so a solve would
    return values of 6e15 instead of raising; no state leads out of the chain, so the policy is refused first."""
    rng = np.random.default_rng(0)
    moves = rng.dirichlet(np.ones(5), size=5)
    rewards = rng.uniform(size=5)
    with pytest.raises(SolverError, match=r"never ends the process from states \[0, 1, 2, 3, 4\]"):
        solve_mdp([np.array([r]) for r in rewards], [m[None, :] for m in moves])


def test_an_action_that_loops_for_ever_is_not_where_it_starts():
    """'wait' keeps the process in its state for ever and pays nothing; 'go' pays 0.5 and ends it. Policy
    iteration starts from the greedy choice of the immediate payoff, so it never evaluates the looping one."""
    sol = solve_mdp([np.array([0.0, 0.5])], [np.array([[1.0], [0.0]])])
    assert list(sol.actions) == [1] and sol.values[0] == pytest.approx(0.5, abs=1e-15)


def test_the_step_bound_is_exact(monkeypatch):
    """The hand-solved process needs two steps (greedy 'safe', then 'risky'): a bound of two solves it, one
    does not."""
    import strategist.games.mdp as mdp

    rewards = [np.array([0.5, 0.2]), np.array([0.6])]
    transitions = [np.array([[0.0, 0.0], [0.0, 0.8]]), np.array([[0.0, 0.0]])]
    monkeypatch.setattr(mdp, "MAX_STEPS", 2)
    assert solve_mdp(rewards, transitions).steps == 2
    monkeypatch.setattr(mdp, "MAX_STEPS", 1)
    with pytest.raises(SolverError, match="did not settle in 1 steps"):
        solve_mdp(rewards, transitions)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_values_scale_with_the_payoffs_and_the_policy_does_not(scale):
    rewards, transitions = random_mdp(20, 5)
    base = solve_mdp(rewards, transitions)
    scaled = solve_mdp([r * scale for r in rewards], transitions)
    np.testing.assert_allclose(scaled.values, base.values * scale, rtol=1e-12)
    assert list(scaled.actions) == list(base.actions)


def test_rewards_as_columns_and_the_policys_sizes():
    """Rewards given as (A, 1) columns (a game of one column) are read as vectors; ``policy(sizes)`` pads the
    one-hot mixes to the sizes asked."""
    rewards, transitions = random_mdp(6, 2)
    flat = solve_mdp(rewards, transitions)
    columns = solve_mdp([r[:, None] for r in rewards], transitions)
    np.testing.assert_allclose(columns.values, flat.values, atol=1e-15)
    sizes = [len(r) + 2 for r in rewards]
    for mix, a, n in zip(flat.policy(sizes), flat.actions, sizes):
        assert len(mix) == n and mix[a] == 1.0 and mix.sum() == 1.0
