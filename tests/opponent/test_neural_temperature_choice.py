"""The choice of a temperature: how many validation matches it needs (three by default, three enough), what the
record says when there are too few, and that the interval it rests on is the bootstrap's at the level and seed
asked for, the same on every call."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.opponent.neural import _softmax, choose_temperature, fit_temperature, temperature_interval


def _clustered(scale: float, matches: int, per_match: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=(matches * per_match, 5)) * 1.5
    y = np.array([rng.choice(5, p=_softmax(row)) for row in truth])
    return truth * scale, y, np.repeat(np.arange(matches), per_match)


def test_three_matches_are_enough_by_default_and_two_are_not():
    z, y, m = _clustered(2.0, 3)
    three = choose_temperature(z, y, m)
    assert three["matches"] == 3 and three["interval"][0] is not None
    assert three["interval"] == list(temperature_interval(z, y, m, level=0.9, seed=0))
    z2, y2, m2 = z[m < 2], y[m < 2], m[m < 2]
    two = choose_temperature(z2, y2, m2)
    assert two == {"temperature": 1.0, "fitted_temperature": fit_temperature(z2, y2), "interval": [None, None],
                   "applied": False, "matches": 2,
                   "reason": "2 validation match(es): too few to tell a temperature from chance"}
    assert choose_temperature(z, y, m, min_matches=4)["interval"] == [None, None]


def test_the_interval_is_the_bootstraps_at_the_level_and_seed_asked_and_repeats():
    z, y, m = _clustered(1.3, 5)
    choice = choose_temperature(z, y, m, level=0.5, seed=7)
    assert choice["interval"] == list(temperature_interval(z, y, m, level=0.5, seed=7))
    assert choice == choose_temperature(z, y, m, level=0.5, seed=7)
    assert choice["interval"] != choose_temperature(z, y, m, level=0.5, seed=8)["interval"]
    assert choose_temperature(z, y, m)["interval"] == choose_temperature(z, y, m, seed=0)["interval"]
    assert "50 % interval" in choice["reason"]
