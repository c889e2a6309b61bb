"""``Advisor``: what to play next in a rally, read off the one rally game every view uses.

:meth:`Advisor.fit` estimates the rally game of the pairing (:func:`strategist.rally.game.rally_game`:
situations — the incoming shot, how high and where it was taken —, candidate shots only, shrinkage from the
pairing to the player to all players, and the recommendation solved in the pessimistic game) and fits or
loads the opponent model. A call of :meth:`Advisor.advise` then

1. reads the rally so far (checking the order of play) and names the situation of the player's next stroke;
   where the history does not say how high or where the last shot was taken, it averages over where such a
   shot is usually taken (``advice.averaged``) and says so; when the opponent hits next, the situation their
   likeliest shot leads to, with that prediction (``advice.lead``);
2. predicts the opponent's next shot after each of the player's likeliest shots (the opponent model,
   trusted in proportion to its evidence c = n / (n + n0)) and values every candidate shot against that and
   the opponent's usual positions (:mod:`strategist.advice.decision`): ``advice.options``;
3. returns three mixes with what they win against the prediction at the lower bound (``expected``) and what
   they guarantee whatever the opponent does (``guarantee``, in the recommendation's game): the equilibrium
   (the rally game's recommendation), the best response and the safe exploitation for ``margin``; each
   departs from the player's habit only where the lower bound supports it: the best response and the safe
   exploitation where the lower confidence bound of their gain over the usual mix against the prediction
   (the options' point estimates, the cells both play paired: :func:`strategist.rally.game.gain_supported`)
   is positive.

``margin`` is in win-probability units (0.05 = five points). With ``gifts`` (what the match has won above
the game's value so far, :mod:`strategist.advice.gifts`) the margin is capped at ``max(0, gifts)``:
Ganzfried & Sandholm's safe exploitation, which risks only what has been won.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.advice.bases import KEPT_HABIT, KEPT_RECOMMENDATION
from strategist.advice.decision import (StateArrays, combine_options, continuation, default_low, next_states,
                                        option_columns, safe_mix, state_arrays)
from strategist.advice.history import RallySoFar, check_order, read_history
from strategist.data.states import (UNKNOWN_DIRECTION, UNKNOWN_HEIGHT, UNKNOWN_ZONE, describe_situation,
                                   state_before)
from strategist.errors import EstimationError, OpponentModelError
from strategist.estimation.shrinkage import two_sided_z
from strategist.games.safe_exploit import check_margin
from strategist.rally.game import gain_supported
from strategist.sports import get_sport

#: Evidence (opponent's strokes) at which the prediction and the game's own opponent weigh the same.
DEFAULT_N0 = 20.0
#: Below this share of evidence from the pairing, advice is said to be against everyone.
PAIRING_SHARE = 0.2


@dataclass(frozen=True)
class Recommendation:
    """A mix of the player's shots with what it wins against the prediction and against anything."""

    name: str
    mix: dict
    expected: float            # against the predicted opponent, at the lower bound
    guarantee: float           # against any position of the opponent, in the recommendation's game
    counts: dict               # how often the player chose each shot of the mix in this situation
    basis: str = ""            # what the mix is: the pessimistic equilibrium, the habit, ...
    estimate: float = float("nan")   # point estimate of what it wins against the prediction
    evidence: dict = field(default_factory=dict)   # shares resting on the pairing, the player, all players

    @property
    def main(self) -> str:
        return max(self.mix, key=self.mix.get)

    def shots(self, threshold: float = 0.005) -> list[tuple[str, float]]:
        """The mix's shots with at least ``threshold`` probability, most likely first."""
        return sorted(((a, p) for a, p in self.mix.items() if p >= threshold), key=lambda kv: -kv[1])

    def to_dict(self) -> dict:
        return {"name": self.name, "mix": dict(self.mix), "expected": self.expected, "guarantee": self.guarantee,
                "counts": dict(self.counts), "basis": self.basis, "estimate": self.estimate,
                "evidence": dict(self.evidence)}


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
    reply: dict                           # the opponent's predicted position at contact, as used
    reply_raw: dict                       # ... their habitual positions (the pairing's counts)
    outside: float                        # predicted mass on shots the next situations do not have
    confidence: float                     # c = n / (n + n0)
    value: float | None                   # the recommendation's value at the lower bound
    equilibrium: Recommendation | None
    best_response: Recommendation | None
    safe: Recommendation | None
    margin: float
    margin_asked: float
    decision_points: int                  # the player's strokes in the situation (against anyone)
    scope: str                            # "pairing", or "player": the pairing's evidence is small
    sentence: str
    lead: dict | None = None              # when the opponent hits first: their predicted shot
    notes: tuple = ()
    seconds: float = 0.0
    options: pd.DataFrame | None = None   # one row per shot of the situation (see decision.options_frame)
    value_estimate: float | None = None   # the point estimate of the situation's equilibrium value ...
    value_interval: tuple | None = None   # ... and its interval
    evidence: dict = field(default_factory=dict)
    averaged: tuple = ()                  # (situation, weight) the advice averaged over, when the history
    #                                       does not say how high or where the last shot was taken

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
            "confidence": self.confidence, "value": self.value, "value_estimate": self.value_estimate,
            "value_interval": None if self.value_interval is None else list(self.value_interval),
            "margin": self.margin, "margin_asked": self.margin_asked,
            "recommendations": {r.name: r.to_dict() for r in self.recommendations},
            "options": None if self.options is None else self.options.reset_index().to_dict(orient="records"),
            "decision_points": self.decision_points, "scope": self.scope, "evidence": self.evidence,
            "averaged": [list(a) for a in self.averaged], "sentence": self.sentence,
            "lead": None if self.lead is None else {k: (v.to_dict() if isinstance(v, pd.Series) else v)
                                                    for k, v in self.lead.items()},
            "notes": list(self.notes),
        }


