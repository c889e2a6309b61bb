"""The whole rally as one zero-sum stochastic game estimated from data, solved and compared with observed play.

The row player of the game is always **the player** and the payoff is the probability that the player wins
the rally. In a state where the player hits, the rows are the player's shots and the columns the opponent's
positions; where the opponent hits, the game is stored transposed: the rows are the player's positions (the
cover choice) and the columns the opponent's shots, so the opponent is the minimiser everywhere. The stage
reward is the probability that the player wins the rally at this stroke (their winner, or the opponent's
error); the transitions are the probabilities that the rally goes on in each next state.

Results per state: the equilibrium value and both mixes (:func:`strategist.solve_stochastic_game`); the value
of the players' observed frequencies (:func:`strategist.evaluate_policies`), and the gain of the equilibrium
over observed play. Intervals come from a match-cluster bootstrap: the pair's matches are resampled among
themselves and the other matches among themselves, and every replicate re-estimates the game (both
empirical-Bayes strengths included) and solves it again; intervals are normal intervals from the replicates'
standard deviation with the small-cluster correction (:func:`bootstrap_interval`), or percentile intervals.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from strategist.errors import EstimationError
from strategist.games.stochastic import StochasticGameSolution, evaluate_policies, solve_stochastic_game
from strategist.rally.model import (WHO, Estimate, GameStructure, RallySettings, Strokes, build_structure, estimate,
                                    strokes)


# ------------------------------------------------------------------------------------------- array layout
@dataclass(frozen=True)
class Layout:
    """Where every support entry goes in the per-state reward and transition arrays (game orientation)."""

    shapes: tuple                   # (m_g, n_g) per state
    reward_entry: np.ndarray        # entries that pay the player now ...
    reward_index: np.ndarray        # ... and their flat index into the concatenated rewards
    move_entry: np.ndarray          # entries that continue ...
    move_index: np.ndarray          # ... flat index into the concatenated transitions
    reward_offsets: np.ndarray
    move_offsets: np.ndarray
    row_labels: tuple
    column_labels: tuple


def layout(st: GameStructure) -> Layout:
    size = st.size
    who = (st.states["who"] == "opponent").to_numpy()
    shapes = tuple((len(st.columns[g]), len(st.rows[g])) if who[g] else (len(st.rows[g]), len(st.columns[g]))
                   for g in range(size))
    cells = np.array([m * n for m, n in shapes])
    roff = np.r_[0, np.cumsum(cells)]
    moff = np.r_[0, np.cumsum(cells * size)]
    g = st.cell_state[st.entry_cell]
    a, b = st.cell_a[st.entry_cell], st.cell_b[st.entry_cell]
    opp = who[g]
    i, j = np.where(opp, b, a), np.where(opp, a, b)
    ncol = np.array([s[1] for s in shapes])[g]
    local = i * ncol + j
    out = st.entry_outcome
    pays = np.where(opp, out == 1, out == 0)
    moves = out >= 2
    rows = tuple(st.columns[k] if who[k] else st.rows[k] for k in range(size))
    cols = tuple(st.rows[k] if who[k] else st.columns[k] for k in range(size))
    return Layout(shapes, np.flatnonzero(pays), (roff[g] + local)[pays], np.flatnonzero(moves),
                  (moff[g] + local * size + (out - 2))[moves], roff, moff, rows, cols)


def stage_arrays(lay: Layout, probability: np.ndarray):
    """(rewards, transitions) lists of one replicate's outcome laws."""
    size = len(lay.shapes)
    r = np.bincount(lay.reward_index, weights=probability[lay.reward_entry], minlength=lay.reward_offsets[-1])
    t = np.bincount(lay.move_index, weights=probability[lay.move_entry], minlength=lay.move_offsets[-1])
    rewards = [r[lay.reward_offsets[g]:lay.reward_offsets[g + 1]].reshape(lay.shapes[g]) for g in range(size)]
    moves = [t[lay.move_offsets[g]:lay.move_offsets[g + 1]].reshape(lay.shapes[g] + (size,)) for g in range(size)]
    return rewards, moves


