"""Practice mode: a player practises against a modelled opponent, rally by rally, under an estimated rally game.

In every state where the player hits, the player chooses a shot (a person at the terminal, or a policy with
``auto``); where the opponent hits, the player's position is played by the ``cover`` policy (default the
equilibrium). The opponent plays its model (default its observed frequencies); outcomes are drawn from the
game's estimated laws.

**Reward rule** (every-visit Monte Carlo with decaying credit, after the seed paper's simulation model with
rewards). A rally pays R = +1 when the player wins it and R = −1 when the player loses it. The player's
choices in that rally are credited backwards from the end: the last choice gets R, the one before R·λ, then
R·λ², … (λ = ``decay``, default 0.8; a rally stopped at the stroke cap pays 0). A shot's value in a state is
the running mean of its credits: Q ← Q + (credit − Q) / n.

The session ends with what worked (highest values, at least ``min_tries`` tries) and what did not (lowest),
and how far the player's play was from the recommendation (the rally game's equilibrium at its bounds,
``RallyGame.recommendation``): per state the total-variation distance between the player's choice frequencies
and the recommended mix (weighted by visits: the share of choices that would have to change), and the exact
value from the serve of the player's practised policy (their frequencies where they played, the recommendation
elsewhere) against the opponent's model and against a best-responding opponent, beside the recommendation's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from strategist.errors import EstimationError
from strategist.games.stochastic import evaluate_policies
from strategist.rally.playout import WIN, compile_game
from strategist.rally.policies import best_response_policy, side_policy

#: A chooser gets (state label, action labels, the current value table of the state) and returns an index,
#: or None to stop the session.
Chooser = Callable[[str, tuple, dict], "int | None"]


@dataclass
class PracticeReport:
    rallies: int
    wins: int
    values: pd.DataFrame          # state, action, tries, value
    distance: pd.DataFrame        # state, visits, distance (total variation to the recommendation)
    mean_distance: float
    practised_value: float        # from the serve, against the opponent's model
    practised_guarantee: float    # from the serve, against a best-responding opponent
    equilibrium_value: float      # the recommendation, both playing it, on the point estimates
    model_value: float            # the player's recommendation against the opponent's model
    start: str
    decay: float
    log: list = field(default_factory=list)

    def worked(self, k: int = 3, min_tries: int = 2) -> pd.DataFrame:
        """The ``k`` shots tried at least ``min_tries`` times with the best positive credit."""
        v = self.values[(self.values["tries"] >= min_tries) & (self.values["value"] > 0)]
        return v.sort_values("value", ascending=False).head(k)

    def did_not(self, k: int = 3, min_tries: int = 2) -> pd.DataFrame:
        """The ``k`` shots tried at least ``min_tries`` times with the worst negative credit."""
        v = self.values[(self.values["tries"] >= min_tries) & (self.values["value"] < 0)]
        return v.sort_values("value").head(k)

    def to_dict(self) -> dict:
        return {"rallies": self.rallies, "wins": self.wins, "start": self.start, "decay": self.decay,
                "values": self.values.to_dict(orient="records"),
                "worked": self.worked().to_dict(orient="records"),
                "did_not_work": self.did_not().to_dict(orient="records"),
                "distance": self.distance.to_dict(orient="records"), "mean_distance": self.mean_distance,
                "practised_value": self.practised_value, "practised_guarantee": self.practised_guarantee,
                "equilibrium_value": self.equilibrium_value, "model_value": self.model_value}


def policy_chooser(game, spec, rng: np.random.Generator) -> Chooser:
    """A chooser that samples the player's shot from the policy ``spec`` (no best-response / safe here
    unless the opponent's model is fixed: they are resolved against the observed opponent)."""
    try:
        mixes = side_policy(game, spec, "player")
    except EstimationError as exc:
        if "needs the other side" not in str(exc):
            raise
        mixes = side_policy(game, spec, "player", side_policy(game, "observed", "opponent"))
    index = {label: g for g, label in enumerate(game.labels)}

    def choose(state, actions, values):
        x = mixes[index[state]]
        return int(rng.choice(len(actions), p=x / x.sum()))
    return choose


