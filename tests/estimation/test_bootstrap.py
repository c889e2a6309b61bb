"""Cluster bootstrap of the solution on data simulated from games with known values."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.errors import EstimationError
from strategist.estimation import estimate_payoff
from strategist.estimation.bootstrap import bootstrap_payoff
from strategist.games import solve_zero_sum

from .conftest import game_table

# a 2×2 game with a completely mixed equilibrium: value 0.305/0.65, hitter mix (0.35, 0.3)/0.65
GAME = np.array([[0.7, 0.4], [0.2, 0.55]])
MIXES = ([0.5, 0.5], [0.5, 0.5])


def _width(result) -> float:
    return result.value_interval[1] - result.value_interval[0]


def test_known_game_is_solved_by_hand():
    truth = solve_zero_sum(GAME)
    assert truth.value == pytest.approx((0.7 * 0.55 - 0.4 * 0.2) / (0.7 + 0.55 - 0.4 - 0.2), abs=1e-9)
    np.testing.assert_allclose(truth.row_strategy, [0.35 / 0.65, 0.3 / 0.65], atol=1e-9)


def test_value_interval_contains_the_truth_and_shrinks_like_one_over_root_n():
    truth = solve_zero_sum(GAME).value
    widths = []
    for rallies in (4_000, 16_000):
        est = estimate_payoff(game_table(GAME, *MIXES, rallies, seed=rallies), target="population")
        boot = bootstrap_payoff(est, 400, seed=1, cluster="rally", level=0.99)
        assert boot.value_interval[0] <= truth <= boot.value_interval[1]
        lo, hi = boot.row_interval[0]
        assert lo <= 0.35 / 0.65 <= hi
        widths.append(_width(boot))
    assert widths[0] / widths[1] == pytest.approx(2.0, rel=0.25)  # four times the data, half the width


def test_intervals_cover_the_true_value_at_about_the_nominal_rate():
    truth = solve_zero_sum(GAME).value
    hits = []
    for seed in range(30):
        est = estimate_payoff(game_table(GAME, *MIXES, 3_000, seed=100 + seed), target="population",
                              prior="marginal")
        boot = bootstrap_payoff(est, 200, seed=seed, cluster="rally", level=0.9)
        hits.append(boot.value_interval[0] <= truth <= boot.value_interval[1])
    assert 0.73 <= np.mean(hits) <= 1.0  # 90% nominal; 30 datasets leave a binomial spread of ±0.055


def test_clustering_by_match_widens_intervals_when_matches_differ():
    table = game_table(GAME, *MIXES, 8_000, seed=3, matches=24, match_shift=0.15)
    est = estimate_payoff(table, target="population")
    by_match = bootstrap_payoff(est, 400, seed=2, cluster="match")
    by_rally = bootstrap_payoff(est, 400, seed=2, cluster="rally")
    two_stage = bootstrap_payoff(est, 400, seed=2, cluster="match+rally")
    assert _width(by_match) > 1.5 * _width(by_rally)
    assert _width(two_stage) >= 0.95 * _width(by_match)
    # when matches do not differ, clustering costs little
    same = estimate_payoff(game_table(GAME, *MIXES, 8_000, seed=3, matches=24), target="population")
    ratio = _width(bootstrap_payoff(same, 400, seed=2, cluster="match")) / _width(
        bootstrap_payoff(same, 400, seed=2, cluster="rally"))
    assert 0.7 < ratio < 1.4


def test_seeded_replicates_and_batch_solutions_match_single_solves():
    est = estimate_payoff(game_table(GAME, *MIXES, 2_000, seed=9), target="population")
    a = bootstrap_payoff(est, 50, seed=7)
    b = bootstrap_payoff(est, 50, seed=7, chunk=16)  # chunking does not change the draws' use
    c = bootstrap_payoff(est, 50, seed=8)
    np.testing.assert_array_equal(a.value, bootstrap_payoff(est, 50, seed=7).value)
    assert not np.array_equal(a.value, c.value)
    assert a.value.shape == (50,) and a.row_strategy.shape == (50, 2) and a.column_strategy.shape == (50, 2)
    np.testing.assert_allclose(a.row_strategy.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(b.value, a.value)
    np.testing.assert_array_equal(b.row_strategy, a.row_strategy)
    assert a.value_interval == pytest.approx(tuple(np.quantile(a.value, [0.025, 0.975])))
    # each replicate value is the exact value of a game whose entries lie in [0, 1]
    assert ((a.value > 0) & (a.value < 1)).all()


def test_player_specific_bootstrap_and_fallback_for_one_match(simulated_table):
    est = estimate_payoff(simulated_table, hitter="Astrid NORDVIK", rows="group", context="stroke=2+")
    boot = bootstrap_payoff(est, 100, seed=0)
    assert boot.scheme == "match" and boot.clusters == 20
    assert boot.value_interval[0] <= est.solve().value + 0.02 and est.solve().value - 0.02 <= boot.value_interval[1]
    one = simulated_table[simulated_table["match_id"] == simulated_table["match_id"].iloc[0]]
    single = bootstrap_payoff(estimate_payoff(one, rows="group"), 50, seed=0)
    assert single.scheme == "rally" and "only 1 match" in single.note


def test_progress_is_reported():
    est = estimate_payoff(game_table(GAME, *MIXES, 500, seed=1), target="population")
    seen = []
    bootstrap_payoff(est, 30, seed=0, chunk=10, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(10, 30), (20, 30), (30, 30)]


@pytest.mark.parametrize("kwargs", [{"replicates": 1}, {"replicates": 2.5}, {"cluster": "set"}, {"level": 0}])
def test_bad_bootstrap_requests(kwargs):
    est = estimate_payoff(game_table(GAME, *MIXES, 300, seed=1), target="population")
    args = {"replicates": 10, **kwargs}
    with pytest.raises(EstimationError):
        bootstrap_payoff(est, **args)


@pytest.mark.parametrize("cluster", ["rally", "match", "match+rally"])
def test_chunked_and_unchunked_bootstraps_draw_identical_replicates(cluster):
    est = estimate_payoff(game_table(GAME, *MIXES, 1_500, seed=4, matches=6), target="population")
    whole = bootstrap_payoff(est, 40, seed=3, cluster=cluster, chunk=1000)
    for chunk in (1, 7, 16):
        part = bootstrap_payoff(est, 40, seed=3, cluster=cluster, chunk=chunk)
        np.testing.assert_array_equal(part.value, whole.value)
        np.testing.assert_array_equal(part.row_strategy, whole.row_strategy)
        np.testing.assert_array_equal(part.column_strategy, whole.column_strategy)
