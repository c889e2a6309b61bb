"""``Advisor``: what to play next in a rally, against the opponent as predicted, without giving up safety.

The game of a decision state (:mod:`strategist.data.states`): rows are the player's shots observed in the
state, columns the opponent's **reply** (the group of the opponent's next stroke: attack, neutral,
defence), payoffs the player's probability of winning the rally, estimated from data for the pairing and
shrunk toward all players (:func:`strategist.estimate_payoff` with ``columns="reply"``). Every state's game,
its value and equilibrium are computed once, when the Advisor is built.

A call of :meth:`Advisor.advise` then

1. names the state of the player's next stroke from the rally so far (when the opponent hits next, the
   state the opponent's most likely shot leads to, and the prediction of that shot comes with the advice);
2. predicts the opponent's reply with the opponent model: one prediction per state the player's shots
   lead to, mixed by how often the player chooses those shots there; the predicted shot distribution is
   mapped onto the game's columns (the mass on shots outside them is reported) and **shrunk toward the
   equilibrium column mix by the evidence**: ``q = c·q̂ + (1 − c)·y*`` with ``c = n / (n + n0)``;
3. returns three mixes with their expected win probability against ``q`` and their guarantee (the least
   they win against any reply): the equilibrium (the most exploitative among the optimal mixes), the best
   response to ``q``, and the safe exploitation for ``margin`` (max xᵀAq s.t. minⱼ (xᵀA)ⱼ ≥ v − margin),
   with the sample sizes behind them and one sentence a coach can read between points.

``margin`` is in win-probability units (0.05 = five points). With ``gifts`` (what the match has won above
the game's value so far, :mod:`strategist.advice.gifts`) the margin is capped at ``max(0, gifts)``:
Ganzfried & Sandholm's safe exploitation, which risks only what has been won.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.advice.fastlp import VertexTable
from strategist.advice.predict import FrequencyPrediction, next_state
from strategist.errors import EstimationError, StrategistError
from strategist.sports import get_sport

#: Evidence (opponent's strokes) at which the prediction and the equilibrium count equally.
DEFAULT_N0 = 20.0
REPLY_GROUPING = "tactic"


@dataclass(frozen=True)
class Recommendation:
    """A mix of the player's shots with what it wins against the prediction and against anything."""

    name: str
    mix: dict
    expected: float            # xᵀAq: against the predicted reply
    guarantee: float           # minⱼ (xᵀA)ⱼ: against any reply
    counts: dict               # how often the player chose each shot of the mix in this state

    @property
    def main(self) -> str:
        return max(self.mix, key=self.mix.get)

    def shots(self, threshold: float = 0.005) -> list[tuple[str, float]]:
        """The mix's shots with at least ``threshold`` probability, most likely first."""
        return sorted(((a, p) for a, p in self.mix.items() if p >= threshold), key=lambda kv: -kv[1])

    def to_dict(self) -> dict:
        return {"name": self.name, "mix": dict(self.mix), "expected": self.expected,
                "guarantee": self.guarantee, "counts": dict(self.counts)}


@dataclass(frozen=True)
class StateGame:
    """One decision state's game for the player, prepared when the Advisor is built."""

    state: str
    estimate: object                 # PayoffEstimate
    payoffs: np.ndarray
    rows: tuple
    columns: tuple
    value: float
    row_strategy: np.ndarray
    column_strategy: np.ndarray
    vertices: VertexTable | None
    row_counts: tuple
    points: int                      # the player's decision points in the state (pairing or player)
    scope: str                       # "pairing" or "player" (the pairing had too little data)

    @property
    def game(self):
        return self.estimate.game

    def safe(self, c: np.ndarray, floor: float) -> np.ndarray:
        if self.vertices is not None:
            return self.vertices.solve(c, floor)
        from strategist.games import safe_exploit  # pragma: no cover - games too big to enumerate

        margin = max(self.value - floor, 0.0)
        q = np.linalg.lstsq(self.payoffs, c, rcond=None)[0]
        return safe_exploit(self.game, np.clip(q, 0, None) / max(np.clip(q, 0, None).sum(), 1e-12),
                            margin).row_strategy


