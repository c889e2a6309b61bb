"""Opponent models: the opponent's next shot from the rally so far and the match so far.

    from strategist.opponent import DEFAULT_MODEL, fit_model, load_model

    model = fit_model("markov2", table)                    # or "frequency", "markov1", "neural", DEFAULT_MODEL
    p = model.predict(history, {"player": "An Se Young", "opponent": "Tai Tzu Ying"})
    p.probabilities, p.n, p.source, p.inputs               # evidence; "player" / "population" / "fallback"
    model.predict_proba(history, context)                  # the same as a Series (attrs: n, source, inputs, ...)
    model.update(completed_rally)                          # in-match adaptation
    model.save("models/markov"); load_model("models/markov")

See :mod:`strategist.opponent.base` for the history and context a prediction takes and the fallbacks, and
:mod:`strategist.opponent.choose` for choosing a model by held-out log-loss.
"""

import importlib
from collections.abc import MutableMapping

from strategist.opponent.base import (Context, History, OpponentModel, Prediction, Vocabulary, next_state,
                                      rally_frame)
from strategist.opponent.choose import Choice, choose_model, parse_kind
from strategist.opponent.frequency import FrequencyModel
from strategist.opponent.markov import MarkovModel

#: What torch is needed for, imported on first use (PEP 562): the frequency and Markov models need none of it,
#: and importing torch takes a second.
_ON_USE = {"NeuralConfig": "strategist.opponent.neural", "NeuralModel": "strategist.opponent.neural",
           "load_model": "strategist.opponent.checkpoint", "save_model": "strategist.opponent.checkpoint"}


def __getattr__(name: str):
    if name in _ON_USE:
        value = getattr(importlib.import_module(_ON_USE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Kinds(MutableMapping):
    """Model kind -> class, the neural model's class imported when it is looked up."""

    def __init__(self, classes: dict):
        self._classes = dict(classes)

    def __getitem__(self, name: str):
        value = self._classes[name]
        if isinstance(value, str):
            value = self._classes[name] = __getattr__(value)
        return value

    def __setitem__(self, name: str, cls) -> None:
        self._classes[name] = cls

    def __delitem__(self, name: str) -> None:
        del self._classes[name]

    def __iter__(self):
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)


KINDS = _Kinds({"frequency": FrequencyModel, "markov": MarkovModel, "neural": "NeuralModel"})
#: The model the committed benchmark found best where only the shots and the players are known (what the
#: Advisor's predictions receive): ``default_model`` of benchmarks/results/opponent.json, by the rule of
#: benchmarks/bench_opponent.py. A name :func:`fit_model` takes.
DEFAULT_MODEL = "neural"
#: The options of the neural model's fit (``fit_model``) that go to the trainer rather than the configuration.
TRAINER_OPTIONS = ("out", "device", "progress", "valid", "max_steps", "time_budget", "resume", "log", "split",
                   "threads")


def fit_model(kind: str, table, sport=None, **kwargs) -> OpponentModel:
    """Fit a model of ``kind`` (``frequency``, ``markov``, ``markov1`` ... ``markov8``, ``neural``) on a canonical
    table; ``sport``: a name, a :class:`~strategist.sports.Sport` or a sport file (default: the table's);
    ``kwargs`` go to the model (e.g. ``order=2``, or a :class:`NeuralConfig`'s fields) and, for ``neural``, to
    the trainer (:data:`TRAINER_OPTIONS`)."""
    from strategist.errors import OpponentModelError

    name, options = parse_kind(kind)
    if name not in KINDS:
        raise OpponentModelError(f"unknown model kind {kind!r}; expected one of {sorted(KINDS)} or markov1 ... "
                                 "markov8")
    kwargs = {**options, **kwargs}
    if sport is None:
        sports = sorted(set(map(str, table["sport"].dropna().unique()))) if "sport" in table else []
        sport = sports[0] if len(sports) == 1 else "badminton"
    if name == "neural":
        trainer = {k: kwargs.pop(k) for k in TRAINER_OPTIONS if k in kwargs}
        return KINDS["neural"](sport, **kwargs).fit(table, **trainer)
    return KINDS[name](sport, **kwargs).fit(table)


__all__ = ["Choice", "Context", "DEFAULT_MODEL", "FrequencyModel", "History", "KINDS", "MarkovModel", "NeuralConfig",
           "NeuralModel", "OpponentModel", "Prediction", "Vocabulary", "choose_model", "fit_model", "load_model",
           "next_state", "parse_kind", "rally_frame", "save_model"]
