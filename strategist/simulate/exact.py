"""The simulator as an exact zero-sum stochastic game: the ground truth a rally game is checked against.

States: each player's serve, and (who hits, incoming shot, depth it landed at, height it is taken at; no
height without the height mode) — every situation a rally game of the simulated data can name. The player
is the row player everywhere and the payoff is the player's probability of winning the rally. Where the
player hits, the rows are the shots of the player's menu there (``reply_menu`` of that depth and height)
and the columns the depth the opponent stands at; where the opponent hits, the rows are the depth the
player stands at and the columns the opponent's shots. The side the receiver stands on and the shot's
landing depth, side and height are drawn as the simulator draws them, so for a shot a taken at height t by
h against a receiver at depth b

    Q(a, b) = [h = O]·e + (1 − e) Σ_L ℓ_a(L) ([h = P]·W(L, b) + (1 − W(L, b)) Σ_η η_a(η|L) V(h', a, L, η))

with e = σ(err[a] + e_t[a] − skill_h), W(L, b) = E_sides σ(win[a] + w_t[a] + γ_depth·[L ≠ b] +
γ_side·[side_L ≠ side_R] + skill_h − skill_r), h' the other player. The simulator's cap on a rally's strokes
is ignored (every stroke errs with probability > 0, so the game stops with probability one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from strategist.data.states import state_label
from strategist.errors import EstimationError
from strategist.games.stochastic import StochasticGameSolution, evaluate_policies, solve_stochastic_game
from strategist.simulate.model import (DEPTHS, HEIGHTS, SERVES, SHOT_LABELS, Player, SimulationParameters,
                                       height_effect, position_distribution, reply_distribution, reply_menu, sigmoid)
from strategist.simulate.rally import SERVE_DEPTH

WHO = ("player", "opponent")


@dataclass(frozen=True)
class TrueGame:
    """The exact game of ``player`` against ``opponent`` under ``params`` (module docstring), solved.

    ``keys[g]``: (who, incoming shot, depth index, height) of a stroke state, (who, None, None, None) of a
    serve; ``labels[g]``: its name in the rally game's words (``"player: rally after net shot (low, front)"``,
    ``"opponent: serve"``). ``rewards``/``transitions``: the stage games in the player's orientation.
    ``row_habits``/``column_habits``: the simulator's own play (game orientation). ``solution``: the optimum."""

    params: SimulationParameters
    player: str
    opponent: str
    keys: tuple
    labels: tuple
    rewards: list
    transitions: list
    row_labels: tuple
    column_labels: tuple
    row_habits: list
    column_habits: list
    solution: StochasticGameSolution

    @property
    def values(self) -> np.ndarray:
        """The optimum: the player's value of the game in every state."""
        return self.solution.values

    def index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise EstimationError(f"the true game has no state {label!r}") from None

    @property
    def serve_states(self) -> tuple[str, str]:
        return tuple(f"{w}: serve" for w in WHO)

    def habit_values(self) -> np.ndarray:
        """Both sides playing the simulator's habits (observed play): V = (I − P)⁻¹ r."""
        return evaluate_policies(self.rewards, self.transitions, self.row_habits, self.column_habits,
                                 state_labels=list(self.labels))


def _stroke(params: SimulationParameters, shot: str, taken, hitter: Player, receiver: Player):
    """(e, win, cont) of ``shot`` taken at height ``taken``: e = P(error); win[b] = P(winner) with the receiver
    at depth b; cont[b] = {(landing depth, height): P(the rally goes on there)}."""
    err_shift, win_shift = height_effect(params, shot, taken)
    e = float(sigmoid(params.error_logit[shot] + err_shift - hitter.skill))
    land = np.asarray(params.landing_depth[shot], dtype=float)
    side_l = np.asarray(params.landing_side, dtype=float)
    side_r = np.asarray(params.position_side, dtype=float)
    depth = np.arange(3)
    logit = (params.winner_logit[shot] + win_shift + hitter.skill - receiver.skill
             + params.depth_mismatch * (depth[:, None, None, None] != depth[None, None, :, None])
             + params.side_mismatch * (depth[None, :, None, None] != depth[None, None, None, :]))
    # W[L, b]: P(winner | lands at depth L, receiver at depth b), the sides averaged out
    w = np.einsum("lsbr,s,r->lb", sigmoid(logit), side_l, side_r)
    win = (1.0 - e) * land @ w
    cont = []
    for b in range(3):
        out = {}
        for dl in np.flatnonzero(land > 0):
            go = (1.0 - e) * land[dl] * (1.0 - w[dl, b])
            for height, p in _heights(params, shot, int(dl)):
                out[(int(dl), height)] = out.get((int(dl), height), 0.0) + go * p
        cont.append(out)
    return e, win, cont


def _heights(params: SimulationParameters, shot: str, depth: int):
    """(height, probability) of ``shot`` landing at ``depth``: (None, 1) without heights."""
    if params.heights is None:
        return [(None, 1.0)]
    high = float(params.heights.high_share[shot][depth])
    return [(h, p) for h, p in zip(HEIGHTS, (high, 1.0 - high)) if p > 0]


