"""Rallies played out under an estimated rally game between any two policies, all rallies at once.

Each stroke: every live rally draws the player's and the opponent's actions of its state from their mixes
(inverse CDF on cumulative arrays), then the outcome of that pair — the player wins now, the rally goes on in
state s', or the player loses — from the cell's estimated law. Rallies still going after ``max_strokes``
are stopped and reported as capped (counted as neither won nor lost). This simulates the *estimated* game,
not the demo generator; its win probability agrees with the exact policy value (``exact``) up to Monte-Carlo
error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from strategist.errors import EstimationError
from strategist.estimation.shrinkage import two_sided_z
from strategist.rally.policies import resolve

WIN, LOSE = -1, -2


@dataclass(frozen=True)
class CompiledGame:
    """Cumulative arrays of a game: ``cum_out[s, i, j, k]`` and ``code[s, i, j, k]`` (next state, or
    WIN / LOSE for the player)."""

    cum_out: np.ndarray
    code: np.ndarray
    shapes: tuple


def compile_game(game) -> CompiledGame:
    """Every cell's outcome law as a cumulative array: the player's win first, then each next state reached
    with positive probability (in state order); every later slot codes the player's loss, so a draw above the
    mass of the win and the states reached ends there."""
    size = len(game.rewards)
    big_m = max(r.shape[0] for r in game.rewards)
    big_n = max(r.shape[1] for r in game.rewards)
    support = max(int((t > 0).sum(axis=2).max()) for t in game.transitions) + 2
    cum = np.ones((size, big_m, big_n, support))
    code = np.full((size, big_m, big_n, support), LOSE, dtype=np.int64)
    for s, (r, t) in enumerate(zip(game.rewards, game.transitions)):
        m, n = r.shape
        i, j, nxt = np.nonzero(t > 0)                  # by cell, then by next state
        cell = i * n + j
        slot = 1 + np.arange(len(cell)) - np.searchsorted(cell, cell)   # 1 + rank within the cell
        probs = np.zeros((m, n, support))
        probs[:, :, 0] = r
        probs[i, j, slot] = t[i, j, nxt]
        cum[s, :m, :n] = np.minimum(np.cumsum(probs, axis=2), 1.0)
        code[s, :m, :n, 0] = WIN
        code[s, i, j, slot] = nxt
    return CompiledGame(cum, code, tuple(r.shape for r in game.rewards))


def _cumulative(mixes, width):
    out = np.ones((len(mixes), width))
    for s, x in enumerate(mixes):
        c = np.cumsum(np.asarray(x, dtype=float))
        out[s, :len(c)] = c / c[-1]
        out[s, len(c) - 1:] = 1.0
    return out


@dataclass(frozen=True)
class Playout:
    """What ``rallies`` simulated rallies from ``start`` gave."""

    start: str
    player_policy: str
    opponent_policy: str
    rallies: int
    wins: int
    capped: int
    win_probability: float
    ci_low: float
    ci_high: float
    level: float
    exact: float                  # the exact value of the two policies from ``start`` (policy evaluation)
    lengths: np.ndarray           # strokes of every rally
    usage: pd.DataFrame           # side, kind, action, count, share
    seconds: float = 0.0
    starts: tuple = ()            # every state the rallies started in (tennis: deuce, ad), by their shares

    def length_summary(self) -> dict:
        q = np.percentile(self.lengths, [50, 90])
        return {"mean": float(self.lengths.mean()), "median": float(q[0]), "p90": float(q[1]),
                "max": int(self.lengths.max())}

    def to_dict(self) -> dict:
        return {"start": self.start, "player_policy": self.player_policy, "opponent_policy": self.opponent_policy,
                "rallies": self.rallies, "wins": self.wins, "capped": self.capped,
                "win_probability": self.win_probability, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "level": self.level, "exact": self.exact, "rally_length": self.length_summary(),
                "usage": self.usage.to_dict(orient="records"), "seconds": self.seconds,
                "starts": list(self.starts or (self.start,))}


def wilson(wins: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion."""
    if n == 0:
        return float("nan"), float("nan")
    z = two_sided_z(level)
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def start_state(game, start) -> int:
    if start in (None, "serve"):
        return game.index(game.serve_state("player"))
    if start == "receive":
        return game.index(game.serve_state("opponent"))
    return game.index(start)


#: Most rallies one play-out holds (its arrays take about 2 GB at that size).
MAX_RALLIES = 10_000_000


