"""The pessimistic win probabilities an Advisor shows are probabilities: the lower-bound continuation of a shot
whose rallies lead to states far worse at the bound than as played stays at 0, not below; on real data every
option's numbers lie in [0, 1] with low <= win probability <= high, whatever the history leaves open."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from strategist.advice.advisor import Advisor
from strategist.advice.decision import continuation, default_low
from strategist.data.load import load_rallies
from strategist.data.shipped import shuttleset_dir

from .test_decision_rules import _synthetic


def test_a_lower_bound_below_zero_is_kept_at_zero():
    """Stage lower bounds of 0.05 and next states worth 0.9 as played but 0 at the bound: the raw lower bound
    0.05 + 0.9·(0 − 0.9) is negative and is shown as 0; the point estimates are untouched."""
    sa, nxt, v_obs, v_rec = _synthetic(0)
    sa = type(sa)(**{**sa.__dict__, "stage_low": np.full_like(sa.stage_low, 0.05)})
    v_rec = np.full_like(v_rec, 0.9)
    u_low0 = np.zeros_like(v_rec)
    raw = sa.stage_low + sa.transition @ (u_low0 - v_rec)
    assert (raw < 0).all()
    got = continuation(sa, nxt, v_obs, v_rec, u_low0, {}, {})
    np.testing.assert_array_equal(got.low, np.zeros_like(raw))
    np.testing.assert_allclose(got.obs, sa.reward + sa.transition @ v_obs, atol=1e-12)
    inside = continuation(sa, nxt, v_obs, v_rec, default_low(nxt, v_rec), {}, {})
    assert ((inside.low >= 0) & (inside.low <= 1)).all()


@pytest.fixture(scope="module")
def advisor():
    table = load_rallies(shuttleset_dir()).table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Advisor(table, P, O)


P, O = "An Se Young", "Akane YAMAGUCHI"
#: (history, who hits next): rallies of their matches, and histories without heights or zones (averaged
#: situations); where the opponent hits next the advice is for the player's reply to their likeliest shot.
HISTORIES = [
    ([], P),
    ([("short service", P, None, None)], O),
    ([("short service", P, None, None), ("net shot", O, None, None)], P),
    ([("short service", O, None, None), ("lob", P, None, None), ("smash", O, None, None)], P),
    ([("long service", P, "4", "high"), ("drop", O, "5", "low"), ("net shot", P, "2", "high")], O),
    ([("long service", O, "4", "high"), ("drop", P, "5", "low"), ("net shot", O, "2", "low"),
      ("lob", P, "3", "high"), ("drop", O, "6", "low"), ("net shot", P, "7", "low")], O),
]


@pytest.mark.parametrize("history, next_hitter", HISTORIES)
@pytest.mark.parametrize("margin", [0.0, 0.05])
def test_every_option_is_a_probability_with_its_interval_around_it(advisor, history, next_hitter, margin):
    """Every number of every option lies in [0, 1], the interval holds the point estimate, and each recommended
    mix sums to 1."""
    advice = advisor.advise(history, {"next": next_hitter}, margin=margin)
    options = advice.options
    assert options is not None and len(options)
    for column in ("win_probability", "low", "high", "pessimistic", "population_share"):
        values = options[column].to_numpy(float)
        assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all(), column
    assert (options["low"] <= options["win_probability"] + 1e-12).all()
    assert (options["win_probability"] <= options["high"] + 1e-12).all()
    for rec in (advice.equilibrium, advice.best_response, advice.safe):
        assert sum(rec.mix.values()) == pytest.approx(1.0, abs=1e-9)
        assert 0.0 <= rec.expected <= 1.0 and 0.0 <= rec.guarantee <= 1.0
