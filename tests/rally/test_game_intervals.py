"""The rally game's intervals against independent references: the bootstrap interval against the normal
quantile and numpy's quantiles by hand, the match-cluster resampling's draws, the bootstrap replicates of a
game whose resampling changes nothing (every replicate is the point fit), and the posterior variance of a cell
down a two-level shrinkage chain against the Beta and Dirichlet variances and a numerical gradient."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

import strategist.rally.game as rally_module
from strategist.errors import StrategistError
from strategist.rally.game import bootstrap_interval, bootstrap_weights, rally_game

from .pair import O, P
from .small_game import small_table


# ------------------------------------------------------------------------------------------- the interval
def test_the_normal_interval_puts_back_the_clusters_variance_factor():
    """point ± z·√(G/(G−1))·sd (sd with ddof 1), z the normal quantile of the level; one cluster counts as two."""
    rng = np.random.default_rng(0)
    reps = rng.normal(0.5, 0.05, size=(40, 3))
    point = np.array([0.4, 0.5, 0.6])
    for level, clusters in ((0.9, 4), (0.8, 10), (0.95, 2)):
        z = stats.norm.ppf(0.5 + level / 2)
        sd = np.array([np.std(reps[:, k], ddof=1) for k in range(3)])
        half = z * np.sqrt(clusters / (clusters - 1)) * sd
        lo, hi = bootstrap_interval(point, reps, level, clusters)
        np.testing.assert_allclose(lo, point - half, rtol=1e-12)
        np.testing.assert_allclose(hi, point + half, rtol=1e-12)
    lo1, hi1 = bootstrap_interval(point, reps, 0.9, 1)
    lo2, hi2 = bootstrap_interval(point, reps, 0.9, 2)
    np.testing.assert_array_equal(lo1, lo2)
    np.testing.assert_array_equal(hi1, hi2)
    lo, hi = bootstrap_interval(point, reps, 0.9, 3, kind="normal")
    np.testing.assert_allclose(hi - point, stats.norm.ppf(0.95) * np.sqrt(1.5) * reps.std(axis=0, ddof=1))


def test_the_percentile_interval_is_the_replicates_quantiles():
    reps = np.arange(101, dtype=float)[:, None] / 100 * np.array([1.0, 0.5])     # 0, 0.01, ..., 1
    lo, hi = bootstrap_interval(np.zeros(2), reps, 0.9, 5, kind="percentile")
    np.testing.assert_allclose(lo, [0.05, 0.025], atol=1e-12)
    np.testing.assert_allclose(hi, [0.95, 0.475], atol=1e-12)
    lo, hi = bootstrap_interval(np.zeros(2), reps, 0.5, 5, kind="percentile")
    np.testing.assert_allclose(lo, [0.25, 0.125], atol=1e-12)
    np.testing.assert_allclose(hi, [0.75, 0.375], atol=1e-12)


def test_failed_replicates_are_left_out():
    reps = np.array([[0.1, np.nan], [0.3, 0.2], [np.nan, 0.4], [0.5, 0.6]])
    lo, hi = bootstrap_interval(np.array([0.3, 0.4]), reps, 0.9, 50)
    z = stats.norm.ppf(0.95) * np.sqrt(50 / 49)
    np.testing.assert_allclose(hi - [0.3, 0.4], z * np.array([np.std([0.1, 0.3, 0.5], ddof=1),
                                                              np.std([0.2, 0.4, 0.6], ddof=1)]))
    lo, hi = bootstrap_interval(np.zeros(2), reps, 0.5, 5, kind="percentile")
    np.testing.assert_allclose(lo, [0.2, 0.3])
    np.testing.assert_allclose(hi, [0.4, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # an all-NaN column gives NaN, without a warning
        lo, hi = bootstrap_interval(np.array([0.5]), np.array([[np.nan], [np.nan]]), 0.9, 4)
        assert np.isnan(lo[0]) and np.isnan(hi[0])
        lo, hi = bootstrap_interval(np.array([0.5]), np.array([[np.nan], [np.nan]]), 0.9, 4, kind="percentile")
        assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_probability_intervals_are_clipped_to_zero_one_and_gains_are_not():
    reps = np.array([[0.0, 0.9], [0.2, 1.0], [0.1, 0.8]]) * np.array([1.0, 1.0])
    point = np.array([0.02, 0.98])
    lo, hi = bootstrap_interval(point, reps, 0.9, 3)
    assert lo[0] == 0.0 and hi[1] == 1.0 and 0 < hi[0] < 1 and 0 < lo[1] < 1
    lo, hi = bootstrap_interval(point, reps, 0.9, 3, clip=False)
    assert lo[0] < 0 and hi[1] > 1
    lo, hi = bootstrap_interval(np.zeros(2), reps - 0.5, 0.9, 3, kind="percentile", clip=False)
    assert lo[0] < 0 and hi[1] > 0.3


def test_single_precision_replicates_are_summarised_in_double_precision():
    rng = np.random.default_rng(3)
    reps64 = rng.normal(0.5, 0.1, size=(30, 4))
    reps32 = reps64.astype(np.float32)
    point = np.full(4, 0.5)
    for kind in ("normal", "percentile"):
        lo, hi = bootstrap_interval(point, reps32, 0.9, 5, kind=kind)
        lo_ref, hi_ref = bootstrap_interval(point, reps32.astype(np.float64), 0.9, 5, kind=kind)
        assert lo.dtype == np.float64 and hi.dtype == np.float64
        np.testing.assert_array_equal(lo, lo_ref)
        np.testing.assert_array_equal(hi, hi_ref)


def test_both_ends_are_kept_within_zero_one():
    reps = np.array([[1.2, -0.4], [1.3, -0.3], [1.25, -0.2]])
    lo, hi = bootstrap_interval(np.zeros(2), reps, 0.9, 3, kind="percentile")
    np.testing.assert_array_equal(lo, [1.0, 0.0])
    np.testing.assert_array_equal(hi, [1.0, 0.0])
    lo, hi = bootstrap_interval(np.array([1.5, -0.5]), reps, 0.9, 3)
    np.testing.assert_array_equal(lo, [1.0, 0.0])
    np.testing.assert_array_equal(hi, [1.0, 0.0])


# ------------------------------------------------------------------------------------------- resampling
def test_units_are_resampled_within_the_pair_and_within_the_others():
    """Each replicate draws as many of the pair's units as it has, from them alone, and as many of the others
    from the others; over many replicates every unit is drawn once per replicate on average."""
    structure = SimpleNamespace(matches=tuple(range(7)),
                                pair_matches=np.array([True, False, True, False, False, True, False]))
    w = bootstrap_weights(structure, 4000, np.random.default_rng(1))
    assert w.shape == (4000, 7)
    pair, others = structure.pair_matches, ~structure.pair_matches
    np.testing.assert_array_equal(w[:, pair].sum(axis=1), 3)
    np.testing.assert_array_equal(w[:, others].sum(axis=1), 4)
    assert (w == np.round(w)).all() and (w >= 0).all()
    np.testing.assert_allclose(w.mean(axis=0), 1.0, atol=0.06)
    assert (w.std(axis=0) > 0.5).all()                        # resampled, not all ones
    # the others' draws are not the pair's: the two groups are independent
    assert abs(np.corrcoef(w[:, 0], w[:, 1])[0, 1]) < 0.1
    only_pair = SimpleNamespace(matches=(0, 1), pair_matches=np.array([True, True]))
    w = bootstrap_weights(only_pair, 50, np.random.default_rng(2))
    np.testing.assert_array_equal(w.sum(axis=1), 2)


def _ones(structure, replicates, rng):
    return np.ones((replicates, len(structure.matches)))


def test_a_replicate_that_resamples_nothing_is_the_point_fit(monkeypatch):
    """Every unit drawn once: each replicate's laws, habits and values are the point fit's (the population game,
    whose level is not set to a record), so the normal interval is the point itself and the percentile
    interval too."""
    monkeypatch.setattr(rally_module, "bootstrap_weights", _ones)
    game = rally_game(small_table(), bootstrap=3, seed=4)
    boot = game.bootstrap
    assert boot.failed == 0 and boot.replicates == 3 and boot.seed == 4 and boot.level == 0.9
    assert boot.clusters == int(game.structure.pair_matches.sum()) and boot.scheme == game.structure.cluster
    for k in range(3):
        np.testing.assert_allclose(boot.observed[k], game.observed_values, atol=1e-12)
        np.testing.assert_allclose(boot.value[k], game.recommendation.realized, atol=1e-12)
        np.testing.assert_allclose(boot.switch[k], game.states["switch_value"], atol=1e-12)
    for key in ("value", "observed"):
        np.testing.assert_allclose(game.states[f"{key}_low"], game.states[f"{key}_value" if key == "observed"
                                                                         else "value"], atol=1e-12)
        np.testing.assert_allclose(game.states[f"{key}_high"], game.states[f"{key}_low"], atol=1e-12)
    np.testing.assert_allclose(game.states["gain_low"], game.states["gain"], atol=1e-12)
    np.testing.assert_allclose(game.states["gain_high"], game.states["gain"], atol=1e-12)
    assert game.interval == "normal"
    d = game.to_dict()["bootstrap"]
    assert d == {"replicates": 3, "level": 0.9, "clusters": boot.clusters, "scheme": boot.scheme,
                 "interval": "normal", "seed": 4, "failed": 0}
    pct = rally_game(small_table(), bootstrap=2, seed=4, interval="percentile")
    assert pct.interval == "percentile" and pct.to_dict()["bootstrap"]["interval"] == "percentile"
    np.testing.assert_allclose(pct.states["value_low"], pct.states["value"], atol=1e-12)


@pytest.fixture
def boot_game():
    return rally_game(small_table(), P, O, bootstrap=6, seed=3)


def test_bootstrap_intervals_are_those_of_the_replicates(boot_game):
    game, boot = boot_game, boot_game.bootstrap
    assert boot.failed == 0 and boot.replicates == 6 and boot.scheme == "match" and boot.clusters == 2
    assert boot.value.shape == boot.observed.shape == boot.switch.shape == (6, len(game.labels))
    realized, observed = game.recommendation.realized, game.observed_values
    switch = game.states["switch_value"].to_numpy()
    for key, point, reps, clip in (("value", realized, boot.value, True), ("observed", observed, boot.observed, True),
                                   ("gain", switch - observed, boot.switch - boot.observed, False)):
        sd = np.nanstd(reps, axis=0, ddof=1)
        assert (sd > 0).any()
        half = stats.norm.ppf(0.95) * np.sqrt(2.0) * sd
        lo, hi = point - half, point + half
        if clip:
            lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        np.testing.assert_allclose(game.states[f"{key}_low"], lo, atol=1e-12, err_msg=key)
        np.testing.assert_allclose(game.states[f"{key}_high"], hi, atol=1e-12, err_msg=key)
    # the replicates differ from one another and stay near the point fit
    assert np.ptp(boot.observed, axis=0).max() > 1e-3
    assert np.abs(np.nanmean(boot.observed, axis=0) - observed).max() < 0.2


def _values(rewards, transitions, xs, ys):
    size = len(rewards)
    a = np.eye(size) - np.array([np.einsum("i,ijk,j->k", x, t, y) for x, t, y in zip(xs, transitions, ys)])
    return np.linalg.solve(a, [x @ r @ y for x, r, y in zip(xs, rewards, ys)])


def test_each_replicate_values_its_habits_and_the_recommended_play(monkeypatch):
    """Each replicate's stage arrays and habits, caught as the bootstrap makes them, valued by one linear solve:
    the observed values are both replicate habits', the values the point fit's recommended pair's, the switch
    values the player's recommendation against the replicate's habits of the opponent."""
    caught = {"arrays": [], "mixes": [], "inside": False}
    real_arrays, real_mixes, real_boot = rally_module.stage_arrays, rally_module.observed_mixes, rally_module._bootstrap

    def arrays(*args):
        out = real_arrays(*args)
        if caught["inside"]:
            caught["arrays"].append(out)
        return out

    def mixes(*args):
        out = real_mixes(*args)
        if caught["inside"]:
            caught["mixes"].append(out)
        return out

    def boot(*args, **kwargs):
        caught["inside"] = True
        try:
            return real_boot(*args, **kwargs)
        finally:
            caught["inside"] = False

    monkeypatch.setattr(rally_module, "stage_arrays", arrays)
    monkeypatch.setattr(rally_module, "observed_mixes", mixes)
    monkeypatch.setattr(rally_module, "_bootstrap", boot)
    game = rally_game(small_table(), P, O, bootstrap=3, seed=2)
    rec, b = game.recommendation, game.bootstrap
    assert len(caught["arrays"]) == len(caught["mixes"]) == 3
    moved = 0.0
    for k, ((rewards, transitions), (xs, ys)) in enumerate(zip(caught["arrays"], caught["mixes"])):
        np.testing.assert_allclose(b.observed[k], _values(rewards, transitions, xs, ys), atol=1e-10)
        np.testing.assert_allclose(b.value[k], _values(rewards, transitions, rec.row_strategies,
                                                       rec.column_strategies), atol=1e-10)
        np.testing.assert_allclose(b.switch[k], _values(rewards, transitions, rec.row_strategies, ys), atol=1e-10)
        moved = max(moved, max(np.abs(x - x0).max() for x, x0 in zip(xs, game.observed_row)))
    assert moved > 1e-6                      # the replicates' habits are their own, not the point fit's


def test_the_same_seed_draws_the_same_replicates_and_another_seed_others(boot_game):
    again = rally_game(small_table(), P, O, bootstrap=6, seed=3, equilibrium=False)
    np.testing.assert_array_equal(again.bootstrap.observed, boot_game.bootstrap.observed)
    other = rally_game(small_table(), P, O, bootstrap=6, seed=4, equilibrium=False)
    assert np.abs(other.bootstrap.observed - boot_game.bootstrap.observed).max() > 1e-6


def test_observed_play_alone_keeps_the_posterior_intervals_of_the_values(boot_game):
    """equilibrium=False: the bootstrap values observed play only; the value and gain intervals are the
    posterior's (those of the game without bootstrap), and no replicate values the recommendation."""
    from .small_game import small_game

    plain = small_game()
    only = rally_game(small_table(), P, O, bootstrap=6, seed=3, equilibrium=False)
    assert np.isnan(only.bootstrap.value).all() and np.isnan(only.bootstrap.switch).all()
    np.testing.assert_allclose(only.states["value_low"], plain.states["value_low"], atol=1e-12)
    np.testing.assert_allclose(only.states["value_high"], plain.states["value_high"], atol=1e-12)
    assert "gain_low" not in only.states
    np.testing.assert_allclose(only.states["observed_low"], boot_game.states["observed_low"], atol=1e-12)
    assert not np.allclose(only.states["observed_low"], plain.states["observed_low"])


