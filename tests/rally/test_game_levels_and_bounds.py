"""The rally game's level shift, the ends of its intervals and the rules of its rounds, against independent
references: the shift against a float64 root of the visit-weighted serve values (scipy's brentq), the posterior
and bootstrap intervals at a level so high that they reach 0 and 1 against the normal quantile and numpy's
quantiles by hand, the tie at a bound broken toward the mix better on the point estimates, the habit kept when a
departure is worth at most one part in a billion more, the rounds' stopping rule on scripted values, and the
helpers (per_cell, restrict_to_trusted, candidate_habits) on small hand-made inputs of other number types."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

import strategist.rally.game as rally_module
from strategist.rally.game import (Layout, _chain_values, _pessimistic_round, _recommend, _set_level, _solve_stages,
                                   candidate_habits, per_cell, restrict_to_trusted)

from .pair import O, P
from .small_game import small_game

#: A level so near 1 that z ≈ 6.1: the intervals of the small pair's game reach past 0 and 1.
HIGH_LEVEL = 1.0 - 1e-9


def _z(level):
    return stats.norm.ppf(0.5 + level / 2.0)


# ------------------------------------------------------------------------------------------- the level shift
@dataclass(frozen=True)
class _Estimate:
    probability: np.ndarray
    level_shift: float = 0.0


#: Per state: the logit of its value before the shift; states 0, 1 the player's serves, 2 the opponent's, 3 a
#: rally state (visited most, and not a serve: it must not count).
_LOGITS = np.array([2.0, -1.0, 0.0, 3.0])
_STATES = pd.DataFrame({"phase": ["serve", "serve", "serve", "rally"],
                        "who": ["player", "player", "opponent", "player"], "visits": [3, 0, 5, 40]})


def _shifted(structure, probability, delta):
    return np.asarray(probability, dtype=float) + delta


def _arrays(lay, probability):
    """1 x 1 stages that end the rally at once: state g is worth expit(logit_g + shift)."""
    shift = float(np.ravel(probability)[0])
    size = len(_LOGITS)
    return ([np.array([[special.expit(b + shift)]]) for b in _LOGITS], [np.zeros((1, 1, size)) for _ in _LOGITS])


@pytest.fixture
def stub_level(monkeypatch):
    import strategist.rally.model as model

    monkeypatch.setattr(model, "shift_laws", _shifted)
    monkeypatch.setattr(rally_module, "stage_arrays", _arrays)
    ones = [np.ones(1)] * len(_LOGITS)

    def run(record_win=0.6, opponent=O, states=_STATES):
        structure = SimpleNamespace(record_win=record_win, settings=SimpleNamespace(opponent=opponent), states=states)
        est = _Estimate(np.zeros((1, 1)))
        return est, _set_level(structure, None, est, ones, ones)

    return run


def test_the_shift_gives_the_record_as_the_visit_weighted_mean_of_the_serve_values(stub_level):
    """Δ solves ½(avg_w(v₀, v₁) + v₂) = record with weights visits + 1 (a serve state never visited still counts
    once), v_g = expit(b_g + Δ); the rally state is left out. The reference root by brentq in float64."""
    w = _STATES["visits"].to_numpy(float)[:2] + 1.0

    def mean_serve(delta):
        v = special.expit(_LOGITS + delta)
        return 0.5 * ((w[0] * v[0] + w[1] * v[1]) / w.sum() + v[2])

    for record in (0.6, 0.35, 0.8):
        reference = optimize.brentq(lambda d: mean_serve(d) - record, -2.0, 2.0, xtol=1e-14)
        est, (shifted, delta) = stub_level(record_win=record)
        assert delta == pytest.approx(reference, abs=2e-6)
        assert mean_serve(delta) == pytest.approx(record, abs=1e-7)
        assert shifted.level_shift == delta
        np.testing.assert_array_equal(shifted.probability, est.probability + delta)
    # the weights matter here: equal weights would give another shift
    plain = optimize.brentq(lambda d: 0.5 * (0.5 * (special.expit(2 + d) + special.expit(d - 1)) + special.expit(d))
                            - 0.6, -2.0, 2.0)
    assert abs(plain - stub_level(record_win=0.6)[1][1]) > 1e-2


@pytest.mark.parametrize("record_win, opponent, serves", [(None, O, True), (0.6, None, True), (0.6, O, False)])
def test_no_record_no_opponent_or_no_serve_state_leaves_the_estimate_unshifted(stub_level, record_win, opponent,
                                                                                  serves):
    """The population game and a player against everyone (no opponent), a pair without a record, a game without a
    serve state: the estimate as it was and a shift of exactly 0."""
    states = _STATES if serves else _STATES.assign(phase="rally")
    est, (same, delta) = stub_level(record_win=record_win, opponent=opponent, states=states)
    assert same is est
    assert delta == 0.0


# ------------------------------------------------------------------------------------------- interval ends
@pytest.fixture(scope="module")
def high_level_game():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return small_game(level=HIGH_LEVEL)


def test_posterior_intervals_at_a_high_level_stop_at_zero_and_one(high_level_game):
    """value ± z·sd and observed ± z·√(var + τ²) reach past 0 and 1 at z ≈ 6.1: each end is the unclipped end
    held within [0, 1], and the clip does bind at both ends."""
    from strategist.rally.game import cell_variance, value_variance

    game = high_level_game
    st, rec = game.structure, game.recommendation
    z = _z(HIGH_LEVEL)
    var = value_variance(game.rewards, game.transitions, rec.row_strategies, rec.column_strategies,
                         per_cell(game.layout, cell_variance(st, game.estimate, rec.realized)), rec.realized)
    low, high = rec.realized - z * np.sqrt(var), rec.realized + z * np.sqrt(var)
    obs = game.observed_values
    var_o = value_variance(game.rewards, game.transitions, game.observed_row, game.observed_column,
                           per_cell(game.layout, cell_variance(st, game.estimate, obs)), obs)
    o_low, o_high = obs - z * np.sqrt(var_o + st.match_sd ** 2), obs + z * np.sqrt(var_o + st.match_sd ** 2)
    assert (low < 0).any() and (high > 1).any() and (o_low < 0).any() and (o_high > 1).any()
    assert (o_high < 2).all()
    for key, ref in (("value_low", low), ("value_high", high), ("observed_low", o_low), ("observed_high", o_high)):
        np.testing.assert_allclose(game.states[key], np.clip(ref, 0.0, 1.0), atol=1e-9, err_msg=key)
        assert game.states[key].between(0.0, 1.0).all(), key


def test_normal_bootstrap_intervals_at_a_high_level_stop_at_zero_and_one_but_gains_do_not():
    """point ± z·√(G/(G−1))·sd of the replicates: the values' ends held within [0, 1] (and they reach past it
    here), the gain's (a difference of probabilities) left as they are, below 0."""
    game = small_game(level=HIGH_LEVEL, bootstrap=4, seed=1)
    boot = game.bootstrap
    g = max(boot.clusters, 2)
    factor = _z(HIGH_LEVEL) * np.sqrt(g / (g - 1.0))
    observed = game.observed_values
    gain = game.states["switch_value"].to_numpy() - observed
    for key, point, reps, clip in (("value", game.recommendation.realized, boot.value, True),
                                   ("observed", observed, boot.observed, True),
                                   ("gain", gain, boot.switch - boot.observed, False)):
        half = factor * np.nanstd(reps, axis=0, ddof=1)
        lo, hi = point - half, point + half
        if clip:
            assert (lo < 0).any() and (hi > 1).any(), key
            lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        else:
            assert (lo < 0).any()
        np.testing.assert_allclose(game.states[f"{key}_low"], lo, atol=1e-9, err_msg=key)
        np.testing.assert_allclose(game.states[f"{key}_high"], hi, atol=1e-9, err_msg=key)