def _load_table(data):
    """(table, label) of ``data``: None (the demo), a path, a LoadResult or a canonical DataFrame."""
    from strategist.data.load import LoadResult, load_rallies

    if data is None:
        from strategist.data.demo import demo_path

        return load_rallies(demo_path()).table, "demo"
    if isinstance(data, LoadResult):
        return data.table, str(data.paths[0]) if data.paths else data.layout
    if isinstance(data, pd.DataFrame):
        return data, "table"
    if isinstance(data, (str, Path)):
        return load_rallies(data).table, str(data)
    raise EstimationError(f"data must be None (the demo), a path, a LoadResult or a rally table; got "
                          f"{type(data).__name__}")


def resolve_model(model, table):
    """(model, label, note) of the ``model`` argument: an object with ``predict``, a saved model's folder, a
    kind for :func:`strategist.opponent.fit_model`, or None: :data:`strategist.opponent.DEFAULT_MODEL` (the
    best of the committed opponent benchmark), fitted once per data set and kept
    (:func:`strategist.opponent.cache.cached_model`)."""
    from strategist.opponent import DEFAULT_MODEL, fit_model
    from strategist.opponent.cache import cached_model

    if model is not None and not isinstance(model, (str, Path)) and hasattr(model, "predict"):
        return model, model_name(model, type(model).__name__), None
    if isinstance(model, Path) or (isinstance(model, str) and Path(model).is_dir()):
        from strategist.opponent import load_model      # torch: imported where a saved model is read

        loaded = load_model(model)
        return loaded, model_name(loaded, "loaded model"), None
    if model is None:
        fitted, note = cached_model(DEFAULT_MODEL, table)
        return fitted, model_name(fitted, DEFAULT_MODEL), note
    fitted = fit_model(str(model), table)
    return fitted, model_name(fitted, str(model)), None


def model_name(model, default: str) -> str:
    """A model's name as the package spells its kinds: ``markov2`` for a Markov model of order 2."""
    kind = getattr(model, "kind", None)
    if kind is None:
        return default
    order = getattr(model, "order", None)
    return f"{kind}{order}" if kind == "markov" and order is not None else str(kind)


