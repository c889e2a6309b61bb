"""Scores of an opponent model on held-out matches: log-loss, top-1 / top-3 accuracy, calibration.

Protocol (the one of the ShuttleSet README's reference numbers): every stroke that has a stroke before it
in its rally is predicted from the strokes before it (the serve, stroke 1, is not scored). Scores are
given over all such strokes and split by whether the player who hits that stroke (the opponent being
predicted) appears in the model's training data ("seen") or not ("unseen"). Expected calibration error
(ECE): strokes binned by the top-1 probability into ``bins`` equal-width bins; Σ_bins (n_b / n) ·
|accuracy_b − confidence_b|.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from strategist.errors import OpponentModelError
from strategist.opponent.base import OpponentModel, positions_in_rally, rally_frame


def scores(probs: np.ndarray, targets: np.ndarray, bins: int = 15) -> dict:
    """``log_loss`` (nats), ``top1``, ``top3``, ``ece``, ``n`` of probability rows against target indices."""
    n = len(targets)
    if n == 0:
        return {"log_loss": None, "top1": None, "top3": None, "ece": None, "n": 0}
    p_true = np.clip(probs[np.arange(n), targets], 1e-12, 1.0)
    top3 = np.argsort(-probs, axis=1)[:, :3]
    conf = probs.max(1)
    correct = probs.argmax(1) == targets
    return {"log_loss": float(-np.log(p_true).mean()), "top1": float(correct.mean()),
            "top3": float((top3 == targets[:, None]).any(1).mean()), "ece": float(ece(conf, correct, bins)),
            "n": int(n)}


def reliability(conf: np.ndarray, correct: np.ndarray, bins: int = 15) -> list[dict]:
    """Per confidence bin: its range, count, mean confidence and accuracy (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            out.append({"low": float(edges[b]), "high": float(edges[b + 1]), "n": int(sel.sum()),
                        "confidence": float(conf[sel].mean()), "accuracy": float(correct[sel].mean())})
    return out


def ece(conf: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    n = len(conf)
    return sum(r["n"] / n * abs(r["accuracy"] - r["confidence"]) for r in reliability(conf, correct, bins))


def held_out(model: OpponentModel, table: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``table`` from matches the model did not learn from (its recorded train/valid matches)."""
    used = set()
    if model.split_:
        used = set(model.split_.get("train", [])) | set(model.split_.get("valid", []))
    out = table[~table["match_id"].astype(str).isin(used)]
    if len(out) == 0:
        raise OpponentModelError("every match of the data was used to train the model; nothing is held out")
    return out


def evaluate(model: OpponentModel, table: pd.DataFrame, *, adapt: bool = False, bins: int = 15,
             only_held_out: bool = True) -> dict:
    """Scores on the held-out matches of ``table`` (see module docstring); ``adapt``: with in-match updates
    (:func:`strategist.opponent.adapt.predict_in_match`). Adds ``seen`` / ``unseen`` and ``reliability``."""
    from strategist.opponent.adapt import predict_in_match

    data = held_out(model, table) if only_held_out else table
    frame = rally_frame(data)
    probs = predict_in_match(model, frame) if adapt else model.predict_table(frame)
    targets = np.asarray(model.vocabulary.shot_ids(frame["shot"].tolist(), where="data"))
    scored = positions_in_rally(frame) >= 1
    seen = frame["hitter"].astype(str).isin(model.players_).to_numpy()
    out = scores(probs[scored], targets[scored], bins)
    out["seen"] = scores(probs[scored & seen], targets[scored & seen], bins)
    out["unseen"] = scores(probs[scored & ~seen], targets[scored & ~seen], bins)
    p = probs[scored]
    out["reliability"] = reliability(p.max(1), p.argmax(1) == targets[scored], bins)
    out["matches"] = int(frame["match_id"].nunique())
    out["unseen_players"] = sorted(set(frame["hitter"].astype(str)) - model.players_)
    out["adapt"] = bool(adapt)
    out["model"] = model.kind
    return out


def reliability_plot(result: dict, path, title: str = "") -> Path:
    """Reliability diagram (accuracy against confidence, bar width = bin, with counts) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.4), dpi=120)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    rows = result["reliability"]
    ax.bar([r["low"] for r in rows], [r["accuracy"] for r in rows], width=[r["high"] - r["low"] for r in rows],
           align="edge", alpha=0.6, edgecolor="k", label="accuracy in bin")
    ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], "o-", color="C1", ms=3,
            label="(mean confidence, accuracy)")
    ax.set_xlabel("top-1 probability")
    ax.set_ylabel("top-1 accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title or f"{result['model']}: ECE {result['ece']:.3f}, n = {result['n']}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