def _fail_inside_bootstrap(monkeypatch, calls: tuple, error) -> None:
    """Make the value computations number ``calls`` (counted inside the bootstrap only) raise ``error``."""
    state = {"inside": False, "calls": 0}
    real_chain, real_boot = rally_module._chain_values, rally_module._bootstrap

    def chain(*args):
        if state["inside"]:
            state["calls"] += 1
            if state["calls"] in calls:
                raise error("cannot solve")
        return real_chain(*args)

    def boot(*args, **kwargs):
        state["inside"] = True
        try:
            return real_boot(*args, **kwargs)
        finally:
            state["inside"] = False

    monkeypatch.setattr(rally_module, "_chain_values", chain)
    monkeypatch.setattr(rally_module, "_bootstrap", boot)


@pytest.mark.parametrize("error", [np.linalg.LinAlgError, ZeroDivisionError, StrategistError])
def test_a_replicate_that_cannot_be_solved_is_counted(monkeypatch, error):
    """A replicate whose values cannot be computed is counted as failed and left out (NaN); the others stand."""
    _fail_inside_bootstrap(monkeypatch, (1,), error)
    game = rally_game(small_table(), bootstrap=3, seed=1)
    b = game.bootstrap
    assert b.failed == 1
    assert np.isnan(b.observed[0]).all() and np.isnan(b.value[0]).all() and np.isnan(b.switch[0]).all()
    assert np.isfinite(b.observed[1:]).all() and np.isfinite(b.value[1:]).all() and np.isfinite(b.switch[1:]).all()


