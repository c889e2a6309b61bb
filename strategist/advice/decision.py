"""One decision of the player, read off the rally game: the candidate shots, what each is worth against the
opponent as predicted, and the three recommended mixes.

In the player's state g (rows: the player's shots, columns: where the opponent stands at contact) the rally
game gives the point estimate of Q(g, a, b), its posterior sd, and the recommendation's pessimistic stage
game (:mod:`strategist.rally.game`). The opponent model predicts the opponent's next shot ŷ after each of
the player's likeliest shots; trusted in proportion to its evidence (c = n / (n + n0)), it replaces the
opponent's strategy in the states the shot leads to:

    M(a, b) = r(a, b) + Σ_s' P(s' | a, b) · xₛ'ᵀ Qₛ' ŷₛ',    ŷₛ' = c·ŷ + (1 − c)·yₛ'

with, for the point estimate (``win_probability``, what is shown), Q the point game's Q valued as both then
play as they do, xₛ' the player's habitual position and y the opponent's habit; and for the lower bound
(``pessimistic``, what the recommendations maximise), Q the recommendation's pessimistic stage games, xₛ' the
recommended position and y the opponent's recommended mix. Against the receiver's predicted position q:
``win_probability(a) = (M_obs q)ₐ``, ``pessimistic(a) = (M_low q)ₐ``.

The recommendations: the **equilibrium** (the rally game's recommendation in g: the pessimistic equilibrium,
or the player's habit where the lower bound does not support a change); the **best response** to the
prediction (the advised shot with the highest pessimistic value, kept only if its gain over the habit h is
supported, else the habit); the **safe exploitation** for a margin: max xᵀ(M_low q) over mixes of the advised
shots and the habit with a guarantee min_b (xᵀ G)_b ≥ v − margin (G the pessimistic stage game, v its value),
again kept only where its gain is supported (else the equilibrium). Supported: the gain's lower confidence
bound (x − h)ᵀ(M_obs q) − z·sqrt(Σ_a (x_a − h_a)²·Σ_b σ²_ab·q_b²) is positive — the point estimates shown,
the cells both mixes play paired (:func:`strategist.rally.game.gain_supported`, q the one reply).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from strategist.advice.fastlp import VertexTable


@dataclass(frozen=True)
class StateArrays:
    """What a decision in one of the player's states needs, computed once per state."""

    g: int
    rows: tuple
    columns: tuple
    reward: np.ndarray          # r (m, n): the player wins at once
    transition: np.ndarray      # (m, n, S)
    stage_low: np.ndarray       # the recommendation's pessimistic stage game (m, n)
    sd: np.ndarray              # posterior sd of Q (m, n)
    habit: np.ndarray           # the player's habit (m,)
    usual: np.ndarray           # ... among the candidate shots (what "keep your usual mix" recommends)
    positions: np.ndarray       # the opponent's habitual positions (n,)
    recommended: np.ndarray     # the recommendation (m,)
    opponent_eq: np.ndarray     # the opponent's positions in the recommendation (n,)
    value_low: float            # the recommendation's value at the lower bound
    advised: np.ndarray         # rows that may be recommended (m,)
    basis: str
    played: np.ndarray          # the player's strokes with each shot in the state (against anyone)
    share: np.ndarray           # all players' share of each shot in the situation (hierarchical)
    evidence: np.ndarray        # (m, n, 3): shares resting on the pairing, the player, all players
    tables: dict = field(default_factory=dict)   # safe-exploitation tables by candidate rows, made on demand
    reach: np.ndarray | None = None  # (R,) the states some cell leads to (made from ``transition``)
    step: np.ndarray | None = None   # (m, n, R) ``transition`` on those states only: a stroke reaches a few of S

    def __post_init__(self):
        t = np.asarray(self.transition, dtype=float)
        reach = np.flatnonzero(np.abs(t).reshape(-1, t.shape[-1]).sum(axis=0) > 0)
        object.__setattr__(self, "reach", reach)
        object.__setattr__(self, "step", np.ascontiguousarray(t[..., reach]))