class Advisor:
    """Advice for ``player`` against ``opponent`` on ``data`` (see the module docstring).

    Args:
        data: None (the shipped demo), a data path, a :class:`~strategist.data.load.LoadResult` or a
            canonical rally table.
        player, opponent: names (case-insensitive); default: the player with the most strokes and their most
            frequent opponent.
        model: the opponent model: None (:data:`strategist.opponent.DEFAULT_MODEL`, the best of the committed
            opponent benchmark), an object with ``predict``, a model kind for ``strategist.opponent.fit_model``
            or a saved model's folder.
        n0: evidence at which the prediction and the game's own opponent weigh the same.
        min_action_count: a shot may be recommended where the player played it this often there.
        min_share, min_count: a shot is a candidate where all players play it at least this share of the
            time and this often.
        level: of the intervals and of the lower bound the recommendations are solved at.
        cache_size: predictions kept per (rally so far, who hits); 0 turns the cache off.
        reply_predictions: at most this many predictions of the opponent's next shot per call, after the
            player's likeliest shots (the rest keep the game's own opponent).
        states, zones, heights: the situation rule (:func:`strategist.rally.game.rally_game`).
        strokes: the usable strokes of ``data`` made once (:func:`prepare`), for many Advisors of one table.
        fit: estimate at once (else call :meth:`fit`).
    """

    def __init__(self, data=None, player: str | None = None, opponent: str | None = None, model=None, *,
                 n0: float = DEFAULT_N0, min_action_count: int = 5, min_share: float = 0.02, min_count: int = 10,
                 level: float = 0.9, cache_size: int = 4096, reply_predictions: int = 3, states: str | None = None,
                 zones: bool | None = None, heights: bool | None = None, strokes=None, fit: bool = True):
        if int(reply_predictions) < 1:
            raise EstimationError(f"reply_predictions must be at least 1, got {reply_predictions!r}")
        self.data, self.player_asked, self.opponent_asked, self.model_asked = data, player, opponent, model
        self.n0, self.min_action_count = float(n0), int(min_action_count)
        self.min_share, self.min_count, self.level = float(min_share), int(min_count), float(level)
        self.cache_size, self.reply_predictions = int(cache_size), int(reply_predictions)
        self.situation = {"states": states, "zones": zones, "heights": heights}
        self.strokes = strokes
        self.fitted = False
        if fit:
            self.fit()

    # -- fitting -----------------------------------------------------------------------------------------
    def fit(self, data=None) -> "Advisor":
        """Load the data, name the players, estimate the rally game and fit (or load) the opponent model."""
        from strategist.data.players import resolve_player, table_players
        from strategist.rally.game import rally_game

        started = time.perf_counter()
        table, self.data_label = _load_table(self.data if data is None else data)
        self.table = table
        sports = table["sport"].dropna().unique()
        if len(sports) != 1:
            raise EstimationError(f"the data mix sports {sorted(map(str, sports))}; advise on one sport")
        self.sport = get_sport(str(sports[0]))
        people = table_players(table)
        player = self.player_asked or str(table["hitter"].value_counts().index[0])
        self.player = resolve_player(player, people, "player")
        opponent = self.opponent_asked
        if opponent is None:
            against = table.loc[table["hitter"] == self.player, "opponent"].value_counts()
            if against.empty:
                raise EstimationError(f"{self.player} hits no stroke in the data")
            opponent = str(against.index[0])
        self.notes: list[str] = []
        self.opponent = _opponent_name(opponent, people, self.notes)
        if self.player == self.opponent:
            raise EstimationError(f"player and opponent are both {self.player!r}")
        self.game = rally_game(table if self.strokes is None else self.strokes, self.player, self.opponent,
                               min_action_count=self.min_action_count,
                               min_share=self.min_share, min_count=self.min_count, level=self.level,
                               **self.situation)
        try:
            self.model, self.model_label, note = resolve_model(self.model_asked, table)
        except OpponentModelError as exc:
            raise EstimationError(f"the opponent model cannot be used: {exc}") from None
        if note:
            self.notes.append(note)
        self._prepare()
        self.fitted = True
        self.build_seconds = time.perf_counter() - started
        return self

    def _prepare(self) -> None:
        game = self.game
        settings = game.structure.settings
        self.zones, self.heights = bool(settings.zones), bool(settings.heights)
        self.rally_rule = settings.states or self.sport.decisions.situation[0]
        self._shots = tuple(self.sport.shots)
        self._shot_index = pd.Index(list(self._shots), name="shot")
        self._state_of = {label: g for g, label in enumerate(game.labels)}
        self._arrays: dict[int, StateArrays] = {}
        self._positions: dict[int, dict] = {}      # the receiver's positions as recorded, by state
        self._z = two_sided_z(self.level)
        self._next = next_states(game, self._shots, self._z)
        self._v_obs = np.asarray(game.observed_values, dtype=float)
        self._v_rec = np.asarray(game.recommendation.realized, dtype=float)
        self._value_columns = {c: game.states[c].to_numpy(float) for c in ("value", "value_low", "value_high")}
        self._u_low = default_low(self._next, self._v_rec)
        self._predictions: dict = {}
        # where each shot is usually taken: P(situation | the incoming shot), all players
        self._situations_after = _situations_after(game)

    @property
    def games(self) -> dict:
        """The player's situations with a recommendation: label -> the rally game's :class:`Stage`."""
        who = self.game.states["who"].to_numpy()
        return {self.game.states["decision_state"].iat[g]: self.game.stage(g) for g in np.flatnonzero(who == "player")}

    def _arrays_of(self, g: int) -> StateArrays:
        if g not in self._arrays:
            self._arrays[g] = state_arrays(self.game, g)
        return self._arrays[g]

    # -- predictions ---------------------------------------------------------------------------------------
    def _predict(self, rally: RallySoFar, who: str, context: dict,
                 memo: dict | None = None) -> tuple[np.ndarray, float, str]:
        """``who``'s next shot after ``rally``: (probabilities over the sport's shots, evidence n, source). Kept
        in the Advisor's cache (``cache_size``) and in ``memo``, the predictions of one ``advise`` call (the
        situations it averages over ask for the same rallies)."""
        ctx_items = tuple((k, context[k]) for k in ("score", "server", "match_id", "court_side")
                          if context.get(k) is not None)
        key = (rally.shots, rally.hitters, rally.areas, rally.heights, who, repr(ctx_items))
        hit = memo.get(key) if memo is not None else None
        if hit is None:
            hit = self._predictions.get(key)
        if hit is not None:
            if memo is not None:
                memo[key] = hit
            return hit
        other = self.opponent if who == self.player else self.player
        pred = self.model.predict(self._history(rally, who, other), {"player": who, "opponent": other,
                                                                      "stroke": len(rally) + 1, **dict(ctx_items)})
        if tuple(pred.shots) == self._shots:
            probs = np.array(pred.probabilities, dtype=float)
        else:
            probs = pd.Series(np.asarray(pred.probabilities, float), index=list(pred.shots)).reindex(
                self._shot_index).fillna(0.0).to_numpy(float)
        total = probs.sum()
        probs = probs / total if total > 0 else np.full(len(probs), 1.0 / len(probs))
        out = (probs, float(pred.n), str(pred.source))
        if self.cache_size > 0:
            if len(self._predictions) >= self.cache_size:
                self._predictions.pop(next(iter(self._predictions)))
            self._predictions[key] = out
        if memo is not None:
            memo[key] = out
        return out

    def _played(self, rally: RallySoFar, action: str) -> RallySoFar:
        """The rally after the player's ``action``: a shot, or where the sport's server chooses a direction
        (tennis: ``"wide serve"``), the serve with that landing area."""
        if self.sport.decisions.serve_action == "area" and action not in self.sport.shots and action.endswith(" serve"):
            serve = sorted(self.sport.serves)[0]
            return rally.plus(serve, self.player, action[: -len(" serve")])
        return rally.plus(action, self.player)

    def _history(self, rally: RallySoFar, who: str, other: str):
        """The rally as the model takes it: the package's own models a light :class:`History` (shots, hitters,
        landing areas, how high each was taken; no frame to build), any other model a DataFrame with every
        recorded column."""
        vocabulary = getattr(self.model, "vocabulary", None)
        if vocabulary is not None:
            from strategist.opponent.base import History

            return History(vocabulary.shot_ids(rally.shots), rally.hitters, rally.areas, heights=rally.heights)
        return pd.DataFrame({"shot": list(rally.shots), "hitter": list(rally.hitters),
                             "opponent": [other if h == who else who for h in rally.hitters],
                             "landing_area": list(rally.areas), "landing_height": list(rally.heights),
                             "stroke": list(range(1, len(rally) + 1))})

    # -- the situation -------------------------------------------------------------------------------------
    def _situation(self, rally: RallySoFar, hitter: str, court_side) -> tuple[list, list, str]:
        """(states, weights, label) of ``hitter``'s next stroke: one state where the history says how high and
        where the last shot was taken; otherwise the situations such a shot is usually taken in."""
        label = state_before(self.sport, rally.shots, rally.hitters, hitter, areas=rally.areas,
                             heights=rally.heights, court_side=court_side, rally=self.rally_rule, zones=self.zones,
                             with_heights=self.heights)
        who = "player" if hitter == self.player else "opponent"
        states, weights = self.states_of(label, who)
        return states, weights, label

    def states_of(self, label: str, who: str = "player") -> tuple[list, list]:
        """(game states, weights) of a situation ``label`` with ``who`` to hit: the state itself where its
        height, zone and direction are known and the game has it; otherwise the states it may be (its known
        parts agreeing), weighted by all players' strokes there; ([], []) when the game has none."""
        name = f"{who}: {label}"
        missing = ((UNKNOWN_HEIGHT in label and self.heights) or (UNKNOWN_ZONE in label and self.zones)
                   or UNKNOWN_DIRECTION in label)
        if not missing and name in self._state_of:
            return [self._state_of[name]], [1.0]
        if UNKNOWN_DIRECTION in label:       # a return of a serve whose direction was not said
            head, tail = label.split(UNKNOWN_DIRECTION, 1)
            options = [(g, w) for (side, _, _), found in self._situations_after.items() if side == who
                       for g, w in found if _is_direction(self.game.labels[g].split(": ", 1)[1], head, tail)]
        else:
            prefix = _prefix(label)
            options = self._situations_after.get((who, _incoming(prefix), prefix), [])
        known = [(g, w) for g, w in options if _agrees(self.game.labels[g], label)]
        total = sum(w for _, w in known)
        if known and total > 0:
            return [g for g, _ in known], [w / total for _, w in known]
        if name in self._state_of:
            return [self._state_of[name]], [1.0]
        return [], []

    # -- advice --------------------------------------------------------------------------------------------
    def advise(self, history=None, context=None, margin: float = 0.0, gifts: float | None = None) -> Advice:
        """Advice for the player's next stroke after ``history`` (see the module docstring).

        ``history``: the rally's strokes so far (:mod:`strategist.advice.history`), possibly empty.
        ``context``: ``next`` (who hits next; also read from ``player`` as in :mod:`strategist.opponent`),
        ``server``, ``score``, ``court_side``, ``match_id``. ``margin``: win probability the safe exploitation
        may give up below the value. ``gifts``: what the match has won above the value so far; caps the margin
        at ``max(0, gifts)``.
        """
        if not self.fitted:
            raise EstimationError("the Advisor is not fitted: call fit() first")
        started = time.perf_counter()
        context = dict(context or {})
        rally = read_history(history)
        check_order(rally, self.sport, (self.player, self.opponent))
        asked = check_margin(margin, EstimationError)
        margin = asked if gifts is None else min(asked, max(0.0, float(gifts)))
        nxt = self._next_hitter(rally, context)
        notes: list[str] = []
        lead = None
        memo: dict = {}                 # this call's predictions
        side = context.get("court_side")
        if nxt == self.opponent:
            lead, rally = self._lead(rally, context, side, memo)
        states, weights, label = self._situation(rally, self.player, side)
        if not states:
            return self._no_game(nxt, label, lead, margin, asked, started)
        if len(states) > 1:
            what = ("which way the serve went" if UNKNOWN_DIRECTION in label
                    else "how high or where the last shot was taken")
            usual = ", ".join(f"{self.game.labels[g].split(': ', 1)[1]} {w:.0%}" for g, w in zip(states, weights))
            notes.append(f"the history does not say {what}: the advice averages over where it usually is ({usual})")
        parts = [self._decide(self._arrays_of(g), rally, context, margin, memo) for g in states]
        advice = _combine(self, parts, weights, states, nxt, lead, margin, asked, notes, label)
        from strategist.advice.sentence import sentence

        return replace(advice, sentence=sentence(advice), seconds=time.perf_counter() - started)

    def _next_hitter(self, rally: RallySoFar, context: dict) -> str:
        nxt = context.get("next") or context.get("player")
        if nxt is None:
            if len(rally):
                last = rally.hitters[-1]
                serves_only = all(s in self.sport.serves for s in rally.shots)
                nxt = (self.opponent if last == self.player else self.player)
                if serves_only and len(rally) < self.sport.serves_per_point and context.get("fault"):
                    nxt = last
            else:
                nxt = context.get("server") or self.player
        if nxt not in (self.player, self.opponent):
            raise EstimationError(f"the next hitter {nxt!r} is neither {self.player} nor {self.opponent}")
        return nxt

    def _lead(self, rally: RallySoFar, context: dict, side, memo: dict | None = None):
        """The opponent hits next: their predicted shot, and the rally with their likeliest shot added."""
        probs, n, source = self._predict(rally, self.opponent, context, memo)
        by_shot = sorted(((p, s) for s, p in zip(self._shots, probs) if p > 0), reverse=True)
        mass, shot = by_shot[0]
        lead = {"prediction": pd.Series(probs, index=self._shot_index, name="p"), "n": int(round(n)),
                "source": source, "shot": shot, "mass": float(mass)}
        rally = rally.plus(shot, self.opponent)
        lead["state"] = state_before(self.sport, rally.shots, rally.hitters, self.player, areas=rally.areas,
                                     heights=rally.heights, court_side=side, rally=self.rally_rule,
                                     zones=self.zones, with_heights=self.heights)
        return lead, rally

    def _decide(self, sa: StateArrays, rally: RallySoFar, context: dict, margin: float,
                memo: dict | None = None) -> dict:
        """Everything of one situation: predictions, the continuation, options and the three mixes."""
        weight = np.maximum(sa.recommended, sa.habit)
        order = [i for i in np.argsort(-weight, kind="stable") if weight[i] > 0]
        rows = [i for i in order if sa.advised[i]][:self.reply_predictions] or order[:self.reply_predictions]
        predictions, confidence, ns, sources, mixed = {}, {}, [], [], np.zeros(len(self._shots))
        for i in rows:
            probs, n, source = self._predict(self._played(rally, sa.rows[i]), self.opponent, context, memo)
            predictions[i] = probs
            confidence[i] = n / (n + self.n0) if self.n0 > 0 else 1.0
            ns.append(n)
            sources.append(source)
            mixed += weight[i] * probs
        n = float(np.average(ns, weights=weight[rows])) if rows else 0.0
        conf = n / (n + self.n0) if self.n0 > 0 else 1.0
        cont = continuation(sa, self._next, self._v_obs, self._v_rec, self._u_low, predictions, confidence)
        q = sa.positions
        z = self._z
        options = option_columns(sa, cont, q, z, self.game)
        c_low = cont.low @ q
        # a departure from the usual mix must be supported: the lower confidence bound of its gain, on the
        # options' point estimates against the prediction, with the cells both play paired, is positive
        supported = partial(gain_supported, cont.obs, sa.sd, q, z, habit=sa.usual)
        eq = sa.recommended
        br = sa.usual.copy()
        # exploitation compares only shots valued against the prediction (the likeliest advised ones)
        advised = np.array([i for i in rows if sa.advised[i]], dtype=np.int64)
        if len(advised):
            best = advised[int(np.argmax(c_low[advised]))]
            pure = np.zeros(len(sa.rows))
            pure[best] = 1.0
            if supported(pure):
                br = pure
        safe = eq if margin <= 0 else safe_mix(sa, c_low, sa.value_low - margin - 1e-12, advised)
        if margin > 0 and not supported(safe):
            safe = eq
        return {"sa": sa, "cont": cont, "options": options, "q": q, "conf": conf, "n": n,
                "source": "player" if "player" in sources else (sources[0] if sources else "fallback"),
                "prediction": mixed / mixed.sum() if mixed.sum() > 0 else mixed, "mixes": (eq, br, safe)}

    def _no_game(self, nxt, label, lead, margin, asked, started) -> Advice:
        from strategist.advice.sentence import sentence

        notes = (f"no advice {describe_situation(label)}: the data hold no strokes of {self.player} in this "
                 "situation",)
        uniform = pd.Series(np.full(len(self._shots), 1.0 / len(self._shots)), index=self._shot_index, name="p")
        advice = Advice(self.player, self.opponent, nxt, label, self.model_label,
                        lead["prediction"] if lead else uniform, lead["n"] if lead else 0,
                        lead["source"] if lead else "fallback", {}, {}, 0.0, 0.0, None, None, None, None, margin,
                        asked, 0, "none", "", lead, notes)
        return replace(advice, sentence=sentence(advice), seconds=time.perf_counter() - started)


