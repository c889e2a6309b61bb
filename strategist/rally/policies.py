"""Stationary policies of one side of a rally game: one mix per state over that side's actions.

The player's policy is the game's row mixes (shots where the player hits, positions where the opponent
hits); the opponent's is the column mixes. A policy is named by a spec:

* ``equilibrium``: the side's recommendation (the rally game's equilibrium at the lower bounds; the habit where
  the data do not support a change; receivers stand where they usually do);
* ``point-equilibrium``: the unrestricted equilibrium of the point estimates (for analysis);
* ``observed``: the side's observed frequencies;
* ``uniform``: every action of the state alike;
* ``best-response``: the best response to the other side's policy — the other side's mixes fixed, the rally
  is a Markov decision process, solved exactly by policy iteration (:func:`strategist.games.mdp.solve_mdp`,
  the other side's actions averaged out);
* ``safe:MARGIN`` (e.g. ``safe:0.02``): in every state, the best reply to the other side's policy among
  the mixes that keep the state's equilibrium guarantee within MARGIN
  (:func:`strategist.safe_exploit` on the stage game at the equilibrium values);
* ``mix:LABEL=W,LABEL=W``: a fixed mix, applied in every state where some of its actions exist
  (renormalised over them); elsewhere the observed frequencies;
* ``model``: an opponent model's predictions: made from the data by
  :func:`strategist.rally.model_policy.model_policy` (``strategist simulate --opponent-policy model``), whose
  result is passed as the policy.

A sequence of per-state mixes (arrays) is accepted as is.
"""

from __future__ import annotations

import numpy as np

from strategist.errors import EstimationError
from strategist.games.matrix_game import MatrixGame
from strategist.games.mdp import solve_mdp
from strategist.games.safe_exploit import safe_exploit

SIDES = ("player", "opponent")
NAMES = ("equilibrium", "point-equilibrium", "observed", "uniform", "best-response", "safe:MARGIN", "mix:LABEL=W,...",
         "model")
DEPENDENT = ("best-response", "safe")


def _kind(spec) -> str:
    if not isinstance(spec, str):
        return "given"
    key = spec.strip().lower()
    for name in ("safe", "mix"):      # the specs with a part after a colon
        if key == name or key.startswith(name + ":"):
            return name
    if key in ("best", "br"):
        return "best-response"
    return key


def _labels(game, side):
    return game.layout.row_labels if side == "player" else game.layout.column_labels


def _check_side(side):
    if side not in SIDES:
        raise EstimationError(f"side {side!r}: expected 'player' or 'opponent'")


def side_policy(game, spec, side: str, other=None) -> list[np.ndarray]:
    """The mixes of ``side`` named by ``spec``; ``other`` (the other side's mixes) for best-response and safe."""
    _check_side(side)
    kind = _kind(spec)
    labels = _labels(game, side)
    size = len(labels)
    if kind == "given":
        mixes = [np.asarray(x, dtype=float) for x in spec]
        if len(mixes) != size or any(len(x) != len(lab) for x, lab in zip(mixes, labels)):
            raise EstimationError(f"{side} policy: expected one mix per state with one weight per action")
        if any((x < -1e-12).any() or abs(x.sum() - 1.0) > 1e-6 for x in mixes):
            raise EstimationError(f"{side} policy: every mix must be non-negative and sum to 1")
        return mixes
    if kind == "equilibrium":
        rec = game.recommendation
        return [np.asarray(x) for x in (rec.row_strategies if side == "player" else rec.column_strategies)]
    if kind == "point-equilibrium":
        sol = game.solution
        return [np.asarray(x) for x in (sol.row_strategies if side == "player" else sol.column_strategies)]
    if kind == "observed":
        return [np.asarray(x) for x in (game.observed_row if side == "player" else game.observed_column)]
    if kind == "uniform":
        return [np.full(len(lab), 1.0 / len(lab)) for lab in labels]
    if kind == "mix":
        return _fixed_mix(game, spec, side)
    if kind == "model":
        raise EstimationError("policy 'model' needs the data and a fitted opponent model: pass "
                              "strategist.rally.model_policy.model_policy(game, table, model, side) as the policy")
    if kind in DEPENDENT:
        if other is None:
            raise EstimationError(f"{side} policy {spec!r} needs the other side's policy")
        if kind == "best-response":
            return best_response_policy(game, other, side)
        return safe_policy(game, other, side, _margin(spec))
    raise EstimationError(f"policy {spec!r} is not understood; expected one of {', '.join(NAMES)}")


def _margin(spec: str) -> float:
    """The margin of ``safe:MARGIN``."""
    margin = spec.split(":", 1)[1] if ":" in spec else ""
    try:
        margin = float(margin)
    except ValueError:
        raise EstimationError(f"policy {spec!r}: expected safe:MARGIN with a margin >= 0, e.g. safe:0.02") from None
    if not np.isfinite(margin) or margin < 0:
        raise EstimationError(f"policy {spec!r}: the margin must be a number >= 0")
    return margin


def check_policy(game, spec, side: str) -> None:
    """Raise :class:`EstimationError` unless ``spec`` names a policy of ``side`` in ``game`` (its name, a safe
    margin, a fixed mix's labels); one that depends on the other side's policy is checked without solving it,
    and ``model`` is left to :func:`strategist.rally.model_policy.model_policy`."""
    kind = _kind(spec)
    if kind == "safe":
        _margin(spec)
    elif kind not in DEPENDENT and kind != "model":
        side_policy(game, spec, side)


