"""Exact values of rally states under the demo simulator's parameters (the ground truth of the rally game).

In :mod:`strategist.simulate` the rally is a Markov chain on (who is to hit, depth the incoming shot landed
at): the hitter's shot is drawn from the reply menu of that depth (times their style factors), the
receiver's position from the position model of that depth, the stroke ends in an error with
σ(err[shot] − skill_h), else in a winner with σ(win[shot] + γ_depth·[other depth] + γ_side·[other side] +
skill_h − skill_r), else the receiver hits from the depth the shot landed at. A serve is struck from the
middle depth. So for the player P against the opponent O

    U(h, d) = Σ_shot π_h,d(shot) · [ e·[h = O] + (1 − e) Σ_{L, pos} ℓ(L) q(pos) ( w·[h = P] + (1 − w) U(h', depth L) ) ]

(h' the other player), six linear equations; the serve's value S(h) is the same sum with the serve mix.
These are the values of the simulator's own policies — what the rally game's *observed* values estimate —
for every state of the game's abstraction: a state "who: rally after G to Z" has the value U(who, Z)
whatever the group G (the group refines the chain without changing its law), a return state likewise, a
serve state S(who). The simulator's cap of 70 strokes is ignored (a rally that long has probability
below 1e-30 under the demo's parameters).

**Recommendations against the truth** (:func:`evaluate_recommendation`). The simulator's exact game
(:func:`strategist.simulate.exact.true_game`: states who hits × incoming shot × depth × height) names every
situation a rally game of simulated data can name, so the policy a rally game recommends maps onto it state
by state (:func:`recommended_policy`) and is evaluated exactly against the opponent's best response: its
gap to the true optimum from each serve, the ground-truth check of the decision model (the height mode,
:data:`strategist.simulate.HEIGHT_PARAMETERS`, is where the coarse states' confusion is real). The
pessimism the recommendation pays for rests on the cells' posterior sds; :func:`cell_errors` checks them
against the true stage games.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.data.states import state_before
from strategist.errors import EstimationError
from strategist.games.stochastic import evaluate_policies
from strategist.simulate.exact import TrueGame, policy_value, true_game
from strategist.simulate.model import (AREA_GRID, DEPTHS, SERVES, SimulationParameters, error_probability,
                                       position_distribution, reply_distribution, sigmoid)
from strategist.simulate.rally import SERVE_DEPTH


def _stroke_terms(params: SimulationParameters, mix: dict, from_depth: int, hitter, receiver):
    """For a stroke with shot mix ``mix`` from ``from_depth``: (P(hitter errs), P(hitter's winner),
    P(continue with the shot landing at depth d) for d = 0, 1, 2)."""
    err = win = 0.0
    cont = np.zeros(3)
    pos = position_distribution(params, from_depth, receiver)          # (depth, side)
    side_l = np.asarray(params.landing_side, dtype=float)
    for shot, p_shot in mix.items():
        e = error_probability(params, shot, hitter)
        depth_l = np.asarray(params.landing_depth[shot], dtype=float)
        # winner probability for every (landing depth, landing side, position depth, position side)
        dl = np.arange(3)[:, None, None, None]
        sl = np.arange(3)[None, :, None, None]
        dr = np.arange(3)[None, None, :, None]
        sr = np.arange(3)[None, None, None, :]
        logit = (params.winner_logit[shot] + params.depth_mismatch * (dl != dr) + params.side_mismatch * (sl != sr)
                 + hitter.skill - receiver.skill)
        w = sigmoid(logit)
        weight = depth_l[:, None, None, None] * side_l[None, :, None, None] * pos[None, None, :, :]
        win_given_depth = (w * weight).sum(axis=(1, 2, 3))               # P(land at d and winner)
        err += p_shot * e
        win += p_shot * (1 - e) * win_given_depth.sum()
        cont += p_shot * (1 - e) * (depth_l - win_given_depth)
    return err, win, cont


def true_state_values(params: SimulationParameters, player: str, opponent: str) -> dict:
    """P(player wins the rally) from every (who, phase, depth) of the simulator's chain.

    Keys: ``("player"|"opponent", "serve", None)`` and ``(who, "stroke", depth)`` with depth one of
    front, middle, back (the value of any return or rally state whose incoming shot landed there)."""
    if params.heights is not None:
        raise EstimationError("true state values by depth are those of the simulator without heights; with heights "
                              "(HEIGHT_PARAMETERS) a state's value depends on how high the shuttle is taken: use "
                              "strategist.simulate.exact.true_game")
    try:
        people = {"player": params.player(player), "opponent": params.player(opponent)}
    except KeyError as exc:
        raise EstimationError(f"player {exc.args[0]!r} is not one of the simulator's players") from None
    other = {"player": "opponent", "opponent": "player"}
    index = {(w, d): k for k, (w, d) in enumerate((w, d) for w in ("player", "opponent") for d in range(3))}
    a = np.eye(6)
    b = np.zeros(6)
    for (w, d), k in index.items():
        h, r = people[w], people[other[w]]
        err, win, cont = _stroke_terms(params, reply_distribution(params, d, h), d, h, r)
        b[k] = err if w == "opponent" else win
        for d2 in range(3):
            a[k, index[(other[w], d2)]] -= cont[d2]
    u = np.linalg.solve(a, b)
    out = {(w, "stroke", DEPTHS[d]): float(u[k]) for (w, d), k in index.items()}
    for w in ("player", "opponent"):
        h, r = people[w], people[other[w]]
        mix = {SERVES[1]: h.long_serve, SERVES[0]: 1.0 - h.long_serve}
        err, win, cont = _stroke_terms(params, mix, SERVE_DEPTH, h, r)
        value = (err if w == "opponent" else win) + sum(cont[d] * u[index[(other[w], d)]] for d in range(3))
        out[(w, "serve", None)] = float(value)
    return out


def true_values(game, params: SimulationParameters | None = None) -> pd.Series:
    """The true value of the observed (simulator's) policies in every state of ``game`` (a
    :class:`~strategist.rally.game.RallyGame` of two simulated players, built with ``zones=True``);
    NaN for a state whose landing zone is not a depth (e.g. ``other``)."""
    if game.player is None or game.opponent is None:
        raise EstimationError("true values need a game between two named simulated players")
    if not game.structure.settings.zones:
        raise EstimationError("true values need a game whose states say where the incoming shot landed (zones=True)")
    params = params or SimulationParameters()
    table = true_state_values(params, game.player, game.opponent)
    values = []
    for who, phase, label in zip(game.states["who"], game.states["phase"], game.states["decision_state"]):
        if phase == "serve":
            values.append(table[(who, "serve", None)])
            continue
        zone = label.rsplit(" to ", 1)[-1] if " to " in label else ""
        values.append(table.get((who, "stroke", zone), np.nan))
    return pd.Series(values, index=list(game.states["state"]), name="true_value")


def coverage(game, truth: pd.Series, *, min_visits: int = 50) -> pd.DataFrame:
    """Per state with at least ``min_visits`` visits: truth, estimate, interval and whether it covers."""
    if game.bootstrap is None:
        raise EstimationError("coverage needs a game estimated with bootstrap replicates")
    st = game.states.set_index("state")
    rows = st[(st["visits"] >= min_visits) & truth.reindex(st.index).notna()]
    out = pd.DataFrame({"visits": rows["visits"], "truth": truth.reindex(rows.index),
                        "estimate": rows["observed_value"], "low": rows["observed_low"],
                        "high": rows["observed_high"]})
    out["covered"] = (out["low"] <= out["truth"]) & (out["truth"] <= out["high"])
    return out


def ground_truth_check(*, matches: int = 200, seed: int = 0, replicates: int = 200, level: float = 0.9,
                       min_visits: int = 50, players=None, params: SimulationParameters | None = None,
                       **game_options) -> pd.DataFrame:
    """Simulate ``matches`` with the demo simulator, estimate the rally game of every pair that met (one
    orientation per pair) with a ``replicates``-fold match bootstrap, and compare the observed values'
    ``level`` intervals with the exact truth in every state with at least ``min_visits`` visits.

    ``players``: names of the simulator's players to keep (default all). Returns one row per state checked
    (``pair``, ``state``, ``visits``, ``truth``, ``estimate``, ``low``, ``high``, ``covered``)."""
    from dataclasses import replace

    from strategist.rally.game import rally_game
    from strategist.rally.model import RallySettings, strokes
    from strategist.simulate import canonical_table, simulate_matches

    params = params or SimulationParameters()
    if players is not None:
        params = replace(params, players=tuple(params.player(p) for p in players))
    table = canonical_table(simulate_matches(params, matches=matches, seed=seed))
    pairs = sorted({tuple(sorted(p)) for p in zip(table["hitter"].astype(str), table["opponent"].astype(str))})
    keys = ("actions", "columns", "states", "zones")
    shared = strokes(table, RallySettings(**{k: v for k, v in game_options.items() if k in keys}))
    out = []
    for player, opponent in pairs:
        game = rally_game(shared, player, opponent, bootstrap=replicates, level=level, seed=seed,
                          equilibrium=False, **game_options)
        rows = coverage(game, true_values(game, params), min_visits=min_visits)
        out.append(rows.reset_index().rename(columns={"index": "state"}).assign(pair=f"{player} v {opponent}"))
    frame = pd.concat(out, ignore_index=True)
    return frame[["pair", "state", "visits", "truth", "estimate", "low", "high", "covered"]]


# ------------------------------------------------------------------------- recommendations in the true game
def recommended_policy(game, truth: TrueGame, strategies=None) -> tuple[list, dict]:
    """The player's policy that the rally game ``game`` recommends, on every state of the true game.

    A true state (who, incoming shot, depth, height) is named as ``game`` names situations (its rule, zones
    and heights: :func:`~strategist.data.states.state_before`); the game's recommended row mix there (the
    player's shots where the player hits, the player's zones where the opponent hits; ``strategies``: other
    row mixes of the game's states instead, e.g. ``game.solution.row_strategies``) is the policy, with
    the mass on shots the true state does not offer removed and the rest renormalised. A state the game
    lacks, or where none of its mass is playable, takes the player's simulator habit.

    Returns (policy, how): ``how`` counts ``mapped`` and ``habit`` states and gives the largest share of a
    recommended mix that could not be played (``unplayable``)."""
    st = game.structure
    rule = st.settings.states or st.sport.decisions.situation[0]
    index = {label: k for k, label in enumerate(game.labels)}
    strategies = game.recommendation.row_strategies if strategies is None else strategies
    policy, mapped, unplayable = [], 0, 0.0
    for g, (who, shot, depth, height) in enumerate(truth.keys):
        other = "opponent" if who == "player" else "player"
        shots = [] if shot is None else [shot]
        areas = [] if shot is None else [str(AREA_GRID[depth][1])]
        situation = state_before(st.sport, shots, [other] * len(shots), who, areas=areas,
                                 heights=[height] * len(shots), rally=rule, zones=bool(st.settings.zones),
                                 with_heights=bool(st.settings.heights))
        k = index.get(f"{who}: {situation}")
        x = None
        if k is not None:
            mix = dict(zip(game.layout.row_labels[k], np.asarray(strategies[k], dtype=float)))
            x = np.array([mix.get(a, 0.0) for a in truth.row_labels[g]])
            kept = float(x.sum())
            unplayable = max(unplayable, 1.0 - kept)
            x = x / kept if kept > 1e-12 else None
        mapped += x is not None
        policy.append(np.asarray(truth.row_habits[g], dtype=float) if x is None else x)
    return policy, {"mapped": mapped, "habit": len(policy) - mapped, "unplayable": unplayable}


def policy_report(game, truth: TrueGame, strategies=None) -> dict:
    """One rally game's policy (:func:`recommended_policy`) in the true game, from each serve state: ``value``
    (guaranteed against the opponent's best response), ``gap`` (optimum − value), ``max_gap``,
    ``against_optimal_opponent`` (its value against the opponent's optimal strategy, which is at most the
    optimum: a milder measure), ``states`` (mapped / habit / unplayable) and ``model`` (the game's settings)."""
    policy, how = recommended_policy(game, truth, strategies)
    guaranteed = policy_value(truth, policy)
    optimal = evaluate_policies(truth.rewards, truth.transitions, policy, truth.solution.column_strategies)
    serves = [truth.index(s) for s in truth.serve_states]
    s = game.structure.settings
    return {
        "model": {"states": s.states or "situation", "zones": bool(s.zones), "heights": bool(s.heights),
                  "strokes": int(game.structure.strokes_used), "matches": int(game.structure.game_matches)},
        "value": {truth.labels[g]: float(guaranteed[g]) for g in serves},
        "gap": {truth.labels[g]: float(truth.values[g] - guaranteed[g]) for g in serves},
        "max_gap": float(max(truth.values[g] - guaranteed[g] for g in serves)),
        "against_optimal_opponent": {truth.labels[g]: float(optimal[g]) for g in serves},
        "states": how,
    }


def cell_errors(game, truth: TrueGame) -> pd.DataFrame:
    """The estimated stage games of ``game`` against the true ones, cell by cell: are the cells' posterior sds
    (which the pessimistic recommendation subtracts, z·σ) as wide as the estimates' real errors?

    Per cell (state, row, column) named by both games with strokes behind it and leading only to states the
    game names: ``estimate`` Q̂ = r̂ + T̂·V̂ (the game's point estimate,
    :attr:`~strategist.rally.game.Stage.mean`), ``truth`` Q = r + T·V̂ with the *same* continuation V̂ (the
    game's values of the states, both playing as recommended, placed on the true states by name), so that the
    difference is the estimation error of the stroke's law alone; ``sd`` (the cell's posterior sd), ``count``
    (the pairing's strokes) and ``z`` = (Q̂ − Q) / sd. Calibrated sds give z with mean 0 and sd 1. A game
    whose states the true game does not name (the coarse one) has no cells to compare."""
    from strategist.rally.game import per_cell

    sds = per_cell(game.layout, game.cell_sd)
    named = np.array([label in game.labels for label in truth.labels])
    continuation = np.array([game.value(label) if label in game.labels else np.nan for label in truth.labels])
    rows = []
    for k, label in enumerate(truth.labels):
        if label not in game.labels:
            continue
        g = game.index(label)
        stage = game.stage(g)
        q = truth.rewards[k] + truth.transitions[k][:, :, named] @ continuation[named]
        elsewhere = truth.transitions[k][:, :, ~named].sum(axis=2)       # mass on states the game lacks
        true_rows, true_cols = list(truth.row_labels[k]), list(truth.column_labels[k])
        for i, row in enumerate(stage.rows):
            for j, column in enumerate(stage.columns):
                if row not in true_rows or column not in true_cols or stage.counts[i, j] <= 0 or sds[g][i, j] <= 0:
                    continue
                if elsewhere[true_rows.index(row), true_cols.index(column)] > 0:
                    continue
                estimate, exact = float(stage.mean[i, j]), float(q[true_rows.index(row), true_cols.index(column)])
                rows.append({"state": label, "row": row, "column": column, "count": int(stage.counts[i, j]),
                             "estimate": estimate, "truth": exact, "sd": float(sds[g][i, j]),
                             "z": (estimate - exact) / float(sds[g][i, j])})
    return pd.DataFrame(rows, columns=["state", "row", "column", "count", "estimate", "truth", "sd", "z"])


def evaluate_recommendation(game, params: SimulationParameters, *, coarse=None,
                            truth: TrueGame | None = None) -> dict:
    """How good the recommendation of the rally game ``game`` (estimated from matches simulated under
    ``params``) really is: its policy (:func:`recommended_policy`) evaluated exactly in the true game against
    the opponent's best response (:func:`~strategist.simulate.exact.policy_value`), from both serve states,
    against the true optimum. ``coarse``: a second rally game (e.g. the coarse model) reported the same way.
    ``truth``: the pair's :func:`~strategist.simulate.exact.true_game`, if already built.

    Returns ``player``, ``opponent``, ``optimum`` (the true value of each serve state), ``habit`` (the
    player's simulator habit: ``guaranteed`` against the best response, ``observed`` against the opponent's
    habit), ``recommendation`` (:func:`policy_report`: ``value``, ``gap`` = optimum − value per serve state,
    ``max_gap``, ``against_optimal_opponent``, ``states``, ``model``) and ``coarse`` (the same, or None)."""
    if game.player is None or game.opponent is None:
        raise EstimationError("a recommendation is evaluated for a game between two named simulated players")
    if truth is None:
        truth = true_game(params, game.player, game.opponent)
    elif (truth.player, truth.opponent) != (game.player, game.opponent):
        raise EstimationError(f"the true game is {truth.player} v {truth.opponent}, the rally game "
                              f"{game.player} v {game.opponent}")
    if coarse is not None and (coarse.player, coarse.opponent) != (game.player, game.opponent):
        raise EstimationError("the coarse game must be of the same pair as the game")
    serves = [truth.index(s) for s in truth.serve_states]
    habit = policy_value(truth, truth.row_habits)
    observed = truth.habit_values()
    return {
        "player": game.player, "opponent": game.opponent,
        "optimum": {truth.labels[g]: float(truth.values[g]) for g in serves},
        "habit": {"guaranteed": {truth.labels[g]: float(habit[g]) for g in serves},
                  "observed": {truth.labels[g]: float(observed[g]) for g in serves}},
        "recommendation": policy_report(game, truth),
        "coarse": None if coarse is None else policy_report(coarse, truth),
    }
