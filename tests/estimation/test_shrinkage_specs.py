"""Prior specifications read as written, shrinkage toward a given matrix, the strength's cap and bounds, and the
moments estimator against its formula computed cell by cell."""

from __future__ import annotations

import math

import numpy as np
import pytest

from strategist.errors import EstimationError
from strategist.estimation.shrinkage import (STRENGTH_BOUNDS, PriorSpec, center_trials, fit_strength, parse_prior,
                                             prior_center, shrink)

W = np.array([[3.0, 7.0, 0.0], [10.0, 2.0, 5.0]])
N = np.array([[10.0, 9.0, 0.0], [20.0, 8.0, 5.0]])


@pytest.mark.parametrize("prior, spec", [
    ({"a": 2, "b": 6}, PriorSpec("given", 8.0, 0.25)),
    ({"mean": 0.3, "strength": 10}, PriorSpec("given", 10.0, 0.3)),
    ({"strength": 5}, PriorSpec("given", 5.0, None)),
    ({"strength": 5, "mean": None}, PriorSpec("given", 5.0, None)),
    ((0.4, 12), PriorSpec("given", 12.0, 0.4)),
    ([0.4, 12], PriorSpec("given", 12.0, 0.4)),
    ("7.5", PriorSpec("given", 7.5, None)),
    (3, PriorSpec("given", 3.0, None)),
    (np.float64(2.5), PriorSpec("given", 2.5, None)),
    (" Moments ", PriorSpec("moments")),
    (None, PriorSpec("marginal")),
    (PriorSpec("moments"), PriorSpec("moments")),
])
def test_prior_forms_read_as_written(prior, spec):
    assert parse_prior(prior) == spec


@pytest.mark.parametrize("prior, message", [
    ({"a": 0, "b": 1}, "a > 0 and b > 0"), ({"a": 1, "b": 0}, "a > 0 and b > 0"), ({"a": -1, "b": 2}, "a > 0"),
    ({"a": 1}, "keys a, b or mean, strength"), ({"mean": 0.3}, "keys a, b or mean, strength"),
    ({"mean": 0.5, "strength": 2, "x": 1}, "keys a, b or mean, strength"),
    ({"a": "x", "b": 1}, "prior a must be a number"), ({"a": 1, "b": "y"}, "prior b must be a number"),
    ({"strength": "s"}, "prior strength must be a number"), ({"mean": "m", "strength": 2}, "prior mean must be"),
    ((float("nan"), 3), "prior mean must be finite"), ((0.5, float("inf")), "prior strength must be finite"),
    ({"mean": 1.0, "strength": 3}, "strictly between 0 and 1"), ({"mean": 0.0, "strength": 3}, "strictly between"),
    ({"strength": 0}, "strength must be a finite number > 0"), (PriorSpec("given"), "strength must be"),
    (PriorSpec("bogus"), "prior method 'bogus'"), (True, "not understood"), ("sharp", "not understood"),
    ((1,), "not understood"),
])
def test_bad_priors_are_refused_naming_what_is_wrong(prior, message):
    with pytest.raises(EstimationError, match=message):
        parse_prior(prior)


def test_a_prior_describes_itself():
    assert parse_prior({"a": 2, "b": 6}).describe() == "strength 8, mean 0.25"
    assert parse_prior(5).describe() == "strength 5"
    assert parse_prior("moments").describe() == "strength by empirical Bayes (moments)"


