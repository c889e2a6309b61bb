"""The whole rally as one zero-sum stochastic game estimated from data: its values, what observed play is
worth, and the pessimistic game recommendations come from.

The row player of the game is always **the player** and the payoff is the probability that the player wins
the rally. In a state where the player hits, the rows are the player's shots and the columns the opponent's
positions; where the opponent hits, the game is stored transposed (rows: the player's positions, columns:
the opponent's shots), so the opponent is the minimiser everywhere. Q(s, a, b) = the stroke's immediate
end (the player's winner or the opponent's error) plus the value of the situation it leads to.

Three solutions of one estimated game:

* the **point estimate**'s equilibrium (``solution``; ``equilibrium_value``): what the game is worth on the
  estimates if both could play anything;
* **observed play** (``observed_values``): both players' habits as stationary strategies, evaluated exactly
  (one linear solve), with intervals;
* the **recommendation** (``recommendation``): as in pessimistic minimax value iteration for offline
  zero-sum Markov games (Zhong et al. 2022, arXiv 2202.07511; VI-LCB-Game: Yan, Li, Chen & Fan 2022, arXiv
  2206.04044), each side's strategy comes from its own pessimistic game — the player's from the stage games
  at the player's lower bound Q − z·σ (the hitter's Q at a lower bound where the player hits; the receiver's
  at an upper one where the opponent hits), the opponent's from Q + z·σ — solved stage by stage with what
  follows valued on the point estimates of that play (:func:`_recommend`), so that the bounds of a long rally
  do not pile up. Only candidate shots the hitter has played there enough may be chosen, and where a side's
  pessimistic equilibrium does not guarantee more than its habit is worth on the point estimate, the habit
  stands (the departure is not supported by the lower bound).

σ of a cell is the posterior standard deviation of Q from the shrinkage chain (:mod:`strategist.rally.model`):
each level adds ``D/(n + s + 1)`` with D = Σ p u² − Q² its law's dispersion over the outcomes' values u, and
passes on its parent's variance weighted by the parent's share squared. Values' intervals propagate the cells'
variances through V = (I − P_xy)⁻¹ r_xy. With ``bootstrap`` the match-cluster bootstrap gives the intervals.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from strategist._blas import one_blas_thread
from strategist.errors import EstimationError, StrategistError
from strategist.estimation.shrinkage import two_sided_z
from strategist.games.stochastic import StochasticGameSolution, solve_stochastic_game
from strategist.rally.model import (WHO, Estimate, GameStructure, RallySettings, Strokes, build_structure, estimate,
                                    structure_counts, strokes)

#: Pseudo-strokes with which a habit leans on the next level (pairing -> the hitter against anyone -> all).
HABIT_STRENGTH = 10.0
#: What a padded or excluded action pays: strictly dominated for payoffs in (-1, 2).
DOMINATED_ROW, DOMINATED_COLUMN = -1.0, 2.0
#: Weight of the point estimates in the games a recommendation solves at the bounds: small enough to keep
#: every mix optimal at its bound to 1e-6, large enough to pick among tied mixes the best on the estimates.
TIE_BREAK = 1e-6
#: Rounds of the recommendation's fixed point at most (value of the play, then the stage games again).
RECOMMENDATION_ROUNDS = 60
#: Passes of the recommendation's rounds after the first at most, each judging every habit again at the
#: values the pass before settled on.
REJUDGEMENTS = 10
INTERVALS = ("normal", "percentile")


# ------------------------------------------------------------------------------------------- array layout
@dataclass(frozen=True)
class Layout:
    """Where every support entry and every cell goes in the per-state reward and transition arrays."""

    shapes: tuple                   # (m_g, n_g) per state
    reward_entry: np.ndarray        # entries that pay the player now ...
    reward_index: np.ndarray        # ... and their flat index into the concatenated rewards
    move_entry: np.ndarray          # entries that continue ...
    move_index: np.ndarray          # ... flat index into the concatenated transitions
    reward_offsets: np.ndarray
    move_offsets: np.ndarray
    row_labels: tuple
    column_labels: tuple
    cell_index: np.ndarray          # per cell: flat index into the concatenated rewards


def layout(st: GameStructure) -> Layout:
    size = st.size
    who = (st.states["who"] == "opponent").to_numpy()
    shapes = tuple((len(st.columns[g]), len(st.rows[g])) if who[g] else (len(st.rows[g]), len(st.columns[g]))
                   for g in range(size))
    cells = np.array([m * n for m, n in shapes])
    roff = np.r_[0, np.cumsum(cells)]
    moff = np.r_[0, np.cumsum(cells * size)]
    ncol = np.array([s[1] for s in shapes])
    cg, ca, cb = st.cell_state, st.cell_a, st.cell_b
    ci, cj = np.where(who[cg], cb, ca), np.where(who[cg], ca, cb)
    cell_local = ci * ncol[cg] + cj
    g = cg[st.entry_cell]
    local = cell_local[st.entry_cell]
    out = st.entry_outcome
    pays = np.where(who[g], out == 1, out == 0)
    moves = out >= 2
    rows = tuple(st.columns[k] if who[k] else st.rows[k] for k in range(size))
    cols = tuple(st.rows[k] if who[k] else st.columns[k] for k in range(size))
    return Layout(shapes, np.flatnonzero(pays), (roff[g] + local)[pays], np.flatnonzero(moves),
                  (moff[g] + local * size + (out - 2))[moves], roff, moff, rows, cols, roff[cg] + cell_local)


def stage_arrays(lay: Layout, probability: np.ndarray):
    """(rewards, transitions) lists of one replicate's outcome laws."""
    size = len(lay.shapes)
    r = np.bincount(lay.reward_index, weights=probability[lay.reward_entry], minlength=lay.reward_offsets[-1])
    t = np.bincount(lay.move_index, weights=probability[lay.move_entry], minlength=lay.move_offsets[-1])
    rewards = [r[lay.reward_offsets[g]:lay.reward_offsets[g + 1]].reshape(lay.shapes[g]) for g in range(size)]
    moves = [t[lay.move_offsets[g]:lay.move_offsets[g + 1]].reshape(lay.shapes[g] + (size,)) for g in range(size)]
    return rewards, moves


def per_cell(lay: Layout, flat_cells: np.ndarray, fill: float = 0.0) -> list:
    """A per-cell array (in the structure's cell order) as per-state matrices in game orientation."""
    flat = np.full(lay.reward_offsets[-1], fill, dtype=float)
    flat[lay.cell_index] = flat_cells
    return [flat[lay.reward_offsets[g]:lay.reward_offsets[g + 1]].reshape(lay.shapes[g])
            for g in range(len(lay.shapes))]


# ------------------------------------------------------------------------------------------------ habits
def _shrunk_mixes(counts: dict, offsets: np.ndarray, size: int, levels=("game", "hitter", "all")):
    """Per state: the game's frequencies shrunk toward the hitter's (against anyone), shrunk toward all
    players', each with :data:`HABIT_STRENGTH` pseudo-strokes."""
    out = []
    for g in range(size):
        sl = slice(offsets[g], offsets[g + 1])
        mix = None
        for key in reversed(levels):
            c = np.asarray(counts[key][sl], dtype=float)
            if mix is None:
                mix = (c + 1e-9) / (c.sum() + 1e-9 * len(c))
            else:
                mix = (c + HABIT_STRENGTH * mix) / (c.sum() + HABIT_STRENGTH)
        out.append(mix)
    return out