def _fixed_mix(game, spec: str, side: str) -> list[np.ndarray]:
    weights = {}
    body = spec.split(":", 1)[1] if ":" in spec else ""
    for part in filter(None, (p.strip() for p in body.split(","))):
        label, eq, w = part.rpartition("=")
        try:
            value = float(w)
        except ValueError:
            value = -1.0
        if not eq or not label.strip() or not np.isfinite(value) or value < 0:
            raise EstimationError(f"policy {spec!r}: expected mix:LABEL=W,LABEL=W with weights >= 0")
        weights[label.strip().lower()] = value
    if not weights or sum(weights.values()) <= 0:
        raise EstimationError(f"policy {spec!r}: expected at least one positive weight")
    labels = _labels(game, side)
    every = {lab.lower() for state in labels for lab in state}
    unknown = sorted(set(weights) - every)
    if unknown:
        raise EstimationError(f"policy {spec!r}: no state has the {side}'s actions {unknown}")
    observed = side_policy(game, "observed", side)
    out = []
    for g, state in enumerate(labels):
        w = np.array([weights.get(lab.lower(), 0.0) for lab in state])
        out.append(w / w.sum() if w.sum() > 0 else observed[g])
    return out


def _trusted_arrays(game, side: str):
    """The game's stage arrays with ``side``'s rarely chosen actions dominated (never recommended; where the
    side has none it may choose, its observed mix stands in): :func:`strategist.rally.game.restrict_to_trusted`."""
    from strategist.rally.game import restrict_to_trusted

    return restrict_to_trusted(game.structure, game.rewards, game.transitions,
                               (game.observed_row, game.observed_column), sides=(side,))


def best_response_policy(game, other, side: str) -> list[np.ndarray]:
    """Exact best response of ``side`` to the other side's stationary mixes ``other`` (pure, per state), among
    the actions ``side`` chose often enough to be recommended (``min_action_count`` of the game)."""
    rewards_t, transitions_t, stand_in = _trusted_arrays(game, side)
    rewards, moves = [], []
    for r, t, y in zip(rewards_t, transitions_t, other):
        y = np.asarray(y, dtype=float)
        if side == "player":
            rewards.append(r @ y)
            moves.append(np.einsum("abt,b->at", t, y))
        else:
            rewards.append(y @ r)
            moves.append(np.einsum("a,abt->bt", y, t))
    out = solve_mdp(rewards, moves, maximise=side == "player").policy()
    observed = game.observed_row if side == "player" else game.observed_column
    return [np.asarray(observed[g], dtype=float) if stand_in[g] else x for g, x in enumerate(out)]


def safe_policy(game, other, side: str, margin: float) -> list[np.ndarray]:
    """Per state: the best reply to ``other`` that keeps the stage game's guarantee within ``margin`` (the
    recommendation's pessimistic stage games); where ``side`` hits, kept only if the lower confidence bound of
    what it gains over the side's habit against ``other``, on the point estimates with the recommended play
    after (the cells both play paired: :func:`strategist.rally.game.gain_supported`, ``other`` the one
    reply), is positive (else the recommendation) — a departure only where the lower bound supports
    it."""
    from strategist.estimation.shrinkage import two_sided_z
    from strategist.rally.game import gain_supported, per_cell

    out = []
    trusted = game.structure.trusted
    hitter = game.structure.states["who"].to_numpy()
    observed = game.observed_row if side == "player" else game.observed_column
    recommended = side_policy(game, "equilibrium", side)
    v = game.recommendation.realized
    sds, z = per_cell(game.layout, game.cell_sd), two_sided_z(game.level)
    for g, q in enumerate(game.recommendation.stage_games):
        y = np.asarray(other[g], dtype=float)
        a = np.asarray(q) if side == "player" else -np.asarray(q).T
        mid = game.rewards[g] + game.transitions[g] @ v
        mid = mid if side == "player" else -mid.T
        sd = sds[g] if side == "player" else sds[g].T
        keep = np.ones(a.shape[0], dtype=bool)
        if trusted and hitter[g] == side:      # the side hits here: only the actions it may be advised
            keep = trusted[g]
            if not keep.any():
                out.append(np.asarray(observed[g], dtype=float))
                continue
        res = safe_exploit(MatrixGame(a[keep]), y, margin)
        mix = np.zeros(a.shape[0])
        mix[keep] = np.clip(np.asarray(res.row_strategy, dtype=float), 0.0, None)
        mix = mix / mix.sum()
        if hitter[g] == side and not gain_supported(mid, sd, y, z, mix, observed[g]):
            mix = np.asarray(recommended[g], dtype=float)
        out.append(mix)
    return out


def resolve(game, player_policy="equilibrium", opponent_policy="observed"):
    """(player's mixes, opponent's mixes) for two specs; a dependent spec (best-response, safe) is resolved
    after the other side's. Both dependent: refused."""
    pk, ok = _kind(player_policy), _kind(opponent_policy)
    pdep = any(pk == d for d in DEPENDENT)
    odep = any(ok == d for d in DEPENDENT)
    if pdep and odep:
        raise EstimationError("both policies depend on the other side's (best-response / safe); fix one side")
    if pdep:
        ys = side_policy(game, opponent_policy, "opponent")
        return side_policy(game, player_policy, "player", ys), ys
    xs = side_policy(game, player_policy, "player")
    return xs, side_policy(game, opponent_policy, "opponent", xs)