@dataclass(frozen=True)
class Advice:
    """What :meth:`Advisor.advise` returns (see the module docstring)."""

    player: str
    opponent: str
    next_hitter: str
    state: str | None
    model: str
    prediction: pd.Series                 # the opponent's predicted next shot (over the sport's shots)
    prediction_n: int                     # strokes of evidence behind it
    prediction_source: str                # "player", "population" or "fallback"
    reply: dict                           # the predicted reply over the game's columns, as used (shrunk)
    reply_raw: dict                       # ... before shrinkage toward the equilibrium
    outside: float                        # predicted mass on replies outside the game's columns
    confidence: float                     # c = n / (n + n0)
    value: float | None
    equilibrium: Recommendation | None
    best_response: Recommendation | None
    safe: Recommendation | None
    margin: float
    margin_asked: float
    decision_points: int
    scope: str
    sentence: str
    lead: dict | None = None              # when the opponent hits first: their predicted shot
    notes: tuple = ()
    seconds: float = 0.0

    @property
    def recommendations(self) -> tuple:
        return tuple(r for r in (self.equilibrium, self.best_response, self.safe) if r is not None)

    def to_dict(self) -> dict:
        return {
            "player": self.player, "opponent": self.opponent, "next_hitter": self.next_hitter,
            "state": self.state, "model": self.model,
            "prediction": {k: float(v) for k, v in self.prediction.items()},
            "prediction_n": self.prediction_n, "prediction_source": self.prediction_source,
            "reply": self.reply, "reply_raw": self.reply_raw, "outside": self.outside,
            "confidence": self.confidence, "value": self.value, "margin": self.margin,
            "margin_asked": self.margin_asked,
            "recommendations": {r.name: r.to_dict() for r in self.recommendations},
            "decision_points": self.decision_points, "scope": self.scope, "sentence": self.sentence,
            "lead": self.lead, "notes": list(self.notes),
        }


def _load_table(data):
    """(table, label) of ``data``: None (the demo), a path, a LoadResult or a canonical DataFrame."""
    from strategist.data.load import LoadResult, load_rallies

    if data is None:
        from strategist.data.demo import demo_path

        path = demo_path()
        return load_rallies(path).table, "demo"
    if isinstance(data, LoadResult):
        return data.table, str(data.paths[0]) if data.paths else data.layout
    if isinstance(data, pd.DataFrame):
        return data, "table"
    if isinstance(data, (str, Path)):
        return load_rallies(data).table, str(data)
    raise EstimationError(f"data must be None (the demo), a path, a LoadResult or a rally table; got "
                          f"{type(data).__name__}")


def _resolve_model(model, table, sport, annotated):
    """(model, label, note) of the ``model`` argument; see :class:`Advisor`."""
    if model is not None and not isinstance(model, (str, Path)) and hasattr(model, "predict_proba"):
        return model, getattr(model, "kind", type(model).__name__), None
    try:
        import strategist.opponent as opponent_pkg
    except ImportError:
        opponent_pkg = None
    fit = getattr(opponent_pkg, "fit_model", None)
    load = getattr(opponent_pkg, "load_model", None)
    if isinstance(model, Path) or (isinstance(model, str) and Path(model).is_dir()):
        if load is None:
            raise EstimationError("loading a saved opponent model needs strategist.opponent.load_model, which this "
                                  "installation does not have")
        m = load(model)
        return m, getattr(m, "kind", "loaded model"), None
    if isinstance(model, str) and model not in ("builtin", "frequency (built-in)"):
        if fit is None:
            raise EstimationError(f"opponent model {model!r} needs strategist.opponent.fit_model, which this "
                                  "installation does not have; model=None uses the built-in frequency prediction")
        m = fit(model, table)
        return m, getattr(m, "kind", model), None
    if model is None and fit is not None:
        m = fit("frequency", table)
        return m, getattr(m, "kind", "frequency"), None
    note = None if model is not None else (
        "opponent model: the Advisor's built-in frequency prediction (strategist.opponent has no fit_model "
        "in this installation)")
    return FrequencyPrediction(table, sport, annotated=annotated), FrequencyPrediction.kind, note