def prepare(table, *, states: str | None = None, zones: bool | None = None, heights: bool | None = None,
            annotated=None):
    """The usable strokes of ``table`` (:func:`strategist.rally.model.strokes`) with what is computed once per
    table (the players' ratings), to build many Advisors of one table without redoing it (``strokes=``).
    ``annotated``: the table's :func:`strategist.rally.model.situation_annotation`, when made already."""
    from strategist.rally.model import RallySettings, strokes

    return strokes(table, RallySettings(states=states, zones=zones, heights=heights), annotated=annotated)


def _opponent_name(name: str, people: list, notes: list) -> str:
    """The opponent's name as the data spell it; a name the data do not have is a new opponent (played as all
    players play, with a note) unless it is close to one they have (then it is refused as a likely typo)."""
    import difflib

    from strategist.data.players import resolve_player

    try:
        return resolve_player(name, people, "opponent")
    except EstimationError:
        close = difflib.get_close_matches(str(name).strip().casefold(), [p.casefold() for p in people], n=1,
                                          cutoff=0.75)
        if close:
            raise
    notes.append(f"{name} has no strokes in the data the Advisor is built on: their play is taken to be all "
                 "players'")
    return str(name).strip()


def _prefix(label: str) -> str:
    """A situation label without its height and zone: ``rally after net shot (low, front)`` ->
    ``rally after net shot``."""
    return label.split(" (", 1)[0] if label.endswith(")") and not label.startswith("serve") else label


