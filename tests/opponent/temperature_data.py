"""Logits of known miscalibration for the temperature tests, and the bootstrap of the temperature fit done the
plain way (each replicate refitted on the matches' rows repeated by its multinomial counts)."""

from __future__ import annotations

import numpy as np

from strategist.opponent.neural import _softmax, fit_temperature


def clustered(scale: float, matches: int = 12, per_match: int = 300, seed: int = 0):
    """Logits ``scale`` times too sharp (the fitted temperature is about ``scale``), targets, match ids."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=(matches * per_match, 5)) * 1.5
    y = np.array([rng.choice(5, p=_softmax(row)) for row in truth])
    return truth * scale, y, np.repeat(np.arange(matches), per_match)


def bootstrap_refits(z, y, matches, replicates: int, seed: int) -> list[float]:
    """The temperature of each bootstrap replicate over the matches, drawn as ``temperature_interval`` draws
    them (``default_rng(seed).multinomial``), fitted directly on the repeated rows."""
    ids = np.unique(matches)
    weights = np.random.default_rng(seed).multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=replicates)
    refits = []
    for w in weights:
        rows = np.concatenate([np.repeat(np.flatnonzero(matches == m), k) for m, k in zip(ids, w)])
        refits.append(fit_temperature(z[rows], y[rows]))
    return refits
