"""Beta-binomial shrinkage against hand computations and simulated priors with known parameters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from strategist.errors import EstimationError, StrategistError
from strategist.estimation.shrinkage import (STRENGTH_BOUNDS, fit_strength, parse_prior, posterior, prior_center,
                                             shrink)

WINS = np.array([[3, 0, 7], [5, 2, 0]])
COUNTS = np.array([[10, 0, 9], [5, 8, 1]])


def test_posterior_mean_is_wins_plus_a_over_n_plus_a_plus_b():
    # prior Beta(a, b) with a = s·c = 2, b = s·(1 − c) = 3
    out = posterior(WINS, COUNTS, 0.4, 5.0, level=0.9)
    by_hand = np.array([[(3 + 2) / (10 + 5), 2 / 5, (7 + 2) / (9 + 5)],
                        [(5 + 2) / (5 + 5), (2 + 2) / (8 + 5), 2 / (1 + 5)]])
    np.testing.assert_allclose(out.mean, by_hand, rtol=0, atol=1e-15)
    lo, hi = stats.beta.interval(0.9, WINS + 2.0, COUNTS - WINS + 3.0)
    np.testing.assert_allclose(out.lower, lo, rtol=1e-12)
    np.testing.assert_allclose(out.upper, hi, rtol=1e-12)


def test_empty_cell_keeps_the_prior():
    out = posterior(WINS, COUNTS, 0.4, 5.0, level=0.95)
    assert out.mean[0, 1] == pytest.approx(0.4, abs=1e-15)
    assert (out.lower[0, 1], out.upper[0, 1]) == pytest.approx(stats.beta.interval(0.95, 2.0, 3.0), rel=1e-12)


def test_prior_centres_by_hand():
    w, n = WINS.astype(float), COUNTS.astype(float)
    pop = (w.sum() + 0.5) / (n.sum() + 1)
    np.testing.assert_allclose(prior_center(w, n, "population"), np.full(w.shape, pop))
    rows = (w.sum(1) + pop) / (n.sum(1) + 1)
    np.testing.assert_allclose(prior_center(w, n, "row"), np.repeat(rows[:, None], 3, axis=1))
    cols = (w.sum(0) + pop) / (n.sum(0) + 1)
    np.testing.assert_allclose(prior_center(w, n, "column"), np.repeat(cols[None, :], 2, axis=0))


def test_shrunken_mean_lies_between_raw_rate_and_centre():
    out = shrink(WINS, COUNTS, target="population", prior=4.0)
    raw = np.divide(WINS, COUNTS, out=np.full(WINS.shape, np.nan), where=COUNTS > 0)
    c = out.center
    used = COUNTS > 0
    low, high = np.minimum(raw, c)[used], np.maximum(raw, c)[used]
    assert ((out.mean[used] >= low - 1e-12) & (out.mean[used] <= high + 1e-12)).all()


def _simulated_cells(a: float, b: float, cells: int, seed: int):
    rng = np.random.default_rng(seed)
    p = rng.beta(a, b, size=(cells // 50, 50))
    n = rng.integers(5, 41, size=p.shape)
    return p, rng.binomial(n, p), n


@pytest.mark.parametrize("method", ["marginal", "moments"])
@pytest.mark.parametrize("a,b", [(6.0, 4.0), (1.5, 3.5), (24.0, 16.0)])
def test_strength_recovers_a_known_beta_prior(method, a, b):
    _, w, n = _simulated_cells(a, b, 4000, seed=int(a * 10 + b))
    s = fit_strength(w, n, a / (a + b), method)
    assert s == pytest.approx(a + b, rel=0.2)
    # with the centre estimated from the data as well
    s_pop = shrink(w, n, target="population", prior=method).strength
    assert s_pop == pytest.approx(a + b, rel=0.25)


def test_marginal_strength_matches_a_direct_scipy_maximisation():
    _, w, n = _simulated_cells(3.0, 2.0, 1000, seed=5)
    c = 0.6

    def negative(log_s):
        s = np.exp(log_s)
        return -stats.betabinom.logpmf(w, n, s * c, s * (1 - c)).sum()

    ref = np.exp(optimize.minimize_scalar(negative, bounds=(-4, 12), method="bounded",
                                          options={"xatol": 1e-8}).x)
    assert fit_strength(w, n, c, "marginal") == pytest.approx(ref, rel=1e-4)


def test_intervals_cover_the_true_rates_at_the_nominal_rate():
    p, w, n = _simulated_cells(4.0, 6.0, 5000, seed=11)
    for level in (0.8, 0.95):
        out = shrink(w, n, target="population", prior="marginal", level=level)
        coverage = ((out.posterior.lower <= p) & (p <= out.posterior.upper)).mean()
        assert coverage == pytest.approx(level, abs=0.02)


def test_batch_fit_equals_one_matrix_at_a_time():
    _, w1, n1 = _simulated_cells(6.0, 4.0, 500, seed=1)
    _, w2, n2 = _simulated_cells(2.0, 2.0, 500, seed=2)
    w, n = np.stack([w1, w2]), np.stack([n1, n2])
    for method in ("marginal", "moments"):
        batch = shrink(w, n, target="row", prior=method, intervals=False)
        for k in range(2):
            single = shrink(w[k], n[k], target="row", prior=method, intervals=False)
            assert batch.strength[k] == pytest.approx(single.strength, rel=1e-9)
            np.testing.assert_allclose(batch.mean[k], single.mean, rtol=1e-12)


def test_no_spread_beyond_noise_pools_almost_completely():
    rng = np.random.default_rng(3)
    n = rng.integers(20, 60, size=(30, 30))
    w = rng.binomial(n, 0.55)
    raw_spread = np.ptp(w / n)
    for method in ("marginal", "moments"):
        out = shrink(w, n, target="population", prior=method)
        assert out.strength > 10 * n.max()  # the prior outweighs every cell's data
        assert np.ptp(out.mean) < 0.1 * raw_spread
    rng = np.random.default_rng(0)
    n = rng.integers(20, 60, size=(30, 30))
    w = rng.binomial(n, 0.55)  # here the raw rates spread less than binomial noise
    out = shrink(w, n, target="population", prior="moments")
    assert out.at_bound and out.strength == STRENGTH_BOUNDS[1]


@pytest.mark.parametrize("bad", [-1.0, 0.0, float("nan"), (1.5, 10.0), (0.0, 10.0), (0.5, 0.0), (0.5, -2.0),
                                 {"a": -1.0, "b": 2.0}, {"mean": 2.0, "strength": 3.0}, {"x": 1}, "bogus",
                                 ("a", 3.0), [0.5], True])
def test_bad_priors_raise_one_clear_error(bad):
    with pytest.raises(EstimationError) as info:
        parse_prior(bad)
    assert isinstance(info.value, StrategistError)
    assert "prior" in str(info.value)


def test_valid_prior_forms():
    assert parse_prior("Moments").method == "moments"
    assert parse_prior("12").strength == 12.0
    spec = parse_prior({"a": 3.0, "b": 1.0})
    assert (spec.mean, spec.strength) == (0.75, 4.0)
    out = shrink(WINS, COUNTS, prior=(0.3, 10.0))
    np.testing.assert_allclose(out.mean, (WINS + 3.0) / (COUNTS + 10.0))


def test_inconsistent_counts_raise():
    with pytest.raises(EstimationError):
        shrink([[3, 1]], [[2, 1]])
    with pytest.raises(EstimationError):
        shrink([[1, 1]], [[2, 1, 3]])
    with pytest.raises(EstimationError):
        posterior(WINS, COUNTS, 1.0, 3.0)


def test_two_sided_z_is_the_normal_quantile_of_the_level():
    """1.6449 for 90 %, 1.9600 for 95 % (the normal table), symmetric: P(|Z| <= z) = level."""
    from scipy import stats

    from strategist.estimation.shrinkage import two_sided_z

    assert two_sided_z(0.9) == pytest.approx(1.6448536, abs=1e-6)
    assert two_sided_z(0.95) == pytest.approx(1.9599640, abs=1e-6)
    for level in (0.5, 0.8, 0.99):
        z = two_sided_z(level)
        assert stats.norm.cdf(z) - stats.norm.cdf(-z) == pytest.approx(level, abs=1e-12)