def observed_mixes(st: GameStructure, row_counts: np.ndarray, column_counts: np.ndarray, fallback=None):
    """Observed frequencies in game orientation: (row mixes, column mixes) per state.

    A state with no strokes in these counts (a bootstrap replicate) takes the ``fallback`` mixes."""
    xs, ys = [], []
    for g in range(st.size):
        hit = row_counts[st.row_offsets[g]:st.row_offsets[g + 1]]
        rec = column_counts[st.column_offsets[g]:st.column_offsets[g + 1]]
        mixes = []
        for k, c in enumerate((hit, rec)):
            total = c.sum()
            if total > 0:
                mixes.append(c / total)
            elif fallback is not None:
                opp = st.states["who"].iat[g] == "opponent"
                # fallback is in game orientation: hitter's mix is the row mix unless the opponent hits
                side = (1 - k) if opp else k
                mixes.append(fallback[side][g])
            else:
                mixes.append(np.full(len(c), 1.0 / len(c)))
        if st.states["who"].iat[g] == "opponent":
            xs.append(mixes[1])
            ys.append(mixes[0])
        else:
            xs.append(mixes[0])
            ys.append(mixes[1])
    return xs, ys


# ------------------------------------------------------------------------------------------------ result
@dataclass(frozen=True)
class RallyBootstrap:
    replicates: int
    level: float
    seed: int | None
    clusters: int
    scheme: str                # "match", or "rally" when the game's strokes come from one match
    value: np.ndarray          # (B, S)
    observed: np.ndarray       # (B, S)
    switch: np.ndarray         # (B, S) the player's equilibrium mixes against the opponent as observed
    failed: int = 0