def practise(game, chooser: Chooser, rallies: int = 20, *, seed: int | None = 0, opponent_policy="observed",
             cover="equilibrium", start="serve", decay: float = 0.8, max_strokes: int = 200,
             on_rally: Callable[[int, bool, list], None] | None = None) -> PracticeReport:
    """Play up to ``rallies`` rallies; ``chooser`` picks the player's shots (see :data:`Chooser`).
    ``start``: ``serve``, ``receive`` or ``alternate`` (the player serves the odd rallies). A side's serves
    go round its opening states in turn (:meth:`~strategist.rally.game.RallyGame.openings`: in tennis the
    deuce court, then the ad court)."""
    if isinstance(rallies, bool) or int(rallies) != rallies or rallies < 1:
        raise EstimationError(f"rallies must be a positive whole number, got {rallies!r}")
    if not 0.0 <= decay <= 1.0:
        raise EstimationError(f"decay must lie in [0, 1], got {decay!r}")
    if start not in ("serve", "receive", "alternate"):
        raise EstimationError(f"start {start!r}: expected serve, receive or alternate")
    rng = np.random.default_rng(seed)
    ys = side_policy(game, opponent_policy, "opponent", side_policy(game, "equilibrium", "player"))
    ys = [np.asarray(y, dtype=float) / np.sum(y) for y in ys]   # given mixes sum to 1 only within 1e-6
    xs_cover = side_policy(game, cover, "player", ys)
    cg = compile_game(game)
    who = list(game.states["who"])
    labels = game.labels
    sums: dict = {}
    counts: dict = {}
    choice_counts = [np.zeros(len(r)) for r in game.layout.row_labels]
    wins = played = 0
    log = []
    openings = {"serve": game.openings("player")[0], "receive": game.openings("opponent")[0]}
    for k in range(int(rallies)):
        first = "serve" if start == "serve" or (start == "alternate" and k % 2 == 0) else "receive"
        turn = k // 2 if start == "alternate" else k
        s = openings[first][turn % len(openings[first])]
        mine: list = []
        result = None
        stopped = False
        for _ in range(max_strokes):
            m, n = cg.shapes[s]
            if who[s] == "player":
                state_values = {a: (sums.get((s, i), 0.0) / counts[(s, i)] if counts.get((s, i)) else None,
                                    counts.get((s, i), 0)) for i, a in enumerate(game.layout.row_labels[s])}
                i = chooser(labels[s], game.layout.row_labels[s], state_values)
                if i is None:
                    stopped = True
                    break
                if not 0 <= int(i) < m:
                    raise EstimationError(f"choice {i} is not one of the {m} actions of {labels[s]!r}")
                i = int(i)
                mine.append((s, i))
                choice_counts[s][i] += 1
            else:
                x = xs_cover[s]
                i = int(rng.choice(m, p=x / x.sum()))
            y = ys[s]
            j = int(rng.choice(n, p=y / y.sum()))
            u = rng.random()
            kk = min(int((u >= cg.cum_out[s, i, j]).sum()), cg.code.shape[-1] - 1)
            nxt = int(cg.code[s, i, j, kk])
            if nxt < 0:
                result = nxt == WIN
                break
            s = nxt
        if stopped:
            break
        played += 1
        reward = 0.0 if result is None else (1.0 if result else -1.0)
        wins += bool(result)
        for back, (state, action) in enumerate(reversed(mine)):
            credit = reward * decay ** back
            sums[(state, action)] = sums.get((state, action), 0.0) + credit
            counts[(state, action)] = counts.get((state, action), 0) + 1
        log.append({"rally": k + 1, "won": bool(result), "choices": [(labels[a], game.layout.row_labels[a][b])
                                                                     for a, b in mine]})
        if on_rally is not None:
            on_rally(k + 1, bool(result), log[-1]["choices"])
    if played == 0:
        raise EstimationError("the session ended before its first rally")
    return _report(game, sums, counts, choice_counts, ys, played, wins, start, decay, log)


def _report(game, sums, counts, choice_counts, ys, played, wins, start, decay, log) -> PracticeReport:
    labels = game.labels
    rows = [{"state": labels[s], "action": game.layout.row_labels[s][i], "tries": int(n),
             "value": sums[(s, i)] / n} for (s, i), n in counts.items()]
    values = pd.DataFrame(rows, columns=["state", "action", "tries", "value"])
    eq = game.recommendation.row_strategies
    dist = []
    practised = []
    for s, c in enumerate(choice_counts):
        if c.sum() > 0:
            freq = c / c.sum()
            dist.append({"state": labels[s], "visits": int(c.sum()), "distance": 0.5 * float(np.abs(freq - eq[s]).sum())})
            practised.append(freq)
        else:
            practised.append(np.asarray(eq[s]))
    distance = pd.DataFrame(dist, columns=["state", "visits", "distance"])
    mean_distance = float(np.average(distance["distance"], weights=distance["visits"])) if len(distance) else 0.0
    # the player's positions are the cover policy's in the practised policy; use the equilibrium's there
    who = list(game.states["who"])
    practised = [p if who[s] == "player" else np.asarray(eq[s]) for s, p in enumerate(practised)]
    # from the serve: the player's opening states weighted as Match prep weighs them (RallyGame.openings)
    s0, w = game.openings("player")

    def from_serve(values) -> float:
        return float(np.asarray(values)[s0] @ w)
    v_model = from_serve(evaluate_policies(game.rewards, game.transitions, practised, ys))
    br = best_response_policy(game, practised, "opponent")
    v_guarantee = from_serve(evaluate_policies(game.rewards, game.transitions, practised, br))
    v_eq_model = from_serve(evaluate_policies(game.rewards, game.transitions, game.recommendation.row_strategies, ys))
    return PracticeReport(played, wins, values, distance, mean_distance, v_model, v_guarantee,
                          from_serve(game.recommendation.realized), v_eq_model, start, decay, log)
