"""The stochastic-game solver's stopping analysis and sweeps: the pair a refusal names, the two ways policy
evaluation refuses a chain (a closed set, or play that lingers) and the states it names, a kernel's warm-start
answer (probabilities, certificate judged on the payoffs' range wherever they sit), and strategy iteration's
fallback held to the sweep budget, warm-started throughout and stopped as soon as the residual allows."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from strategist.errors import InvalidGameError, SolverError
from strategist.games import stochastic
from strategist.games.stochastic import (PATIENCE, StrategyIterationWarning, evaluate_policies, forever_states,
                                         solve_stochastic_game)


# -- the stopping analysis ----------------------------------------------------------------------------------------
def test_a_refusal_names_a_pair_that_keeps_the_play_among_the_forever_states():
    """In 'rally', row action r1 moves on surely to 'point' (which ends the game), r2 surely back to 'rally':
    only 'rally' can go on forever, and the pair that shows it is r2 against c1 — not r1, which continues with
    probability 1 too but into a state that ends."""
    rewards = [np.array([[0.0], [0.0]]), np.array([[1.0]])]
    p_rally, p_point = np.zeros((2, 1, 2)), np.zeros((1, 1, 2))
    p_rally[0, 0, 1], p_rally[1, 0, 0] = 1.0, 1.0
    labels = ["rally", "point"]
    assert forever_states(rewards, [p_rally, p_point], state_labels=labels) == ["rally"]
    with pytest.raises(InvalidGameError, match=r"forever in states \['rally'\]: .*\(e\.g\. state 0 \('rally'\): row "
                                               r"action 'r2' against column action 'c1' moves on to \['rally'\]\)"):
        solve_stochastic_game(rewards, [p_rally, p_point], state_labels=labels)


def _one_action_chain(rows):
    """A game of 1 × 1 states whose single pair moves on as ``rows`` (one row of next-state probabilities each)."""
    size = len(rows)
    rewards = [np.array([[1.0]])] * size
    transitions = [np.array(row, dtype=float).reshape(1, 1, size) for row in rows]
    return rewards, transitions, [[1.0]] * size


def test_a_closed_set_is_refused_as_never_ending_even_beside_a_leaking_state():
    """State 0 comes back with probability ½ (the rest ends the game); state 1 comes back surely: the play
    never ends from state 1 alone."""
    rewards, transitions, mixes = _one_action_chain([[0.5, 0.0], [0.0, 1.0]])
    with pytest.raises(InvalidGameError, match=r"never end the game from states \['1'\]"):
        evaluate_policies(rewards, transitions, mixes, mixes)


def test_play_that_lingers_names_every_state_with_a_thousandth_of_the_largest_weight():
    """0 → 1 surely, 1 → 0 with 1 − 1.5e-9 (so no closed set), 2 → 0 with 1.5e-3. The continuation matrix's
    top eigenvalue is λ = √(1 − 1.5e-9) ≥ 1 − 1e-9, with eigenvector ∝ (1, λ, 1.5e-3/λ): state 2 carries 1.5e-3
    of state 0's weight — over a thousandth of the largest, so it is named with them."""
    rewards, transitions, mixes = _one_action_chain([[0.0, 1.0, 0.0], [1.0 - 1.5e-9, 0.0, 0.0], [1.5e-3, 0.0, 0.0]])
    with pytest.raises(InvalidGameError, match=r"end the game too rarely .* lingers in states \['0', '1', '2'\]$"):
        evaluate_policies(rewards, transitions, mixes, mixes)


def test_play_that_lingers_leaves_out_states_under_a_thousandth_of_the_largest_weight():
    rewards, transitions, mixes = _one_action_chain([[0.0, 1.0, 0.0], [1.0 - 1.5e-9, 0.0, 0.0], [0.5e-3, 0.0, 0.0]])
    with pytest.raises(InvalidGameError, match=r"lingers in states \['0', '1'\]$"):
        evaluate_policies(rewards, transitions, mixes, mixes)


# -- a warm start on the last support -------------------------------------------------------------------------------
def test_a_kernel_answer_rounding_below_zero_comes_back_as_probabilities():
    """[[1, 0], [0, −5e-10]] on its full 2 × 2 kernel: both equalising mixes are (−5e-10, 1)/(1 − 5e-10), a weight
    below zero by less than the kernel's tolerance (1e-9). The answer is clipped and renormalised: (0, 1) for
    both players, non-negative, summing to 1, and conceding at most 5e-10 on the whole game."""
    q = np.array([[[1.0, 0.0], [0.0, -5e-10]]])
    x, y, ok = stochastic._on_kernels(q, np.array([[0, 1]]), np.array([[0, 1]]))
    assert ok.tolist() == [True]
    for p in (x[0], y[0]):
        assert (p >= 0).all() and abs(p.sum() - 1.0) <= 1e-15
        np.testing.assert_allclose(p, [0.0, 1.0], rtol=0, atol=1e-15)
    gap = float((q[0] @ y[0]).max() - (x[0] @ q[0]).min())
    assert 0 <= gap <= 1e-9


