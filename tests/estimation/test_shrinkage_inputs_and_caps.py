"""What shrinkage accepts and refuses (missing values, float32 arrays, targets outside (0, 1)), the centres and
centre trials of batches, and which strength cap applies to which prior."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.errors import EstimationError
from strategist.estimation import shrinkage
from strategist.estimation.shrinkage import center_trials, posterior, prior_center, shrink

W = np.array([[3.0, 7.0, 0.0], [10.0, 2.0, 5.0]])
N = np.array([[10.0, 9.0, 0.0], [20.0, 8.0, 5.0]])


def test_a_missing_count_is_refused_with_the_package_error():
    with pytest.raises(EstimationError, match="0 <= wins <= counts"):
        shrink([[3, 0]], [[10, None]], prior=2.0)


@pytest.mark.parametrize("wins", [[[3, None]], [[3, np.nan]], [[np.inf, 2]]])
def test_a_missing_or_infinite_win_count_is_refused_with_the_package_error(wins):
    with pytest.raises(EstimationError, match="wins and counts must be finite"):
        shrink(wins, [[10, 4]], prior=2.0)


def test_a_missing_strength_is_refused_with_the_package_error():
    with pytest.raises(EstimationError, match="strength"):
        posterior(W, N, 0.4, None)


def test_a_target_with_a_missing_cell_is_refused_with_the_package_error():
    with pytest.raises(EstimationError, match="strictly between 0 and 1"):
        shrink(W, N, target=[[0.2, 0.5, None], [0.6, 0.4, 0.1]], prior=4.0)


def test_a_cap_with_a_missing_cell_is_refused_with_the_package_error():
    with pytest.raises(EstimationError, match="strength"):
        shrink(W, N, prior=4.0, cap=[[2, 2, None], [2, 2, 2]])


@pytest.mark.parametrize("bad", [0.0, 1.0])
def test_a_target_outside_zero_one_is_refused_before_any_strength_is_fitted(bad, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("the strength was fitted before the target was checked")

    monkeypatch.setattr(shrinkage, "fit_strength", no_fit)
    target = np.array([[0.2, 0.5, 0.9], [0.6, 0.4, bad]])
    for prior in ("marginal", "moments"):
        with pytest.raises(EstimationError, match="strictly between 0 and 1"):
            shrink(W, N, target=target, prior=prior)


def test_a_float32_centre_gives_the_float64_posterior():
    c32 = np.float32(0.1)                         # 1 − c is not a float32 number
    c = float(c32)
    out = posterior(W, N, c32, 7.0)
    np.testing.assert_allclose(out.alpha, W + 7.0 * c, rtol=1e-15)
    np.testing.assert_allclose(out.beta, N - W + 7.0 * (1.0 - c), rtol=1e-15)
    np.testing.assert_allclose(out.mean, (W + 7.0 * c) / (N + 7.0), rtol=1e-14)


def test_centre_trials_of_float32_counts_are_exact():
    """2**24 + 2 is not a float32 number: the totals are counted in float64."""
    counts = np.array([[2.0 ** 24, 1.0], [3.0, 4.0]], dtype=np.float32)
    trials = center_trials(counts, "row")
    assert trials.dtype == np.float64
    np.testing.assert_array_equal(trials, [[2.0 ** 24 + 2, 2.0 ** 24 + 2], [8.0, 8.0]])


def test_row_centre_trials_of_a_batch_count_each_members_rows():
    batch = np.stack([N, 2 * N])                  # (2, 2, 3): rows of 19 and 33 trials, then 38 and 66
    np.testing.assert_array_equal(center_trials(batch, "row"),
                                  [[[20.0] * 3, [34.0] * 3], [[39.0] * 3, [67.0] * 3]])


def test_column_centres_of_a_batch_are_each_members_own():
    batch_w, batch_n = np.stack([W, 2 * W[::-1]]), np.stack([N, 3 * N[::-1]])
    out = prior_center(batch_w, batch_n, "column")
    assert out.shape == (2, 2, 3)
    for k in range(2):
        w, n = batch_w[k], batch_n[k]
        pop = (w.sum() + 0.5) / (n.sum() + 1.0)
        by_hand = [(w[:, j].sum() + pop) / (n[:, j].sum() + 1.0) for j in range(3)]
        np.testing.assert_allclose(out[k], [by_hand, by_hand], rtol=1e-15)


def _cell_strength(out, n):
    return out.posterior.alpha + out.posterior.beta - n


def test_an_empirical_bayes_strength_toward_a_given_matrix_is_not_capped():
    """No spread beyond noise: the moments fit pools completely (the upper bound); toward a given matrix no
    centre trials exist to cap it, so every cell keeps the full strength."""
    w, n = np.full((2, 3), 5.0), np.full((2, 3), 10.0)
    out = shrink(w, n, target=np.full((2, 3), 0.5), prior="moments")
    assert out.strength == shrinkage.STRENGTH_BOUNDS[1]
    np.testing.assert_allclose(_cell_strength(out, n), shrinkage.STRENGTH_BOUNDS[1], rtol=1e-9)


def test_a_cap_passed_in_replaces_the_centre_trials():
    w, n = np.full((2, 3), 5.0), np.full((2, 3), 10.0)
    out = shrink(w, n, target="row", prior="moments", cap=2.0)        # the row centres stand on 31 trials
    assert out.strength == shrinkage.STRENGTH_BOUNDS[1]
    np.testing.assert_allclose(_cell_strength(out, n), 2.0, rtol=1e-12)