def _incoming(prefix: str) -> str:
    """The incoming shot of a situation without height and zone: ``rally after net shot`` -> ``net shot``."""
    return prefix.split(" after ", 1)[-1] if " after " in prefix else prefix.split(" of ", 1)[-1]


def _is_direction(label: str, head: str, tail: str) -> bool:
    """Whether ``label`` is ``head + "<direction> serve" + tail`` for a recorded direction."""
    middle = label[len(head):len(label) - len(tail)] if label.startswith(head) and label.endswith(tail) else ""
    return middle.endswith(" serve") and UNKNOWN_DIRECTION not in middle


def _agrees(state_label: str, wanted: str) -> bool:
    """Whether a game state's situation agrees with ``wanted``'s known parts (its unknown ones match any)."""
    label = state_label.split(": ", 1)[1]
    if UNKNOWN_DIRECTION in wanted:
        head, tail = wanted.split(UNKNOWN_DIRECTION, 1)
        return _is_direction(label, head, tail)
    if _prefix(label) != _prefix(wanted) or label == wanted:
        return label == wanted
    if not label.endswith(")") or not wanted.endswith(")"):
        return False
    have = label[label.rindex("(") + 1:-1].split(", ")
    want = wanted[wanted.rindex("(") + 1:-1].split(", ")
    if UNKNOWN_HEIGHT in have or UNKNOWN_ZONE in have:
        return False
    return all(w in (UNKNOWN_HEIGHT, UNKNOWN_ZONE) or w == h for h, w in zip(have, want))


