"""The opponent-model interface, its vocabulary, and the light-weight form of a rally history.

Every model predicts the shot of the **next stroke** of a rally from the strokes already played (and the
match so far). ``history`` is a DataFrame of the rally's strokes in canonical columns (at least ``shot``
and ``hitter``; ``opponent``, ``landing_area``, ``hitter_x`` ... where recorded), possibly empty: then the
next stroke is the serve, and the prediction is the serve distribution of the server. ``context`` is a
dict with any of ``player`` (who hits next: the opponent being predicted), ``opponent`` (the other
player), ``stroke`` (number of the next stroke), ``score`` (``(player's points, opponent's points)``
before the rally), ``server``, ``court_side`` and ``match_id``. Missing entries are read off the history
where they can be (the next hitter is the receiver of the last stroke).

A prediction (:meth:`OpponentModel.predict`) is a :class:`Prediction`: the probabilities, ``n`` (strokes of
evidence behind them, as each model defines it), ``source`` and the inputs the model used.
Fallbacks (documented, flagged, not errors): a player the model never saw is predicted as the population
(``source == "population"``, ``known_player is False``); a context the population never saw backs off to
shorter contexts (``"fallback"``). Errors: a shot outside the sport's vocabulary raises
:class:`~strategist.errors.OpponentModelError` naming the shot; so does a model asked before it is fitted.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from strategist.data.states import state_before
from strategist.errors import OpponentModelError
from strategist.sports import get_sport

#: Columns a training table must fill.
TRAIN_COLUMNS = ("match_id", "rally_id", "stroke", "hitter", "opponent", "shot")


@dataclass(frozen=True)
class Vocabulary:
    """What a model predicts over: the sport's shots (in the sport's order) and its court areas."""

    sport: str
    shots: tuple[str, ...]
    areas: tuple[str, ...]

    @classmethod
    def of(cls, sport) -> "Vocabulary":
        sport = get_sport(sport)
        return cls(sport.name, tuple(sport.shots), tuple(sport.areas))

    @property
    def index(self) -> dict[str, int]:
        return _index_of(self.shots)

    @property
    def area_index(self) -> dict[str, int]:
        return _index_of(self.areas)

    def to_json(self) -> dict:
        return {"sport": self.sport, "shots": list(self.shots), "areas": list(self.areas)}

    @classmethod
    def from_json(cls, data: dict) -> "Vocabulary":
        return cls(str(data["sport"]), tuple(data["shots"]), tuple(data["areas"]))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:16]

    def shot_ids(self, shots, where: str = "history") -> list[int]:
        """Indices of ``shots``; a label outside the vocabulary raises :class:`OpponentModelError`; a
        missing value counts as ``"unknown"`` where the vocabulary has it."""
        index = self.index
        out = []
        for shot in shots:
            if shot is None or shot is pd.NA or (isinstance(shot, float) and shot != shot):
                if "unknown" in index:
                    out.append(index["unknown"])
                    continue
                raise OpponentModelError(f"{where}: a stroke has no shot, and the {self.sport} vocabulary has no "
                                         f"'unknown'")
            try:
                out.append(index[shot])
            except KeyError:
                raise OpponentModelError(f"{where}: shot {shot!r} is not in the {self.sport} vocabulary "
                                         f"{list(self.shots)}") from None
        return out

    def shot_codes(self, column, where: str = "table") -> np.ndarray:
        """:meth:`shot_ids` of a whole column (Series, Index or array) at once, as an int64 array; the same
        errors."""
        values = column if isinstance(column, pd.Series) else pd.Series(np.asarray(column, dtype=object))
        codes = pd.Index(self.shots).get_indexer(values).astype(np.int64)
        bad = codes < 0
        if bad.any():
            missing = values.isna().to_numpy(dtype=bool)
            if "unknown" in self.index:
                codes[bad & missing] = self.index["unknown"]
            elif (bad & missing).any():
                self.shot_ids([None], where=where)          # raises: no 'unknown' for a missing shot
            rest = np.flatnonzero(codes < 0)
            if len(rest):
                self.shot_ids([values.iloc[rest[0]]], where=where)      # raises: names the first unknown shot
        return codes


_INDEX_CACHE: dict[tuple, dict[str, int]] = {}


def _index_of(labels: tuple[str, ...]) -> dict[str, int]:
    found = _INDEX_CACHE.get(labels)
    if found is None:
        found = _INDEX_CACHE[labels] = {s: i for i, s in enumerate(labels)}
    return found


@dataclass
class Context:
    """Who hits next and the moment of the match (see the module docstring)."""

    player: str | None = None
    opponent: str | None = None
    stroke: int = 1
    score: tuple[int, int] | None = None
    server: str | None = None
    court_side: str | None = None
    match_id: str | None = None


#: What a prediction can rest on (:attr:`Prediction.inputs` names those a model used).
INPUTS = ("shot", "hitter", "landing_area", "wing", "landing_height", "positions", "score", "server",
          "court_side", "player", "opponent")


@dataclass(frozen=True)
class Prediction:
    """P(next shot) over the sport's shots, with what it rests on.

    ``n``: strokes of evidence behind the probabilities (each model's docstring says which strokes);
    ``source``: ``"player"`` (the player's own record), ``"population"`` (a player the model does not know:
    everyone's) or ``"fallback"`` (a context nobody was seen in); ``inputs``: the fields of the rally so far
    and of the context the prediction used (of :data:`INPUTS`).
    """

    shots: tuple[str, ...]
    probabilities: np.ndarray
    n: float
    source: str
    inputs: tuple[str, ...]
    known_player: bool
    player: str | None = None
    model: str = ""
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        probs = np.array(self.probabilities, dtype=float)
        probs.setflags(write=False)
        object.__setattr__(self, "probabilities", probs)

    def __getitem__(self, shot: str) -> float:
        return float(self.probabilities[_index_of(self.shots)[shot]])

    def to_series(self, index: pd.Index | None = None) -> pd.Series:
        """The probabilities as a Series indexed by shot; ``attrs`` repeat ``n``, ``source``, ``inputs``,
        ``known_player``, ``player``, ``model`` and the details (the form of :meth:`OpponentModel.predict_proba`)."""
        index = pd.Index(self.shots, name="shot") if index is None else index
        out = pd.Series(self.probabilities.copy(), index=index, name="p", copy=False)
        out.attrs.update(self.details)
        out.attrs.update(n=self.n, source=self.source, inputs=self.inputs, known_player=self.known_player,
                         player=self.player, model=self.model)
        return out


class PredictionCache:
    """Predictions by key, at most ``size`` of them (the oldest goes first); cleared when the model changes."""

    __slots__ = ("size", "_items")

    def __init__(self, size: int = 65536):
        self.size = int(size)
        self._items: dict = {}

    def get(self, key):
        return self._items.get(key)

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = value

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class History:
    """A rally so far in the form the models use: shot indices (eager); hitters, landing areas and how high each
    shot was taken (read from the frame when first asked for, or given)."""

    __slots__ = ("shots", "frame", "_hitters", "_areas", "_heights")

    def __init__(self, shots, hitters=None, areas=None, frame: pd.DataFrame | None = None, heights=None):
        self.shots = tuple(shots)
        self.frame = frame
        self._hitters = None if hitters is None else tuple(hitters)
        self._areas = None if areas is None else tuple(areas)
        self._heights = None if heights is None else tuple(heights)

    def __len__(self) -> int:
        return len(self.shots)

    @property
    def hitters(self) -> tuple:
        if self._hitters is None:
            f = self.frame
            self._hitters = (tuple(_clean(h) for h in column_list(f, "hitter"))
                             if f is not None and "hitter" in f.columns else (None,) * len(self.shots))
        return self._hitters

    @property
    def areas(self) -> tuple:
        if self._areas is None:
            self._areas = self._texts("landing_area")
        return self._areas

    @property
    def heights(self) -> tuple:
        """Each stroke's ``landing_height`` (None where not recorded)."""
        if self._heights is None:
            self._heights = self._texts("landing_height")
        return self._heights

    def _texts(self, name: str) -> tuple:
        """One column of the frame as text, None where missing (all None without the frame or the column)."""
        f = self.frame
        if f is None or name not in f.columns:
            return (None,) * len(self.shots)
        return tuple(None if _clean(v) is None else str(v) for v in column_list(f, name))


def _clean(value):
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


def column_values(frame: pd.DataFrame, name: str):
    """The values of one column as an array (numpy or pandas extension array: ``frame[name].array``); a name
    that is not unique is refused."""
    loc = frame.columns.get_loc(name)
    if not isinstance(loc, (int, np.integer)):
        raise OpponentModelError(f"the strokes have {int(np.sum(frame.columns == name))} columns named {name!r}; "
                                 "expected one")
    return frame[name].array


def column_list(frame: pd.DataFrame, name: str) -> list:
    """One column's values as a Python list (missing values as None where the array is Arrow-backed, as
    pandas gives them otherwise): Arrow's own list conversion where the column is Arrow-backed (a few times
    faster than pandas' on a rally's strokes), Python scalars from a numpy column, else ``tolist()``."""
    values = column_values(frame, name)
    if hasattr(values, "__arrow_array__"):
        return values.__arrow_array__().to_pylist()
    if isinstance(values, pd.arrays.NumpyExtensionArray):
        return values.to_numpy().tolist()
    return values.tolist()


def column_floats(frame: pd.DataFrame, name: str) -> np.ndarray:
    """One column as a float array, NaN where missing or not a number (a numeric column converted directly,
    anything else parsed)."""
    values = column_values(frame, name)
    if values.dtype.kind in "fiub":
        return values.to_numpy(dtype=float, na_value=np.nan)
    try:
        return pd.array(values).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def to_history(history, vocabulary: Vocabulary) -> History:
    """The light-weight :class:`History` of a DataFrame (or ``None`` / an empty frame: no stroke yet)."""
    if history is None:
        return History((), ())
    if isinstance(history, History):
        return history
    if not isinstance(history, pd.DataFrame):
        raise OpponentModelError(f"history must be a DataFrame of strokes, got {type(history).__name__}")
    if len(history) == 0:
        return History((), (), (), frame=history)
    if "shot" not in history.columns:
        raise OpponentModelError("history needs a 'shot' column")
    if "stroke" in history.columns and len(history) > 1:
        order = column_floats(history, "stroke")
        if not (order[1:] >= order[:-1]).all():
            history = history.sort_values("stroke", kind="stable")
    return History(vocabulary.shot_ids(column_list(history, "shot")), frame=history)


def to_context(history: History, context) -> Context:
    """The :class:`Context` of ``context`` (a dict, a Context or None), filled from the history."""
    if isinstance(context, Context):
        ctx = Context(**context.__dict__)
    else:
        context = dict(context or {})
        unknown = sorted(set(context) - set(Context.__dataclass_fields__))
        if unknown:
            raise OpponentModelError(f"unknown context keys {unknown}; expected some of "
                                     f"{sorted(Context.__dataclass_fields__)}")
        ctx = Context(**{k: _clean(v) for k, v in context.items()})
        if "stroke" not in context or ctx.stroke is None:
            ctx.stroke = len(history) + 1
        if ctx.score is not None:
            ctx.score = tuple(int(x) for x in ctx.score)
    frame = history.frame
    if len(history):
        # the frame's columns are read only for what the context leaves open (each read costs a column
        # access); the hitters, once read, stay on the history for the models that need them all
        columns = frame.columns if frame is not None else ()
        last_receiver = None
        if "opponent" in columns and (ctx.player is None or ctx.opponent is None):
            last_receiver = _clean(column_values(frame, "opponent")[-1])
        if ctx.player is None:
            ctx.player = last_receiver
        if ctx.opponent is None:
            last_hitter = history.hitters[-1]
            ctx.opponent = last_hitter if last_hitter != ctx.player else last_receiver
        if ctx.server is None and "server" in columns:
            ctx.server = _clean(column_values(frame, "server")[-1])
        if ctx.server is None:
            ctx.server = history.hitters[0]
        if ctx.match_id is None and "match_id" in columns:
            ctx.match_id = _clean(column_values(frame, "match_id")[-1])
    elif ctx.server is None:
        ctx.server = ctx.player
    return ctx


def next_state(sport, shots: list[str], hitters: list, player, areas=(), court_side=None) -> str:
    """The decision state of the next stroke as known before it is played
    (:func:`strategist.data.states.state_before`)."""
    return state_before(sport, shots, hitters, player, areas=areas, court_side=court_side)


def rally_frame(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` sorted by rally and stroke (the row order of :meth:`OpponentModel.predict_table`)."""
    missing = [c for c in TRAIN_COLUMNS if c not in table.columns]
    if missing:
        raise OpponentModelError(f"the table lacks columns {missing}; an opponent model needs {list(TRAIN_COLUMNS)}")
    if len(table) <= 1:
        return table.reset_index(drop=True)
    # one order whatever the rows' order: rally ids by value (not a categorical's category order), strokes as
    # numbers (not text, where "10" < "9")
    rid = table["rally_id"].to_numpy(dtype=object)
    stroke = table["stroke"].to_numpy(dtype=float, na_value=np.nan)
    if ((rid[1:] > rid[:-1]) | ((rid[1:] == rid[:-1]) & (stroke[1:] > stroke[:-1]))).all():
        return table.reset_index(drop=True)
    keys = pd.DataFrame({"rally": pd.Series(rid, dtype=object), "stroke": stroke})
    order = keys.sort_values(["rally", "stroke"], kind="stable").index.to_numpy()
    return table.iloc[order].reset_index(drop=True)


def positions_in_rally(frame: pd.DataFrame) -> np.ndarray:
    """0 for the first stroke of each rally of a :func:`rally_frame`, 1 for the next, ..."""
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rid = frame["rally_id"].to_numpy(dtype=object)
    new = np.r_[True, rid[1:] != rid[:-1]]
    starts = np.flatnonzero(new)
    return np.arange(n) - starts[np.cumsum(new) - 1]


class OpponentModel(ABC):
    """A distribution over the next stroke's shot given the rally so far; scikit-learn style.

    Subclasses implement ``fit``, ``_predict`` (light-weight history in, probability vector out) and
    ``predict_table`` (every stroke of a table at once), ``update`` / ``reset`` and their state for
    :mod:`strategist.opponent.checkpoint`.
    """

    kind = "base"

    def __init__(self, sport="badminton"):
        self.sport = get_sport(sport).name
        self.vocabulary = Vocabulary.of(self.sport)
        self.players_: set[str] = set()
        self.fitted_ = False
        self.metrics_: dict = {}
        self.split_: dict | None = None
        self._index = pd.Index(self.vocabulary.shots, name="shot")

    # -- the interface -------------------------------------------------------------------------------------
    @abstractmethod
    def fit(self, table: pd.DataFrame) -> "OpponentModel":
        """Learn from a canonical table (every stroke is a target given the strokes before it)."""

    @abstractmethod
    def _predict(self, history: History, context: Context) -> tuple[np.ndarray, dict]:
        """Probability vector over the vocabulary and the evidence: ``n``, ``source``, ``known_player``,
        ``inputs`` (a tuple of :data:`INPUTS`) and any model-specific details."""

    @abstractmethod
    def predict_table(self, table: pd.DataFrame) -> np.ndarray:
        """(rows, shots) probabilities of every stroke of :func:`rally_frame` ``(table)`` given the strokes
        before it in its rally (the first stroke given none: the serve)."""

    def update(self, rally_table: pd.DataFrame) -> "OpponentModel":
        """Learn from completed rallies of the match in progress (in-match adaptation)."""
        return self

    def reset(self) -> "OpponentModel":
        """Forget what :meth:`update` learnt (a new match begins)."""
        return self

    def predict(self, history=None, context=None) -> Prediction:
        """The :class:`Prediction` of the next stroke's shot after ``history`` in ``context``."""
        self._check_fitted()
        hist = to_history(history, self.vocabulary)
        ctx = to_context(hist, context)
        probs, info = self._predict(hist, ctx)
        info = dict(info)
        known = bool(info.pop("known_player", ctx.player in self.players_))
        return Prediction(self.vocabulary.shots, probs, n=float(info.pop("n")), source=str(info.pop("source")),
                          inputs=tuple(info.pop("inputs")), known_player=known, player=ctx.player, model=self.kind,
                          details=info)

    def predict_proba(self, history=None, context=None) -> pd.Series:
        """:meth:`predict` as a Series indexed by the sport's shots; its ``attrs`` hold the rest of the
        prediction (``n``, ``source``, ``inputs``, ``known_player``, ``player``, ``model``)."""
        return self.predict(history, context).to_series(self._index)

    def save(self, directory) -> None:
        from strategist.opponent.checkpoint import save_model

        save_model(self, directory)

    # -- helpers -------------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not self.fitted_:
            raise OpponentModelError(f"the {self.kind} model is not fitted; call fit(table) or load_model(dir)")

    def _check_table(self, table: pd.DataFrame) -> pd.DataFrame:
        if table is None or len(table) == 0:
            raise OpponentModelError("no strokes to learn from: the table is empty")
        if "sport" in table.columns:
            sports = {str(s) for s in table["sport"].unique() if not pd.isna(s)}
            if sports and sports != {self.sport}:
                raise OpponentModelError(f"a {self.sport} model cannot use {sorted(sports)} data")
        frame = rally_frame(table)
        self.vocabulary.shot_codes(frame["shot"], where="table")
        return frame

    # state for checkpoints: (tensors, JSON-able dict); implemented by each model
    def _state(self) -> tuple[dict, dict]:  # pragma: no cover - abstract in spirit
        raise NotImplementedError

    def _load_state(self, tensors: dict, meta: dict) -> None:  # pragma: no cover
        raise NotImplementedError