def observed_mixes(st: GameStructure, row_counts: dict, column_counts: dict):
    """The players' habits in game orientation: (row mixes, column mixes) per state. ``row_counts`` /
    ``column_counts``: totals of :attr:`GameStructure.row_counts` (``game``, ``hitter``, ``all``)."""
    hit = _shrunk_mixes(row_counts, st.row_offsets, st.size)
    rec = _shrunk_mixes(column_counts, st.column_offsets, st.size, levels=("game", "all"))
    opp = (st.states["who"] == "opponent").to_numpy()
    xs = [rec[g] if opp[g] else hit[g] for g in range(st.size)]
    ys = [hit[g] if opp[g] else rec[g] for g in range(st.size)]
    return xs, ys


def _totals(counts: dict) -> dict:
    return {k: np.asarray(v.sum(axis=0)).ravel() for k, v in counts.items()}


# ------------------------------------------------------------------------------------------------ solving
def restrict_to_trusted(structure, rewards, transitions, observed, sides=("player", "opponent")):
    """Stage games in which a hitter's action that may not be recommended (``structure.trusted``) is
    strictly dominated: a player's row pays :data:`DOMINATED_ROW` and ends the rally, an opponent's column
    pays :data:`DOMINATED_COLUMN` and ends it. Where a hitter of ``sides`` has no trusted action, the observed
    mix stands in as that hitter's only action (its first; the others dominated).

    Returns (rewards, transitions, stand_in): ``stand_in[g]`` is True where the observed mix stood in."""
    xs, ys = observed
    rewards = [np.array(r, dtype=float) for r in rewards]
    transitions = [np.array(t, dtype=float) for t in transitions]
    stand_in = np.zeros(len(rewards), dtype=bool)
    who = structure.states["who"].to_numpy()
    for g, mask in enumerate(structure.trusted):
        if who[g] not in sides:
            continue
        if mask.all():
            continue
        r, t = rewards[g], transitions[g]
        if who[g] == "player":                      # the hitter's actions are the rows
            if not mask.any():
                x = np.asarray(xs[g], dtype=float)
                r[0], t[0] = x @ r, np.einsum("a,abt->bt", x, t)
                mask = np.zeros_like(mask)
                mask[0] = True
                stand_in[g] = True
            r[~mask], t[~mask] = DOMINATED_ROW, 0.0
        else:                                       # the opponent hits: the columns
            if not mask.any():
                y = np.asarray(ys[g], dtype=float)
                r[:, 0], t[:, 0] = r @ y, np.einsum("abt,b->at", t, y)
                mask = np.zeros_like(mask)
                mask[0] = True
                stand_in[g] = True
            r[:, ~mask], t[:, ~mask] = DOMINATED_COLUMN, 0.0
    return rewards, transitions, stand_in


def _shape_kind(shape: tuple) -> tuple:
    """The padding group of a stage of this shape: tall or wide, and its short side. Stages are padded along
    their long side only: a 5 x 1 stage padded to 13 x 3 would make the kernel enumeration of the batch solver
    try every 2 x 2 and 3 x 3 kernel of the padding."""
    return shape[0] >= shape[1], min(shape)