def test_percentile_bootstrap_intervals_are_the_replicates_quantiles():
    """interval="percentile": every interval (value, observed, gain) is the replicates' 5 % and 95 % quantiles
    by numpy, not the normal interval (which differs from them here)."""
    game = small_game(bootstrap=5, seed=2, interval="percentile")
    boot = game.bootstrap
    assert game.interval == "percentile" and boot.failed == 0
    g = max(boot.clusters, 2)
    observed = game.observed_values
    for key, point, reps in (("value", game.recommendation.realized, boot.value),
                             ("observed", observed, boot.observed),
                             ("gain", game.states["switch_value"].to_numpy() - observed, boot.switch - boot.observed)):
        lo, hi = np.nanquantile(reps, [0.05, 0.95], axis=0)
        np.testing.assert_allclose(game.states[f"{key}_low"], lo, atol=1e-12, err_msg=key)
        np.testing.assert_allclose(game.states[f"{key}_high"], hi, atol=1e-12, err_msg=key)
        normal_half = _z(0.9) * np.sqrt(g / (g - 1.0)) * np.nanstd(reps, axis=0, ddof=1)
        assert np.abs(game.states[f"{key}_high"] - (point + normal_half)).max() > 1e-4, key


def test_the_game_names_its_player_and_opponent():
    game = small_game()
    assert game.player == P and game.opponent == O
    assert game.describe_who("opponent") == O and game.to_dict()["opponent"] == O


