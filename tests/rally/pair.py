"""The simulated pair the rally tests use: two demo players, their parameters, a table of their matches; and the
values of fixed play by one linear solve, the reference the rally tests check the game against."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from strategist.simulate import SimulationParameters, canonical_table, simulate_matches

P, O = "Astrid NORDVIK", "Hiro TAKEDA"
PARAMS = SimulationParameters()
PAIR = replace(PARAMS, players=(PARAMS.player(P), PARAMS.player(O)))


def pair_table(matches: int, seed: int):
    """``matches`` simulated matches of P against O (canonical table)."""
    return canonical_table(simulate_matches(PAIR, matches=matches, seed=seed))


def values_of_play(game, xs, ys) -> np.ndarray:
    """V(s) = xₛᵀ rₛ yₛ + Σ_s' xₛᵀ Pₛ(s') yₛ V(s'): P(the player wins the rally) from each state of ``game`` when
    both sides play the fixed mixes ``xs``/``ys``, one linear system solved by numpy."""
    size = len(game.rewards)
    a, r = np.eye(size), np.zeros(size)
    for s in range(size):
        x, y = np.asarray(xs[s], float), np.asarray(ys[s], float)
        r[s] = x @ game.rewards[s] @ y
        a[s] -= np.einsum("i,ijk,j->k", x, game.transitions[s], y)
    return np.linalg.solve(a, r)


def flipping_rounds(g: int, first: int, second: int):
    """A stand-in for the rally game's ``_pessimistic_round`` in which the player's mix at state ``g``, wherever
    the player departs there, flips between the pure shots ``first`` and ``second`` from round to round (a
    two-round cycle the recommendation must notice and average)."""
    import strategist.rally.game as rally_module

    real = rally_module._pessimistic_round
    rounds = []

    def flipping(*args):
        low, high, rows, cols, xs, ys, values = real(*args)
        rounds.append(1)
        if not rows[g]:
            xs = list(xs)
            xs[g] = np.eye(len(xs[g]))[first if len(rounds) % 2 else second]
        return low, high, rows, cols, xs, ys, values

    return flipping


def renamed(table, old: str, new: str, prefix: str):
    """``table`` with the player ``old`` called ``new`` (hitter, opponent, winner, server) and its match and
    rally ids prefixed by ``prefix`` (kept apart from the table it is added to)."""
    out = table.copy()
    for col in ("hitter", "opponent", "winner", "server"):
        out[col] = out[col].astype("string").replace(old, new)
    for col in ("match_id", "rally_id"):
        out[col] = prefix + out[col].astype("string")
    return out


def paired_departure_bound(q, sd, z, mix, habit, replies) -> float:
    """Reference for the departure rule, written cell by cell: for each reply b among ``replies`` the
    difference mix·Q[:, b] − habit·Q[:, b₀] (b₀ the habit's worst reply) is a linear function Σ c·Q of the
    cells, so its sd is sqrt(Σ c²·σ²); returns the smallest difference less z of its sd."""
    q, sd = np.asarray(q, dtype=float), np.asarray(sd, dtype=float)
    allowed = np.flatnonzero(replies)
    b0 = allowed[np.argmin([float(np.dot(habit, q[:, b])) for b in allowed])]
    bounds = []
    for b in allowed:
        c = np.zeros_like(q)
        c[:, b] += mix
        c[:, b0] -= habit
        bounds.append(float((c * q).sum()) - z * float(np.sqrt((c ** 2 * sd ** 2).sum())))
    return min(bounds)