def test_shrinking_toward_a_given_matrix_with_a_given_strength():
    """Posterior mean (w + s·c) / (n + s), cell by cell, against the formula in float64 loops; no cap applies
    to a given strength unless one is passed."""
    target = np.array([[0.2, 0.5, 0.9], [0.6, 0.4, 0.1]])
    out = shrink(W, N, target=target, prior=4.0)
    assert out.method == "given" and out.strength == 4.0 and out.at_bound is False
    np.testing.assert_array_equal(out.center, target)
    for i in range(2):
        for j in range(3):
            assert out.mean[i, j] == pytest.approx((W[i, j] + 4.0 * target[i, j]) / (N[i, j] + 4.0), rel=1e-14)
    capped = shrink(W, N, target=target, prior=4.0, cap=np.full(W.shape, 1.5))
    assert capped.mean[0, 0] == pytest.approx((3.0 + 1.5 * 0.2) / (10.0 + 1.5), rel=1e-14)
    with pytest.raises(EstimationError, match="strictly between 0 and 1"):
        shrink(W, N, target=np.where(target > 0.8, 1.0, target), prior=4.0)
    with pytest.raises(EstimationError, match="strictly between 0 and 1"):
        shrink(W, N, target=np.where(target < 0.15, 0.0, target), prior=4.0)


def test_a_given_mean_overrides_the_target():
    out = shrink(W, N, target="row", prior={"mean": 0.3, "strength": 2.0})
    np.testing.assert_array_equal(out.center, np.full(W.shape, 0.3))
    assert out.mean[0, 2] == pytest.approx(0.3)                 # the empty cell keeps the prior's mean


def test_an_empirical_bayes_strength_is_capped_at_the_centres_trials():
    """Identical rates (no spread beyond noise): the fit pools completely (the upper bound, flagged), and each
    cell's strength is capped at the trials behind its row's centre (+1)."""
    w = np.array([[5.0, 5.0, 5.0], [5.0, 5.0, 5.0]])
    n = np.full((2, 3), 10.0)
    out = shrink(w, n, target="row")
    assert out.at_bound is True and out.strength >= STRENGTH_BOUNDS[1] / 1.5
    trials = center_trials(n, "row")
    np.testing.assert_array_equal(trials, np.full((2, 3), 31.0))
    post = out.posterior
    np.testing.assert_allclose(post.alpha + post.beta - n, trials, rtol=1e-12)
    spread = shrink(W, N, target="row", prior="moments")
    assert spread.at_bound is (spread.strength <= STRENGTH_BOUNDS[0] * 1.5 or
                               spread.strength >= STRENGTH_BOUNDS[1] / 1.5)


def test_defaults_and_batches():
    assert shrink(W, N).strength == shrink(W, N, target="row", prior="marginal", level=0.95).strength
    default = shrink(W, N)
    assert default.posterior.level == 0.95 and np.isfinite(default.posterior.lower).all()
    assert np.isnan(shrink(W, N, intervals=False).posterior.lower).all()
    batch_w, batch_n = np.stack([W, W[::-1], W]), np.stack([N, N[::-1], N])
    for prior in ("marginal", 6.0):
        out = shrink(batch_w, batch_n, prior=prior)
        assert np.shape(out.strength) == (3,) and np.shape(out.at_bound) == (3,)
        assert out.at_bound.dtype == bool