@dataclass(frozen=True)
class RallyGame:
    """A rally game estimated from data and solved (see the module docstring).

    ``states``: one row per state: ``state``, ``who`` (who hits), ``decision_state``, ``phase``, ``visits``,
    ``value`` (equilibrium), ``observed_value`` (the players' observed frequencies), ``switch_value`` (the
    player's equilibrium mixes against the opponent's observed ones), ``gain`` (switch − observed: what the
    player wins by changing their own play) and, with a bootstrap, ``*_low``/``*_high`` interval columns.
    """

    structure: GameStructure
    layout: Layout
    estimate: Estimate
    rewards: list
    transitions: list
    solution: StochasticGameSolution
    observed_row: list
    observed_column: list
    observed_values: np.ndarray
    states: pd.DataFrame
    bootstrap: RallyBootstrap | None
    player: str | None
    opponent: str | None
    interval: str = "normal"

    # --- lookups
    @property
    def labels(self) -> tuple:
        return self.structure.labels

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
        """P(the player wins the rally) from ``state`` when both play the equilibrium."""
        return float(self.solution.values[self.index(state)])

    def observed_value(self, state) -> float:
        """P(the player wins the rally) from ``state`` when both play as observed."""
        return float(self.observed_values[self.index(state)])

    def equilibrium(self, state) -> dict:
        """The equilibrium of ``state``: value and both players' mixes by label (``player``, ``opponent``)."""
        g = self.index(state)
        x, y = self.solution.row_strategies[g], self.solution.column_strategies[g]
        return {"state": self.labels[g], "value": float(self.solution.values[g]),
                "player": dict(zip(self.layout.row_labels[g], map(float, x))),
                "opponent": dict(zip(self.layout.column_labels[g], map(float, y)))}

    def observed(self, state) -> dict:
        """The observed frequencies in ``state`` by label (``player``, ``opponent``)."""
        g = self.index(state)
        return {"state": self.labels[g], "value": float(self.observed_values[g]),
                "player": dict(zip(self.layout.row_labels[g], map(float, self.observed_row[g]))),
                "opponent": dict(zip(self.layout.column_labels[g], map(float, self.observed_column[g])))}

    def serve_state(self, who: str = "player") -> str:
        """Label of the serve state of ``who`` (``player`` or ``opponent``)."""
        rows = self.states[(self.states["phase"] == "serve") & (self.states["who"] == who)]
        if rows.empty:
            raise EstimationError(f"the game has no serve state of the {who}")
        return str(rows["state"].iat[0])

    def describe_who(self, who: str) -> str:
        name = self.player if who == "player" else self.opponent
        if name is None:
            return "any player" if self.player is None else "the field"
        return name

    def to_dict(self) -> dict:
        st = self.structure
        return {
            "player": self.player, "opponent": self.opponent,
            "settings": {"actions": st.settings.actions, "columns": st.settings.columns,
                         "states": st.settings.states, "zones": st.settings.zones,
                         "min_action_count": st.settings.min_action_count, "prior": st.settings.prior,
                         "level": st.settings.level},
            "strokes": st.strokes_used, "rallies": st.rallies, "matches": st.game_matches,
            "dropped": dict(st.dropped),
            "flagged_actions": [{"state": s, "action": a, "count": n} for s, a, n in st.flagged],
            "strength": {"population": float(self.estimate.population_strength[0]),
                         "pair": None if st.population else float(self.estimate.pair_strength[0])},
            "solve": {"method": self.solution.method, "iterations": self.solution.iterations,
                      "residual": self.solution.residual},
            "bootstrap": None if self.bootstrap is None else {
                "replicates": self.bootstrap.replicates, "level": self.bootstrap.level,
                "clusters": self.bootstrap.clusters, "scheme": self.bootstrap.scheme, "interval": self.interval, "seed": self.bootstrap.seed,
                "failed": self.bootstrap.failed},
            "states": [
                {**{k: (None if isinstance(v, float) and np.isnan(v) else
                        (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()},
                 "equilibrium": {k: v for k, v in self.equilibrium(row["state"]).items() if k in WHO},
                 "observed_mix": {k: v for k, v in self.observed(row["state"]).items() if k in WHO}}
                for row in self.states.to_dict(orient="records")],
        }


# ------------------------------------------------------------------------------------------------ build
def restrict_to_trusted(structure, rewards, transitions, observed, sides=("player", "opponent")):
    """Stage games in which a hitter's action chosen too rarely to be recommended (``structure.trusted``) is
    strictly dominated: a player's row pays 0 and ends the rally, an opponent's column pays 1 and ends it
    (every real cell's Q = r + P·V lies strictly between 0 and 1). Where a hitter of ``sides`` has no trusted
    action, the observed mix stands in as that hitter's only action (its first; the others dominated).

    Returns (rewards, transitions, stand_in): ``stand_in[g]`` is True where the observed mix stood in."""
    xs, ys = observed
    rewards = [np.array(r, dtype=float) for r in rewards]
    transitions = [np.array(t, dtype=float) for t in transitions]
    stand_in = np.zeros(len(rewards), dtype=bool)
    if not structure.trusted:
        return rewards, transitions, stand_in
    who = structure.states["who"].to_numpy()
    for g, mask in enumerate(structure.trusted):
        if who[g] not in sides or mask.all():
            continue
        r, t = rewards[g], transitions[g]
        if who[g] == "player":                      # the hitter's actions are the rows
            if not mask.any():
                x = np.asarray(xs[g], dtype=float)
                r[0], t[0] = x @ r, np.einsum("a,abt->bt", x, t)
                mask = np.zeros_like(mask)
                mask[0] = True
                stand_in[g] = True
            r[~mask], t[~mask] = 0.0, 0.0
        else:                                       # the opponent hits: the columns
            if not mask.any():
                y = np.asarray(ys[g], dtype=float)
                r[:, 0], t[:, 0] = r @ y, np.einsum("abt,b->at", t, y)
                mask = np.zeros_like(mask)
                mask[0] = True
                stand_in[g] = True
            r[:, ~mask], t[:, ~mask] = 1.0, 0.0
    return rewards, transitions, stand_in


def _solve(rewards, transitions, labels, lay, structure=None, observed=None) -> StochasticGameSolution:
    """Solve with every state padded to one shape, so each sweep is one batched call of the matrix solver.

    A padded row pays 0 and ends the rally (the player loses at once) and a padded column pays 1 (the player
    wins at once). Every real cell has Q = r + P·V strictly between 0 and 1 (each stroke can end the rally
    either way with positive probability), so padded actions are strictly dominated: they take no weight and
    change no value or guarantee. They are removed from the solution."""
    stand_in = None
    if structure is not None:
        rewards, transitions, stand_in = restrict_to_trusted(structure, rewards, transitions, observed)
    size = len(rewards)
    # two shape classes: states with more rows than columns (the player hits: shots × positions) and the rest
    tall = [r.shape[0] >= r.shape[1] for r in rewards]
    shape = {k: (max(r.shape[0] for r, t_ in zip(rewards, tall) if t_ == k),
                 max(r.shape[1] for r, t_ in zip(rewards, tall) if t_ == k)) for k in set(tall)}
    pr, pt = [], []
    for g, (r, t) in enumerate(zip(rewards, transitions)):
        m, n = r.shape
        big_m, big_n = shape[tall[g]]
        rr = np.zeros((big_m, big_n))
        tt = np.zeros((big_m, big_n, size))
        rr[:m, :n] = r
        rr[:m, n:] = 1.0
        tt[:m, :n] = t
        pr.append(rr)
        pt.append(tt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = solve_stochastic_game(pr, pt, state_labels=list(labels))
    shapes = [r.shape for r in rewards]
    xs = [_renorm(x[:m]) for x, (m, _) in zip(sol.row_strategies, shapes)]
    ys = [_renorm(y[:n]) for y, (_, n) in zip(sol.column_strategies, shapes)]
    if stand_in is not None:   # the observed mix stood in as the hitter's one action: it is the strategy
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


def _evaluate(rewards, transitions, xs, ys):
    return evaluate_policies(rewards, transitions, xs, ys)


def _chain_values(rewards, transitions, xs, ys):
    """V = (I − P_xy)⁻¹ r_xy without the checks of :func:`evaluate_policies` (bootstrap replicates of a game
    already checked; a singular system raises and the replicate is counted as failed)."""
    r = np.array([x @ rw @ y for x, rw, y in zip(xs, rewards, ys)])
    p = np.stack([np.einsum("a,abt,b->t", x, t, y) for x, t, y in zip(xs, transitions, ys)])
    v = np.linalg.solve(np.eye(len(r)) - p, r)
    if not np.isfinite(v).all() or (v < -1e-9).any() or (v > 1 + 1e-9).any():
        raise np.linalg.LinAlgError("policy values outside [0, 1]")
    return v


def rally_game(table: pd.DataFrame, player: str | None = None, opponent: str | None = None, *,
               actions: str = "shot", columns: str = "auto", states: str | None = None, zones: bool = True,
               min_action_count: int = 5, prior="marginal", bootstrap: int = 0, level: float = 0.9,
               seed: int | None = 0, sport=None, equilibrium: bool = True,
               interval: str = "normal") -> RallyGame:
    """The rally between ``player`` and ``opponent`` as a stochastic game estimated from ``table`` (a canonical
    rally table, or the :class:`~strategist.rally.model.Strokes` of one, made with the same ``actions``,
    ``columns``, ``states`` and ``zones``, to estimate several games of one table).

    ``player`` alone: the player against everyone they met; neither: the population game (any player
    against any other, all strokes). ``actions``: the hitter's choice, ``"shot"`` or ``"group"``
    (``"group:<grouping>"``); ``columns``: the receiver's, ``"zone"`` (depth of their position),
    ``"position"`` (court area) or ``"none"``; ``"auto"``: the zone where at least half the strokes
    record the receiver's position, else none. ``states``: the rally states' rule of
    :func:`~strategist.data.states.annotate_states` (``"shot"`` or ``"group:<grouping>"``; default the sport's);
    ``zones``: states also say where the incoming shot landed. ``min_action_count``: the equilibrium (and the
    best response and safe exploitation of :mod:`strategist.rally.policies`) chooses an action only when its
    hitter chose it that often in the state (default 5, as in the payoff matrices: a serve recorded once as a
    smash would otherwise be recommended on its lucky outcome); rarer actions stay in the game, so observed
    play is evaluated as played, and are listed in ``to_dict()["flagged_actions"]``; where a hitter has no
    such action, the observed mix is played. ``prior``: the strengths of the shrinkage
    (``"marginal"``, ``"moments"`` is not available for several outcomes, or a number of pseudo-trials).
    ``bootstrap``: replicates of the match-cluster bootstrap (0: no intervals) at ``level``;
    ``equilibrium=False`` bootstraps only the observed play's values (faster: no game is solved per replicate).
    ``interval``: ``"normal"`` (default: estimate ± z·√(G/(G−1))·bootstrap standard error, G the game's
    matches) or ``"percentile"`` (see :func:`bootstrap_interval`).

    ``gain`` is what the player wins by switching to the equilibrium mixes while the opponent keeps playing
    as observed: value(player's equilibrium, opponent observed) − value(both observed).
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
                             zones=zones, min_action_count=min_action_count, prior=prior, level=float(level))
    # a table's usable strokes do not depend on the players: kept so several games of one table share them
    if isinstance(table, Strokes):
        st = table
    else:
        st = strokes(table, settings, sport)
    structure = build_structure(st, settings)
    lay = layout(structure)

    def totals(m):
        return np.asarray(m.sum(axis=0)).ravel()

    est = estimate(structure, totals(structure.n), totals(structure.n_ab), totals(structure.n_a))
    rewards, transitions = stage_arrays(lay, est.probability[0])
    labels = structure.labels
    xs, ys = observed_mixes(structure, totals(structure.row_counts), totals(structure.column_counts))
    solution = _solve(rewards, transitions, labels, lay, structure, (xs, ys))
    observed = _evaluate(rewards, transitions, xs, ys)

    frame = structure.states.copy()
    frame["value"] = solution.values
    frame["observed_value"] = observed
    switch = _evaluate(rewards, transitions, solution.row_strategies, ys)
    frame["switch_value"] = switch
    frame["gain"] = switch - observed
    boot = None
    if bootstrap:
        boot = _bootstrap(structure, lay, int(bootstrap), float(level), seed, (xs, ys), equilibrium)
        points = {"value": solution.values, "observed": observed, "gain": switch - observed}
        for key, reps in (("value", boot.value), ("observed", boot.observed), ("gain", boot.switch - boot.observed)):
            lo, hi = bootstrap_interval(points[key], reps, level, boot.clusters, interval, clip=key != "gain")
            frame[f"{key}_low"], frame[f"{key}_high"] = lo, hi
        cols = ["state", "who", "decision_state", "phase", "visits", "value", "value_low", "value_high",
                "observed_value", "observed_low", "observed_high", "switch_value", "gain", "gain_low", "gain_high"]
        frame = frame[cols]
    return RallyGame(structure, lay, est, rewards, transitions, solution, xs, ys, observed, frame, boot,
                     player, opponent, interval)


INTERVALS = ("normal", "percentile")


def bootstrap_interval(point, replicates, level: float, clusters: int, kind: str = "normal", clip: bool = True):
    """Interval of every column of ``replicates`` (B × S) around ``point`` (S,).

    ``"normal"``: point ± z·√(G/(G−1))·sd. Resampling G clusters gives a bootstrap variance biased low by the
    factor (G − 1)/G (Davison & Hinkley 1997, §3.8); with the few matches of one pair (often 3–10) that matters,
    and the factor is put back. The normal form is used because the replicate distribution of a value built
    from few matches is skewed and heavy-tailed while the estimator's own error is close to normal (see
    docs/rally-game.md: percentile intervals covered the truth less often than their level).
    ``"percentile"``: the replicates' (1 − level)/2 and (1 + level)/2 quantiles, as they are.
    ``clip``: keep the ends within [0, 1] (probabilities)."""
    from scipy import stats

    reps = np.asarray(replicates, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if kind == "percentile":
            tail = (1.0 - level) / 2.0
            lo, hi = np.nanquantile(reps, [tail, 1.0 - tail], axis=0)
        else:
            g = max(int(clusters), 2)
            half = stats.norm.ppf(0.5 + level / 2.0) * np.sqrt(g / (g - 1.0)) * np.nanstd(reps, axis=0, ddof=1)
            lo, hi = np.asarray(point) - half, np.asarray(point) + half
    if clip:
        lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
    return lo, hi


def bootstrap_weights(structure: GameStructure, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(B × matches) resampling counts: the pair's matches drawn among themselves, the others among theirs."""
    weights = np.zeros((replicates, len(structure.matches)))
    for group in (structure.pair_matches, ~structure.pair_matches):
        idx = np.flatnonzero(group)
        if len(idx):
            weights[:, idx] = rng.multinomial(len(idx), np.full(len(idx), 1.0 / len(idx)), size=replicates)
    return weights


def _bootstrap(structure: GameStructure, lay: Layout, replicates: int, level: float, seed, fallback,
               equilibrium: bool = True):
    rng = np.random.default_rng(seed)
    w = bootstrap_weights(structure, replicates, rng)
    n = np.asarray(structure.n.T.dot(w.T).T)
    n_ab = np.asarray(structure.n_ab.T.dot(w.T).T)
    n_a = np.asarray(structure.n_a.T.dot(w.T).T)
    rc = np.asarray(structure.row_counts.T.dot(w.T).T)
    cc = np.asarray(structure.column_counts.T.dot(w.T).T)
    est = estimate(structure, n, n_ab, n_a)
    size = structure.size
    values = np.full((replicates, size), np.nan)
    observed = np.full((replicates, size), np.nan)
    switch = np.full((replicates, size), np.nan)
    failed = 0
    for k in range(replicates):
        rewards, transitions = stage_arrays(lay, est.probability[k])
        xs, ys = observed_mixes(structure, rc[k], cc[k], fallback)
        try:
            observed[k] = _chain_values(rewards, transitions, xs, ys)
            if equilibrium:
                sol = _solve(rewards, transitions, structure.labels, lay, structure, (xs, ys))
                values[k] = sol.values
                switch[k] = _chain_values(rewards, transitions, sol.row_strategies, ys)
        except Exception:  # a replicate whose game cannot be solved is counted, not fatal
            failed += 1
    return RallyBootstrap(replicates, level, seed, int(structure.pair_matches.sum()), structure.cluster, values,
                          observed, switch, failed)