def test_every_replicate_that_cannot_be_solved_is_counted(monkeypatch):
    # the first replicate's observed values, then the second's
    _fail_inside_bootstrap(monkeypatch, (1, 2), np.linalg.LinAlgError)
    game = rally_game(small_table(), bootstrap=3, seed=1)
    assert game.bootstrap.failed == 2
    assert np.isnan(game.bootstrap.observed[:2]).all() and np.isfinite(game.bootstrap.observed[2]).all()


# ------------------------------------------------------------------------------------------- cell variance
def test_cell_variance_down_a_two_level_chain():
    """Two levels: each part's own variance is the Beta (W, L) or Dirichlet (C·u) variance at the level's
    concentration, the parent's is added weighted by the parent's share squared; Var Q is the sum of the
    squared derivatives of Q = W·u_win + (1 − W)(L·u_lose + (1 − L)·Ū) (numerical) times the parts' variances."""
    from strategist.rally.game import _entry_values, cell_variance
    from strategist.rally.model import Estimate, LawLevel

    from .small_game import small_game

    game = small_game()
    st = game.structure
    law = game.estimate.probability
    rng = np.random.default_rng(7)
    cells = len(st.cell_state)
    parent_law = law * rng.uniform(0.7, 1.3, law.shape)
    parent_law /= np.bincount(st.entry_cell, weights=parent_law[0])[st.entry_cell]
    conc_parent = rng.uniform(5, 50, (1, cells, 3))
    conc_child = rng.uniform(5, 50, (1, cells, 3))
    weight = rng.uniform(0.1, 0.9, (1, cells, 3))
    est = Estimate(law, {}, np.zeros((1, 2)), np.zeros((1, 2)), law, np.zeros((1, cells, 3)),
                   (LawLevel("parent", parent_law, conc_parent, rng.uniform(0, 1, (1, cells, 3))),
                    LawLevel("cell", law, conc_child, weight)))
    values = game.observed_values
    got = cell_variance(st, est, values)
    u = _entry_values(st, values)

    def parts(p, e):
        out = st.entry_outcome[e]
        w, lose = p[e][out == 0].sum(), p[e][out == 1].sum()
        moves = out >= 2
        c = p[e][moves] / max(1 - w - lose, 1e-12)
        return w, lose / max(1 - w, 1e-12), c, u[e][moves], u[e][out == 0].sum(), u[e][out == 1].sum()

    def part_variances(p, conc, e, cell):
        w, lr, c, uc, _, _ = parts(p, e)
        a = conc[0, cell]
        var_w = stats.beta(w * a[0], (1 - w) * a[0]).var()
        var_l = stats.beta(lr * a[1], (1 - lr) * a[1]).var()
        cov = (np.diag(c) - np.outer(c, c)) / (a[2] + 1)        # Dirichlet covariance at concentration a
        return np.array([var_w, var_l, uc @ cov @ uc])

    for cell in rng.choice(cells, 60, replace=False):
        e = np.flatnonzero(st.entry_cell == cell)
        w, lr, c, uc, u_win, u_lose = parts(law[0], e)
        if not (0 < w < 1 and 0 < lr < 1) or len(c) == 0:
            continue
        var = part_variances(law[0], conc_child, e, cell) + weight[0, cell] ** 2 * part_variances(
            parent_law[0], conc_parent, e, cell)

        def q(w_, l_, ubar):
            return w_ * u_win + (1 - w_) * (l_ * u_lose + (1 - l_) * ubar)

        ubar, h = c @ uc, 1e-6
        grad = np.array([(q(w + h, lr, ubar) - q(w - h, lr, ubar)) / (2 * h),
                         (q(w, lr + h, ubar) - q(w, lr - h, ubar)) / (2 * h),
                         (q(w, lr, ubar + h) - q(w, lr, ubar - h)) / (2 * h)])
        assert got[cell] == pytest.approx(grad ** 2 @ var, rel=1e-6, abs=1e-14), cell


