"""Players' strength from their rally record: win probabilities from given ratings (unknown people rated 0),
the fitted ratings' counts and defaults, the prior chosen by its documented folds against a loop written
here, and the level shift's ends."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from strategist.rally.strength import (PRECISIONS, PRIOR_PRECISION, Ratings, choose_precision, fit_ratings,
                                       level_shift)


def test_win_probabilities_from_ratings_with_unknown_people_at_zero():
    r = Ratings(theta=np.array([0.5, -0.2, 1.0]), rallies=np.array([3, 4, 5]))
    assert r.win_probability(0, 1) == pytest.approx(special.expit(0.7))
    assert r.win_probability(1, 0) == pytest.approx(special.expit(-0.7))     # person 0 is a person, not unknown
    assert r.win_probability(2, -1) == pytest.approx(special.expit(1.0))
    assert r.win_probability(-1, 0) == pytest.approx(special.expit(-0.5))
    assert r.win_probability(-1, -1) == 0.5
    np.testing.assert_allclose(r.win_probability_of(np.array([0, 2, 1]), np.array([1, 0, 2])),
                               special.expit(np.array([0.7, 0.5, -1.2])))
    assert r.precision == PRIOR_PRECISION


def _log_posterior_gradient(r, winners, losers, precision):
    """Σ wins − Σ expected wins − λθ per person, rally by rally: zero at the MAP ratings."""
    gradient = np.zeros(len(r.theta))
    for a, b in zip(winners, losers):
        p = special.expit(r.theta[a] - r.theta[b])
        gradient[a] += 1 - p
        gradient[b] -= 1 - p
    return gradient - precision * r.theta


def test_fitted_ratings_count_every_persons_rallies_and_keep_their_prior():
    winners, losers = np.array([0, 0, 1, 2, 0]), np.array([1, 2, 0, 1, 2])
    r = fit_ratings(winners, losers, people=5, precision=10.0)
    assert list(r.rallies) == [4, 3, 3, 0, 0] and r.precision == 10.0
    assert r.theta[3] == 0.0 and r.theta[4] == 0.0                   # no rally: the prior's mean
    assert r.theta[0] > 0 > r.theta[1]
    np.testing.assert_allclose(_log_posterior_gradient(r, winners, losers, 10.0), 0.0, atol=1e-9)
    default = fit_ratings(winners, losers, people=5)
    assert default.precision == PRIOR_PRECISION
    nobody = fit_ratings([], [], people=3)
    assert list(nobody.theta) == [0.0, 0.0, 0.0] and list(nobody.rallies) == [0, 0, 0]


def _cv_loss(winners, losers, matches, people, precision, folds=5):
    """The documented rule written out: matches ranked by code, dealt to folds by rank mod ``folds``; the mean
    log-loss of each fold's rallies under ratings fitted without that fold, summed over folds."""
    ids = sorted(set(matches.tolist()))
    fold = np.array([ids.index(m) % folds for m in matches])
    total = 0.0
    for k in range(folds):
        test = fold == k
        r = fit_ratings(winners[~test], losers[~test], people, precision)
        total += sum(-np.log(r.win_probability(a, b)) for a, b in zip(winners[test], losers[test]))
    return total


def test_the_prior_is_chosen_by_its_folds():
    rng = np.random.default_rng(1)
    strength = np.array([1.5, 0.5, 0.0, -0.5, -1.5, 0.8])
    rows = []
    for match in range(20):
        a, b = rng.choice(6, size=2, replace=False)
        for _ in range(40):
            won = rng.random() < special.expit(strength[a] - strength[b])
            rows.append((a, b, match) if won else (b, a, match))
    winners, losers, matches = (np.array(x) for x in zip(*rows))
    matches = matches * 7 + 3                                          # codes need not be 0, 1, 2, ...
    losses = [_cv_loss(winners, losers, matches, 6, p) for p in PRECISIONS]
    chosen = choose_precision(winners, losers, matches, 6)
    assert chosen == PRECISIONS[int(np.argmin(losses))] == 1.0        # fitted on a fifth instead, 3.0 wins
    assert np.ptp(losses) > 1.0                                         # the choice is not a tie


def test_too_few_matches_keep_the_default_prior():
    winners, losers = np.array([0, 1, 0, 1, 0]), np.array([1, 0, 1, 0, 1])
    assert choose_precision(winners, losers, np.array([0, 1, 2, 3, 3]), 2) == PRIOR_PRECISION   # 4 matches
    five = choose_precision(winners, losers, np.array([0, 1, 2, 3, 4]), 2)                         # 5: chosen
    assert five == PRECISIONS[int(np.argmin([_cv_loss(winners, losers, np.arange(5), 2, p) for p in PRECISIONS]))]


def test_with_a_bracket_wide_tolerance_the_end_nearer_the_target_is_returned():
    assert level_shift(lambda d: d, -1.5, xtol=10.0) == -2.0
    assert level_shift(lambda d: d, 1.5, xtol=10.0) == 2.0


@pytest.mark.parametrize("value_at, target", [
    (np.exp, 5.0), (lambda d: special.expit(8.0 * (d - 0.3)), 0.01),                  # the upper end sticks
    (lambda d: -np.exp(-d), -5.0), (lambda d: special.expit(8.0 * (d + 0.3)), 0.99)],  # the lower end sticks
    ids=["exp", "steep-logistic-low", "negative-exp", "steep-logistic-high"])
def test_the_level_shift_stays_fast_where_one_end_would_stick(value_at, target):
    """Convex or steep functions leave plain regula falsi moving one end only (up to 200 evaluations here); the
    Illinois rule halves the stuck end's value and converges superlinearly: 20 evaluations at most."""
    calls = []
    got = level_shift(lambda d: calls.append(d) or value_at(d), target)
    assert value_at(got) == pytest.approx(target, abs=1e-9)
    assert len(calls) <= 20


@pytest.mark.parametrize("winners, losers", [([0, 3], [1, 0]), ([0, 1], [1, -1]), ([3, 0], [0, 1])])
def test_person_codes_outside_the_people_are_refused(winners, losers):
    from strategist.errors import EstimationError

    with pytest.raises(EstimationError, match=r"person codes must lie in 0\.\.2"):
        fit_ratings(np.array(winners), np.array(losers), people=3)


def test_rallies_between_the_same_two_people_count_together_whichever_way_they_went():
    # a loser's code at the last person must not be read as the next winner's pair (codes 0..people-1)
    winners, losers = np.array([0, 0, 2, 1]), np.array([2, 2, 0, 2])
    r = fit_ratings(winners, losers, people=3, precision=1.0)
    np.testing.assert_allclose(_log_posterior_gradient(r, winners, losers, 1.0), 0.0, atol=1e-9)