def _label(who: str, shot: str | None, depth: int | None, height: str | None) -> str:
    if shot is None:
        return f"{who}: {state_label('serve', '')}"
    phase = "return" if shot in SERVES else "rally"
    return f"{who}: {state_label(phase, shot, DEPTHS[depth], height or '')}"


def _state_keys(params: SimulationParameters) -> list:
    keys = [(w, None, None, None) for w in WHO]
    for w in WHO:
        for shot in SHOT_LABELS:
            for dl in np.flatnonzero(np.asarray(params.landing_depth[shot], dtype=float) > 0):
                keys += [(w, shot, int(dl), h) for h, _ in _heights(params, shot, int(dl))]
    return keys


def true_game(params: SimulationParameters, player: str, opponent: str) -> TrueGame:
    """The exact zero-sum stochastic game of ``player`` against ``opponent`` under ``params`` (module
    docstring), solved with :func:`~strategist.games.stochastic.solve_stochastic_game`."""
    try:
        people = {"player": params.player(player), "opponent": params.player(opponent)}
    except KeyError as exc:
        raise EstimationError(f"player {exc.args[0]!r} is not one of the simulator's players") from None
    other = {"player": "opponent", "opponent": "player"}
    keys = _state_keys(params)
    index = {k: g for g, k in enumerate(keys)}
    size = len(keys)
    rewards, transitions, rows, cols, row_habits, col_habits = [], [], [], [], [], []
    for who, incoming, depth, height in keys:
        hitter, receiver = people[who], people[other[who]]
        from_depth = SERVE_DEPTH if incoming is None else depth
        if incoming is None:
            shots = SERVES
            habit = np.array([1.0 - hitter.long_serve, hitter.long_serve])
        else:
            shots = tuple(s for s, wgt in reply_menu(params, depth, height).items() if wgt > 0)
            mix = reply_distribution(params, depth, hitter, height)
            habit = np.array([mix[s] for s in shots])
        stand = position_distribution(params, from_depth, receiver, height).sum(axis=1)
        r = np.zeros((len(shots), 3))
        t = np.zeros((len(shots), 3, size))
        for i, shot in enumerate(shots):
            e, win, cont = _stroke(params, shot, height, hitter, receiver)
            r[i] = win if who == "player" else e
            for b in range(3):
                for (dl, h), p in cont[b].items():
                    t[i, b, index[(other[who], shot, dl, h)]] += p
        if who == "player":
            rewards.append(r)
            transitions.append(t)
            rows.append(shots)
            cols.append(DEPTHS)
            row_habits.append(habit)
            col_habits.append(stand)
        else:
            rewards.append(r.T.copy())
            transitions.append(t.transpose(1, 0, 2).copy())
            rows.append(DEPTHS)
            cols.append(shots)
            row_habits.append(stand)
            col_habits.append(habit)
    labels = tuple(_label(*k) for k in keys)
    solution = solve_stochastic_game(rewards, transitions, state_labels=list(labels), row_labels=list(rows),
                                     column_labels=list(cols))
    return TrueGame(params, player, opponent, tuple(keys), labels, rewards, transitions, tuple(rows), tuple(cols),
                    row_habits, col_habits, solution)


def policy_value(game: TrueGame, policy: Sequence) -> np.ndarray:
    """The exact value, in every state, of the player's stationary ``policy`` against the opponent's best
    response: with the player's mix x_s fixed the opponent faces an MDP (r_s = x_s R_s, P_s = x_s T_s), solved
    by :func:`~strategist.games.stochastic.solve_stochastic_game` with one row per state.

    ``policy[g]``: the player's mix in state g (shots where the player hits, depths where the opponent hits),
    an array over ``game.row_labels[g]`` or a mapping label -> probability."""
    if len(policy) != len(game.labels):
        raise EstimationError(f"a policy needs one mix per state of the true game ({len(game.labels)}), "
                              f"got {len(policy)}")
    rewards, transitions = [], []
    for g, mix in enumerate(policy):
        x = _as_mix(mix, game.row_labels[g], game.labels[g])
        rewards.append((x @ game.rewards[g])[None, :])
        transitions.append(np.einsum("a,abt->bt", x, game.transitions[g])[None])
    return solve_stochastic_game(rewards, transitions, state_labels=list(game.labels)).values


def _as_mix(mix, labels: tuple, state: str) -> np.ndarray:
    if isinstance(mix, Mapping):
        unknown = sorted(set(mix) - set(labels))
        if unknown:
            raise EstimationError(f"{state}: {unknown} are not actions there (expected some of {list(labels)})")
        mix = [float(mix.get(a, 0.0)) for a in labels]
    x = np.asarray(mix, dtype=float)
    if x.shape != (len(labels),) or not np.isfinite(x).all() or (x < -1e-12).any() or abs(x.sum() - 1.0) > 1e-9:
        raise EstimationError(f"{state}: expected a probability mix over {list(labels)}, got {mix!r}")
    return np.clip(x, 0.0, None) / np.clip(x, 0.0, None).sum()