def play_out(game, player_policy="equilibrium", opponent_policy="observed", rallies: int = 100_000,
             seed: int | None = 0, *, start=None, max_strokes: int = 500, level: float = 0.95,
             compiled: CompiledGame | None = None) -> Playout:
    """Play ``rallies`` rallies of ``game`` from ``start`` (``"serve"``: the player serves, default;
    ``"receive"``: the opponent serves; or a state label) with the two policies (see
    :mod:`strategist.rally.policies`). A serve starts the rallies in the server's opening states
    (:meth:`~strategist.rally.game.RallyGame.openings`: tennis's deuce and ad courts) in proportion to how often
    each opened a point, and ``exact`` is the mean of the starts' exact values. ``level``: of the Wilson interval
    of the win probability."""
    import time

    began = time.perf_counter()
    if isinstance(rallies, bool) or int(rallies) != rallies or not 1 <= rallies <= MAX_RALLIES:
        raise EstimationError(f"rallies must be a whole number from 1 to {MAX_RALLIES:,}, got {rallies!r}")
    if not 0.0 < level < 1.0:
        raise EstimationError(f"level must lie strictly between 0 and 1, got {level!r}")
    rallies = int(rallies)
    if start in (None, "serve", "receive"):
        openings, weights = game.openings("player" if start in (None, "serve") else "opponent")
    else:
        openings, weights = [start_state(game, start)], np.ones(1)
    # rally k starts in the opening whose share of the cumulative weights holds (k + 1/2) / rallies
    which = np.searchsorted(np.cumsum(weights), (np.arange(rallies) + 0.5) / rallies, side="right")
    starts = np.asarray(openings, dtype=np.int64)[np.minimum(which, len(openings) - 1)]
    xs, ys = resolve(game, player_policy, opponent_policy)
    from strategist._blas import one_blas_thread
    from strategist.games.stochastic import evaluate_policies

    with one_blas_thread():
        exact = float(evaluate_policies(game.rewards, game.transitions, xs, ys)[starts].mean())
    cg = compiled or compile_game(game)
    size, big_m, big_n, _ = cg.cum_out.shape
    cx, cy = _cumulative(xs, big_m), _cumulative(ys, big_n)
    rng = np.random.default_rng(seed)
    state = starts.copy()
    live = np.arange(rallies)
    length = np.zeros(rallies, dtype=np.int64)
    won = np.zeros(rallies, dtype=bool)
    row_use = np.zeros(size * big_m, dtype=np.int64)
    col_use = np.zeros(size * big_n, dtype=np.int64)
    for _ in range(max_strokes):
        if live.size == 0:
            break
        s = state[live]
        u = rng.random((live.size, 3))
        i = np.count_nonzero(u[:, :1] >= cx[s], axis=1)
        j = np.count_nonzero(u[:, 1:2] >= cy[s], axis=1)
        i = np.minimum(i, big_m - 1)
        j = np.minimum(j, big_n - 1)
        row_use += np.bincount(s * big_m + i, minlength=size * big_m)
        col_use += np.bincount(s * big_n + j, minlength=size * big_n)
        k = np.count_nonzero(u[:, 2:3] >= cg.cum_out[s, i, j], axis=1)
        k = np.minimum(k, cg.code.shape[-1] - 1)
        nxt = cg.code[s, i, j, k]
        length[live] += 1
        won[live[nxt == WIN]] = True
        going = nxt >= 0
        state[live[going]] = nxt[going]
        live = live[going]
    capped = int(live.size)
    ended = rallies - capped
    wins = int(won.sum())
    lo, hi = wilson(wins, ended, level)
    usage = _usage(game, row_use.reshape(size, big_m), col_use.reshape(size, big_n))
    return Playout(game.labels[openings[0]], str(player_policy), str(opponent_policy), rallies, wins, capped,
                   wins / ended if ended else float("nan"), lo, hi, level, exact, length, usage,
                   time.perf_counter() - began, tuple(game.labels[g] for g in openings))


def _usage(game, rows, cols) -> pd.DataFrame:
    """Strokes per action: the hitter's shots and the receiver's positions of each side."""
    player_hits = np.asarray(game.states["who"]) == "player"
    parts = []
    for side, labels, counts, hits in (("player", game.layout.row_labels, rows, player_hits),
                                       ("opponent", game.layout.column_labels, cols, ~player_hits)):
        widths = np.array([len(lab) for lab in labels])
        taken = np.arange(counts.shape[1]) < widths[:, None]          # the state's own actions
        kind = np.repeat(np.where(hits, "shot", "position"), widths)
        action = [a for lab in labels for a in lab]
        parts.append(pd.DataFrame({"side": side, "kind": kind, "action": action, "count": counts[taken]}))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.groupby(["side", "kind", "action"], sort=False)["count"].sum().reset_index()
    frame["share"] = frame["count"] / frame.groupby(["side", "kind"])["count"].transform("sum").replace(0, 1)
    return frame.sort_values(["side", "kind", "count"], ascending=[False, False, False]).reset_index(drop=True)
