"""Choosing an opponent model by evidence: fit the candidates, keep the one with the lowest held-out log-loss.

Candidates are named as :func:`strategist.opponent.fit_model` takes them (``markov1``, ``markov2``,
``markov3``, ``frequency``, ``neural``). Each is fitted on the training matches and scored on the validation
matches (whole matches, the SHA-1 rank rule) by the protocol of :mod:`strategist.opponent.evaluate`: the
log-loss of every stroke that has one before it in its rally. The count model chosen is then refitted on the
training and validation matches together; the neural model keeps its weights (it used the validation
matches for early stopping and its temperature, a slight advantage the report states). The test matches are
never looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from strategist.errors import OpponentModelError
from strategist.opponent.base import OpponentModel, positions_in_rally, rally_frame
from strategist.opponent.evaluate import scores
from strategist.opponent.split import Split, select

#: What ``--model auto`` tries by default.
CANDIDATES = ("markov1", "markov2", "markov3", "frequency", "neural")


@dataclass
class Choice:
    """The model kept, the candidates' validation scores (``log_loss``, ``top1``, ``n`` each) and why."""

    model: OpponentModel
    kind: str
    scores: dict[str, dict] = field(default_factory=dict)
    reason: str = ""

    def to_json(self) -> dict:
        return {"chosen": self.kind, "reason": self.reason, "candidates": self.scores}


def validation_scores(model: OpponentModel, valid: pd.DataFrame) -> dict:
    """``log_loss``, ``top1`` and ``n`` of ``model`` on the scored strokes of ``valid``."""
    frame = rally_frame(valid)
    probs = model.predict_table(frame)
    targets = model.vocabulary.shot_codes(frame["shot"], where="validation matches")
    scored = positions_in_rally(frame) >= 1
    s = scores(probs[scored], targets[scored])
    return {"log_loss": s["log_loss"], "top1": s["top1"], "n": s["n"]}


def choose_model(table: pd.DataFrame, split: Split, *, sport=None, candidates=CANDIDATES, neural: dict | None = None,
                 progress=None) -> Choice:
    """Fit every candidate on ``split.train``, score it on ``split.valid``, keep the best (module docstring).
    ``neural``: keyword arguments of the neural model's fit (``max_steps``, ``device``, ...) and
    configuration; ``progress``: a callable receiving one line per candidate."""
    from strategist.opponent import fit_model

    if len(split.valid) == 0 or len(split.train) == 0:
        raise OpponentModelError("choosing a model needs training and validation matches: at least 3 matches "
                                 "in the data")
    train, valid = select(table, split.train), select(table, split.valid)
    found: dict[str, tuple[OpponentModel, dict]] = {}
    for kind in candidates:
        options = dict(neural or {}, valid=valid) if kind == "neural" else {}
        model = fit_model(kind, train, sport=sport, **options)
        found[kind] = (model, validation_scores(model, valid))
        if progress is not None:
            s = found[kind][1]
            progress(f"{kind}: validation log-loss {s['log_loss']:.4f}, top-1 {s['top1']:.3f} ({s['n']} strokes)")
    best = min(found, key=lambda k: (found[k][1]["log_loss"], k))
    reason = _reason(best, {k: s for k, (_, s) in found.items()}, len(split.valid))
    model = found[best][0]
    if best != "neural":
        model = fit_model(best, select(table, list(split.train) + list(split.valid)), sport=sport)
    return Choice(model=model, kind=best, scores={k: s for k, (_, s) in found.items()}, reason=reason)


def _reason(best: str, found: dict[str, dict], n_matches: int) -> str:
    others = sorted((k for k in found if k != best), key=lambda k: found[k]["log_loss"])
    against = ", ".join(f"{k} {found[k]['log_loss']:.4f}" for k in others)
    text = (f"{best}: the lowest log-loss on the {n_matches} validation matches ({found[best]['n']} strokes): "
            f"{found[best]['log_loss']:.4f} nats, top-1 {found[best]['top1']:.1%}" + (f"; against {against}" if
                                                                                      against else ""))
    if best == "neural":
        text += " (the neural model also used these matches to stop early and set its temperature)"
    else:
        text += "; refitted on the training and validation matches"
    return text


def parse_kind(name: str) -> tuple[str, dict]:
    """``("markov", {"order": 2})`` for ``"markov2"``; other kinds as they are, with no options."""
    text = str(name).strip().lower()
    if text.startswith("markov") and text[6:].isdigit():
        order = int(text[6:])
        if not 1 <= order <= 8:
            raise OpponentModelError(f"model {name!r}: a Markov order from 1 to 8")
        return "markov", {"order": order}
    return text, {}