def test_entry_values_are_the_outcomes_worth_to_the_player():
    from strategist.rally.game import _entry_values

    from .small_game import small_game

    game = small_game()
    st = game.structure
    values = np.linspace(0.1, 0.9, st.size)
    u = _entry_values(st, values)
    player_hits = (game.states["who"] == "player").to_numpy()[st.cell_state[st.entry_cell]]
    for e in range(len(u)):
        out = st.entry_outcome[e]
        expected = values[out - 2] if out >= 2 else float((out == 0) == player_hits[e])
        assert u[e] == expected
    assert {0, 1} <= set(st.entry_outcome) and (st.entry_outcome >= 2).any()


def test_cell_variance_of_a_hand_made_structure_whose_rallies_return_to_state_zero():
    """Two states by hand, every cell ending either way or going on to either state (state 0 included), one
    level of shrinkage: each cell's variance is the delta method over W, L and the continuation's worth Ū, with
    the Beta variances of W and L and the Dirichlet variance of C·u (scipy and the covariance matrix)."""
    import pandas as pd

    from strategist.rally.game import _entry_values, cell_variance
    from strategist.rally.model import LawLevel

    cells = [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 0, 1)]
    entry_cell = np.repeat(np.arange(4), 4)
    entry_outcome = np.tile([0, 1, 2, 3], 4)
    cs, ca, cb = (np.array(v) for v in zip(*cells))
    st = SimpleNamespace(size=2, states=pd.DataFrame({"who": ["player", "opponent"]}), cell_state=cs, cell_a=ca,
                         cell_b=cb, entry_cell=entry_cell, entry_outcome=entry_outcome)
    rng = np.random.default_rng(11)
    law = rng.dirichlet(np.ones(4) * 3, size=4).ravel()[None, :]
    conc = rng.uniform(5, 40, (1, 4, 3))
    est = SimpleNamespace(chain=(LawLevel("cell", law, conc, np.zeros((1, 4, 3))),))
    values = np.array([0.35, 0.8])
    got = cell_variance(st, est, values)
    u = _entry_values(st, values)
    for c in range(4):
        p, uc = law[0, 4 * c:4 * c + 4], u[4 * c:4 * c + 4]
        w, lr = p[0], p[1] / (1 - p[0])
        share = p[2:] / p[2:].sum()
        ubar = share @ uc[2:]
        cov = (np.diag(share) - np.outer(share, share)) / (conc[0, c, 2] + 1)
        var = np.array([stats.beta(w * conc[0, c, 0], (1 - w) * conc[0, c, 0]).var(),
                        stats.beta(lr * conc[0, c, 1], (1 - lr) * conc[0, c, 1]).var(), uc[2:] @ cov @ uc[2:]])

        def q(w_, l_, b_):
            return w_ * uc[0] + (1 - w_) * (l_ * uc[1] + (1 - l_) * b_)

        h = 1e-6
        grad = np.array([(q(w + h, lr, ubar) - q(w - h, lr, ubar)) / (2 * h),
                         (q(w, lr + h, ubar) - q(w, lr - h, ubar)) / (2 * h),
                         (q(w, lr, ubar + h) - q(w, lr, ubar - h)) / (2 * h)])
        assert got[c] == pytest.approx(grad ** 2 @ var, rel=1e-6), c


