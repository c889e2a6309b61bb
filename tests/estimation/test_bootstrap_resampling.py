"""How the bootstrap resamples: a replicate that draws every rally once is the estimate itself (pooled and
player-specific, also with a cell without data), the two-stage draw match by match, when the match scheme falls
back to rallies, the smallest number of replicates, the defaults, and the progress line's times."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from strategist.estimation import bootstrap as boot_module
from strategist.estimation import estimate_payoff
from strategist.estimation.bootstrap import _Design, _progress_printer, bootstrap_payoff
from strategist.games import solve_zero_sum

from .conftest import game_table

GAME = np.array([[0.7, 0.4], [0.2, 0.55]])
MIXES = ([0.5, 0.5], [0.5, 0.5])


@pytest.fixture()
def every_rally_once(monkeypatch):
    """Make every replicate draw each rally exactly once (weights of one), whatever the scheme."""
    monkeypatch.setattr(boot_module, "_rally_weights",
                        lambda rng, b, scheme, n_rallies, *rest: np.ones((b, n_rallies)))


def _assert_replicates_are_the_estimate(estimate, boot):
    truth = solve_zero_sum(estimate.mean)
    np.testing.assert_allclose(boot.value, truth.value, rtol=0, atol=1e-9)
    np.testing.assert_allclose(boot.row_strategy, np.tile(truth.row_strategy, (len(boot.value), 1)), atol=1e-7)


def test_drawing_every_rally_once_reproduces_a_pooled_estimate(every_rally_once):
    estimate = estimate_payoff(game_table(GAME, *MIXES, 600, seed=5, matches=6), target="population")
    _assert_replicates_are_the_estimate(estimate, bootstrap_payoff(estimate, 3, seed=0))


def test_drawing_every_rally_once_reproduces_a_player_specific_estimate(every_rally_once):
    """Ann (even matches) plays another game than Bea (odd matches): her cells shrink toward the population
    matrix with the strength fitted across hitters, which every replicate keeps."""
    ann = game_table([[0.9, 0.2], [0.1, 0.8]], *MIXES, 1200, seed=6, matches=12)
    bea = game_table(GAME, *MIXES, 1200, seed=7, matches=12)
    table = pd.concat([ann[ann["hitter"] == "Ann"], bea[bea["hitter"] == "Bea"]], ignore_index=True)
    estimate = estimate_payoff(table, hitter="Ann", target="population")
    population = estimate_payoff(table, target="population")
    assert not np.allclose(estimate.mean, population.mean, atol=0.02)     # her game is her own
    _assert_replicates_are_the_estimate(estimate, bootstrap_payoff(estimate, 3, seed=0))


def test_an_estimate_whose_last_cell_has_no_data_is_resampled(every_rally_once):
    table = game_table(GAME, *MIXES, 600, seed=2, matches=5)
    table = table[~((table["shot"] == "drop") & (table["opponent_area"] == "7"))]
    estimate = estimate_payoff(table, target="population")
    assert estimate.row_labels[-1] == "drop" and estimate.column_labels[-1] == "7"
    assert estimate.counts[-1, -1] == 0
    _assert_replicates_are_the_estimate(estimate, bootstrap_payoff(estimate, 3, seed=0))


def test_the_two_stage_draw_resamples_each_drawn_match_within_itself():
    """Per replicate: draw the matches (one multinomial over the matches, in id order), then for every match
    drawn c times one multinomial of c·R over its R rallies (in id order). Twelve matches: the rally ids of
    "m10" and "m11" sort before those of "m2", so the rallies are not listed match by match."""
    estimate = estimate_payoff(game_table(GAME, *MIXES, 600, seed=3, matches=12), target="population")
    points = estimate.points
    rally_ids = np.unique(points["rally_id"].astype(str))
    match_of = dict(zip(points["rally_id"].astype(str), points["match_id"].astype(str)))
    match_ids = np.unique(points["match_id"].astype(str))
    members = {m: [k for k, r in enumerate(rally_ids) if match_of[r] == m] for m in match_ids}
    assert min(len(v) for v in members.values()) > 20

    weights = _Design.of(estimate).weights(np.random.default_rng(11), 5, "match+rally")

    rng = np.random.default_rng(11)
    expected = np.zeros((5, len(rally_ids)))
    for r in range(5):
        drawn = rng.multinomial(len(match_ids), np.full(len(match_ids), 1.0 / len(match_ids)))
        for m, c in zip(match_ids, drawn):
            idx = members[m]
            expected[r, idx] = rng.multinomial(c * len(idx), np.full(len(idx), 1.0 / len(idx)))
    np.testing.assert_array_equal(weights, expected)


def test_two_matches_are_resampled_as_matches():
    estimate = estimate_payoff(game_table(GAME, *MIXES, 300, seed=1, matches=2), target="population")
    boot = bootstrap_payoff(estimate, 10, seed=0)
    assert (boot.scheme, boot.clusters, boot.note) == ("match", 2, None)


def test_a_rally_bootstrap_of_one_match_needs_no_note():
    estimate = estimate_payoff(game_table(GAME, *MIXES, 300, seed=1, matches=1), target="population")
    boot = bootstrap_payoff(estimate, 10, seed=0, cluster="rally")
    assert (boot.scheme, boot.clusters, boot.note) == ("rally", 1, None)
    fallback = bootstrap_payoff(estimate, 10, seed=0)
    assert fallback.scheme == "rally" and "only 1 match" in fallback.note


def test_two_replicates_are_enough():
    estimate = estimate_payoff(game_table(GAME, *MIXES, 300, seed=1, matches=3), target="population")
    boot = bootstrap_payoff(estimate, 2, seed=0)
    assert boot.replicates == 2 and boot.value.shape == (2,)


def test_by_default_1000_replicates_are_drawn_with_seed_0_and_reported_every_250():
    estimate = estimate_payoff(game_table(GAME, *MIXES, 300, seed=1, matches=3), target="population")
    seen = []
    boot = bootstrap_payoff(estimate, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(250, 1000), (500, 1000), (750, 1000), (1000, 1000)]
    assert boot.replicates == 1000 and boot.value.shape == (1000,) and boot.seed == 0
    np.testing.assert_array_equal(boot.value, bootstrap_payoff(estimate, 1000, seed=0, chunk=1000).value)


class _Stream(io.StringIO):
    def __init__(self):
        super().__init__()
        self.flushes = 0

    def flush(self):
        self.flushes += 1
        super().flush()


def test_the_progress_line_gives_the_elapsed_time_and_the_time_left_and_is_flushed(monkeypatch):
    """Clock at 100 s when the printer is made, then 104 s and 106 s: 1 of 4 done after 4 s leaves 3 × 4 s;
    2 of 4 after 6 s leaves 2 × 3 s."""
    clock = iter([100.0, 104.0, 106.0])
    monkeypatch.setattr(boot_module.time, "monotonic", lambda: next(clock))
    stream = _Stream()
    report = _progress_printer(stream)
    report(1, 4)
    assert stream.flushes == 1
    report(2, 4)
    assert stream.flushes == 2
    assert stream.getvalue() == ("bootstrap: 1/4 replicates, 4.0 s elapsed, ~12.0 s left\r"
                                 "bootstrap: 2/4 replicates, 6.0 s elapsed, ~6.0 s left\r")