@dataclass(frozen=True)
class NextStates:
    """Per opponent state s': its columns as indices of the sport's shots, and the two value vectors over
    its columns (the player's habitual positions on the point Q, the recommended positions on the
    pessimistic Q), with the opponent's habit and recommended mixes."""

    shot_index: list            # per state: array of sport-shot indices (-1: not a shot)
    obs_value: list             # per state: xᵀ Q_obs over the opponent's shots
    low_value: list             # per state: xᵀ Q_low over the opponent's shots
    habit: list
    recommended: list
    padded: dict = field(default_factory=dict)   # the same, (states × most columns), padded with 0 (index -1)


def state_arrays(game, g: int) -> StateArrays:
    lay = game.layout
    from strategist.rally.game import per_cell

    sd = per_cell(lay, game.cell_sd)[g]
    trusted = np.asarray(game.structure.trusted[g], dtype=bool)
    habit = np.asarray(game.observed_row[g], dtype=float)
    candidate = np.asarray(game.structure.candidate[g], dtype=bool)
    kept = np.where(candidate, habit, 0.0)
    usual = kept / kept.sum() if kept.sum() > 0 else habit
    stage = np.asarray(game.recommendation.stage_games[g], dtype=float)
    basis = str(game.states["basis"].iat[g])
    st = game.structure
    played = np.asarray(st.row_counts["hitter"][:, st.row_offsets[g]:st.row_offsets[g + 1]].sum(axis=0)).ravel()
    feas = st.feasibility.frame
    shares = feas[feas["label"] == int(st.states["label"].iat[g])].set_index("action")["share"]
    code = {name: k for k, name in enumerate(st.action_names)}
    share = np.array([float(shares.get(code.get(r), 0.0)) for r in lay.row_labels[g]])
    cells = np.flatnonzero(st.cell_state == g)
    evidence = np.zeros(stage.shape + (3,))
    local = lay.cell_index[cells] - lay.reward_offsets[g]
    evidence.reshape(-1, 3)[local] = game.estimate.evidence[0][cells]
    return StateArrays(g, lay.row_labels[g], lay.column_labels[g], game.rewards[g], game.transitions[g], stage, sd,
                       habit, usual, np.asarray(game.observed_column[g], dtype=float),
                       np.asarray(game.recommendation.row_strategies[g], dtype=float),
                       np.asarray(game.recommendation.column_strategies[g], dtype=float),
                       float(game.recommendation.values[g]), trusted, basis, played.astype(np.int64), share,
                       evidence)


def next_states(game, shots: tuple, z: float) -> NextStates:
    """The per-opponent-state vectors of :class:`NextStates` (empty entries where the player hits). The lower
    bound is the advised player's: Q − z·σ with the recommended play after the stroke."""
    from strategist.rally.game import per_cell

    index = {s: k for k, s in enumerate(shots)}
    v_obs, v_rec = game.observed_values, game.recommendation.realized
    sd = per_cell(game.layout, game.cell_sd)
    size = game.structure.size
    who = game.states["who"].to_numpy()
    out = {k: [None] * size for k in ("shot_index", "obs_value", "low_value", "habit", "recommended")}
    for s in np.flatnonzero(who == "opponent"):
        q_obs = game.rewards[s] + game.transitions[s] @ v_obs
        q_rec = game.rewards[s] + game.transitions[s] @ v_rec
        out["shot_index"][s] = np.array([index.get(a, -1) for a in game.layout.column_labels[s]], dtype=np.int64)
        out["obs_value"][s] = np.asarray(game.observed_row[s]) @ q_obs
        out["low_value"][s] = np.asarray(game.recommendation.row_strategies[s]) @ np.clip(q_rec - z * sd[s], 0, 1)
        out["habit"][s] = np.asarray(game.observed_column[s], dtype=float)
        out["recommended"][s] = np.asarray(game.recommendation.column_strategies[s], dtype=float)
    width = max((len(x) for x in out["shot_index"] if x is not None), default=1)
    padded = {"shot_index": np.full((size, width), -1, dtype=np.int64)}
    for key in ("obs_value", "low_value", "habit", "recommended"):
        padded[key] = np.zeros((size, width))
    for s, idx in enumerate(out["shot_index"]):
        if idx is not None:
            for key in padded:
                padded[key][s, :len(idx)] = out[key][s]
    return NextStates(**out, padded=padded)