# ------------------------------------------------------------------------------------------- alternating rounds
def _flipping_at(states_wanted: int):
    """A round whose opponent mixes at ``states_wanted`` states where the opponent keeps its habit flip between
    their first two positions or shots every round (a two-round cycle at exactly those states)."""
    real = rally_module._pessimistic_round
    seen = {"rounds": 0}

    def flipping(*args):
        low, high, rows, cols, xs, ys, values = real(*args)
        if "states" not in seen:
            seen["states"] = [g for g in range(len(ys)) if cols[g] and len(ys[g]) >= 2][:states_wanted]
        seen["rounds"] += 1
        ys = list(ys)
        for g in seen["states"]:
            ys[g] = np.eye(len(ys[g]))[seen["rounds"] % 2]
        return low, high, rows, cols, xs, ys, values

    return flipping, seen


def test_a_cycle_at_four_states_names_three_and_counts_one_more(monkeypatch):
    flipping, seen = _flipping_at(4)
    monkeypatch.setattr(rally_module, "_pessimistic_round", flipping)
    monkeypatch.setattr(rally_module, "REJUDGEMENTS", 0)       # one pass: the flips stand for its cycle
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        game = small_game()
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    states = sorted(seen["states"])
    assert len(states) == 4 and game.recommendation.alternating == tuple(states)
    named = ", ".join(f"'{game.labels[g]}'" for g in states[:3])
    assert len(messages) == 1 and f"alternates between two mixes at {named} and 1 more (" in messages[0]


# ------------------------------------------------------------------------------------------- one round's rules
def _one_round(q_point, sd, player_hits, x_habit, y_habit, z=1.0):
    trusted = np.ones(q_point.shape[0] if player_hits else q_point.shape[1], bool)
    return _pessimistic_round([q_point], [sd], z, np.array([player_hits]), [trusted], ([x_habit], [y_habit]),
                              np.array([False]), np.array([False]))


def test_the_players_tie_at_the_bound_goes_to_the_shot_better_on_the_estimates():
    """Shots 0 and 1 both worth 1/4 at the lower bound (0.5 − 0.25, 0.75 − 0.5: exact), shot 2 (the habit) 0.1:
    the player departs to shot 1, worth more on the point estimates (0.75 against 0.5), and its guarantee at the
    bound is 1/4."""
    q = np.array([[0.5], [0.75], [0.1]])
    sd = np.array([[0.25], [0.5], [0.0]])
    low, _, rows, _, xs, _, values = _one_round(q, sd, True, np.array([0.0, 0.0, 1.0]), np.ones(1))
    np.testing.assert_array_equal(low[0].ravel(), [0.25, 0.25, 0.1])
    assert not rows[0]
    np.testing.assert_allclose(xs[0], [0.0, 1.0, 0.0], atol=1e-9)
    assert values[0] == pytest.approx(0.25, abs=1e-12)