def test_a_cell_that_cannot_go_on_varies_only_with_its_winner_share():
    """The last cell of a hand-made structure ends every rally (a winner or an error): its Q is
    W·u_win + (1 − W)·u_lose, so Var Q = (u_win − u_lose)² · Var W (Beta at the level's concentration)."""
    import pandas as pd

    from strategist.rally.game import cell_variance
    from strategist.rally.model import LawLevel

    cells = [(0, 0, 0), (1, 0, 0), (1, 0, 1)]
    entry_cell = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    entry_outcome = np.array([0, 1, 3, 0, 1, 2, 0, 1])
    cs, ca, cb = (np.array(v) for v in zip(*cells))
    st = SimpleNamespace(size=2, states=pd.DataFrame({"who": ["player", "opponent"]}), cell_state=cs, cell_a=ca,
                         cell_b=cb, entry_cell=entry_cell, entry_outcome=entry_outcome)
    law = np.array([[0.2, 0.3, 0.5, 0.1, 0.2, 0.7, 0.25, 0.75]])
    conc = np.full((1, 3, 3), 19.0)
    est = SimpleNamespace(chain=(LawLevel("cell", law, conc, np.zeros((1, 3, 3))),))
    got = cell_variance(st, est, np.array([0.4, 0.6]))
    # the opponent hits in state 1: its winner is worth 0 to the player, its error 1
    assert got[2] == pytest.approx((0.0 - 1.0) ** 2 * stats.beta(0.25 * 19, 0.75 * 19).var(), rel=1e-9)
    assert np.isfinite(got).all() and (got[:2] > 0).all()