@dataclass(frozen=True)
class Continuation:
    """The two payoff matrices of one decision against the opponent as predicted (module docstring), with
    the predicted mass on shots the next states do not have."""

    obs: np.ndarray
    low: np.ndarray
    outside: float


def default_low(nxt: NextStates, v_rec: np.ndarray) -> np.ndarray:
    """The advised player's lower-bound value of every state as the game's opponent would play it: at an
    opponent's state their recommended mix against the player's lower bound; elsewhere the recommended play's
    value."""
    u = np.asarray(v_rec, dtype=float).copy()
    for s, value in enumerate(nxt.low_value):
        if value is not None:
            u[s] = value @ nxt.recommended[s]
    return u


def continuation(sa: StateArrays, nxt: NextStates, v_obs: np.ndarray, v_rec: np.ndarray, u_low0: np.ndarray,
                 predictions: dict, confidence: dict) -> Continuation:
    """M_obs and M_low of state ``sa`` with the opponent's next shot predicted per row (``predictions``:
    row index -> probabilities over the sport's shots, trusted by ``confidence[row]``). Every row's lower
    bound takes the opponent's states at the player's lower bound (``u_low0``: :func:`default_low`), a
    predicted row with the predicted shots there."""
    r, step = sa.reach, sa.step                           # the states the strokes lead to, (m, n, R)
    v_obs_r, u_low0_r, v_rec_r = v_obs[r], u_low0[r], v_rec[r]
    obs = sa.reward + step @ v_obs_r
    low = sa.stage_low + step @ (u_low0_r - v_rec_r)
    outside_mass, outside_weight = 0.0, 0.0
    pad = nxt.padded
    opponent_hits = pad["shot_index"][r, 0] >= 0
    for i, probs in predictions.items():
        c = confidence[i]
        t = step[i]                                       # (n, R)
        weight = t.sum(axis=0)
        sel = np.flatnonzero((weight > 0) & opponent_hits)
        reach = r[sel]
        idx = pad["shot_index"][reach]
        p = np.where(idx >= 0, probs[np.maximum(idx, 0)], 0.0)           # (R, width): the predicted shots there
        total = p.sum(axis=1, keepdims=True)
        outside_mass += float(((1.0 - total[:, 0]) * weight[sel]).sum())
        outside_weight += float(weight[sel].sum())
        p = np.where(total > 0, p / np.maximum(total, 1e-300), pad["habit"][reach])
        u_obs, u_low = v_obs_r.copy(), u_low0_r.copy()
        u_obs[sel] = (pad["obs_value"][reach] * (c * p + (1 - c) * pad["habit"][reach])).sum(axis=1)
        u_low[sel] = (pad["low_value"][reach] * (c * p + (1 - c) * pad["recommended"][reach])).sum(axis=1)
        obs[i] = sa.reward[i] + t @ u_obs
        low[i] = sa.stage_low[i] + t @ (u_low - v_rec_r)
    # the lower-bound continuation can take a row below 0 (a rally led to states far worse at the bound than
    # as played): a probability's lower bound, kept in [0, 1]
    return Continuation(obs, np.clip(low, 0.0, 1.0), outside_mass / outside_weight if outside_weight > 0 else 0.0)