def _solve(rewards, transitions, labels, lay, structure=None, observed=None) -> StochasticGameSolution:
    """Solve with every state padded to the shape of its group (:func:`_shape_kind`), so each sweep is one
    batched call of the matrix solver per group. Padded and excluded actions are strictly dominated
    (:data:`DOMINATED_ROW` / :data:`DOMINATED_COLUMN`): they take no weight and change no value or guarantee,
    and are removed from the solution. Where the observed mix stood in, it is the strategy."""
    stand_in = None
    if structure is not None:
        rewards, transitions, stand_in = restrict_to_trusted(structure, rewards, transitions, observed)
    size = len(rewards)
    kind = [_shape_kind(r.shape) for r in rewards]
    shape = {k: (max(r.shape[0] for r, k_ in zip(rewards, kind) if k_ == k),
                 max(r.shape[1] for r, k_ in zip(rewards, kind) if k_ == k)) for k in set(kind)}
    pr, pt = [], []
    for g, (r, t) in enumerate(zip(rewards, transitions)):
        m, n = r.shape
        big_m, big_n = shape[kind[g]]
        rr = np.full((big_m, big_n), DOMINATED_ROW)
        tt = np.zeros((big_m, big_n, size))
        rr[:m, :n] = r
        rr[:m, n:] = DOMINATED_COLUMN
        tt[:m, :n] = t
        pr.append(rr)
        pt.append(tt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = solve_stochastic_game(pr, pt, state_labels=list(labels))
    shapes = [r.shape for r in rewards]
    xs = [_renorm(x[:m]) for x, (m, _) in zip(sol.row_strategies, shapes)]
    ys = [_renorm(y[:n]) for y, (_, n) in zip(sol.column_strategies, shapes)]
    if stand_in is not None:
        who = structure.states["who"].to_numpy()
        for g in np.flatnonzero(stand_in):
            if who[g] == "player":
                xs[g] = np.asarray(observed[0][g], dtype=float)
            else:
                ys[g] = np.asarray(observed[1][g], dtype=float)
    return dataclasses.replace(
        sol, row_strategies=xs, column_strategies=ys,
        stage_games=[q[:m, :n] for q, (m, n) in zip(sol.stage_games, shapes)],
        row_labels=tuple(lay.row_labels), column_labels=tuple(lay.column_labels))


def _renorm(p):
    p = np.clip(np.asarray(p, dtype=float), 0.0, None)
    return p / p.sum()


def _chain_values(rewards, transitions, xs, ys):
    """V = (I − P_xy)⁻¹ r_xy without the checks of :func:`evaluate_policies` (a game already checked; a
    singular system raises and a bootstrap replicate is counted as failed). States of one shape are
    contracted together."""
    size = len(rewards)
    r = np.empty(size)
    p = np.empty((size, size))
    groups: dict = {}
    for g, rw in enumerate(rewards):
        groups.setdefault(rw.shape, []).append(g)
    for idx in groups.values():
        x = np.stack([xs[g] for g in idx])
        y = np.stack([ys[g] for g in idx])
        r[idx] = np.einsum("ka,kab,kb->k", x, np.stack([rewards[g] for g in idx]), y)
        p[idx] = np.einsum("ka,kabt,kb->kt", x, np.stack([transitions[g] for g in idx]), y)
    v = np.linalg.solve(np.eye(size) - p, r)
    if not np.isfinite(v).all() or (v < -1e-9).any() or (v > 1 + 1e-9).any():
        raise np.linalg.LinAlgError("policy values outside [0, 1]")
    return v


# ------------------------------------------------------------------------------------------ uncertainty
def _entry_values(structure: GameStructure, values: np.ndarray) -> np.ndarray:
    """The value to the player of every support entry's outcome: a win or loss now, or the next state's V."""
    out = structure.entry_outcome
    player_hits = (structure.states["who"] == "player").to_numpy()[structure.cell_state[structure.entry_cell]]
    u = np.where(out >= 2, values[np.maximum(out - 2, 0)], 0.0)
    u = np.where(out == 0, np.where(player_hits, 1.0, 0.0), u)
    return np.where(out == 1, np.where(player_hits, 0.0, 1.0), u)


def cell_variance(structure: GameStructure, est: Estimate, values: np.ndarray) -> np.ndarray:
    """Posterior variance of every cell's Q (the player's win probability after the cell's stroke), the
    continuation valued at ``values``. Down the shrinkage chain each part's variance is its level's own,
    W(1 − W)/(n + s + 1) (likewise L; for the continuation the dispersion D = Σ C u² − Ū² of its law over the
    next states' values, over n + s + 1), plus the parent's weighted by its share squared; then, with
    Q = W·u_win + (1 − W)(L·u_lose + (1 − L)·Ū), Var Q by the delta method over the three parts."""
    u = _entry_values(structure, np.asarray(values, dtype=float))
    cell, out = structure.entry_cell, structure.entry_outcome
    n_cells = len(structure.cell_state)
    win = np.zeros(n_cells, dtype=np.int64)
    lose = np.zeros(n_cells, dtype=np.int64)
    win[cell[out == 0]] = np.flatnonzero(out == 0)
    lose[cell[out == 1]] = np.flatnonzero(out == 1)
    moves = out >= 2
    var = np.zeros((n_cells, 3))
    w = lr = u_bar = None
    for level in est.chain:
        p = level.law[0]
        w = p[win]
        lr = p[lose] / np.maximum(1.0 - w, 1e-12)
        go = np.maximum(1.0 - w - p[lose], 1e-12)
        u_bar = np.bincount(cell[moves], weights=p[moves] * u[moves], minlength=n_cells) / go
        d = np.maximum(np.bincount(cell[moves], weights=p[moves] * u[moves] ** 2, minlength=n_cells) / go
                       - u_bar ** 2, 0.0)
        own = np.stack([w * (1 - w), lr * (1 - lr), d], axis=1) / (level.concentration[0] + 1.0)
        var = own + level.parent_weight[0] ** 2 * var
    u_win, u_lose = u[win], u[lose]
    d_w = u_win - (lr * u_lose + (1 - lr) * u_bar)
    d_l = (1 - w) * (u_lose - u_bar)
    d_u = (1 - w) * (1 - lr)
    return d_w ** 2 * var[:, 0] + d_l ** 2 * var[:, 1] + d_u ** 2 * var[:, 2]


def value_variance(rewards, transitions, xs, ys, cell_var: list, values: np.ndarray) -> np.ndarray:
    """Variance of the values of the strategies (xs, ys): the stage's variance Σ x_i² y_j² var_ij, carried
    through V = (I − P)⁻¹ r (cells taken as independent)."""
    local = np.array([(np.square(x)[:, None] * np.square(y)[None, :] * v).sum() for x, y, v in zip(xs, ys, cell_var)])
    p = np.stack([np.einsum("a,abt,b->t", x, t, y) for x, t, y in zip(xs, transitions, ys)])
    m = np.linalg.inv(np.eye(len(local)) - p)
    return np.maximum((m * m) @ local, 0.0)


# ------------------------------------------------------------------------------------------------ result
@dataclass(frozen=True)
class RallyBootstrap:
    replicates: int
    level: float
    seed: int | None
    clusters: int
    scheme: str                # "match", or "rally" when the game's strokes come from one match
    value: np.ndarray          # (B, S) the recommended play (the point fit's mixes) in each replicate
    observed: np.ndarray       # (B, S)
    switch: np.ndarray         # (B, S) the player's recommended mixes against the opponent as observed
    failed: int = 0


@dataclass(frozen=True)
class Stage:
    """One state's stage game for display: the point estimates of Q with their intervals, the pessimistic
    Q the recommendation is solved in, counts, evidence and the mixes (game orientation)."""

    state: str
    rows: tuple
    columns: tuple
    mean: np.ndarray           # Q on the point estimates (continuation: both play as recommended)
    low: np.ndarray
    high: np.ndarray
    pessimistic: np.ndarray    # Q_low of the recommendation's game
    counts: np.ndarray         # the game's strokes per cell
    evidence: np.ndarray       # (m, n, 3): pairing, hitter, all players
    value: float               # the state's value, both playing as recommended (point estimates)
    pessimistic_value: float
    recommended: np.ndarray    # the recommendation's row mix (the player's)
    opponent: np.ndarray       # the recommendation's column mix
    observed_row: np.ndarray
    observed_column: np.ndarray
    advisable: np.ndarray      # per hitter action: may be recommended (candidate and played enough)
    candidate: np.ndarray      # per hitter action: all players play it there at a meaningful rate
    basis: str


@dataclass(frozen=True)
class RallyGame:
    """A rally game estimated from data and solved (see the module docstring).

    ``states``: one row per state: ``state``, ``who`` (who hits), ``decision_state``, ``phase``, ``visits``,
    ``value`` (both playing as recommended, on the point estimates) with its sd ``value_sd`` and
    ``value_low``/``value_high`` (value ± z·sd, clipped to [0, 1]), ``observed_value`` (both players' habits) with
    ``observed_sd`` and ``observed_low``/``observed_high`` (for a match not yet played: the estimate's
    uncertainty and the match-to-match variation of a player's results, ``structure.match_sd``),
    ``pessimistic_value`` (what the recommendation guarantees at the lower bounds), ``equilibrium_value`` (the
    unrestricted equilibrium of the point estimates, for analysis), ``switch_value`` (the player's
    recommendation against the opponent's habits), ``gain`` (switch − observed: what the player wins by
    changing their own play), ``basis`` (the hitter's: ``pessimistic equilibrium`` or ``habit``) and
    ``pairing``/``hitter``/``all players`` (the shares of evidence).
    """

    structure: GameStructure
    layout: Layout
    estimate: Estimate
    rewards: list
    transitions: list
    solution: StochasticGameSolution
    recommendation: Recommendation
    observed_row: list
    observed_column: list
    observed_values: np.ndarray
    states: pd.DataFrame
    bootstrap: RallyBootstrap | None
    player: str | None
    opponent: str | None
    cell_sd: np.ndarray                 # per cell: posterior sd of Q (point continuation)
    habit_states: tuple                 # states where the hitter's habit stands (departure not supported); the
                                        # receiver's kept positions: recommendation.row_habit / column_habit
    interval: str = "normal"

    # --- lookups
    @property
    def labels(self) -> tuple:
        return self.structure.labels

    @property
    def level(self) -> float:
        return self.structure.settings.level

    def index(self, state) -> int:
        if isinstance(state, (int, np.integer)) and not isinstance(state, bool):
            if not 0 <= int(state) < len(self.labels):
                raise EstimationError(f"state {state} out of range; the game has {len(self.labels)} states")
            return int(state)
        if state in self.labels:
            return self.labels.index(state)
        import difflib
        close = difflib.get_close_matches(str(state), self.labels, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise EstimationError(f"unknown state {state!r}{hint}")

    def value(self, state) -> float:
        """P(the player wins the rally) from ``state`` when both play as recommended (point estimates)."""
        return float(self.recommendation.realized[self.index(state)])

    def pessimistic_value(self, state) -> float:
        """What the recommendation guarantees from ``state`` at the lower bounds (any position of the receiver
        at this stroke; recommended play after it)."""
        return float(self.recommendation.values[self.index(state)])

    def observed_value(self, state) -> float:
        """P(the player wins the rally) from ``state`` when both play as observed."""
        return float(self.observed_values[self.index(state)])

    def equilibrium(self, state) -> dict:
        """The recommendation in ``state`` (the equilibrium at the lower bounds, or a habit the data do not
        support changing): its value on the point estimates, both mixes by label, and its basis."""
        g = self.index(state)
        x, y = self.recommendation.row_strategies[g], self.recommendation.column_strategies[g]
        return {"state": self.labels[g], "value": float(self.recommendation.realized[g]),
                "pessimistic_value": float(self.recommendation.values[g]),
                "player": dict(zip(self.layout.row_labels[g], map(float, x))),
                "opponent": dict(zip(self.layout.column_labels[g], map(float, y))),
                "basis": str(self.states["basis"].iat[g])}

    recommended = equilibrium

    def point_equilibrium(self, state) -> dict:
        """The equilibrium of the point estimates, unrestricted (every candidate, no lower bound): what the
        recommendation is not — kept for analysis."""
        g = self.index(state)
        x, y = self.solution.row_strategies[g], self.solution.column_strategies[g]
        return {"state": self.labels[g], "value": float(self.solution.values[g]),
                "player": dict(zip(self.layout.row_labels[g], map(float, x))),
                "opponent": dict(zip(self.layout.column_labels[g], map(float, y)))}

    def observed(self, state) -> dict:
        """The observed frequencies (habits) in ``state`` by label (``player``, ``opponent``)."""
        g = self.index(state)
        return {"state": self.labels[g], "value": float(self.observed_values[g]),
                "player": dict(zip(self.layout.row_labels[g], map(float, self.observed_row[g]))),
                "opponent": dict(zip(self.layout.column_labels[g], map(float, self.observed_column[g])))}

    def serve_state(self, who: str = "player") -> str:
        """Label of the serve state of ``who`` (``player`` or ``opponent``) visited most in the game."""
        rows = self.states[(self.states["phase"] == "serve") & (self.states["who"] == who)]
        if rows.empty:
            raise EstimationError(f"the game has no serve state of the {who}")
        return str(rows.sort_values("visits", ascending=False)["state"].iat[0])

    def openings(self, who: str = "player") -> tuple[list[int], np.ndarray]:
        """The states a point opens in when ``who`` serves, and how often each did (weights summing to 1, by
        visits): first serves no stroke leads to (a second serve follows a fault), in the sport's order of court
        sides (tennis: deuce, then ad; badminton has one). Every value "from the serve" is their weighted mean."""
        from strategist.data.states import ORDINAL

        labels = self.labels
        serves = np.flatnonzero(((self.states["phase"] == "serve") & (self.states["who"] == who)).to_numpy(bool))
        led_to = np.zeros(len(labels), dtype=bool)
        for t in self.transitions:
            led_to |= np.asarray(t, dtype=float).reshape(-1, len(labels)).sum(axis=0) > 0
        later = tuple(f"{word} serve" for k, word in ORDINAL.items() if k > 1)
        states = [int(g) for g in serves if not led_to[g] and not any(w in labels[g] for w in later)]
        if not states:
            states = [self.index(self.serve_state(who))]
        sides = tuple(getattr(self.structure.sport, "court_sides", ()) or ())

        def side(g: int) -> int:
            return next((k for k, name in enumerate(sides) if f"({name}," in labels[g] or f"({name})" in labels[g]),
                        len(sides))
        visits = self.states["visits"].to_numpy(float)
        states.sort(key=lambda g: (side(g), -visits[g], g))
        n = visits[states]
        return states, (n / n.sum() if n.sum() > 0 else np.full(len(states), 1.0 / len(states)))

    def describe_who(self, who: str) -> str:
        name = self.player if who == "player" else self.opponent
        if name is None:
            return "any player" if self.player is None else "the field"
        return name

    @cached_property
    def _stage_cells(self) -> tuple:
        """Per state: the cells' sd, the pairing's strokes and the evidence shares (computed once)."""
        st, lay = self.structure, self.layout
        sd = per_cell(lay, self.cell_sd)
        counts = per_cell(lay, np.bincount(st.entry_cell, weights=self.estimate.counts[0],
                                           minlength=len(st.cell_state)))
        parts = [per_cell(lay, self.estimate.evidence[0, :, k]) for k in range(3)]
        evidence = [np.stack([parts[k][g] for k in range(3)], axis=-1) for g in range(len(sd))]
        return sd, counts, evidence

    def stage(self, state) -> Stage:
        """The stage game of ``state`` (see :class:`Stage`)."""
        g = self.index(state)
        st, lay = self.structure, self.layout
        z = two_sided_z(self.level)
        sds, counts_all, evidence = self._stage_cells
        sd, counts, ev = sds[g], counts_all[g], evidence[g]
        mean_q = _point_q(self, g)
        return Stage(self.labels[g], lay.row_labels[g], lay.column_labels[g], mean_q,
                     np.clip(mean_q - z * sd, 0, 1), np.clip(mean_q + z * sd, 0, 1),
                     self.recommendation.stage_games[g], counts.astype(int), ev, self.value(g),
                     self.pessimistic_value(g), self.recommendation.row_strategies[g],
                     self.recommendation.column_strategies[g], self.observed_row[g], self.observed_column[g],
                     st.trusted[g], st.candidate[g], str(self.states["basis"].iat[g]))

    def to_dict(self) -> dict:
        st = self.structure
        return {
            "player": self.player, "opponent": self.opponent,
            "settings": {"actions": st.settings.actions, "columns": st.settings.columns,
                         "states": st.settings.states or "situation", "zones": st.settings.zones,
                         "heights": st.settings.heights, "min_action_count": st.settings.min_action_count,
                         "min_share": st.settings.min_share, "min_count": st.settings.min_count,
                         "prior": st.settings.prior, "level": st.settings.level},
            "strokes": st.strokes_used, "rallies": st.rallies, "matches": st.game_matches,
            "dropped": dict(st.dropped),
            "flagged_actions": [{"state": s, "action": a, "count": n, "reason": why} for s, a, n, why in st.flagged],
            "strength": {k: float(v[0]) for k, v in self.estimate.strengths.items()},
            "solve": {"method": self.solution.method, "iterations": self.solution.iterations,
                      "residual": self.solution.residual},
            "recommendation": {"rounds": self.recommendation.iterations,
                               "converged": bool(self.recommendation.converged),
                               "alternating": [self.labels[g] for g in self.recommendation.alternating],
                               "kept_again": [{"state": self.labels[g], "side": side}
                                              for g, side in self.recommendation.kept_again],
                               "habits_settled": bool(self.recommendation.habits_settled)},
            "habit_states": list(self.habit_states),
            "bootstrap": None if self.bootstrap is None else {
                "replicates": self.bootstrap.replicates, "level": self.bootstrap.level,
                "clusters": self.bootstrap.clusters, "scheme": self.bootstrap.scheme, "interval": self.interval,
                "seed": self.bootstrap.seed, "failed": self.bootstrap.failed},
            "states": [
                {**{k: (None if isinstance(v, float) and np.isnan(v) else
                        (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()},
                 "equilibrium": {k: v for k, v in self.equilibrium(row["state"]).items() if k in WHO},
                 "observed_mix": {k: v for k, v in self.observed(row["state"]).items() if k in WHO}}
                for row in self.states.to_dict(orient="records")],
        }


def _point_q(game: RallyGame, g: int) -> np.ndarray:
    """Q of state g on the point estimates, both playing as recommended after the stroke."""
    v = game.recommendation.realized
    return game.rewards[g] + game.transitions[g] @ v


# ------------------------------------------------------------------------------------------------ build
@dataclass(frozen=True)
class Recommendation:
    """The recommendation of every state (game orientation): the mixes, the pessimistic stage games they are
    solved in, their values there (``values``: the guarantee at the lower bound) and what the recommended
    pair is worth on the point estimates (``realized``)."""

    values: np.ndarray
    row_strategies: list
    column_strategies: list
    stage_games: list
    realized: np.ndarray
    iterations: int
    converged: bool
    row_habit: np.ndarray | None = None      # per state: the player's habit stands (rows)
    column_habit: np.ndarray | None = None   # per state: the opponent's habit stands (columns)
    alternating: tuple = ()                  # states whose mixes flipped every round (two rounds' average used)
    kept_again: tuple = ()                   # (state, side) whose habit a judgement again freed and a round kept again
    habits_settled: bool = True              # the last judgement at the settled values changed nothing


def _solve_stages(matrices: list) -> tuple[list, list, np.ndarray]:
    """Every stage game solved exactly: padded to one shape per group (:func:`_shape_kind`) with strictly
    dominated actions, one batched call each. Which of several optimal mixes it returns depends on the padding:
    :func:`_pessimistic_round` breaks such ties by the point estimates first."""
    from strategist.games.batch import solve_zero_sum_batch

    xs, ys = [None] * len(matrices), [None] * len(matrices)
    values = np.zeros(len(matrices))
    groups: dict = {}
    for g, q in enumerate(matrices):
        groups.setdefault(_shape_kind(q.shape), []).append(g)
    for idx in groups.values():
        m = max(matrices[g].shape[0] for g in idx)
        n = max(matrices[g].shape[1] for g in idx)
        batch = np.full((len(idx), m, n), DOMINATED_ROW)
        for k, g in enumerate(idx):
            a, b = matrices[g].shape
            batch[k, :a, :b] = matrices[g]
            batch[k, :a, b:] = DOMINATED_COLUMN
        sol = solve_zero_sum_batch(batch)
        rows, cols = np.clip(sol.row_strategy, 0.0, None), np.clip(sol.column_strategy, 0.0, None)
        for k, g in enumerate(idx):
            a, b = matrices[g].shape
            xs[g], ys[g] = rows[k, :a] / rows[k, :a].sum(), cols[k, :b] / cols[k, :b].sum()
        values[idx] = sol.value
    return xs, ys, values


def _hitter_shots(trusted: np.ndarray) -> np.ndarray:
    """The hitter's shots a free hitter's stage game keeps: the trusted ones, or every shot where none is
    trusted (none is more trusted than another)."""
    trusted = np.asarray(trusted, dtype=bool)
    return trusted if trusted.any() else np.ones_like(trusted)


def _restricted(q: np.ndarray, player_hits: bool, trusted: np.ndarray, row_habit, column_habit):
    """A stage matrix with the hitter's untrusted shots dominated; a side whose habit stands (``row_habit`` /
    ``column_habit``: its mix, or None) has that mix as its only action (a 1-row or 1-column matrix). Where the
    hitter has no trusted shot (and plays its habit), the other side's game keeps every shot: none is more
    trusted than another, and dominating all of them would leave no game."""
    q = np.asarray(q, dtype=float)
    hitter_habit = row_habit if player_hits else column_habit
    shots = _hitter_shots(trusted)
    # the habit is played as it is, rare shots and all
    if hitter_habit is None and not shots.all():
        q = q.copy()
        if player_hits:
            q[~shots] = DOMINATED_ROW
        else:
            q[:, ~shots] = DOMINATED_COLUMN
    if row_habit is not None:
        q = (np.asarray(row_habit) @ q)[None, :]
    if column_habit is not None:
        q = (q @ np.asarray(column_habit))[:, None]
    return q


def open_situations(structure: GameStructure) -> np.ndarray:
    """Per state: whether its situation leaves a part unrecorded (an unknown height, zone, serve direction,
    court side or incoming shot)."""
    return structure.states["decision_state"].astype(str).str.contains("unknown").to_numpy(bool)


#: Where the habit stands, a shot its hitter played too rarely to be advised keeps its own share of the
#: recommendation; with at least this share (it shows as 1 %) every view says so in the words of :data:`KEPT`.
KEPT_SHARE = 0.005
KEPT = "kept at the habit's own rate, never raised"


def candidate_habits(structure: GameStructure, xs, ys):
    """The habits as a recommendation keeps them: each hitter's mix restricted to the candidate shots of the
    state (a shot all players almost never play there is not advised, even from habit), renormalised; where
    the hitter's habit has no mass on a candidate it stays as it is."""
    who = structure.states["who"].to_numpy()
    rows, cols = [np.asarray(x, dtype=float).copy() for x in xs], [np.asarray(y, dtype=float).copy() for y in ys]
    for g, candidate in enumerate(structure.candidate):
        mix = rows[g] if who[g] == "player" else cols[g]
        kept = np.where(candidate, mix, 0.0)
        if kept.sum() > 0:
            mix[:] = kept / kept.sum()
    return rows, cols


def _keep_optimal(xs, ys, last, low, high, player, trusted, rows, cols, tol: float = 1e-9):
    """The mixes with last round's kept wherever it still guarantees as much in this round's stage game at its
    side's bound, the other side free (a stage game with several optimal mixes would otherwise let the rounds
    flip between them)."""
    xs, ys = list(xs), list(ys)
    for g in range(len(xs)):
        x_old, y_old = last[0][g], last[1][g]
        if not rows[g] and len(x_old) == len(xs[g]):
            worth = _restricted(low[g], player[g], trusted[g], None, None)
            if (x_old @ worth).min() >= (xs[g] @ worth).min() - tol:
                xs[g] = x_old
        if not cols[g] and len(y_old) == len(ys[g]):
            cost = _restricted(high[g], player[g], trusted[g], None, None)
            if (cost @ y_old).max() <= (cost @ ys[g]).max() + tol:
                ys[g] = y_old
    return xs, ys


def _average_cycle(this: tuple, before: tuple) -> tuple:
    """Both players' mixes averaged over two rounds where they differ; returns (xs, ys, states that differ)."""
    mixes, changed = [], set()
    for now, then in zip(this, before):
        out = []
        for g, (a, b) in enumerate(zip(now, then)):
            if len(a) == len(b) and np.abs(a - b).max() > 1e-12:
                out.append(0.5 * (a + b))
                changed.add(g)
            else:
                out.append(a)
        mixes.append(out)
    return mixes[0], mixes[1], tuple(sorted(changed))


def departure_supported(q, sd, z: float, mix, habit, replies, tol: float = 1e-9) -> bool:
    """Whether what ``mix`` guarantees beats what ``habit`` guarantees (both row mixes of the point estimates
    ``q``, each against its worst reply among ``replies``, a bool per column) at the lower confidence bound
    of the difference: min_b [mix·Q[:, b] − z·s_b] > habit·Q[:, b₀] + ``tol``, b₀ the habit's worst reply,
    with the two sides' cells paired: s_b² = Σ_a σ²_ab·mix_a² + Σ_a σ²_ab₀·habit_a², less
    2·Σ_a σ²_ab·mix_a·habit_a where b = b₀ (the same cells' errors cancel: Σ_a σ²_ab·(mix_a − habit_a)²). The
    minimum over b bounds the difference of the two guarantees from below (min f − min g ≥ min (f − g_b₀))."""
    q = np.asarray(q, dtype=float)
    var_cells = np.asarray(sd, dtype=float) ** 2
    mix, habit = np.asarray(mix, dtype=float), np.asarray(habit, dtype=float)
    cols = np.flatnonzero(replies)
    b0 = int(cols[np.argmin(habit @ q[:, cols])])
    var = (mix ** 2) @ var_cells[:, cols] + (habit ** 2) @ var_cells[:, b0]
    var = var - np.where(cols == b0, 2.0 * (mix * habit) @ var_cells[:, b0], 0.0)
    bound = float((mix @ q[:, cols] - z * np.sqrt(np.maximum(var, 0.0))).min())
    return bound > float(habit @ q[:, b0]) + tol


def gain_supported(q, sd, reply, z: float, mix, habit) -> bool:
    """:func:`departure_supported` with the other side's mix ``reply`` fixed (a best response's or a safe
    exploitation's prediction): row a is worth (Q·y)_a with sd sqrt(Σ_b σ²_ab·y_b²) (cells independent), and
    ``mix`` leaves ``habit`` only if the lower confidence bound of its gain (mix − habit)·Q·y is positive."""
    q, y = np.asarray(q, dtype=float), np.asarray(reply, dtype=float)
    rows_sd = np.sqrt(np.square(np.asarray(sd, dtype=float)) @ np.square(y))
    return departure_supported((q @ y)[:, None], rows_sd[:, None], z, mix, habit, _ONE_REPLY)


#: The one column of a game whose other side's mix is fixed (:func:`gain_supported`).
_ONE_REPLY = np.ones(1, dtype=bool)


def _replies(shape: tuple, player_hits: bool, trusted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per side, the other side's actions its departure is judged against: the receiver's every position, the
    hitter's shots of :func:`_restricted`'s game (:func:`_hitter_shots`). Returns (columns for the player,
    rows for the opponent)."""
    m, n = shape
    if player_hits:
        return np.ones(n, dtype=bool), _hitter_shots(trusted)
    return _hitter_shots(trusted), np.ones(m, dtype=bool)


def _pessimistic_round(q_point, sd_cells, z, player, trusted, habits, fixed_rows, fixed_cols) -> tuple:
    """One round of :func:`_recommend` at the point Q values ``q_point``: each side's bound (the player's
    Q − z·σ, the opponent's Q + z·σ, kept in [0, 1]) and its equilibrium there, and where each side keeps its
    habit: already kept, or the lower confidence bound of what its equilibrium guarantees over the habit on
    the point estimate is not positive (:func:`departure_supported`; for the opponent, who minimises, on
    −Q). Ties at a bound (several optimal mixes) are broken by the point estimates: each side solves its
    bound's game plus TIE_BREAK times the point game, whose optimal mixes are the bound's (to 1e-6) best on
    the point estimates (which of several optimal mixes a solver returns is otherwise arbitrary). Each side's
    mix comes from its own game with the other side free: against the other side's habit it would be a best
    reply (pure, exploitable), which the best response and the safe exploitation offer apart. Returns (low,
    high, rows kept, columns kept, xs, ys, what the player's mix guarantees at the lower bound)."""
    xo, yo = habits
    size = len(q_point)
    low = [q - np.minimum(z * sd, q) for q, sd in zip(q_point, sd_cells)]
    high = [q + np.minimum(z * sd, 1.0 - q) for q, sd in zip(q_point, sd_cells)]
    # each side's equilibrium at its bound, the other side free: is the departure supported?
    x_eq, _, _ = _solve_stages([_restricted(q + TIE_BREAK * p, player[g], trusted[g], None, None)
                                for g, (q, p) in enumerate(zip(low, q_point))])
    _, y_eq, _ = _solve_stages([_restricted(q + TIE_BREAK * p, player[g], trusted[g], None, None)
                                for g, (q, p) in enumerate(zip(high, q_point))])
    # a habit kept stays kept: only the other states' departures are judged
    replies = [_replies(q.shape, player[g], trusted[g]) for g, q in enumerate(q_point)]
    rows = np.array([fixed_rows[g] or not departure_supported(q_point[g], sd_cells[g], z, x_eq[g], xo[g],
                                                              replies[g][0]) for g in range(size)], dtype=bool)
    cols = np.array([fixed_cols[g] or not departure_supported(-q_point[g].T, sd_cells[g].T, z, y_eq[g], yo[g],
                                                              replies[g][1]) for g in range(size)], dtype=bool)
    # each side's mix from its own game with only its own kept habits fixed (a state's stage game, and so
    # how a tie is broken, does not depend on other states' departures: each batch pads to its own games)
    x_low, _, _ = _solve_stages([_restricted(q + TIE_BREAK * p, player[g], trusted[g], xo[g] if rows[g] else None,
                                             None) for g, (q, p) in enumerate(zip(low, q_point))])
    values = np.array([float((x @ _restricted(q, player[g], trusted[g], xo[g] if rows[g] else None, None)).min())
                       for g, (x, q) in enumerate(zip(x_low, low))])
    _, y_high, _ = _solve_stages([_restricted(q + TIE_BREAK * p, player[g], trusted[g], None,
                                              yo[g] if cols[g] else None)
                                  for g, (q, p) in enumerate(zip(high, q_point))])
    xs = [xo[g] if rows[g] else x_low[g] for g in range(size)]
    ys = [yo[g] if cols[g] else y_high[g] for g in range(size)]
    return low, high, rows, cols, xs, ys, values


def _settle(rewards, transitions, v, sd_cells, z, player, trusted, habits, fixed_rows, fixed_cols, last, previous):
    """One pass of :func:`_recommend`'s rounds from the values ``v``: each round judges the habits not yet kept
    at Q(v) (:func:`_pessimistic_round`), keeps for the rest of the pass every habit it keeps, and values the
    resulting play; the pass ends when the kept habits repeat and the values move by less than 1e-9
    (``converged``), at a two-round cycle (both rounds' mixes averaged where they flip: ``alternating``) or
    after RECOMMENDATION_ROUNDS. ``last``: the mixes of the round before (kept where still optimal);
    ``previous``: the kept habits it ended with, or None. Returns a dict of the pass's last round, with the
    habits its first round kept (``judged``)."""
    two_back, before, iterations, converged, alternating, judged = None, None, 0, False, (), None
    for _ in range(RECOMMENDATION_ROUNDS):
        iterations += 1
        q_point = [r + t @ v for r, t in zip(rewards, transitions)]
        low, high, rows, cols, xs, ys, values = _pessimistic_round(q_point, sd_cells, z, player, trusted, habits,
                                                                   fixed_rows, fixed_cols)
        judged = (rows, cols) if judged is None else judged
        fixed_rows, fixed_cols = rows, cols
        if last is not None:     # keep last round's mix where it is still optimal: no flipping between ties
            xs, ys = _keep_optimal(xs, ys, last, low, high, player, trusted, rows, cols)
        before, last = last, (xs, ys)
        v_new = _chain_values(rewards, transitions, xs, ys)
        # settled when the values and the habits are (a stage game with several optimal mixes may return
        # another of them, worth the same)
        state = (rows.tobytes(), cols.tobytes())
        if previous == state and np.abs(v_new - v).max() < 1e-9:
            converged, v = True, v_new
            break
        if previous == state and two_back is not None and np.abs(v_new - two_back).max() < 1e-9:
            # a two-round cycle: at some states the optimal mix flips with the values and the values with it;
            # the fixed point lies between the two mixes, so both rounds' mixes are averaged there
            xs, ys, alternating = _average_cycle((xs, ys), before)
            values = np.array(values, dtype=float)
            for g in alternating:                  # what the averaged mix guarantees at the lower bound
                if not rows[g]:
                    values[g] = float((xs[g] @ _restricted(low[g], player[g], trusted[g], None, None)).min())
            v = _chain_values(rewards, transitions, xs, ys)
            break
        previous, two_back, v = state, v, v_new
    return dict(v=v, rows=rows, cols=cols, xs=xs, ys=ys, values=values, low=low, last=last, judged=judged,
                iterations=iterations, converged=converged, alternating=alternating)


def _recommend(structure, lay, rewards, transitions, observed, point, est, level) -> tuple:
    """The recommendation (module docstring), as pessimistic minimax value iteration does it: each side's
    strategy comes from its own pessimistic game — the player's (shots where the player hits, positions where
    the opponent hits) from the stage games at the player's lower bound Q − z·σ, the opponent's from those at
    the opponent's, Q + z·σ (σ the cell's posterior sd) — with what follows valued on the point estimates of
    that play, so that the bounds of a long rally do not pile up: V ← value of the recommended play; mixes ←
    the equilibria of the stage games Q(V) ∓ z·σ. A side keeps its habit at a state unless the lower confidence
    bound of what its equilibrium guarantees over the habit there, on the point estimates, is positive
    (:func:`departure_supported`: the player on Q, the opponent, who minimises, on −Q), and the hitter keeps
    it in a situation with an unrecorded part (:func:`open_situations`). Where a side departs from its habit
    it plays its own game's equilibrium, with the other side free there: a reply to the other side's habit
    would be exploitation, not a guarantee.

    The rounds (:func:`_settle`) start from both habits' values; within a pass a habit kept in one round is
    kept after it. A pass's first rounds judge at values far from the recommendation's, so every settled pass
    is followed by another from its values, whose first round judges every habit again there: the rounds stop
    when that round keeps the same habits and leaves the values where they were (then no kept habit has a
    supported departure at the settled values, and every departure is supported there). A habit such a
    judgement freed and a round after it kept again stays kept from the next pass on (``kept_again``:
    departing there is supported only while it is not played); at most REJUDGEMENTS passes follow the
    first (``habits_settled`` False, and a warning, where the last judgement still changed something). A
    pass that cycles is judged again from its averaged values (``alternating``: the last pass's); one that
    runs out of rounds ends them.

    Returns (Recommendation, states where the hitter's habit stands, cell sd)."""
    z = two_sided_z(level)
    cell_var = cell_variance(structure, est, point.values)
    sd_cells = per_cell(lay, np.sqrt(cell_var))
    player = (structure.states["who"] == "player").to_numpy()
    trusted = [np.asarray(t, dtype=bool) for t in structure.trusted]
    xo, yo = [np.asarray(x, dtype=float) for x in observed[0]], [np.asarray(y, dtype=float) for y in observed[1]]
    # a hitter with no trusted shot plays its habit; so does a hitter in a situation the data leave open (how
    # high, where, or what the incoming shot was is not recorded): there the data cannot tell which shots were
    # possible (a rush is played only off a loose net shot), and a departure would bet on the unrecorded part.
    # A receiver's positions are open to it.
    fixed = open_situations(structure) | np.array([not t.any() for t in trusted])
    fixed_rows, fixed_cols = player & fixed, ~player & fixed
    freed_rows, freed_cols = np.zeros_like(player), np.zeros_like(player)   # freed by a judgement again
    again_rows, again_cols = np.zeros_like(player), np.zeros_like(player)   # ... and kept again after it
    v, last, kept, iterations, settled = _chain_values(rewards, transitions, xo, yo), None, None, 0, False
    for _ in range(REJUDGEMENTS + 1):
        out = _settle(rewards, transitions, v, sd_cells, z, player, trusted, (xo, yo), fixed_rows | again_rows,
                      fixed_cols | again_cols, last, kept)
        iterations += out["iterations"]
        v, last, rows, cols = out["v"], out["last"], out["rows"], out["cols"]
        settled = out["iterations"] == 1 and out["converged"]
        if settled or not (out["converged"] or out["alternating"]):
            break      # judged again at its own values, the play keeps its habits and values; or no settling
        if kept is not None:       # the habits this pass's judgement freed, and those of them kept again since
            was_rows, was_cols = (np.frombuffer(k, dtype=bool) for k in kept)
            freed_rows = freed_rows | (was_rows & ~out["judged"][0])
            freed_cols = freed_cols | (was_cols & ~out["judged"][1])
            again_rows, again_cols = again_rows | (freed_rows & rows), again_cols | (freed_cols & cols)
        kept = (rows.tobytes(), cols.tobytes())
    habit = tuple(int(g) for g in np.flatnonzero(np.where(player, rows, cols)))
    again = sorted([(int(g), "player") for g in np.flatnonzero(again_rows)]
                   + [(int(g), "opponent") for g in np.flatnonzero(again_cols)])
    rec = Recommendation(out["values"], out["xs"], out["ys"], out["low"], v, iterations, out["converged"], rows,
                         cols, out["alternating"], tuple(again), settled)
    return rec, habit, np.sqrt(cell_var)


def rally_game(table: pd.DataFrame, player: str | None = None, opponent: str | None = None, *,
               actions: str = "shot", columns: str = "auto", states: str | None = None, zones: bool | None = None,
               heights: bool | None = None, min_action_count: int = 5, min_share: float = 0.02,
               min_count: int = 10, prior="marginal", bootstrap: int = 0, level: float = 0.9,
               seed: int | None = 0, sport=None, equilibrium: bool = True,
               interval: str = "normal") -> RallyGame:
    """The rally between ``player`` and ``opponent`` as a stochastic game estimated from ``table`` (a canonical
    rally table, or the :class:`~strategist.rally.model.Strokes` of one made with the same settings, to
    estimate several games of one table).

    ``player`` alone: the player against everyone they met; neither: the population game. ``actions``:
    ``"shot"`` or ``"group"``; ``columns``: the receiver's ``"zone"``, ``"position"``, ``"none"`` or
    ``"auto"``. ``states``: None for situations (the incoming shot, its zone and height wherever the data
    record them); ``"group:tactic"`` with ``zones=False, heights=False`` is the coarse model of earlier
    versions. Candidates: shots all players play there at least ``min_share`` of the time and ``min_count``
    times; a hitter's shot may be recommended when the hitter also played it there ``min_action_count``
    times (the rest stay in the game as observed play and are listed in ``to_dict()["flagged_actions"]``).
    ``level``: of the intervals and of the lower confidence bound the recommendation is solved at.
    ``bootstrap``: replicates of the match-cluster bootstrap for the intervals (0: the posterior's);
    ``interval``: ``"normal"`` or ``"percentile"`` (bootstrap only); ``equilibrium=False``: the bootstrap values
    observed play only (``value``/``gain`` keep the posterior's intervals).

    ``gain`` is what the player wins by switching to the recommendation while the opponent keeps playing as
    observed: value(player's recommendation, opponent observed) − value(both observed).
    """
    if not 0.0 < float(level) < 1.0:
        raise EstimationError(f"level must lie strictly between 0 and 1, got {level!r}")
    if isinstance(bootstrap, bool) or int(bootstrap) != bootstrap or bootstrap < 0:
        raise EstimationError(f"bootstrap must be a number of replicates >= 0, got {bootstrap!r}")
    if interval not in INTERVALS:
        raise EstimationError(f"interval {interval!r}: expected one of {list(INTERVALS)}")
    if str(prior).strip().lower() == "moments":
        raise EstimationError("prior 'moments' is for two outcomes; use 'marginal' or a number of pseudo-trials")
    settings = RallySettings(player=player, opponent=opponent, actions=actions, columns=columns, states=states,
                             zones=zones, heights=heights, min_action_count=min_action_count,
                             min_share=float(min_share), min_count=int(min_count), prior=prior, level=float(level))
    st = table if isinstance(table, Strokes) else strokes(table, settings, sport)
    structure = build_structure(st, settings)
    # Hundreds of small dense solves: one BLAS thread each is 2-10x faster than a pool fighting for the cores.
    with one_blas_thread():
        return build_game(structure, bootstrap=int(bootstrap), seed=seed, equilibrium=equilibrium,
                          interval=interval)


def build_game(structure: GameStructure, *, bootstrap: int = 0, seed=0, equilibrium: bool = True,
               interval: str = "normal") -> RallyGame:
    """Estimate and solve the game of ``structure`` (:func:`rally_game` does the rest)."""
    lay = layout(structure)
    est = estimate(structure, structure_counts(structure), keep_chain=True)
    labels = structure.labels
    level = structure.settings.level
    xs, ys = observed_mixes(structure, _totals(structure.row_counts), _totals(structure.column_counts))
    est, delta = _set_level(structure, lay, est, xs, ys)
    rewards, transitions = stage_arrays(lay, est.probability[0])
    point = _solve(rewards, transitions, labels, lay, structure, (xs, ys))
    observed = _chain_values(rewards, transitions, xs, ys)
    rec, habit, sd = _recommend(structure, lay, rewards, transitions, candidate_habits(structure, xs, ys), point, est,
                                level)
    if rec.alternating:
        named = ", ".join(f"'{labels[g]}'" for g in rec.alternating[:3]) + (
            f" and {len(rec.alternating) - 3} more" if len(rec.alternating) > 3 else "")
        warnings.warn(f"the recommendation's fixed point alternates between two mixes at {named} (the optimal mix "
                      "there flips with the values it leads to); the two mixes' average is used", RuntimeWarning,
                      stacklevel=2)
    elif not rec.converged:
        warnings.warn(f"the recommendation's fixed point did not settle in {rec.iterations} rounds; the last "
                      "round's mixes are used", RuntimeWarning, stacklevel=2)
    elif not rec.habits_settled:
        warnings.warn(f"the recommendation's habits were judged again {REJUDGEMENTS} times at settled values "
                      "without settling; the last pass's habits are used (some may have a departure the final "
                      "values support)", RuntimeWarning, stacklevel=2)

    frame = structure.states.drop(columns="label").copy()
    z = two_sided_z(level)
    realized = rec.realized
    var_rec = value_variance(rewards, transitions, rec.row_strategies, rec.column_strategies,
                             per_cell(lay, cell_variance(structure, est, realized)), realized)
    frame["value"] = realized
    frame["value_sd"] = np.sqrt(var_rec)
    frame["value_low"] = np.clip(realized - z * frame["value_sd"], 0, 1)
    frame["value_high"] = np.clip(realized + z * frame["value_sd"], 0, 1)
    frame["observed_value"] = observed
    sd_obs = np.sqrt(cell_variance(structure, est, observed))
    var_obs = value_variance(rewards, transitions, xs, ys, per_cell(lay, sd_obs ** 2), observed)
    frame["observed_sd"] = np.sqrt(var_obs + structure.match_sd ** 2)
    frame["observed_low"] = np.clip(observed - z * frame["observed_sd"], 0, 1)
    frame["observed_high"] = np.clip(observed + z * frame["observed_sd"], 0, 1)
    frame["pessimistic_value"] = rec.values
    frame["equilibrium_value"] = point.values
    switch = _chain_values(rewards, transitions, rec.row_strategies, ys)
    frame["switch_value"] = switch
    frame["gain"] = switch - observed
    frame["basis"] = np.where(np.isin(np.arange(structure.size), habit), "habit", "pessimistic equilibrium")
    frame[["pairing", "hitter", "all players"]] = _state_evidence(structure, est, xs, ys, lay)
    boot = None
    if bootstrap:
        boot = _bootstrap(structure, lay, bootstrap, level, seed, (rec.row_strategies, rec.column_strategies)
                          if equilibrium else None)
        points = {"value": realized, "observed": observed, "gain": switch - observed}
        keys = (("value", boot.value), ("observed", boot.observed), ("gain", boot.switch - boot.observed))
        for key, reps in keys if equilibrium else keys[1:2]:
            lo, hi = bootstrap_interval(points[key], reps, level, boot.clusters, interval, clip=key != "gain")
            frame[f"{key}_low"], frame[f"{key}_high"] = lo, hi
    return RallyGame(structure, lay, est, rewards, transitions, point, rec, xs, ys, observed, frame, boot,
                     structure.settings.player, structure.settings.opponent, sd, habit, interval)


def _set_level(structure, lay, est, xs, ys):
    """The estimate with the pair's level set to the players' rally records (:mod:`strategist.rally.strength`):
    the shift Δ with which the game, as both play now, wins the player the rallies the records say (the mean
    of the two serve states' values). Returns (estimate, Δ); the population game and a player against
    everyone are left as they are (Δ = 0)."""
    from strategist.rally.model import shift_laws
    from strategist.rally.strength import level_shift

    target = structure.record_win
    serves = structure.states.index[(structure.states["phase"] == "serve").to_numpy()]
    if target is None or structure.settings.opponent is None or not len(serves):
        return est, 0.0
    who = structure.states["who"].to_numpy()
    player_serves = [g for g in serves if who[g] == "player"]
    opponent_serves = [g for g in serves if who[g] == "opponent"]
    visits = structure.states["visits"].to_numpy(float) + 1.0

    def mean_serve_value(delta):
        rewards, transitions = stage_arrays(lay, shift_laws(structure, est.probability[0], delta))
        v = _chain_values(rewards, transitions, xs, ys)
        parts = [np.average(v[idx], weights=visits[idx]) for idx in (player_serves, opponent_serves) if idx]
        return float(np.mean(parts))

    delta = level_shift(mean_serve_value, target)
    return dataclasses.replace(est, probability=shift_laws(structure, est.probability, delta),
                               level_shift=delta), delta


def _state_evidence(structure, est, xs, ys, lay) -> np.ndarray:
    """Per state: the shares of evidence behind its cells (pairing, hitter, all players), weighted by the
    habits' probability of each cell."""
    out = np.zeros((structure.size, 3))
    ev = [per_cell(lay, est.evidence[0, :, k]) for k in range(3)]
    for g in range(structure.size):
        w = np.outer(xs[g], ys[g])
        out[g] = [float((w * ev[k][g]).sum()) for k in range(3)]
    return out


def bootstrap_interval(point, replicates, level: float, clusters: int, kind: str = "normal", clip: bool = True):
    """Interval of every column of ``replicates`` (B × S) around ``point`` (S,).

    ``"normal"``: point ± z·√(G/(G−1))·sd. Resampling G clusters gives a bootstrap variance biased low by the
    factor (G − 1)/G (Davison & Hinkley 1997, §3.8); with the few matches of one pair (often 3–10) that matters,
    and the factor is put back. ``"percentile"``: the replicates' (1 − level)/2 and (1 + level)/2 quantiles.
    ``clip``: keep the ends within [0, 1] (probabilities)."""
    reps = np.asarray(replicates, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if kind == "percentile":
            tail = (1.0 - level) / 2.0
            lo, hi = np.nanquantile(reps, [tail, 1.0 - tail], axis=0)
        else:
            g = max(int(clusters), 2)
            half = two_sided_z(level) * np.sqrt(g / (g - 1.0)) * np.nanstd(reps, axis=0, ddof=1)
            lo, hi = np.asarray(point) - half, np.asarray(point) + half
    if clip:
        lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
    return lo, hi


def bootstrap_weights(structure: GameStructure, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(B × units) resampling counts: the pair's units drawn among themselves, the others among theirs."""
    weights = np.zeros((replicates, len(structure.matches)))
    for group in (structure.pair_matches, ~structure.pair_matches):
        idx = np.flatnonzero(group)
        if len(idx):
            weights[:, idx] = rng.multinomial(len(idx), np.full(len(idx), 1.0 / len(idx)), size=replicates)
    return weights


def _bootstrap(structure: GameStructure, lay: Layout, replicates: int, level: float, seed, recommended=None):
    """Match-cluster bootstrap: every replicate re-estimates the game from reweighted strokes and values the
    observed mixes it reweights, and (``recommended``: the point fit's (row, column) strategies) that fixed
    recommended play, and the player's recommendation against the opponent's replicate habits."""
    rng = np.random.default_rng(seed)
    w = bootstrap_weights(structure, replicates, rng)
    est = estimate(structure, structure_counts(structure, w))
    rows = {k: np.asarray((m.T @ w.T).T) for k, m in structure.row_counts.items()}
    cols = {k: np.asarray((m.T @ w.T).T) for k, m in structure.column_counts.items()}
    size = structure.size
    values, observed, switch = (np.full((replicates, size), np.nan) for _ in range(3))
    failed = 0
    for k in range(replicates):
        rewards, transitions = stage_arrays(lay, est.probability[k])
        xs, ys = observed_mixes(structure, {key: v[k] for key, v in rows.items()},
                                {key: v[k] for key, v in cols.items()})
        try:
            observed[k] = _chain_values(rewards, transitions, xs, ys)
            if recommended is not None:
                values[k] = _chain_values(rewards, transitions, *recommended)
                switch[k] = _chain_values(rewards, transitions, recommended[0], ys)
        except (np.linalg.LinAlgError, StrategistError, ArithmeticError):
            failed += 1        # a replicate whose game cannot be solved is counted, not fatal
    return RallyBootstrap(replicates, level, seed, int(structure.pair_matches.sum()), structure.cluster, values,
                          observed, switch, failed)