@pytest.mark.parametrize("offset", [0.0, 1000.0, -1000.0])
def test_a_kernel_answer_is_judged_on_the_payoffs_range_wherever_they_sit(offset):
    """Row 0 against column 0 misses the certificate by 1e-8 of the range (row 0 can be held to 1 − 1e-8): too
    much for a warm start, whether the payoffs sit at 0 or at ±1000. The full 2 × 2 kernel is the optimal pair."""
    q = offset + np.array([[[1.0, 1.0 - 1e-8], [0.0, 1.0]]])
    _, _, ok = stochastic._on_kernels(q, np.array([[0]]), np.array([[0]]))
    assert ok.tolist() == [False]
    _, _, ok = stochastic._on_kernels(q, np.array([[0, 1]]), np.array([[0, 1]]))
    assert ok.tolist() == [True]


# -- strategy iteration's fallback ----------------------------------------------------------------------------------
#: One state paying 1 that comes back with probability ½: T(V) = 1 + V/2, V* = 2; from V = 0, k value-iteration
#: steps give V = 2(1 − ½ᵏ) and leave ‖V − T(V)‖∞ = ½ᵏ (all exact in binary).
ONE_STATE = ([np.array([[1.0]])], [np.full((1, 1, 1), 0.5)])


@pytest.fixture
def useless_steps(monkeypatch):
    """Every strategy-iteration step proposes V = 50 (T(50) = 26: rejected), so each is replaced by a sweep."""
    monkeypatch.setattr(stochastic, "_solve_chain", lambda game, r, p: np.full(game.size, 50.0))


def test_the_fallback_uses_the_sweep_at_hand_and_stops_at_the_budget(useless_steps):
    """By hand, with tol 3e-4: the first sweep, then PATIENCE (10) rejected steps of two sweeps each leave
    ½¹⁰ ≈ 9.8e-4; value iteration needs two more sweeps (½¹¹ ≈ 4.9e-4 > 3e-4 ≥ ½¹² ≈ 2.4e-4): 23 sweeps in all,
    and a budget of 23 is enough."""
    with pytest.warns(StrategyIterationWarning):
        sol = solve_stochastic_game(*ONE_STATE, tol=3e-4, max_iterations=23)
    assert sol.method == "strategy+value"
    assert (sol.iterations, sol.linear_solves, sol.value_sweeps) == (1 + 2 * PATIENCE + 2, PATIENCE, PATIENCE + 2)
    assert sol.values[0] == pytest.approx(2.0 * (1 - 0.5 ** 12), abs=1e-15)


def test_the_fallback_is_refused_one_sweep_short_of_what_it_needs(useless_steps):
    """A budget of 22 leaves value iteration one sweep, not the two it needs."""
    with pytest.raises(SolverError, match="value iteration did not converge in 1 sweeps"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StrategyIterationWarning)
            solve_stochastic_game(*ONE_STATE, tol=3e-4, max_iterations=22)


def test_every_sweep_after_the_first_is_warm_started(useless_steps, batch_calls):
    """The single stage game goes to the batch solver once: every later sweep — each rejected step's trial, the
    sweep that replaces it, and value iteration's — starts from the support of the sweep before."""
    with pytest.warns(StrategyIterationWarning):
        sol = solve_stochastic_game(*ONE_STATE, tol=3e-4)
    assert sol.iterations == 23 and batch_calls == [1]


def test_strategy_iteration_stops_when_a_replacing_sweep_meets_the_tolerance(useless_steps):
    """With tol 0.1 the replacing sweeps leave ½, ¼, ⅛, then 1/16 ≤ 0.1: done after 4 rejected steps, without
    falling back (1 + 2·4 sweeps)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", StrategyIterationWarning)
        sol = solve_stochastic_game(*ONE_STATE, tol=0.1)
    assert sol.method == "strategy" and (sol.iterations, sol.value_sweeps, sol.linear_solves) == (9, 4, 4)
    assert sol.residual == 0.5 ** 4


def test_the_default_budget_is_ten_thousand_sweeps(monkeypatch):
    """A sweep that never converges (each adds 1 to V): value iteration gives up after the default 10,000."""
    calls = []

    def never_converging(game, v, kernels=None):
        calls.append(1)
        return SimpleNamespace(values=v + 1.0, kernels={})

    monkeypatch.setattr(stochastic, "_sweep", never_converging)
    with pytest.raises(SolverError, match="did not converge in 10000 sweeps"):
        solve_stochastic_game(*ONE_STATE, method="value")
    assert len(calls) == 10_000