def safe_mix(sa: StateArrays, c: np.ndarray, floor: float, candidates) -> np.ndarray:
    """max xᵀc over mixes of the ``candidates`` (advised rows) and the usual mix (the habit among the candidate
    shots) with guarantee >= ``floor`` on the pessimistic stage game, as a mix over all rows."""
    rows = np.asarray(candidates, dtype=np.int64)
    key = tuple(rows.tolist())
    if key not in sa.tables:
        matrix = np.vstack([sa.stage_low[rows], (sa.usual @ sa.stage_low)[None, :]])
        sa.tables[key] = VertexTable.of(matrix)
    table = sa.tables[key]
    if table is None:                     # pragma: no cover - a game too large to enumerate: keep the habit
        return sa.usual.copy()
    y = table.solve(np.r_[c[rows], sa.usual @ c], floor)
    x = y[-1] * sa.usual
    x[rows] += y[:-1]
    return x / x.sum()


#: The options' columns, in order.
OPTION_COLUMNS = ("win_probability", "low", "high", "sd", "pessimistic", "habit", "played", "population_share",
                  "advised", "recommended", "reason", "pairing", "player", "all players")
#: The numeric columns of the options, averaged when a history leaves height or zone open (an averaged ``sd``
#: is the sd of the averaged win probability were the situations' errors perfectly correlated: an upper bound).
OPTION_NUMBERS = tuple(c for c in OPTION_COLUMNS if c not in ("played", "advised", "reason"))


def option_columns(sa: StateArrays, cont: Continuation, q: np.ndarray, z: float, game) -> dict:
    """The options of one situation as columns (arrays over the state's rows): what each shot wins against
    the prediction (point estimate w = M q, its sd √(Σ_b σ²·q_b²) and the interval w ± z·sd clipped to
    [0, 1]), at the lower bound, how often the player and all players play it there, whether it is advised
    (and why not), and the shares of evidence behind it."""
    from strategist.rally.game import KEPT, KEPT_SHARE

    st = game.structure
    win = cont.obs @ q
    sd = np.sqrt(np.square(sa.sd) @ np.square(q))
    ev = np.einsum("mnk,n->mk", sa.evidence, q)
    candidate = np.asarray(st.candidate[sa.g], dtype=bool)
    rare = f"played fewer than {st.settings.min_action_count} times there"
    reason = np.where(sa.advised, "", np.where(~candidate, "rarely or never played there by any player",
                                               np.where(np.asarray(sa.recommended) >= KEPT_SHARE, f"{rare}: {KEPT}",
                                                        rare)))
    return {"win_probability": win, "low": np.clip(win - z * sd, 0, 1), "high": np.clip(win + z * sd, 0, 1),
            "sd": sd, "pessimistic": cont.low @ q, "played": sa.played, "habit": sa.habit, "population_share": sa.share,
            "advised": np.asarray(sa.advised, dtype=bool), "recommended": sa.recommended, "reason": reason,
            "pairing": ev[:, 0], "player": ev[:, 1], "all players": ev[:, 2]}


def combine_options(parts: list, weights: list, rows: list) -> pd.DataFrame:
    """One options table from the columns of one situation or several (``parts``: (rows, columns) with their
    ``weights``): numbers averaged over the situations that have the shot (reweighted), counts summed, a shot
    advised where any situation advises it."""
    index = {r: k for k, r in enumerate(rows)}
    n = len(rows)
    total = {c: np.zeros(n) for c in OPTION_NUMBERS}
    mass = np.zeros(n)
    played = np.zeros(n, dtype=np.int64)
    advised = np.zeros(n, dtype=bool)
    reason = [""] * n
    for (part_rows, cols), w in zip(parts, weights):
        pos = np.array([index[r] for r in part_rows])
        for c in OPTION_NUMBERS:
            total[c][pos] += w * cols[c]
        mass[pos] += w
        played[pos] += cols["played"]
        advised[pos] |= cols["advised"]
        for k, why in zip(pos, cols["reason"]):
            reason[k] = reason[k] or str(why)
    frame = {c: total[c] / np.maximum(mass, 1e-12) for c in OPTION_NUMBERS}
    frame.update(played=played, advised=advised, reason=np.where(advised, "", np.array(reason, dtype=object)))
    return pd.DataFrame({c: frame[c] for c in OPTION_COLUMNS}, index=pd.Index(rows, name="shot"))
