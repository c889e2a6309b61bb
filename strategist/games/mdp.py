"""A Markov decision process by policy iteration: one side of a stochastic game when the other's mixes are fixed.

In state s action a pays rₛ(a) at once and moves to s' with probability Pₛ(a, s') (the rest of the mass ends the
process). Policy iteration (Howard 1960): evaluate the policy π by one linear solve, V = (I − P_π)⁻¹ r_π;
improve it greedily, π(s) = argmax_a rₛ(a) + Pₛ(a)·V (argmin for a minimiser), keeping the current action
unless another is better by more than 1e-12 of the payoffs' size; stop when no state changes. Every policy
must end the process with probability 1 (from every state some path leads out), as every estimated rally
game's does (each stroke can end the rally at once); otherwise :class:`~strategist.errors.SolverError` is raised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategist.errors import SolverError
from strategist.games.stochastic import never_ending

#: Improvement steps at most (policy iteration takes a handful on a rally game; the bound only guards a bug).
MAX_STEPS = 200


@dataclass(frozen=True)
class MDPSolution:
    """Optimal values, the optimal action of each state, its Q values, and the improvement steps taken."""

    values: np.ndarray          # (S,)
    actions: np.ndarray         # (S,): the chosen action's index in each state
    q_values: list              # per state, (A_s,)
    steps: int

    def policy(self, sizes=None) -> list[np.ndarray]:
        """The policy as one-hot mixes per state (``sizes``: actions per state, default the Q values')."""
        sizes = [len(q) for q in self.q_values] if sizes is None else sizes
        return [np.eye(n)[a] for n, a in zip(sizes, self.actions)]


def solve_mdp(rewards, transitions, *, maximise: bool = True) -> MDPSolution:
    """Optimal stationary policy of the process (module docstring): ``rewards[s]`` of shape (A_s,),
    ``transitions[s]`` of shape (A_s, S); ``maximise=False`` minimises."""
    rewards = [np.asarray(r, dtype=float).reshape(-1) for r in rewards]
    transitions = [np.atleast_2d(np.asarray(t, dtype=float)) for t in transitions]
    size = len(rewards)
    if len(transitions) != size or any(len(r) == 0 or t.shape != (len(r), size) for r, t in zip(rewards, transitions)):
        raise SolverError(f"an MDP of {size} states needs rewards (A_s,) with A_s >= 1 and transitions (A_s, {size})")
    sign = 1.0 if maximise else -1.0
    scale = max(1.0, max(float(np.abs(r).max()) for r in rewards))
    actions = np.array([int(np.argmax(sign * r)) for r in rewards])
    for step in range(1, MAX_STEPS + 1):
        values = _evaluate(rewards, transitions, actions)
        q = [r + t @ values for r, t in zip(rewards, transitions)]
        better = np.array([int(np.argmax(sign * qs)) for qs in q])
        gain = np.array([sign * (qs[b] - qs[a]) for qs, a, b in zip(q, actions, better)])
        change = gain > 1e-12 * scale
        if not change.any():
            return MDPSolution(values, actions, q, step)
        actions = np.where(change, better, actions)
    raise SolverError(f"policy iteration did not settle in {MAX_STEPS} steps")


def _evaluate(rewards, transitions, actions) -> np.ndarray:
    """V = (I − P_π)⁻¹ r_π for the deterministic policy ``actions``, refused where P_π never ends the process
    from some state (:func:`strategist.games.stochastic.never_ending`)."""
    size = len(rewards)
    p = np.stack([t[a] for t, a in zip(transitions, actions)])
    r = np.array([rs[a] for rs, a in zip(rewards, actions)])
    stuck = never_ending(p)
    if stuck.any():
        raise SolverError(f"a policy never ends the process from states {np.flatnonzero(stuck).tolist()}: policy "
                          "iteration needs every policy to end it with probability 1")
    return np.linalg.solve(np.eye(size) - p, r)
