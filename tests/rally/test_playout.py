"""Play-outs against second computations: the Wilson interval against the roots of its defining equation, capped
rallies kept out of the win rate, the counts of a play-out adding up."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from strategist.rally.game import rally_game
from strategist.rally.playout import play_out, wilson

from .pair import O, P, pair_table


@pytest.fixture(scope="module")
def game():
    return rally_game(pair_table(6, 5), P, O, min_action_count=1)


def _wilson_by_roots(wins: int, n: int, level: float) -> tuple[float, float]:
    """The Wilson interval as its definition has it: the p with |p̂ − p| = z·√(p(1 − p)/n), found by root
    finding on each side of p̂ (an endpoint at 0 or 1 where p̂ is)."""
    z = stats.norm.ppf(0.5 + level / 2)
    p_hat = wins / n

    def f(p):
        return (p_hat - p) ** 2 - z * z * p * (1 - p) / n

    inside = min(max(p_hat, 1e-12), 1 - 1e-12)       # f < 0 there; p̂ itself is a root when it is 0 or 1
    lo = 0.0 if wins == 0 else optimize.brentq(f, 0.0, inside, xtol=1e-15)
    hi = 1.0 if wins == n else optimize.brentq(f, inside, 1.0, xtol=1e-15)
    return lo, hi


@pytest.mark.parametrize("wins, n, level", [(3, 40, 0.95), (39, 40, 0.95), (0, 10, 0.9), (10, 10, 0.99),
                                            (50, 100, 0.95), (1234, 5000, 0.8)])
def test_wilson_interval_is_the_roots_of_its_equation(wins, n, level):
    lo, hi = wilson(wins, n, level)
    ref_lo, ref_hi = _wilson_by_roots(wins, n, level)
    assert lo == pytest.approx(ref_lo, abs=1e-12) and hi == pytest.approx(ref_hi, abs=1e-12)
    assert lo <= wins / n <= hi


def test_wilson_interval_of_no_trial_is_undefined():
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_capped_rallies_are_neither_won_nor_lost(game):
    """With at most 3 strokes most rallies are stopped: the win rate is over the rallies that ended."""
    out = play_out(game, "observed", "observed", 20_000, seed=4, max_strokes=3)
    assert out.capped > 1000 and out.lengths.max() == 3
    ended = out.rallies - out.capped
    assert out.win_probability == out.wins / ended
    assert (out.lengths == 3).sum() >= out.capped                   # every capped rally played 3 strokes
    lo, hi = wilson(out.wins, ended, out.level)
    assert (out.ci_low, out.ci_high) == (lo, hi)


def test_a_playout_counts_every_stroke_once(game):
    out = play_out(game, "equilibrium", "observed", 5_000, seed=8)
    assert out.capped == 0 and len(out.lengths) == out.rallies == 5_000
    strokes = int(out.lengths.sum())
    for side in ("player", "opponent"):
        used = out.usage[out.usage["side"] == side]
        assert int(used["count"].sum()) == strokes                  # each stroke: one action of each side
        for _, kind in used.groupby("kind"):
            assert kind["share"].sum() == pytest.approx(1.0)
    summary = out.length_summary()
    assert summary["mean"] == pytest.approx(out.lengths.mean()) and summary["max"] == int(out.lengths.max())
    assert summary["median"] == float(np.percentile(out.lengths, 50))
