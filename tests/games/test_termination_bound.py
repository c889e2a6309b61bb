"""Policy evaluation's check that play ends: the row-sum bound ρ(P) <= ‖P‖∞ settles most chains without
eigenvalues; the eigenvalue check still decides chains with a row that never leaks."""

import numpy as np
import pytest

from strategist.errors import InvalidGameError
from strategist.games import stochastic
from strategist.games.stochastic import evaluate_policies


def _chain(p_cont):
    """One-action states whose continuation matrix is ``p_cont``; each state pays 1 when play ends there."""
    p_cont = np.asarray(p_cont, dtype=float)
    size = len(p_cont)
    rewards = [np.array([[1.0 - p_cont[s].sum()]]) for s in range(size)]
    transitions = [p_cont[s].reshape(1, 1, size) for s in range(size)]
    mixes = [[1.0]] * size
    return rewards, transitions, mixes


def _count_eig(monkeypatch):
    calls = []
    real = np.linalg.eig
    monkeypatch.setattr(stochastic.np.linalg, "eig", lambda a: calls.append(a.shape) or real(a))
    return calls


def test_every_row_leaking_skips_the_eigenvalues(monkeypatch):
    """Rows summing to at most 0.9: the values are 1 everywhere (play ends surely) and no eigenvalue is taken."""
    calls = _count_eig(monkeypatch)
    rewards, transitions, mixes = _chain([[0.2, 0.7], [0.5, 0.4]])
    v = evaluate_policies(rewards, transitions, mixes, mixes)
    np.testing.assert_allclose(v, [1.0, 1.0], atol=1e-12)
    assert calls == []


def test_a_row_that_never_leaks_is_decided_by_the_spectral_radius(monkeypatch):
    """State 0 always moves on (row sum 1) but state 1 leaks: evaluated, with the eigenvalue check run; the value
    is the expected reward of where play ends, against a float64 solve of (I − P) V = r."""
    calls = _count_eig(monkeypatch)
    p = np.array([[0.0, 1.0], [0.3, 0.5]])
    rewards, transitions, mixes = _chain(p)
    v = evaluate_policies(rewards, transitions, mixes, mixes)
    r = np.array([0.0, 0.2])
    np.testing.assert_allclose(v, np.linalg.solve(np.eye(2) - p, r), atol=1e-12)
    assert calls == [(2, 2)]


def test_the_bound_and_the_eigenvalues_agree_near_the_tolerance():
    """Every row leaking 2e-9 (just above the 1e-9 tolerance): accepted by the bound alone, as the spectral
    radius 1 − 2e-9 would accept it; the values are 1 (play ends surely) to the solve's precision."""
    p = np.array([[0.5, 0.5 - 2e-9], [0.5 - 2e-9, 0.5]])
    assert np.abs(np.linalg.eigvals(p)).max() < 1.0 - stochastic.STOP_TOL
    rewards, transitions, mixes = _chain(p)
    np.testing.assert_allclose(evaluate_policies(rewards, transitions, mixes, mixes), [1.0, 1.0], atol=1e-6)


def test_a_state_that_lingers_is_refused_by_the_spectral_radius():
    """State 0 stays with probability 1 − 1e-12 and otherwise passes to state 1, which ends play half the time:
    every state can reach the end, the bound cannot settle it (row sum 1), and the spectral radius 1 − 1e-12
    refuses the pair, naming the states of its eigenvector."""
    rewards, transitions, mixes = _chain([[1.0 - 1e-12, 1e-12], [0.25, 0.25]])
    with pytest.raises(InvalidGameError, match=r"spectral radius of the continuation matrix 0\.99999999999.*\['0', '1'\]"):
        evaluate_policies(rewards, transitions, mixes, mixes)


def test_a_spectral_radius_of_exactly_one_minus_the_tolerance_is_refused():
    """State 0 stays with probability exactly 1 − 1e-9 and otherwise moves on to state 1, which ends play: the
    continuation matrix is triangular, its spectral radius is 1 − 1e-9 to the last bit, and the refusal is
    inclusive (radius ≥ 1 − 1e-9), as evaluate_policies documents."""
    stay = 1.0 - stochastic.STOP_TOL
    p = np.array([[stay, 1.0 - stay], [0.0, 0.0]])
    assert np.abs(np.linalg.eigvals(p)).max() == stay
    rewards, transitions, mixes = _chain(p)
    with pytest.raises(InvalidGameError, match="end the game too rarely"):
        evaluate_policies(rewards, transitions, mixes, mixes)


def test_a_leak_of_exactly_the_tolerance_is_no_leak():
    """A state that stays with probability exactly 1 − 1e-9 and goes nowhere else leaks no more than the
    tolerance: the play never ends there, and it is refused as such (not as a chain that ends too rarely)."""
    rewards, transitions, mixes = _chain([[1.0 - stochastic.STOP_TOL]])
    assert stochastic.never_ending(np.array([[1.0 - stochastic.STOP_TOL]])).tolist() == [True]
    with pytest.raises(InvalidGameError, match=r"never end the game from states \['0'\]"):
        evaluate_policies(rewards, transitions, mixes, mixes)
