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


def test_defaults_are_the_documented_ones(game):
    """``play_out(game)``: the player's equilibrium against the opponent's observed play, 100,000 rallies,
    seed 0, rallies capped at 500 strokes, a 95 % interval."""
    default = play_out(game)
    named = play_out(game, "equilibrium", "observed", 100_000, seed=0, max_strokes=500, level=0.95)
    assert (default.player_policy, default.opponent_policy, default.rallies, default.level) == \
        ("equilibrium", "observed", 100_000, 0.95)
    assert default.wins == named.wins and np.array_equal(default.lengths, named.lengths)
    assert default.start == "player: serve" and default.seconds > 0


def test_the_interval_has_the_level_asked_for(game):
    out = play_out(game, "observed", "observed", 3_000, seed=1, level=0.8)
    assert (out.ci_low, out.ci_high) == wilson(out.wins, out.rallies - out.capped, 0.8)
    assert out.level == 0.8


@pytest.mark.parametrize("bad", [dict(rallies=0), dict(rallies=2.5), dict(rallies=True), dict(level=0.0),
                                 dict(level=1.0), dict(level=1.5)])
def test_bad_arguments_are_refused(game, bad):
    from strategist.errors import EstimationError

    with pytest.raises(EstimationError):
        play_out(game, **bad)


def test_a_single_rally_is_a_playout(game):
    out = play_out(game, rallies=1, seed=3)
    assert out.rallies == 1 and len(out.lengths) == 1 and out.wins in (0, 1)


def test_usage_names_shots_and_positions_by_who_hits(game):
    """Where the player hits, their actions are shots and the opponent's are positions, and the other way
    round; the table is sorted by side (player first), kind, then count."""
    out = play_out(game, "equilibrium", "observed", 5_000, seed=8)
    who = list(game.states["who"])
    shots = {lab for s, w in enumerate(who) for lab in
             (game.layout.row_labels[s] if w == "player" else game.layout.column_labels[s])}
    positions = {lab for s, w in enumerate(who) for lab in
                 (game.layout.column_labels[s] if w == "player" else game.layout.row_labels[s])}
    usage = out.usage
    for side in ("player", "opponent"):
        mine = usage[usage["side"] == side]
        assert set(mine.loc[mine["kind"] == "shot", "action"]) <= shots
        assert set(mine.loc[mine["kind"] == "position", "action"]) <= positions
        assert {"shot", "position"} <= set(mine["kind"])
    assert "smash" in set(usage.loc[(usage["side"] == "player") & (usage["kind"] == "shot"), "action"])
    keys = list(zip(usage["side"], usage["kind"], -usage["count"]))
    assert keys == sorted(keys, key=lambda k: (-ord(k[0][0]), -ord(k[1][0]), k[2]))


def test_to_dict_is_the_playout_as_json(game):
    import json

    out = play_out(game, "equilibrium", "observed", 2_000, seed=6, level=0.9)
    d = json.loads(json.dumps(out.to_dict()))
    assert d == {"start": out.start, "player_policy": "equilibrium", "opponent_policy": "observed",
                 "rallies": 2_000, "wins": out.wins, "capped": out.capped, "win_probability": out.win_probability,
                 "ci_low": out.ci_low, "ci_high": out.ci_high, "level": 0.9, "exact": out.exact,
                 "rally_length": {"mean": float(out.lengths.mean()), "median": float(np.median(out.lengths)),
                                  "p90": float(np.percentile(out.lengths, 90)), "max": int(out.lengths.max())},
                 "usage": [{k: (v if isinstance(v, str) else float(v) if k == "share" else int(v))
                            for k, v in row.items()} for row in out.usage.to_dict(orient="records")],
                 "seconds": out.seconds, "starts": [out.start]}


def test_wilson_bounds_stay_within_zero_and_one_and_default_to_95_percent():
    # 40 of 40 at 95 %: the formula's upper end rounds to 1 + 2e-16; 0 of 1000 at 80 %: its lower end to -1e-19
    assert wilson(40, 40, 0.95)[1] == 1.0 and wilson(0, 1000, 0.8)[0] == 0.0
    assert wilson(50, 100) == wilson(50, 100, 0.95)


def test_a_playout_without_an_ended_rally_has_no_win_rate(game):
    out = play_out(game, rallies=50, max_strokes=0)
    assert out.capped == 50 and out.wins == 0
    assert math.isnan(out.win_probability) and math.isnan(out.ci_low) and math.isnan(out.ci_high)


def test_counts_are_whole_numbers(game):
    out = play_out(game, "observed", "observed", 2_000, seed=2)
    assert out.lengths.dtype.kind == "i" and out.usage["count"].dtype.kind == "i"


def test_length_summary_is_the_lengths_mean_median_90th_percentile_and_longest():
    from strategist.rally.playout import Playout

    lengths = np.arange(1, 101)
    out = Playout("player: serve", "equilibrium", "observed", 100, 50, 0, 0.5, 0.4, 0.6, 0.95, 0.5, lengths,
                  None)
    assert out.length_summary() == {"mean": 50.5, "median": 50.5, "p90": pytest.approx(90.1, abs=1e-12),
                                    "max": 100}