def _situations_after(game) -> dict:
    """(who, incoming shot, situation without height and zone) -> [(state, all players' strokes there)]."""
    out: dict = {}
    st = game.structure
    visits = np.asarray(st.row_counts["all"].sum(axis=0)).ravel()
    for g, (who, label) in enumerate(zip(st.states["who"], st.states["decision_state"])):
        n = float(visits[st.row_offsets[g]:st.row_offsets[g + 1]].sum())
        prefix = _prefix(label)
        out.setdefault((who, _incoming(prefix), prefix), []).append((g, n))
    return out


def _combine(advisor: Advisor, parts: list, weights: list, states: list, nxt, lead, margin, asked, notes,
             label: str) -> Advice:
    """The Advice of one situation, or the weighted average of several (the history left height or zone
    open): options averaged over the situations that have each shot, the mixes and their values weighted."""
    game = advisor.game
    rows = list(dict.fromkeys(r for p in parts for r in p["sa"].rows))
    options = combine_options([(p["sa"].rows, p["options"]) for p in parts], weights, rows)
    names = ("equilibrium", "best response", "safe exploitation")
    mixes = [np.zeros(len(rows)) for _ in names]
    expected = np.zeros(3)
    guarantee = np.zeros(3)
    estimate = np.zeros(3)
    evidence = np.zeros(3)
    for p, w in zip(parts, weights):
        sa, cont, q = p["sa"], p["cont"], p["q"]
        pos = [rows.index(r) for r in sa.rows]
        for k, x in enumerate(p["mixes"]):
            mixes[k][pos] += w * x
            expected[k] += w * float(x @ (cont.low @ q))
            guarantee[k] += w * float((x @ sa.stage_low).min())
            estimate[k] += w * float(x @ (cont.obs @ q))
        ev = np.stack([p["options"][k] for k in ("pairing", "player", "all players")], axis=1)
        evidence += w * (p["mixes"][0] @ ev)
    counts = dict(zip(rows, options["played"].to_numpy().tolist()))
    basis = [parts[0]["sa"].basis if len(parts) == 1 else "averaged", "best response", "safe exploitation"]
    if np.allclose(mixes[1], _usual(parts, weights, rows)):
        basis[1] = KEPT_HABIT
    if margin > 0 and np.allclose(mixes[2], mixes[0]):
        basis[2] = KEPT_RECOMMENDATION
    evidence_d = dict(zip(("pairing", "player", "all players"), map(float, evidence)))
    recs = [Recommendation(name, {r: float(p) for r, p in zip(rows, x) if p > 0}, float(expected[k]),
                           float(guarantee[k]), {r: int(counts.get(r, 0)) for r, p in zip(rows, x) if p > 0.005},
                           basis[k], float(estimate[k]), evidence_d) for k, (name, x) in enumerate(zip(names, mixes))]
    first = parts[0]
    prediction = sum(w * p["prediction"] for p, w in zip(parts, weights))
    n = sum(w * p["n"] for p, w in zip(parts, weights))
    if len(states) == 1:
        label = game.labels[states[0]].split(": ", 1)[1]
    if lead is not None:
        lead = {**lead, "reply_prediction": pd.Series(prediction, index=advisor._shot_index, name="p"),
                "reply_n": int(round(n))}
    scope = "pairing" if evidence_d["pairing"] >= PAIRING_SHARE else "player"
    if scope == "player":
        notes.append(f"little of this rests on {advisor.player} against {advisor.opponent} "
                     f"({evidence_d['pairing']:.0%}): advice against everyone")
    vc = advisor._value_columns
    value_est = sum(w * float(vc["value"][g]) for g, w in zip(states, weights))
    interval = (sum(w * float(vc["value_low"][g]) for g, w in zip(states, weights)),
                sum(w * float(vc["value_high"][g]) for g, w in zip(states, weights)))
    reply = {c: float(v) for c, v in zip(first["sa"].columns, first["q"])}
    raw_counts = advisor._positions.get(states[0])
    if raw_counts is None:
        raw_counts = advisor._positions[states[0]] = _raw_positions(game, states[0])
    outside = sum(w * p["cont"].outside for p, w in zip(parts, weights))
    if outside > 0.005:
        notes.append(f"{outside:.0%} of the predicted shots are ones the next situation's game does not have "
                     "(left out; the others' shares scaled up to make 100 %)")
    return Advice(
        player=advisor.player, opponent=advisor.opponent, next_hitter=nxt, state=label, model=advisor.model_label,
        prediction=lead["prediction"] if lead else pd.Series(prediction, index=advisor._shot_index, name="p"),
        prediction_n=lead["n"] if lead else int(round(n)),
        prediction_source=lead["source"] if lead else first["source"], reply=reply, reply_raw=dict(raw_counts),
        outside=float(outside), confidence=float(sum(w * p["conf"] for p, w in zip(parts, weights))),
        value=float(sum(w * p["sa"].value_low for p, w in zip(parts, weights))),
        equilibrium=recs[0], best_response=recs[1], safe=recs[2], margin=margin, margin_asked=asked,
        decision_points=int(sum(int(p["sa"].played.sum()) for p in parts)), scope=scope, sentence="",
        lead=lead, notes=tuple(advisor.notes + notes), options=options, value_estimate=float(value_est),
        value_interval=tuple(map(float, interval)), evidence=evidence_d,
        averaged=tuple((game.labels[g].split(": ", 1)[1], float(w)) for g, w in zip(states, weights))
        if len(states) > 1 else ())


def _usual(parts, weights, rows) -> np.ndarray:
    out = np.zeros(len(rows))
    for p, w in zip(parts, weights):
        out[[rows.index(r) for r in p["sa"].rows]] += w * p["sa"].usual
    return out


def _raw_positions(game, g: int) -> dict:
    st = game.structure
    counts = np.asarray(st.column_counts["game"][:, st.column_offsets[g]:st.column_offsets[g + 1]].sum(axis=0)).ravel()
    total = counts.sum()
    return {c: float(v / total) if total else 0.0 for c, v in zip(st.columns[g], counts)}
