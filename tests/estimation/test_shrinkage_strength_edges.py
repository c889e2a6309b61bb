"""The empirical-Bayes strength at its edges: the moments estimator where its denominator is small or zero,
its clipping to the bounds and the ``at_bound`` flag on either side of its thresholds, no warnings from the
degenerate cases, and the marginal fit on separated cells, on matrices without trials and on batches whose
members lack some cells."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize, stats

from strategist.estimation.shrinkage import STRENGTH_BOUNDS, fit_strength, prior_center, shrink

LOW, HIGH = STRENGTH_BOUNDS


def _moments_by_hand(w, n, c):
    """s = 1/ρ̂ − 1 with ρ̂ = Σ[(w/n − c)² − c(1 − c)/n] / Σ c(1 − c)(n − 1)/n over cells with trials, clipped."""
    num = den = 0.0
    for wi, ni, ci in zip(np.ravel(w), np.ravel(n), np.ravel(np.broadcast_to(c, np.shape(w)))):
        if ni > 0:
            var = ci * (1 - ci)
            num += (wi / ni - ci) ** 2 - var / ni
            den += var * (ni - 1) / ni
    rho = num / den if den > 0 else 0.0
    s = 1 / rho - 1 if rho > 0 else HIGH
    return min(max(s, LOW), HIGH)


def test_a_small_denominator_is_still_used():
    """Three cells of two trials at centre ½: numerator 0.125 + 0.125 − 0.125, denominator 3 · 0.125 = 0.375
    (below one), so ρ̂ = 1/3 and s = 2."""
    w, n = np.array([[2.0, 0.0, 1.0]]), np.full((1, 3), 2.0)
    assert fit_strength(w, n, 0.5, "moments") == pytest.approx(2.0, rel=1e-12)
    assert _moments_by_hand(w, n, 0.5) == pytest.approx(2.0, rel=1e-12)


def test_a_moments_estimate_below_the_lower_bound_is_clipped_to_it_and_flagged():
    """Two cells of two trials, one all won, one all lost, at centre ½: ρ̂ = 0.25 / 0.25 = 1, s = 1/ρ̂ − 1 = 0,
    clipped up to the lower bound, which the fit flags."""
    w, n = np.array([[2.0, 0.0]]), np.full((1, 2), 2.0)
    assert fit_strength(w, n, 0.5, "moments") == LOW
    out = shrink(w, n, target=np.full((1, 2), 0.5), prior="moments")
    assert out.strength == LOW and out.at_bound is True
    np.testing.assert_allclose(out.posterior.alpha + out.posterior.beta - n, LOW, rtol=1e-12)


def test_a_strength_just_above_the_lower_threshold_is_not_flagged():
    """100 cells of two trials at centre ½, 99 all won or all lost and one split: ρ̂ = 98/100, s = 1/0.98 − 1
    ≈ 0.0204, above 1.5 × the lower bound, so not at the bound."""
    w = np.array([2.0, 0.0] * 49 + [2.0, 1.0]).reshape(10, 10)
    n = np.full((10, 10), 2.0)
    out = shrink(w, n, target=np.full((10, 10), 0.5), prior="moments")
    assert out.strength == pytest.approx(1 / 0.98 - 1, rel=1e-12)
    assert out.strength > 1.5 * LOW and out.at_bound is False


def test_single_trials_pool_completely_even_away_from_their_centre():
    """Cells of one trial have n − 1 = 0: no information on spread, whatever the numerator (here > 0: every
    trial won against a centre of 0.2)."""
    w, n = np.ones((2, 2)), np.ones((2, 2))
    assert fit_strength(w, n, 0.2, "moments") == HIGH
    assert _moments_by_hand(w, n, 0.2) == HIGH


def test_an_excess_variance_below_the_smallest_float_still_pools_completely():
    """Eleven cells whose terms are exactly zero ((3/4 − ½)² = ¼/4) and one single trial at the smallest
    positive centre: ρ̂ = −5e-324 / 2.0625 rounds to −0.0, not a positive ρ: complete pooling, as for any ρ̂ <= 0."""
    w = np.array([[3.0] * 11 + [0.0]])
    n = np.array([[4.0] * 11 + [1.0]])
    c = np.array([[0.5] * 11 + [5e-324]])
    assert fit_strength(w, n, c, "moments") == HIGH


def _centre_for_strength(s_target):
    """A centre c for one cell of 1 win in 4,000,000 trials whose moments strength is near ``s_target``."""
    w, n = 1.0, 4e6

    def excess(c):
        var = c * (1 - c)
        rho = ((w / n - c) ** 2 - var / n) / (var * (n - 1) / n)
        return 1 / rho - 1 - s_target

    return optimize.brentq(excess, 1.5e-6, 4e-6, xtol=1e-30)


def test_the_upper_flag_starts_at_the_bound_over_one_and_a_half():
    # 1 win in 4e6 trials with this centre gives a moments strength of exactly 1e6 / 1.5 in float64 (found by a
    # search over centres): the threshold itself counts as at the bound.
    exact = shrink([[1.0]], [[4e6]], target=[[2.2218639516548306e-06]], prior="moments")
    assert exact.strength == HIGH / 1.5
    assert exact.at_bound is True
    # a strength of about 5e5 is well inside the bounds
    c = _centre_for_strength(5e5)
    below = shrink([[1.0]], [[4e6]], target=[[c]], prior="moments")
    assert below.strength == pytest.approx(_moments_by_hand([[1.0]], [[4e6]], c), rel=1e-9)
    assert below.strength == pytest.approx(5e5, rel=1e-6)
    assert below.at_bound is False


@pytest.mark.parametrize("w, n, c", [
    (np.array([[3.0, 0.0]]), np.array([[10.0, 0.0]]), 0.4),          # a cell without trials
    (np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((2, 2)), 0.5),      # single trials: ρ̂ = 0 / 0
    (np.ones((2, 2)), np.ones((2, 2)), 0.2),                         # single trials: ρ̂ = positive / 0
    (np.array([[3.0, 1.0]]), np.array([[4.0, 4.0]]), 0.5),           # terms exactly 0: ρ̂ = 0, 1/ρ̂
    (np.zeros((2, 2)), np.zeros((2, 2)), 0.5),                       # no trials at all
])
def test_degenerate_moments_fits_raise_no_warnings(w, n, c):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = fit_strength(w, n, c, "moments")
    assert LOW <= s <= HIGH


def test_a_float32_centre_gives_the_float64_moments_strength():
    rng = np.random.default_rng(4)
    n = rng.integers(2, 30, size=(4, 5)).astype(float)
    w = rng.binomial(n.astype(int), rng.beta(2, 3, size=(4, 5))).astype(float)
    c32 = prior_center(w, n, "row").astype(np.float32)
    expected = _moments_by_hand(w, n, c32.astype(np.float64))
    assert LOW < expected < HIGH
    assert fit_strength(w, n, c32, "moments") == pytest.approx(expected, rel=1e-13)


def _marginal_by_scipy(w, n, c):
    def negative(log_s):
        s = np.exp(log_s)
        used = n > 0
        return -stats.betabinom.logpmf(w[used], n[used], (s * c)[used], (s * (1 - c))[used]).sum()

    return np.exp(optimize.minimize_scalar(negative, bounds=(np.log(LOW), np.log(HIGH)), method="bounded",
                                           options={"xatol": 1e-9}).x)


def test_completely_separated_cells_give_the_lower_bound():
    """Every cell all won or all lost: the marginal likelihood rises as the strength falls, so the fit ends at
    the lower bound, flagged."""
    w = np.array([[20.0, 0.0, 20.0, 0.0], [0.0, 20.0, 0.0, 20.0]])
    n = np.full((2, 4), 20.0)
    s = fit_strength(w, n, 0.5)
    assert s == pytest.approx(LOW, rel=1e-5)
    out = shrink(w, n, target=np.full((2, 4), 0.5))
    assert out.at_bound is True and out.strength == pytest.approx(LOW, rel=1e-5)


def test_a_matrix_without_any_trial_keeps_its_prior_with_one_strength():
    out = shrink(np.zeros((2, 3)), np.zeros((2, 3)), target="population")
    assert isinstance(out.strength, float) and LOW <= out.strength <= HIGH
    assert out.mean.shape == (2, 3)
    np.testing.assert_array_equal(out.mean, np.full((2, 3), 0.5))       # the population centre (0 + ½)/(0 + 1)
    s = fit_strength(np.zeros((2, 3)), np.zeros((2, 3)), 0.5)
    assert np.shape(s) == ()


@pytest.mark.parametrize("method", ["marginal", "moments"])
def test_without_any_trial_the_strength_sits_at_a_bound_and_is_flagged(method):
    """No data, no information on the strength: the likelihood is flat (marginal) or ρ̂ = 0/0 (moments), and
    either fit ends at a bound of the search, flagged, rather than at an interior value that looks estimated."""
    out = shrink(np.zeros((2, 3)), np.zeros((2, 3)), target="population", prior=method)
    assert out.strength == pytest.approx(LOW, rel=1e-5) or out.strength == pytest.approx(HIGH, rel=1e-5)
    assert out.at_bound is True


def _cells(seed, a=3.0, b=2.0, shape=(6, 8)):
    rng = np.random.default_rng(seed)
    n = rng.integers(3, 25, size=shape).astype(float)
    w = rng.binomial(n.astype(int), rng.beta(a, b, size=shape)).astype(float)
    return w, n


def test_a_batch_with_a_cell_empty_everywhere_fits_each_member_as_alone():
    (w1, n1), (w2, n2) = _cells(1), _cells(2, 6.0, 4.0)
    for w, n in ((w1, n1), (w2, n2)):
        w[0, 0] = n[0, 0] = 0.0                          # the same cell has no trials in either member
    c = 0.6
    batch = fit_strength(np.stack([w1, w2]), np.stack([n1, n2]), c)
    assert batch.shape == (2,)
    for k, (w, n) in enumerate(((w1, n1), (w2, n2))):
        assert batch[k] == pytest.approx(fit_strength(w, n, c), rel=1e-6)
        assert batch[k] == pytest.approx(_marginal_by_scipy(w, n, np.full(w.shape, c)), rel=1e-4)


def test_a_batch_member_without_trials_leaves_the_others_as_fitted_alone():
    w1, n1 = _cells(3)
    batch = fit_strength(np.stack([w1, np.zeros_like(w1)]), np.stack([n1, np.zeros_like(n1)]), 0.6)
    assert batch.shape == (2,)
    assert batch[0] == pytest.approx(fit_strength(w1, n1, 0.6), rel=1e-6)
    assert LOW <= batch[1] <= HIGH


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")  # the masked inf − inf
def test_a_cell_without_trials_in_one_member_adds_nothing_even_at_the_smallest_centre():
    """Member 0 has no trials in cell (0, 0), member 1 has; member 0's centre there is the smallest positive
    float, where s·c underflows to 0 for s < ½ and the beta-binomial term would be inf − inf. The empty cell
    must add nothing: member 0 fits as it does alone."""
    (w0, n0), (w1, n1) = _cells(5), _cells(6)
    w0[0, 0] = n0[0, 0] = 0.0
    c = np.full((2,) + w0.shape, 0.6)
    c[0, 0, 0] = 5e-324
    batch = fit_strength(np.stack([w0, w1]), np.stack([n0, n1]), c)
    assert batch[0] == pytest.approx(fit_strength(w0, n0, c[0]), rel=1e-6)
    assert batch[0] == pytest.approx(_marginal_by_scipy(w0, n0, np.full(w0.shape, 0.6)), rel=1e-4)
    assert batch[1] == pytest.approx(fit_strength(w1, n1, c[1]), rel=1e-6)