def _light_history_maker(model):
    """For the package's own models, a function (shots, hitters) -> :class:`strategist.opponent.base.History`
    (no DataFrame to build and parse per prediction); None for any other model, which gets a DataFrame."""
    try:
        from strategist.opponent.base import History, OpponentModel
    except ImportError:
        return None
    vocabulary = getattr(model, "vocabulary", None)
    if not isinstance(model, OpponentModel) or vocabulary is None:
        return None
    return lambda shots, hitters: History(vocabulary.shot_ids(shots), tuple(hitters), (None,) * len(shots))


class Advisor:
    """Advice for ``player`` against ``opponent`` on ``data`` (see the module docstring).

    Args:
        data: None (the shipped demo), a data path, a :class:`~strategist.data.load.LoadResult` or a
            canonical rally table.
        player, opponent: names (case-insensitive); default: the player with the most strokes and their most
            frequent opponent.
        model: the opponent model: None (``strategist.opponent``'s frequency model when installed, else the
            built-in frequency prediction, and the result says which), an object with ``predict_proba``, a
            model kind for ``strategist.opponent.fit_model`` or a saved model's folder.
        n0: evidence at which the prediction and the equilibrium column mix weigh the same.
        min_action_count: a shot enters a state's game when the player chose it this often there.
        cache_size: predictions of a given model kept per (rally so far, who hits): a rerun of the same
            moment (another margin) asks the model once. 0 turns the cache off.
        reply_predictions: at most this many predictions of the reply per call, for the states the player's
            likeliest shots lead to (their weights carry the rest); 1 asks an expensive model once.
    """

    def __init__(self, data=None, player: str | None = None, opponent: str | None = None, model=None, *,
                 n0: float = DEFAULT_N0, min_action_count: int = 5, cache_size: int = 4096,
                 reply_predictions: int = 3):
        from strategist.data.states import annotate_states
        from strategist.estimation.counts import decision_points
        from strategist.estimation.payoff import resolve_player

        started = time.perf_counter()
        table, self.data_label = _load_table(data)
        self.table = table
        sports = table["sport"].dropna().unique()
        if len(sports) != 1:
            raise EstimationError(f"the data mix sports {sorted(map(str, sports))}; advise on one sport")
        self.sport = get_sport(str(sports[0]))
        players = sorted(set(table["hitter"].dropna().astype(str).unique()) |
                         set(table["opponent"].dropna().astype(str).unique()))
        if player is None:
            player = str(table["hitter"].value_counts().index[0])
        self.player = resolve_player(player, players, "player")
        if opponent is None:
            against = table.loc[table["hitter"] == self.player, "opponent"].value_counts()
            if against.empty:
                raise EstimationError(f"{self.player} hits no stroke in the data")
            opponent = str(against.index[0])
        self.opponent = resolve_player(opponent, players, "opponent")
        if self.player == self.opponent:
            raise EstimationError(f"player and opponent are both {self.player!r}")
        self.n0 = float(n0)
        self.cache_size = int(cache_size)
        if int(reply_predictions) < 1:
            raise EstimationError(f"reply_predictions must be at least 1, got {reply_predictions!r}")
        self.reply_predictions = int(reply_predictions)
        self._predictions: dict = {}
        self.min_action_count = int(min_action_count)
        self.annotated = annotate_states(table, self.sport)
        self.model, self.model_label, model_note = _resolve_model(model, table, self.sport, self.annotated)
        self.notes = [model_note] if model_note else []
        self._light_history = _light_history_maker(self.model)
        self._groups = dict(self.sport.groupings[REPLY_GROUPING])
        self._shot_index = pd.Index(list(self.sport.shots), name="shot")
        self.points = decision_points(table, rows="shot", columns="reply", sport=self.sport)
        self.games: dict[str, StateGame] = {}
        self.skipped: dict[str, str] = {}
        mine = self.points.frame[self.points.frame["hitter"] == self.player]
        for state in mine["state"].astype(str).value_counts().index:
            try:
                self.games[state] = self._state_game(state)
            except StrategistError as exc:
                self.skipped[state] = str(exc)
        self.build_seconds = time.perf_counter() - started

    # -- building --------------------------------------------------------------------------------------------
    def _state_game(self, state: str) -> StateGame:
        from strategist.estimation.payoff import EstimateSettings, estimate_from_points

        base = dict(rows="shot", columns="reply", context=self.points.context, state=state,
                    min_action_count=self.min_action_count)
        scope = "pairing"
        try:
            est = estimate_from_points(self.points, EstimateSettings(**base, hitter=self.player,
                                                                      opponent=self.opponent))
        except EstimationError:
            # too few decision points against this opponent: the player's game against everyone
            est = estimate_from_points(self.points, EstimateSettings(**base, hitter=self.player))
            scope = "player"
        sol = est.solve()
        return StateGame(state=state, estimate=est, payoffs=np.asarray(est.mean, float), rows=est.row_labels,
                         columns=est.column_labels, value=float(sol.value), row_strategy=sol.row_strategy,
                         column_strategy=sol.column_strategy, vertices=VertexTable.of(est.mean),
                         row_counts=tuple(int(c) for c in est.row_counts), points=int(est.report.points),
                         scope=scope)

    # -- predictions ---------------------------------------------------------------------------------------
    def _predict(self, shots: list, hitters: list, who: str, context: dict) -> tuple[np.ndarray, int, str]:
        model = self.model
        if isinstance(model, FrequencyPrediction):
            state = next_state(self.sport, shots, hitters, who, context.get("court_side"))
            return model.predict_state(who, state)
        ctx_items = tuple((k, context[k]) for k in ("score", "server", "match_id", "court_side")
                          if context.get(k) is not None)
        key = (tuple(shots), tuple(hitters), who, repr(ctx_items))
        hit = self._predictions.get(key)
        if hit is not None:
            return hit
        other = self.opponent if who == self.player else self.player
        if self._light_history is not None:
            history = self._light_history(shots, hitters)
        else:
            history = pd.DataFrame({"shot": shots, "hitter": hitters,
                                    "opponent": [other if h == who else who for h in hitters],
                                    "stroke": list(range(1, len(shots) + 1))})
        ctx = {"player": who, "opponent": other, "stroke": len(shots) + 1, **dict(ctx_items)}
        series = model.predict_proba(history, ctx)
        if series.index.equals(self._shot_index):
            probs = np.asarray(series.to_numpy(), dtype=float)
        else:
            probs = series.reindex(self._shot_index).fillna(0.0).to_numpy(float)
        total = probs.sum()
        probs = probs / total if total > 0 else np.full(len(probs), 1.0 / len(probs))
        out = (probs, int(series.attrs.get("n", 0) or 0), str(series.attrs.get("source", "player")))
        if self.cache_size > 0:
            if len(self._predictions) >= self.cache_size:
                self._predictions.pop(next(iter(self._predictions)))
            self._predictions[key] = out
        return out

    # -- advice --------------------------------------------------------------------------------------------
    def advise(self, history=None, context=None, margin: float = 0.0, gifts: float | None = None) -> Advice:
        """Advice for the player's next stroke after ``history`` (see the module docstring).

        ``history``: the rally's strokes so far (a DataFrame with ``shot`` and ``hitter``, or a list of
        ``(shot, hitter)`` pairs or of dicts), possibly empty. ``context``: ``next`` (who hits next; also
        read from ``player`` as in :mod:`strategist.opponent`), ``server``, ``score``, ``court_side``,
        ``match_id``. ``margin``: win probability the safe exploitation may give up below the value.
        ``gifts``: what the match has won above the value so far; caps the margin at ``max(0, gifts)``.
        """
        started = time.perf_counter()
        context = dict(context or {})
        shots, hitters = _strokes(history)
        for s in shots:
            if s not in self._groups:
                raise EstimationError(f"shot {s!r} is not in the {self.sport.name} vocabulary")
        asked = float(margin)
        if not np.isfinite(asked) or asked < 0:
            raise EstimationError(f"margin must be a number >= 0, got {margin!r}")
        margin = asked if gifts is None else min(asked, max(0.0, float(gifts)))
        nxt = context.get("next") or context.get("player")
        if nxt is None:
            if shots:
                nxt = self.opponent if hitters[-1] == self.player else self.player
            else:
                nxt = context.get("server") or self.player
        if nxt not in (self.player, self.opponent):
            raise EstimationError(f"the next hitter {nxt!r} is neither {self.player} nor {self.opponent}")
        notes = list(self.notes)
        lead = None
        if nxt == self.opponent:
            probs, n, source = self._predict(shots, hitters, self.opponent, context)
            lead_series = pd.Series(probs, index=self._shot_index, name="p", copy=False)
            # the player's next state: the one the opponent's likeliest shots lead to
            by_state: dict[str, list] = {}
            for shot, p in zip(self.sport.shots, probs):
                if p <= 0 or self._groups.get(shot) is None and shot not in self.sport.serves:
                    continue
                st = next_state(self.sport, shots + [shot], hitters + [self.opponent], self.player,
                                context.get("court_side"))
                by_state.setdefault(st, []).append((p, shot))
            state, members = max(by_state.items(), key=lambda kv: sum(p for p, _ in kv[1]))
            mass = sum(p for p, _ in members)
            top_shot = max(members)[1]
            lead = {"prediction": lead_series, "n": n, "source": source, "state": state, "mass": float(mass),
                    "shot": top_shot}
            shots, hitters = shots + [top_shot], hitters + [self.opponent]
        state = next_state(self.sport, shots, hitters, self.player, context.get("court_side"))
        sg = self.games.get(state)
        if sg is None:
            why = self.skipped.get(state, f"{self.player} has no decision points in this state in the data")
            probs = np.full(len(self.sport.shots), 1.0 / len(self.sport.shots))
            notes.append(f"no game for '{state}': {why}")
            pred = lead["prediction"] if lead else pd.Series(probs, index=self._shot_index, name="p")
            advice = Advice(self.player, self.opponent, nxt, state, self.model_label, pred,
                            lead["n"] if lead else 0, lead["source"] if lead else "fallback", {}, {}, 0.0, 0.0,
                            None, None, None, None, margin, asked, 0, "none", "", lead, tuple(notes))
            from strategist.advice.sentence import sentence

            return _with(advice, sentence=sentence(advice), seconds=time.perf_counter() - started)

        # the opponent's reply, one prediction per state the player's shots lead to
        weights: dict[str, float] = {}
        reps: dict[str, tuple] = {}
        for shot, count in zip(sg.rows, sg.row_counts):
            st = next_state(self.sport, shots + [shot], hitters + [self.player], self.opponent,
                            context.get("court_side"))
            weights[st] = weights.get(st, 0.0) + max(count, 1)
            if st not in reps or count > reps[st][1]:
                reps[st] = (shot, count)
        if len(weights) > self.reply_predictions:  # the likeliest states carry the others' weight
            kept = sorted(weights, key=weights.get, reverse=True)[:self.reply_predictions]
            weights = {st: weights[st] for st in kept}
        total = sum(weights.values())
        q_shot = np.zeros(len(self.sport.shots))
        n_sum = 0.0
        sources = []
        for st, w in weights.items():
            probs, n, source = self._predict(shots + [reps[st][0]], hitters + [self.player], self.opponent, context)
            q_shot += (w / total) * probs
            n_sum += (w / total) * n
            sources.append(source)
        n = int(round(n_sum))
        source = "player" if "player" in sources else sources[0]
        prediction = pd.Series(q_shot, index=self._shot_index, name="p", copy=False)
        col_index = {c: j for j, c in enumerate(sg.columns)}
        q_raw = np.zeros(len(sg.columns))
        outside = 0.0
        for shot, p in zip(self.sport.shots, q_shot):
            j = col_index.get(self._groups.get(shot))
            if j is None:
                outside += p
            else:
                q_raw[j] += p
        if q_raw.sum() > 0:
            q_raw = q_raw / q_raw.sum()
        else:
            q_raw = sg.column_strategy.copy()
        conf = n / (n + self.n0) if self.n0 > 0 else 1.0
        q = conf * q_raw + (1.0 - conf) * sg.column_strategy
        a = sg.payoffs
        aq = a @ q
        tol = 1e-9 * max(float(a.max() - a.min()), 1e-12)
        eq_x = sg.safe(aq, sg.value - tol)
        safe_x = eq_x if margin <= 0 else sg.safe(aq, sg.value - margin - tol)
        br_i = int(np.argmax(aq))
        br_x = np.zeros(len(sg.rows))
        br_x[br_i] = 1.0
        counts = dict(zip(sg.rows, sg.row_counts))

        def rec(name, x):
            mix = {r: float(p) for r, p in zip(sg.rows, x)}
            return Recommendation(name, mix, float(x @ aq), float((x @ a).min()),
                                  {r: counts[r] for r, p in mix.items() if p > 0.005})

        if sg.scope == "player":
            notes.append(f"'{state}': too few decision points against {self.opponent}; the game is "
                         f"{self.player}'s against every opponent")
        if outside > 0.005:
            notes.append(f"{outside:.0%} of the predicted replies fall outside the game's columns "
                         f"({', '.join(sg.columns)}): left out, the rest renormalised")
        advice = Advice(
            player=self.player, opponent=self.opponent, next_hitter=nxt, state=state, model=self.model_label,
            prediction=lead["prediction"] if lead else prediction, prediction_n=lead["n"] if lead else n,
            prediction_source=lead["source"] if lead else source,
            reply={c: float(p) for c, p in zip(sg.columns, q)},
            reply_raw={c: float(p) for c, p in zip(sg.columns, q_raw)}, outside=float(outside),
            confidence=float(conf), value=sg.value, equilibrium=rec("equilibrium", eq_x),
            best_response=rec("best response", br_x), safe=rec("safe exploitation", safe_x), margin=margin,
            margin_asked=asked, decision_points=sg.points, scope=sg.scope, sentence="",
            lead=lead if lead is None else {**lead, "reply_prediction": prediction, "reply_n": n},
            notes=tuple(notes),
        )
        from strategist.advice.sentence import sentence

        return _with(advice, sentence=sentence(advice), seconds=time.perf_counter() - started)

    # -- summaries for match preparation -------------------------------------------------------------------
    def states_frame(self) -> pd.DataFrame:
        """One row per state with a game: decision points, value, equilibrium mix, scope."""
        rows = []
        for st, sg in self.games.items():
            mix = ", ".join(f"{a} {p:.0%}" for a, p in sorted(zip(sg.rows, sg.row_strategy), key=lambda kv: -kv[1])
                            if p >= 0.005)
            rows.append({"state": st, "decision points": sg.points, "value": sg.value, "equilibrium mix": mix,
                         "data": "against this opponent" if sg.scope == "pairing" else "against everyone"})
        return pd.DataFrame(rows)


def _with(advice: Advice, **changes) -> Advice:
    from dataclasses import replace

    return replace(advice, **changes)


def _strokes(history) -> tuple[list, list]:
    if history is None:
        return [], []
    if isinstance(history, pd.DataFrame):
        if len(history) == 0:
            return [], []
        if "stroke" in history.columns:
            history = history.sort_values("stroke", kind="stable")
        return history["shot"].astype(str).tolist(), history["hitter"].astype(str).tolist()
    shots, hitters = [], []
    for item in history:
        if isinstance(item, dict):
            shots.append(str(item["shot"]))
            hitters.append(str(item["hitter"]))
        else:
            shot, hitter = item
            shots.append(str(shot))
            hitters.append(str(hitter))
    return shots, hitters