def test_compile_game_lays_out_states_of_different_shapes():
    """Two states of shapes 3 x 1 and 1 x 2 (more rows than any state has columns): every cell's cumulative
    law is its win, then its next states; later slots keep that mass and code the loss (a draw above it is a
    loss); padded cells code the loss."""
    from types import SimpleNamespace

    from strategist.rally.playout import LOSE, WIN, compile_game

    r0, r1 = np.array([[0.2], [0.5], [0.0]]), np.array([[0.1, 0.3]])
    t0, t1 = np.zeros((3, 1, 2)), np.zeros((1, 2, 2))
    t0[:, 0, 1] = [0.5, 0.25, 0.6]
    t1[0, 0, 0] = 0.4
    cg = compile_game(SimpleNamespace(rewards=[r0, r1], transitions=[t0, t1]))
    assert cg.cum_out.shape == (2, 3, 2, 3) and cg.shapes == ((3, 1), (1, 2))
    np.testing.assert_allclose(cg.cum_out[0, :, 0], [[0.2, 0.7, 0.7], [0.5, 0.75, 0.75], [0.0, 0.6, 0.6]])
    np.testing.assert_array_equal(cg.code[0, :, 0], [[WIN, 1, LOSE]] * 3)
    np.testing.assert_allclose(cg.cum_out[1, 0, :2], [[0.1, 0.5, 0.5], [0.3, 0.3, 0.3]])
    np.testing.assert_array_equal(cg.code[1, 0, :2], [[WIN, 0, LOSE], [WIN, LOSE, LOSE]])
    assert (cg.cum_out[0, :, 1] == 1.0).all() and (cg.code[0, :, 1] == LOSE).all()      # padding
    assert (cg.cum_out[1, 1:] == 1.0).all() and (cg.code[1, 1:] == LOSE).all()


@pytest.mark.parametrize("side", ["player", "opponent"])
def test_the_last_action_of_the_widest_state_is_played(game, side):
    """A policy that plays the last action of a state with the most actions: every rally starting there
    plays it (the draw's index is clipped to the widest state's last action, not before it)."""
    labels = game.layout.row_labels if side == "player" else game.layout.column_labels
    widest = max(len(lab) for lab in labels)
    s = next(k for k, lab in enumerate(labels) if len(lab) == widest)
    mixes = [np.asarray(x, dtype=float) for x in (game.observed_row if side == "player" else game.observed_column)]
    mixes[s] = np.eye(widest)[-1]
    policies = {"player_policy": mixes} if side == "player" else {"opponent_policy": mixes}
    out = play_out(game, **policies, rallies=300, seed=5, start=game.labels[s], max_strokes=1)
    kind = "shot" if (game.states["who"].iat[s] == "player") == (side == "player") else "position"
    row = out.usage[(out.usage["side"] == side) & (out.usage["kind"] == kind) & (out.usage["action"] == labels[s][-1])]
    assert row["count"].sum() == 300


def test_usage_of_one_stroke_has_zero_shares_where_nobody_acted_and_keeps_the_games_order_in_ties(game):
    """One stroke from the player's serve: the player's shots and the opponent's positions hold every
    rally; the player's positions and the opponent's shots none (share 0, not undefined). Ties keep the
    order in which the game lists the actions (its first state naming each), the table its five columns."""
    out = play_out(game, "observed", "observed", 200, seed=1, max_strokes=1)
    usage = out.usage
    assert list(usage.columns) == ["side", "kind", "action", "count", "share"]
    assert list(usage.index) == list(range(len(usage)))
    for side, kind, total in (("player", "shot", 200), ("opponent", "position", 200), ("player", "position", 0),
                              ("opponent", "shot", 0)):
        part = usage[(usage["side"] == side) & (usage["kind"] == kind)]
        assert part["count"].sum() == total and len(part) > 0, (side, kind)
        assert part["share"].notna().all() and part["share"].sum() == pytest.approx(1.0 if total else 0.0)
    idle = usage[(usage["side"] == "player") & (usage["kind"] == "position")]
    who = list(game.states["who"])
    in_game_order = list(dict.fromkeys(a for s, w in enumerate(who) if w == "opponent"
                                       for a in game.layout.row_labels[s]))
    assert list(idle["action"]) == in_game_order and in_game_order != sorted(in_game_order)


def test_a_play_out_too_large_to_hold_is_refused_before_anything_is_allocated():
    """10,000,000,000 rallies would need 74.5 GiB for one array: refused at once, with the bound the command
    line also holds."""
    import tracemalloc

    from strategist.cli.simulate_cmd import MAX_RALLIES as CLI_MAX
    from strategist.errors import EstimationError
    from strategist.rally.playout import MAX_RALLIES, play_out

    assert CLI_MAX == MAX_RALLIES == 10_000_000
    tracemalloc.start()
    try:
        for rallies in (10_000_000_000, MAX_RALLIES + 1, 0, 2.5):
            with pytest.raises(EstimationError, match="rallies must be a whole number from 1 to 10,000,000"):
                play_out(None, rallies=rallies)
        assert tracemalloc.get_traced_memory()[1] < 10_000_000
    finally:
        tracemalloc.stop()
