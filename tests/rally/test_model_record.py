"""The players' rally record behind the game: who won and lost each rally, the Bradley–Terry ratings fitted
once per table, and the match-to-match spread of a player's win rate beyond binomial noise, against a method
of moments written here over every (player, match) with predictions from the other folds of matches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.rally.model import LOSE, WIN, Strokes, match_spread, rally_record, ratings
from strategist.rally.strength import FOLDS, choose_precision, fit_ratings


def _record(rng, strength, matches, rallies, form_sd):
    """Strokes of rallies of one stroke each between random pairs of players: the hitter wins with the
    Bradley–Terry probability of their strengths, each player's strength moved per match by ``form_sd``."""
    people = len(strength)
    rows = []
    for m in range(matches):
        a, b = rng.choice(people, size=2, replace=False)
        form = rng.normal(0.0, form_sd, size=people)
        p = 1.0 / (1.0 + np.exp(-((strength[a] + form[a]) - (strength[b] + form[b]))))
        for _ in range(rallies):
            h, r = (a, b) if rng.random() < 0.5 else (b, a)
            won = rng.random() < (p if h == a else 1 - p)
            rows.append((m, h, r, WIN if won else LOSE))
    frame = pd.DataFrame(rows, columns=["match", "hitter", "receiver", "outcome"])
    frame["rally"] = np.arange(len(frame))
    names = {"person": np.array([f"p{k}" for k in range(people)], dtype=object),
             "match": np.array([f"m{k:03d}" for k in range(matches)], dtype=object)}
    return Strokes(frame, {}, None, "shot", False, False, "none", names)


def _spread_reference(st):
    """τ: Σ over (player, match) of [n (y − p)² − p (1 − p)] / Σ n, clipped at 0, where p is each rally's
    win probability by ratings fitted without the rally's fold of matches (matches in sorted order, every
    FOLDS-th in one fold)."""
    f = st.frame[st.frame["outcome"] >= 0]
    won = f["outcome"].to_numpy() == WIN
    h, r, m = f["hitter"].to_numpy(), f["receiver"].to_numpy(), f["match"].to_numpy()
    winner, loser = np.where(won, h, r), np.where(won, r, h)
    people = len(st.names["person"])
    precision = choose_precision(winner, loser, m, people)
    order = {match: k for k, match in enumerate(sorted(set(m)))}
    fold = np.array([order[x] % FOLDS for x in m])
    p_win = np.empty(len(f))
    for k in range(FOLDS):
        out = fold == k
        theta = fit_ratings(winner[~out], loser[~out], people, precision).theta
        p_win[out] = 1.0 / (1.0 + np.exp(-(theta[winner[out]] - theta[loser[out]])))
    num = den = 0.0
    for person in range(people):
        for match in set(m):
            as_winner = (winner == person) & (m == match)
            as_loser = (loser == person) & (m == match)
            n = as_winner.sum() + as_loser.sum()
            if not n:
                continue
            y = as_winner.sum() / n
            p = (p_win[as_winner].sum() + (1 - p_win[as_loser]).sum()) / n
            num += n * (y - p) ** 2 - p * (1 - p)
            den += n
    return np.sqrt(max(num / den, 0.0))


def test_the_rally_record_names_each_rallys_winner_and_loser():
    frame = pd.DataFrame({"match": [0, 0, 0, 1, 1], "hitter": [0, 1, 0, 2, 1], "receiver": [1, 0, 1, 1, 2],
                          "outcome": [-1, WIN, LOSE, -1, WIN], "rally": [0, 0, 1, 2, 2]})
    st = Strokes(frame, {}, None, "shot", False, False, "none", {"person": np.array(["a", "b", "c"], dtype=object)})
    winners, losers, matches = rally_record(st)
    assert winners.tolist() == [1, 1, 1] and losers.tolist() == [0, 0, 2] and matches.tolist() == [0, 0, 1]


def test_ratings_are_fitted_once_with_the_held_out_prior():
    st = _record(np.random.default_rng(0), np.array([0.8, 0.0, -0.8, 0.3]), 40, 30, 0.0)
    got = ratings(st)
    assert ratings(st) is got and st.cache["ratings"] is got
    winners, losers, matches = rally_record(st)
    precision = choose_precision(winners, losers, matches, 4)
    assert got.precision == precision
    np.testing.assert_allclose(got.theta, fit_ratings(winners, losers, 4, precision).theta, rtol=1e-12)
    assert got.theta[0] > got.theta[3] > got.theta[1] > got.theta[2]


@pytest.mark.parametrize("form_sd", [0.0, 0.8])
def test_the_match_spread_is_the_method_of_moments_on_held_out_predictions(form_sd):
    st = _record(np.random.default_rng(1), np.array([0.6, 0.2, -0.1, -0.7, 0.0]), 40, 40, form_sd)
    got = match_spread(st)
    assert got == pytest.approx(_spread_reference(st), rel=1e-9, abs=1e-12)
    assert match_spread(st) == got and st.cache["match_sd"] == got
    if form_sd:
        assert got > 0.05
    else:
        assert got < 0.05


def test_a_record_with_less_spread_than_binomial_noise_has_none():
    """Every match split evenly between equal players: the rates vary less than chance would, τ² < 0 → 0."""
    rows = [(m, 0, 1, WIN if k % 2 else LOSE) for m in range(10) for k in range(20)]
    frame = pd.DataFrame(rows, columns=["match", "hitter", "receiver", "outcome"])
    frame["rally"] = np.arange(len(frame))
    st = Strokes(frame, {}, None, "shot", False, False, "none", {"person": np.array(["a", "b"], dtype=object)})
    assert match_spread(st) == 0.0
    assert _spread_reference(st) == 0.0


def test_a_record_without_a_decided_rally_has_no_spread():
    """Rallies whose outcome was never recorded: no (player, match) rate to compare, so no spread (0, not NaN)."""
    frame = pd.DataFrame({"match": [0, 0, 1], "hitter": [0, 1, 0], "receiver": [1, 0, 1], "outcome": [-1, -1, -1],
                          "rally": [0, 0, 1]})
    st = Strokes(frame, {}, None, "shot", False, False, "none", {"person": np.array(["a", "b"], dtype=object)})
    assert len(rally_record(st)[0]) == 0
    assert match_spread(st) == 0.0


def test_the_record_win_is_the_player_against_the_opponent():
    """The players' record probability that the player wins a rally: the Bradley–Terry probability of the
    player against the opponent (the stronger player favoured), not of anyone against themselves."""
    from strategist.rally.model import _record_win

    st = _record(np.random.default_rng(0), np.array([0.8, 0.0, -0.8, 0.3]), 40, 30, 0.0)
    strong, weak = _record_win(st, (0, 2)), _record_win(st, (2, 0))
    assert strong == pytest.approx(ratings(st).win_probability(0, 2), rel=1e-12)
    assert strong > 0.6 and strong + weak == pytest.approx(1.0, abs=1e-12)
