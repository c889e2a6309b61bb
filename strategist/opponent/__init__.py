"""Opponent models: the opponent's next shot from the rally so far and the match so far.

    from strategist.opponent import fit_model, load_model

    model = fit_model("markov", table)                     # or "frequency", "neural"
    p = model.predict_proba(history, {"player": "An Se Young", "opponent": "Tai Tzu Ying"})
    p.attrs["n"], p.attrs["source"]                        # evidence, "player" / "population" / "fallback"
    model.update(completed_rally)                          # in-match adaptation
    model.save("models/markov"); load_model("models/markov")

See :mod:`strategist.opponent.base` for the history and context a prediction takes and the fallbacks.
"""

from strategist.opponent.base import Context, History, OpponentModel, Vocabulary, next_state, rally_frame
from strategist.opponent.checkpoint import load_model, save_model
from strategist.opponent.frequency import FrequencyModel
from strategist.opponent.markov import MarkovModel
from strategist.opponent.neural import NeuralConfig, NeuralModel

KINDS = {"frequency": FrequencyModel, "markov": MarkovModel, "neural": NeuralModel}


def fit_model(kind: str, table, sport=None, **kwargs) -> OpponentModel:
    """Fit a model of ``kind`` (``frequency``, ``markov``, ``neural``) on a canonical table; ``kwargs`` go to
    the model (e.g. ``order=2``, or a :class:`NeuralConfig`'s fields) and, for ``neural``, to the trainer
    (``out``, ``device``, ``progress``, ``valid``, ``max_steps``, ``time_budget``)."""
    from strategist.errors import OpponentModelError

    if kind not in KINDS:
        raise OpponentModelError(f"unknown model kind {kind!r}; expected one of {sorted(KINDS)}")
    if sport is None:
        sports = sorted(set(map(str, table["sport"].dropna().unique()))) if "sport" in table else []
        sport = sports[0] if len(sports) == 1 else "badminton"
    if kind == "neural":
        trainer = {k: kwargs.pop(k) for k in ("out", "device", "progress", "valid", "max_steps", "time_budget",
                                               "resume", "log", "split", "threads") if k in kwargs}
        return NeuralModel(sport, **kwargs).fit(table, **trainer)
    return KINDS[kind](sport, **kwargs).fit(table)


__all__ = ["Context", "FrequencyModel", "History", "KINDS", "MarkovModel", "NeuralConfig", "NeuralModel",
           "OpponentModel", "Vocabulary", "fit_model", "load_model", "next_state", "rally_frame", "save_model"]