def test_the_opponents_tie_at_the_bound_goes_to_the_shot_worse_for_the_player_on_the_estimates():
    """The opponent hits: shots 0 and 1 both worth 3/4 to the player at the opponent's bound (0.5 + 0.25,
    0.25 + 0.5), shot 2 (the habit) 0.9: the opponent departs to shot 1, worth less to the player on the point
    estimates (0.25 against 0.5)."""
    q = np.array([[0.5, 0.25, 0.9]])
    sd = np.array([[0.25, 0.5, 0.0]])
    _, high, _, cols, _, ys, _ = _one_round(q, sd, False, np.ones(1), np.array([0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(high[0].ravel(), [0.75, 0.75, 0.9])
    assert not cols[0]
    np.testing.assert_allclose(ys[0], [0.0, 1.0, 0.0], atol=1e-9)


def test_a_departure_worth_one_part_in_a_billion_more_keeps_the_players_habit():
    """The player's best shot guarantees exactly 1e-9 more than the habit (σ = 0, so the bound is the point):
    within the tolerance, the habit is kept; 2e-9 more is a departure."""
    for more, kept in ((1e-9, True), (2e-9, False)):
        q = np.array([[0.5], [0.5 + more]])
        _, _, rows, _, xs, _, _ = _one_round(q, np.zeros((2, 1)), True, np.array([1.0, 0.0]), np.ones(1))
        assert bool(rows[0]) is kept, more
        np.testing.assert_allclose(xs[0], [1.0, 0.0] if kept else [0.0, 1.0], atol=1e-9)


def test_a_departure_worth_one_part_in_a_billion_less_to_the_player_keeps_the_opponents_habit():
    for less, kept in ((1e-9, True), (2e-9, False)):
        q = np.array([[0.5, 0.5 - less]])
        _, _, _, cols, _, ys, _ = _one_round(q, np.zeros((1, 2)), False, np.ones(1), np.array([1.0, 0.0]))
        assert bool(cols[0]) is kept, less
        np.testing.assert_allclose(ys[0], [1.0, 0.0] if kept else [0.0, 1.0], atol=1e-9)


def test_stage_mixes_are_probability_vectors_whatever_the_solvers_rounding(monkeypatch):
    """A solver whose mixes carry rounding (a weight of −1e−12, a sum of 1 + 1e−12): each stage's mix is held
    at 0 and rescaled to sum to 1 exactly."""
    import strategist.games.batch as batch

    def rounded(games):
        assert games.shape == (1, 2, 2)
        return SimpleNamespace(row_strategy=np.array([[1.0 + 1e-12, -1e-12]]),
                               column_strategy=np.array([[-1e-12, 1.0 + 1e-12]]), value=np.array([0.5]))

    monkeypatch.setattr(batch, "solve_zero_sum_batch", rounded)
    xs, ys, values = _solve_stages([np.array([[0.5, 0.4], [0.3, 0.6]])])
    for mix, pure in ((xs[0], [1.0, 0.0]), (ys[0], [0.0, 1.0])):
        assert (mix >= 0).all()
        assert abs(mix.sum() - 1.0) <= 2e-16
        np.testing.assert_allclose(mix, pure, atol=1e-15)
    assert values[0] == 0.5


def test_values_within_one_part_in_a_billion_of_zero_one_are_kept():
    """A value of exactly −1e−9 or 1 + 1e−9 (a one-state chain that ends at once: V = r) is rounding, kept;
    beyond it, 2e−9 out, the values are refused."""
    ends = [np.zeros((1, 1, 1))]
    for reward in (-1e-9, 1.0 + 1e-9):
        v = _chain_values([np.array([[reward]])], ends, [np.ones(1)], [np.ones(1)])
        np.testing.assert_array_equal(v, [reward])
    for reward in (-2e-9, 1.0 + 2e-9):
        with pytest.raises(np.linalg.LinAlgError):
            _chain_values([np.array([[reward]])], ends, [np.ones(1)], [np.ones(1)])


def test_a_stage_is_solved_alike_whatever_stages_of_other_shapes_are_solved_with_it():
    """Stages are padded with dominated actions only up to the largest stage of their own kind (tall or wide,
    and its short side): a 2 x 2 stage whose shots are all worth the same gets the same mixes alone as beside a
    3 x 1 and a 1 x 3 stage (padded to 3 x 3 with them, the solver would return another of its optimal
    mixes), and every stage keeps its value."""
    tie = np.full((2, 2), 0.5)
    tall, wide = np.array([[0.2], [0.7], [0.4]]), np.array([[0.3, 0.6, 0.1]])
    x_alone, y_alone, v_alone = _solve_stages([tie])
    xs, ys, values = _solve_stages([tie, tall, wide])
    np.testing.assert_array_equal(xs[0], x_alone[0])
    np.testing.assert_array_equal(ys[0], y_alone[0])
    np.testing.assert_allclose(values, [0.5, 0.7, 0.1], atol=1e-12)
    assert v_alone[0] == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_allclose(xs[1], [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(ys[2], [0.0, 0.0, 1.0], atol=1e-12)


# ------------------------------------------------------------------------------------------- the rounds' stopping
def test_values_moving_by_exactly_one_part_in_a_billion_are_not_settled(monkeypatch):
    """Scripted rounds (every habit kept, the same each round) whose values are 0, 0, 1e-9, 1e-9: the rounds
    settle only when the kept habits repeat and the values move by less than 1e-9 — not in the first round
    (nothing to compare with), not when they move by exactly 1e-9 (nor is that a two-round cycle) — so at
    the third round, converged, without averaging; the pass that judges the habits again from there keeps
    the same ones at the same values, so the rounds end after its first round."""
    game = small_game()
    size = game.structure.size
    script = iter([0.0, 0.0, 1e-9, 1e-9, 1e-9])

    def chain_values(rewards, transitions, xs, ys):
        return np.full(size, next(script))

    def keeping(q_point, sd_cells, z, player, trusted, habits, fixed_rows, fixed_cols):
        keep = np.ones(size, bool)
        return q_point, q_point, keep, keep.copy(), list(habits[0]), list(habits[1]), np.zeros(size)

    monkeypatch.setattr(rally_module, "_chain_values", chain_values)
    monkeypatch.setattr(rally_module, "_pessimistic_round", keeping)
    habits = candidate_habits(game.structure, game.observed_row, game.observed_column)
    rec, _, _ = _recommend(game.structure, game.layout, game.rewards, game.transitions, habits, game.solution,
                           game.estimate, game.level)
    assert rec.converged and rec.iterations == 4 and rec.alternating == ()
    np.testing.assert_array_equal(rec.realized, np.full(size, 1e-9))


# ------------------------------------------------------------------------------------------- helpers' inputs
def _layout(shapes, cell_index):
    offsets = np.r_[0, np.cumsum([m * n for m, n in shapes])]
    return Layout(tuple(shapes), None, None, None, None, offsets, None, (), (), np.asarray(cell_index))


def test_per_cell_fills_the_slots_without_a_cell():
    """A 2 x 2 stage with cells at (0, 0) and (1, 1) and a 1 x 2 stage with a cell at (0, 1): the other slots are
    0 by default, or the fill given (an integer fill keeps the cells' fractions)."""
    lay = _layout([(2, 2), (1, 2)], [0, 3, 5])
    cells = np.array([0.25, 0.75, 0.5])
    out = per_cell(lay, cells)
    np.testing.assert_array_equal(out[0], [[0.25, 0.0], [0.0, 0.75]])
    np.testing.assert_array_equal(out[1], [[0.0, 0.5]])
    out = per_cell(lay, cells, fill=-1)
    np.testing.assert_array_equal(out[0], [[0.25, -1.0], [-1.0, 0.75]])
    np.testing.assert_array_equal(out[1], [[-1.0, 0.5]])


def test_restriction_of_a_game_of_sure_outcomes_keeps_the_stand_in_habits_fractions():
    """Integer 0/1 payoffs and transitions (every stroke's outcome sure): where the habit (½, ½) stands in, its
    row or column is the habit's average, ½, not rounded to an integer; ``stand_in`` selects those states."""
    structure = SimpleNamespace(states=pd.DataFrame({"who": ["player", "opponent", "player"]}),
                                trusted=(np.array([False, False]), np.array([False, False]), np.array([True, True])))
    rewards = [np.array([[1, 0], [0, 1]]), np.array([[0, 1], [1, 0]]), np.array([[1, 1], [0, 0]])]
    transitions = [np.zeros((2, 2, 3), dtype=int) for _ in range(3)]
    transitions[0][0, 1, 2] = transitions[0][1, 0, 2] = 1
    transitions[1][0, 0, 2] = transitions[1][1, 1, 2] = 1
    half = np.array([0.5, 0.5])
    r, t, stand_in = restrict_to_trusted(structure, rewards, transitions, ([half] * 3, [half] * 3))
    np.testing.assert_array_equal(r[0][0], [0.5, 0.5])
    np.testing.assert_array_equal(t[0][0, :, 2], [0.5, 0.5])
    np.testing.assert_array_equal(r[1][:, 0], [0.5, 0.5])
    np.testing.assert_array_equal(t[1][:, 0, 2], [0.5, 0.5])
    np.testing.assert_array_equal(r[2], rewards[2])
    assert list(np.array(["a", "b", "c"])[stand_in]) == ["a", "b"]


def test_candidate_habits_of_single_precision_mixes_are_renormalised_in_double_precision():
    """Mixes given in float32: the hitter's mix renormalised on its candidates equals the float64 computation
    from the same numbers (to 1e-15, where float32 arithmetic would be off by about 1e-8)."""
    structure = SimpleNamespace(states=pd.DataFrame({"who": ["player", "opponent"]}),
                                candidate=(np.array([True, False, True]), np.array([True, True, False])))
    xs = [np.array([0.2, 0.5, 0.3], np.float32), np.array([0.3, 0.7], np.float32)]
    ys = [np.array([0.6, 0.4], np.float32), np.array([0.1, 0.2, 0.7], np.float32)]
    rows, cols = candidate_habits(structure, xs, ys)
    x, y = xs[0].astype(np.float64), ys[1].astype(np.float64)
    np.testing.assert_allclose(rows[0], [x[0] / (x[0] + x[2]), 0.0, x[2] / (x[0] + x[2])], rtol=1e-15, atol=0)
    np.testing.assert_allclose(cols[1], [y[0] / (y[0] + y[1]), y[1] / (y[0] + y[1]), 0.0], rtol=1e-15, atol=0)