def _moments_by_hand(w, n, c):
    """ρ̂ = Σ[(w/n − c)² − c(1 − c)/n] / Σ c(1 − c)(n − 1)/n over cells with trials; s = 1/ρ̂ − 1, clipped."""
    num = den = 0.0
    for wi, ni, ci in zip(w.ravel(), n.ravel(), c.ravel()):
        if ni > 0:
            var = ci * (1 - ci)
            num += (wi / ni - ci) ** 2 - var / ni
            den += var * (ni - 1) / ni
    rho = num / den if den > 0 else 0.0
    s = 1 / rho - 1 if rho > 0 else STRENGTH_BOUNDS[1]
    return min(max(s, STRENGTH_BOUNDS[0]), STRENGTH_BOUNDS[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_moments_strength_is_its_formula(seed):
    rng = np.random.default_rng(seed)
    n = rng.integers(0, 30, size=(4, 5)).astype(float)
    p = rng.beta(2, 3, size=(4, 5))
    w = rng.binomial(n.astype(int), p).astype(float)
    c = prior_center(w, n, "row")
    assert fit_strength(w, n, c, "moments") == pytest.approx(_moments_by_hand(w, n, c), rel=1e-12)
    assert fit_strength(w, n, c) == fit_strength(w, n, c, "marginal")


def test_moments_strength_of_single_trials_is_the_upper_bound():
    """Cells of one trial carry no spread information (n − 1 = 0): the estimator pools completely."""
    w, n = np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((2, 2))
    c = prior_center(w, n, "population")
    assert fit_strength(w, n, c, "moments") == STRENGTH_BOUNDS[1]
    assert math.isfinite(fit_strength(w, n, c, "marginal"))


def test_centre_trials_by_hand():
    """The trials behind each cell's centre, +1 for its pseudo-trial: the row's, the column's, everyone's."""
    np.testing.assert_array_equal(center_trials(N, "row"), [[20.0, 20.0, 20.0], [34.0, 34.0, 34.0]])
    np.testing.assert_array_equal(center_trials(N, "column"), [[31.0, 18.0, 6.0], [31.0, 18.0, 6.0]])
    np.testing.assert_array_equal(center_trials(N, "population"), np.full((2, 3), 53.0))
    batch = np.stack([N, 2 * N])
    np.testing.assert_array_equal(center_trials(batch, "column")[1], [[61.0, 35.0, 11.0], [61.0, 35.0, 11.0]])
    np.testing.assert_array_equal(center_trials(batch.astype(int), "population")[1], np.full((2, 3), 105.0))


def test_column_centres_by_hand_and_row_by_default():
    pop = (27.0 + 0.5) / (52.0 + 1.0)
    expected = [(13.0 + pop) / 31.0, (9.0 + pop) / 18.0, (5.0 + pop) / 6.0]
    np.testing.assert_allclose(prior_center(W, N, "column"), [expected, expected], rtol=1e-15)
    np.testing.assert_array_equal(prior_center(W, N), prior_center(W, N, "row"))


@pytest.mark.parametrize("wins, counts", [
    (W, np.where(N == 5.0, -1.0, N)),                # a negative count alone
    (np.where(W == 2.0, -1.0, W), N),                # a negative win alone
    (np.where(W == 7.0, 9.5, W), N),                 # more wins than trials alone
    (W, np.where(N == 20.0, np.inf, N)),             # an infinite count alone
])
def test_each_impossible_count_is_refused(wins, counts):
    with pytest.raises(EstimationError, match="0 <= wins <= counts"):
        shrink(wins, counts, prior=2.0)


def test_posterior_checks_and_batch_strengths():
    from strategist.estimation.shrinkage import posterior

    c = np.full(W.shape, 0.4)
    for level in (0.0, 1.0, 1.5):
        with pytest.raises(EstimationError, match="level"):
            posterior(W, N, c, 2.0, level=level)
    assert posterior(W, N, c, 2.0).level == 0.95
    for bad_center in (0.0, 1.0):
        with pytest.raises(EstimationError, match="strictly between 0 and 1"):
            posterior(W, N, np.full(W.shape, bad_center), 2.0)
    for bad_strength in (0.0, -1.0, np.inf):
        with pytest.raises(EstimationError, match="strength"):
            posterior(W, N, c, bad_strength)
    small = posterior(W, N, c, 0.5)                  # a strength below one pseudo-trial is a strength
    assert small.mean[0, 0] == pytest.approx((3.0 + 0.2) / 10.5)
    batch = posterior(np.stack([W, W]), np.stack([N, N]), np.stack([c, c]), np.array([1.0, 100.0]))
    assert batch.mean[0, 0, 0] == pytest.approx((3.0 + 0.4) / 11.0)
    assert batch.mean[1, 0, 0] == pytest.approx((3.0 + 40.0) / 110.0)


def test_priors_below_one_pseudo_trial_are_priors():
    assert parse_prior({"strength": 0.5}) == PriorSpec("given", 0.5, None)
    assert parse_prior({"a": 0.5, "b": 2}) == PriorSpec("given", 2.5, 0.2)
