"""The choice of a temperature: how many validation matches it needs (three by default, three enough), what the
record says when there are too few, and that the interval it rests on is the bootstrap's at the level and seed
asked for, the same on every call."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.opponent.neural import choose_temperature, fit_temperature, temperature_interval

from .temperature_data import bootstrap_refits, clustered


def _clustered(scale: float, matches: int, per_match: int = 120, seed: int = 0):
    return clustered(scale, matches, per_match, seed)


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


def test_the_record_of_an_applied_temperature_says_the_matches_agree():
    z, y, m = _clustered(2.0, 6, per_match=200)
    choice = choose_temperature(z, y, m)
    low, high = choice["interval"]
    assert choice["applied"] and choice["matches"] == 6 and low > 1
    assert choice["reason"] == f"the validation matches agree: 90 % interval [{low:.3f}, {high:.3f}] excludes 1"
    honest = choose_temperature(*_clustered(1.0, 6, per_match=200))
    low, high = honest["interval"]
    assert honest["reason"] == f"the validation matches disagree: 90 % interval [{low:.3f}, {high:.3f}] holds 1"


def test_the_fit_ignores_a_constant_added_to_a_rows_logits_however_large():
    """Softmax does not change when a row's logits all move by one constant: neither does the fit, nor the
    bootstrap's interval, with rows moved by 0 or by 1000 (no overflow, no underflow)."""
    z, y, m = _clustered(1.5, 4)
    shift = np.where(np.arange(len(y)) % 2 == 0, 0.0, 1000.0)[:, None]
    assert fit_temperature(z + shift, y) == pytest.approx(fit_temperature(z, y), rel=1e-6)
    assert temperature_interval(z + shift, y, m, seed=2) == pytest.approx(temperature_interval(z, y, m, seed=2),
                                                                           rel=1e-6)


def test_the_fit_warns_of_nothing():
    import warnings

    z, y, _ = _clustered(1.5, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_temperature(z, y)


def test_the_intervals_defaults_are_the_documented_ones():
    z, y, m = _clustered(1.2, 5)
    assert temperature_interval(z, y, m) == temperature_interval(z, y, m, level=0.9, replicates=200, seed=0,
                                                                 grid=241)


@pytest.mark.parametrize("off", [1 / 5, 5.0])
def test_the_bootstrap_grid_spans_a_factor_three_either_side_of_the_fit_it_is_given(off):
    """Replicates are refitted on a grid of temperatures from fitted / 3 to fitted * 3: given a fit five times too
    small (or large), every replicate lands exactly on the grid's upper (lower) end."""
    z, y, m = _clustered(1.5, 5)
    fitted = fit_temperature(z, y) * off
    low, high = temperature_interval(z, y, m, fitted=fitted)
    edge = fitted * 3 if off < 1 else fitted / 3
    assert low == pytest.approx(edge, rel=1e-9) and high == pytest.approx(edge, rel=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_replicates_fit_is_refined_between_grid_points(seed):
    """The grid's points are 0.9 % apart; the parabola through the three nearest puts each replicate's fit within
    0.02 % of a direct refit of that replicate's rows (five replicates: the quartiles are order statistics)."""
    z, y, m = _clustered(1.5, 5)
    low, high = temperature_interval(z, y, m, level=0.5, replicates=5, seed=seed)
    refits = bootstrap_refits(z, y, m, replicates=5, seed=seed)
    assert low == pytest.approx(np.percentile(refits, 25), rel=2e-4)
    assert high == pytest.approx(np.percentile(refits, 75), rel=2e-4)


def test_a_replicate_on_a_stretch_that_is_not_convex_keeps_its_grid_point():
    """Given a fit twenty times too large, the loss rises over the whole grid and bends down: the minimum stays at
    the grid's second point (the lowest one a parabola can be centred on), not moved by a parabola that has no
    minimum there."""
    z, y, m = _clustered(1.5, 5)
    fitted = fit_temperature(z, y) * 20
    step = 2 * np.log(3.0) / 240
    low, high = temperature_interval(z, y, m, fitted=fitted)
    second = fitted / 3 * np.exp(step)
    assert low == pytest.approx(second, rel=1e-9) and high == pytest.approx(second, rel=1e-9)
