"""The players' strength from their rally record: a Bradley–Terry model of who wins a rally, and the level of a
pair's rally game set to it.

P(i wins a rally against j) = σ(θᵢ − θⱼ), the ratings θ with a Gaussian prior of precision λ (ridge), fitted by
maximum a posteriori over every rally with a known winner; λ is chosen for what it is used for, predicting
matches not yet played: the one of :data:`PRECISIONS` with the best log-likelihood of whole matches held out
(:func:`choose_precision`, five folds of matches). The rally game spreads a player's edge over many
cells (winners, errors, where the shuttle goes), where shrinkage toward all players pulls it in; the record of
whole rallies against every opponent measures it directly. :func:`level_shift` finds the one logit shift of
both hitters' winners and errors (Δ for the player, −Δ for the opponent) with which the game, as both play now,
wins the player the rallies Bradley–Terry says (the mean of serving and receiving).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from strategist.errors import EstimationError

#: Precision of the ratings' prior when none is chosen (their sd is 1/√λ on the logit scale).
PRIOR_PRECISION = 3.0
#: Precisions :func:`choose_precision` tries, and its folds of matches.
PRECISIONS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
FOLDS = 5


@dataclass(frozen=True)
class Ratings:
    """Bradley–Terry ratings by person code, how many decided rallies each rests on, and the prior's
    precision they were fitted with."""

    theta: np.ndarray
    rallies: np.ndarray
    precision: float = PRIOR_PRECISION

    def win_probability_of(self, players: np.ndarray, opponents: np.ndarray) -> np.ndarray:
        """P(players[k] wins a rally against opponents[k]) for arrays of person codes."""
        return special.expit(self.theta[players] - self.theta[opponents])

    def win_probability(self, player: int, opponent: int) -> float:
        """P(player wins a rally against opponent); an unknown person (code < 0) has rating 0."""
        a = self.theta[player] if player >= 0 else 0.0
        b = self.theta[opponent] if opponent >= 0 else 0.0
        return float(special.expit(a - b))


def fit_ratings(winners: np.ndarray, losers: np.ndarray, people: int, precision: float | None = None) -> Ratings:
    """MAP ratings from the person codes of each decided rally's winner and loser (prior precision
    ``precision``, default :data:`PRIOR_PRECISION`)."""
    precision = PRIOR_PRECISION if precision is None else float(precision)
    winners, losers = np.asarray(winners, dtype=np.int64), np.asarray(losers, dtype=np.int64)

    codes = np.r_[winners, losers]
    if len(codes) and (codes.min() < 0 or codes.max() >= people):
        raise EstimationError(f"person codes must lie in 0..{people - 1}; got {codes.min()}..{codes.max()}")
    # rallies between the same two people count together; Newton's method on the concave log posterior
    key, n = np.unique(winners * people + losers, return_counts=True)      # one integer per (winner, loser)
    a, b = key // people, key % people
    theta = np.zeros(people)
    for _ in range(50):
        p = special.expit(-(theta[a] - theta[b])) * n                 # expected losses of each winner's pair
        w = special.expit(theta[a] - theta[b]) * p                    # n·σ(d)·(1 − σ(d))
        grad = np.bincount(a, weights=p, minlength=people) - np.bincount(b, weights=p, minlength=people) \
            - precision * theta
        hess = np.diag(np.bincount(a, weights=w, minlength=people) + np.bincount(b, weights=w, minlength=people)
                       + precision)
        np.add.at(hess, (a, b), -w)
        np.add.at(hess, (b, a), -w)
        step = np.linalg.solve(hess, grad)
        theta += step
        if np.abs(step).max() < 1e-10:
            break
    counts = np.bincount(codes, minlength=people)
    return Ratings(theta, counts, precision)


def choose_precision(winners, losers, matches, people: int, precisions=PRECISIONS, folds: int = FOLDS) -> float:
    """The prior precision of :data:`PRECISIONS` whose ratings, fitted without a fold of matches, predict that
    fold's rallies best (mean log-likelihood over ``folds`` folds; matches dealt to folds in order of code)."""
    winners, losers, matches = (np.asarray(x, dtype=np.int64) for x in (winners, losers, matches))
    ids = np.unique(matches)
    if len(ids) < folds:
        return PRIOR_PRECISION
    fold = np.searchsorted(ids, matches) % folds
    scores = []
    for precision in precisions:
        total = 0.0
        for k in range(folds):
            test = fold == k
            r = fit_ratings(winners[~test], losers[~test], people, precision)
            total += float(np.logaddexp(0.0, -(r.theta[winners[test]] - r.theta[losers[test]])).sum())
        scores.append(total)
    return float(precisions[int(np.argmin(scores))])


def level_shift(value_at, target: float, bound: float = 2.0, xtol: float = 1e-6) -> float:
    """The shift Δ in [−bound, bound] with ``value_at(Δ) = target`` (``value_at`` increasing in Δ), to ``xtol``
    in Δ or 1e-12 in value; the nearer end when the target is out of reach. Regula falsi with the Illinois rule
    (the end kept twice in a row has its value halved), which brackets the root throughout and converges
    superlinearly; the point tried whose value came nearest the target is returned."""
    low, high = -bound, bound
    f_low, f_high = value_at(low) - target, value_at(high) - target
    if f_low >= 0:
        return -bound
    if f_high <= 0:
        return bound
    kept = 0                                       # which end the last step kept: -1 low, +1 high
    best, f_best = (low, f_low) if -f_low < f_high else (high, f_high)
    for _ in range(200):
        if high - low <= xtol:
            break
        guess = high - f_high * (high - low) / (f_high - f_low)
        guess = min(max(guess, low), high)
        f_guess = value_at(guess) - target
        if abs(f_guess) < abs(f_best):
            best, f_best = guess, f_guess
        if abs(f_guess) <= 1e-12:                   # a win probability to 1e-12: nothing left to find
            break
        if f_guess < 0:
            low, f_low = guess, f_guess
            if kept == +1:
                f_high *= 0.5
            kept = +1
        else:
            high, f_high = guess, f_guess
            if kept == -1:
                f_low *= 0.5
            kept = -1
    return float(best)
