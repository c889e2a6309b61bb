"""The recommendation's rounds: one round on hand-solved 2 x 2 stage games (each side's bound, when a side
keeps its habit, each side's mix from its own bound's game), and the fixed point of a small pair's game when
the rounds do not settle (a two-round cycle averaged and reported, the round limit reported)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import strategist.rally.game as rally_module
from strategist.rally.game import _pessimistic_round, rally_game

from .pair import O, P, flipping_rounds, values_of_play
from .small_game import small_game, small_table

#: Player hits; solved by hand: the maximin row mix (1/3, 2/3), the minimax column mix (1/2, 1/2), value 0.4.
Q = np.array([[0.6, 0.2], [0.3, 0.5]])
FREE = np.array([False])


def _round(q, sd, x_habit, y_habit, player=True, trusted=None, fixed_rows=FREE, fixed_cols=FREE, z=2.0):
    trusted = np.ones(q.shape[0] if player else q.shape[1], bool) if trusted is None else trusted
    return _pessimistic_round([q], [sd], z, np.array([player]), [trusted], ([x_habit], [y_habit]), fixed_rows,
                              fixed_cols)


def test_both_sides_depart_to_their_own_games_equilibria():
    low, high, rows, cols, xs, ys, values = _round(Q, np.zeros((2, 2)), np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(low[0], Q)
    np.testing.assert_array_equal(high[0], Q)
    assert not rows[0] and not cols[0]
    np.testing.assert_allclose(xs[0], [1 / 3, 2 / 3], atol=1e-6)
    np.testing.assert_allclose(ys[0], [0.5, 0.5], atol=1e-6)
    assert values[0] == pytest.approx(0.4, abs=1e-6)


def test_a_habit_worth_the_bounds_value_is_kept():
    """The player's habit guaranteeing exactly the lower bound's value (its maximin), the opponent's conceding
    exactly the upper bound's: both kept (no departure the bound does not support)."""
    x_habit, y_habit = np.array([1 / 3, 2 / 3]), np.array([0.5, 0.5])
    _, _, rows, cols, xs, ys, values = _round(Q, np.zeros((2, 2)), x_habit, y_habit)
    assert rows[0] and cols[0]
    assert xs[0] is x_habit and ys[0] is y_habit
    assert values[0] == pytest.approx(0.4, abs=1e-9)


def test_a_habit_kept_before_stays_kept():
    """Fixed rows: the player's habit stands even where its equilibrium guarantees more, and its guarantee at the
    bound is the habit's worst column; the opponent still plays its own game's equilibrium. Fixed columns:
    the opponent's habit stands, the player's mix is still the maximin of the player's game (the opponent
    free there)."""
    x_habit, y_habit = np.array([1.0, 0.0]), np.array([1.0, 0.0])
    _, _, rows, cols, xs, ys, values = _round(Q, np.zeros((2, 2)), x_habit, y_habit, fixed_rows=np.array([True]))
    assert rows[0] and not cols[0]
    assert xs[0] is x_habit and values[0] == pytest.approx(0.2)
    np.testing.assert_allclose(ys[0], [0.5, 0.5], atol=1e-6)
    _, _, rows, cols, xs, ys, values = _round(Q, np.zeros((2, 2)), x_habit, y_habit, fixed_cols=np.array([True]))
    assert not rows[0] and cols[0]
    assert ys[0] is y_habit
    np.testing.assert_allclose(xs[0], [1 / 3, 2 / 3], atol=1e-6)
    assert values[0] == pytest.approx(0.4, abs=1e-6)


def test_the_bounds_are_z_sigma_kept_within_zero_one():
    q = np.array([[0.1, 0.5], [0.9, 0.6]])
    sd = np.array([[0.1, 0.05], [0.1, 0.25]])
    low, high, *_ = _round(q, sd, np.array([0.5, 0.5]), np.array([0.5, 0.5]), z=1.5)
    np.testing.assert_allclose(low[0], [[0.0, 0.425], [0.75, 0.225]])
    np.testing.assert_allclose(high[0], [[0.25, 0.575], [1.0, 0.975]])


def test_the_players_bound_game_dominates_untrusted_shots_of_either_hitter():
    """Where the opponent hits (rows: the player's positions, columns: its shots) and one shot may not be
    advised, both bound games keep it out: the opponent could only play column 0 (worth 0.6 to the player,
    more than its habit concedes: the habit stays); the player stands where column 0 pays most. Where the
    player hits with row 0 untrusted, the player plays row 1 and the opponent the column that concedes least
    against it."""
    habit = np.array([0.5, 0.5])
    _, _, rows, cols, xs, ys, values = _round(Q, np.zeros((2, 2)), habit, habit, player=False,
                                              trusted=np.array([True, False]))
    assert not rows[0] and cols[0] and ys[0] is habit
    np.testing.assert_allclose(xs[0], [1.0, 0.0], atol=1e-6)
    assert values[0] == pytest.approx(0.6, abs=1e-6)
    _, _, rows, cols, xs, ys, values = _round(Q, np.zeros((2, 2)), np.array([1.0, 0.0]), habit, player=True,
                                              trusted=np.array([False, True]))
    assert not rows[0] and not cols[0]
    np.testing.assert_allclose(xs[0], [0.0, 1.0], atol=1e-6)
    assert values[0] == pytest.approx(0.3, abs=1e-6)
    np.testing.assert_allclose(ys[0], [1.0, 0.0], atol=1e-6)      # against row 1, column 0 concedes least


# ------------------------------------------------------------------------------------------- the fixed point
def _flipping(states_wanted: int, side: str):
    """A round whose mixes at ``states_wanted`` states (where that side keeps its habit, so the tie rule does
    not touch them) flip between their first two actions every round."""
    real = rally_module._pessimistic_round
    seen = {"rounds": 0}

    def flipping(*args):
        low, high, rows, cols, xs, ys, values = real(*args)
        kept = rows if side == "player" else cols
        mixes = list(xs if side == "player" else ys)
        if "states" not in seen:
            seen["states"] = [g for g in range(len(mixes)) if kept[g] and len(mixes[g]) >= 2][:states_wanted]
        seen["rounds"] += 1
        for g in seen["states"]:
            mixes[g] = np.eye(len(mixes[g]))[seen["rounds"] % 2]
        if side == "player":
            return low, high, rows, cols, mixes, ys, values
        return low, high, rows, cols, xs, mixes, values

    return flipping, seen


def _game_with(patch_round, passes: int = 1, **patches):
    """The small pair's game with ``patch_round`` for each round and at most ``passes`` passes of the rounds (one:
    a scripted flip stands for one pass's cycle; the passes after it are tested apart)."""
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        patch.setattr(rally_module, "_pessimistic_round", patch_round)
        patch.setattr(rally_module, "REJUDGEMENTS", passes - 1)
        for name, value in patches.items():
            patch.setattr(rally_module, name, value)
        game = rally_game(small_table(), P, O)
    return game, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_two_round_cycle_is_averaged_and_reported():
    flipping, seen = _flipping(1, "opponent")
    game, messages = _game_with(flipping)
    rec, g = game.recommendation, seen["states"][0]
    assert not rec.converged and rec.iterations == seen["rounds"] < 10
    assert rec.alternating == (g,)
    np.testing.assert_allclose(rec.column_strategies[g][:2], [0.5, 0.5])
    assert messages == [f"the recommendation's fixed point alternates between two mixes at '{game.labels[g]}' "
                        "(the optimal mix there flips with the values it leads to); the two mixes' average is used"]
    assert game.to_dict()["recommendation"]["alternating"] == [game.labels[g]]
    realized = values_of_play(game, rec.row_strategies, rec.column_strategies)
    np.testing.assert_allclose(rec.realized, realized, atol=1e-9)
    np.testing.assert_allclose(game.states["value"], realized, atol=1e-9)


def test_a_cycle_at_many_states_names_three_and_counts_the_rest():
    flipping, seen = _flipping(5, "opponent")
    game, messages = _game_with(flipping)
    states = seen["states"]
    assert len(states) == 5 and game.recommendation.alternating == tuple(sorted(states))
    named = ", ".join(f"'{game.labels[g]}'" for g in sorted(states)[:3])
    assert len(messages) == 1 and f"alternates between two mixes at {named} and 2 more (" in messages[0]


def test_a_cycle_at_three_states_names_them_all():
    flipping, seen = _flipping(3, "opponent")
    game, messages = _game_with(flipping)
    named = ", ".join(f"'{game.labels[g]}'" for g in sorted(seen["states"]))
    assert len(seen["states"]) == 3 and len(messages) == 1
    assert messages[0].startswith(f"the recommendation's fixed point alternates between two mixes at {named} (")


def test_an_averaged_player_mix_reports_what_it_guarantees_at_the_bound():
    """The player's mix flipping between two trusted shots at a state where the player departs: the averaged
    mix is played and the state's guarantee is the averaged mix's worst column at the lower bound."""
    plain = small_game()
    rec0 = plain.recommendation
    who = plain.states["who"].to_numpy()
    g = next(k for k in range(len(who))
             if who[k] == "player" and not rec0.row_habit[k] and np.asarray(plain.structure.trusted[k]).sum() >= 2)
    first, second = np.flatnonzero(plain.structure.trusted[g])[:2]
    flipping = flipping_rounds(g, first, second)

    game, messages = _game_with(flipping, _keep_optimal=lambda xs, ys, *rest, **kw: (xs, ys))
    rec = game.recommendation
    assert rec.alternating == (g,) and not rec.row_habit[g] and messages
    x = rec.row_strategies[g]
    np.testing.assert_allclose(x[[first, second]], [0.5, 0.5])
    low = np.where(np.asarray(game.structure.trusted[g])[:, None], rec.stage_games[g], -1.0)
    assert rec.values[g] == pytest.approx(float((x @ low).min()), abs=1e-12)
    assert game.states["pessimistic_value"].iat[g] == rec.values[g]
    others = [k for k in range(len(who)) if k != g and not rec.row_habit[k]]
    assert others                               # every other departure: what its own mix guarantees at its bound
    for k in others:
        trusted = np.asarray(game.structure.trusted[k])
        if who[k] == "player":                  # the opponent's positions are all kept
            low_k = np.where(trusted[:, None], rec.stage_games[k], -1.0) if trusted.any() else rec.stage_games[k]
        else:                                   # the player's positions against the opponent's trusted shots
            low_k = rec.stage_games[k][:, trusted] if trusted.any() else rec.stage_games[k]
        assert rec.values[k] == pytest.approx(float((rec.row_strategies[k] @ low_k).min()), abs=1e-12)


def test_rounds_that_do_not_settle_stop_at_the_limit_and_say_so():
    game, messages = _game_with(rally_module._pessimistic_round, RECOMMENDATION_ROUNDS=1)
    rec = game.recommendation
    assert rec.iterations == 1 and not rec.converged and rec.alternating == ()
    assert messages == ["the recommendation's fixed point did not settle in 1 rounds; the last round's mixes are "
                        "used"]
    np.testing.assert_allclose(rec.realized, values_of_play(game, rec.row_strategies, rec.column_strategies),
                               atol=1e-9)
    assert game.to_dict()["recommendation"] == {"rounds": 1, "converged": False, "alternating": [],
                                                "kept_again": [], "habits_settled": False}


def test_the_rounds_settle_on_a_fixed_point():
    """The settled recommendation: one more round from its values gives the same mixes and values."""
    game = small_game()
    rec = game.recommendation
    assert rec.converged and rec.iterations >= 2 and rec.iterations < rally_module.RECOMMENDATION_ROUNDS
    assert rally_module.RECOMMENDATION_ROUNDS == 60


def test_the_rounds_start_with_the_hitters_fixed_habits_and_keep_every_kept_habit():
    """The first round fixes the hitter's habit exactly where the situation leaves a part unrecorded or the hitter
    has no trusted shot (the player's rows where the player hits, the opponent's columns where it hits; a
    receiver's positions are never fixed); every later round starts from the habits the round before kept."""
    real = rally_module._pessimistic_round
    calls = []

    def recording(q_point, sd_cells, z, player, trusted, habits, fixed_rows, fixed_cols):
        out = real(q_point, sd_cells, z, player, trusted, habits, fixed_rows, fixed_cols)
        calls.append((np.array(player), np.array(fixed_rows), np.array(fixed_cols), out[2].copy(), out[3].copy()))
        return out

    game, _ = _game_with(recording)
    st = game.structure
    player_hits = (game.states["who"] == "player").to_numpy()
    unrecorded = np.array(["unknown" in s for s in game.states["decision_state"]])
    no_trusted = np.array([not np.any(t) for t in st.trusted])
    fixed = unrecorded | no_trusted
    assert fixed.any() and (player_hits & fixed).any() and (~player_hits & fixed).any()
    player, rows0, cols0, _, _ = calls[0]
    np.testing.assert_array_equal(player, player_hits)
    np.testing.assert_array_equal(rows0, player_hits & fixed)
    np.testing.assert_array_equal(cols0, ~player_hits & fixed)
    assert len(calls) == game.recommendation.iterations >= 2
    for before, after in zip(calls, calls[1:]):
        np.testing.assert_array_equal(after[1], before[3])
        np.testing.assert_array_equal(after[2], before[4])
    np.testing.assert_array_equal(game.recommendation.row_habit, calls[-1][3])
    np.testing.assert_array_equal(game.recommendation.column_habit, calls[-1][4])


def test_rounds_whose_values_still_move_go_on_until_they_settle():
    """One state's opponent mix drawn toward a position by half as much every round: the kept habits repeat from
    the second round on while the values still move, so the rounds go on (no cycle is declared) until the
    values move by less than 1e-9, and the recommendation settles without a warning (every pass: the one
    that judges the habits again at the settled values moves them by less than 1e-9 too)."""
    real = rally_module._pessimistic_round
    seen = {"rounds": 0}

    def converging(*args):
        low, high, rows, cols, xs, ys, values = real(*args)
        if "state" not in seen:
            seen["state"] = next(g for g in range(len(ys)) if cols[g] and len(ys[g]) >= 2)
        seen["rounds"] += 1
        g, eps = seen["state"], 0.5 ** seen["rounds"]
        ys = list(ys)
        ys[g] = (1 - eps) * ys[g] + eps * np.eye(len(ys[g]))[0]
        return low, high, rows, cols, xs, ys, values

    game, messages = _game_with(converging, passes=rally_module.REJUDGEMENTS + 1)
    rec = game.recommendation
    assert messages == [] and rec.habits_settled
    assert rec.converged and rec.alternating == ()
    assert 20 <= rec.iterations == seen["rounds"] < 60


def test_an_averaged_mix_is_judged_at_the_bound_over_the_trusted_shots_only():
    """As above at a state where some of the player's shots may not be advised: the averaged mix's guarantee is
    its worst column in the lower-bound game with those shots dominated."""
    plain = small_game()
    rec0, who = plain.recommendation, plain.states["who"].to_numpy()
    g = [k for k in range(len(who)) if who[k] == "player" and not rec0.row_habit[k]
         and 2 <= np.asarray(plain.structure.trusted[k]).sum() < len(plain.structure.trusted[k])][1]
    first, second = np.flatnonzero(plain.structure.trusted[g])[:2]
    flipping = flipping_rounds(g, first, second)

    game, _ = _game_with(flipping, _keep_optimal=lambda xs, ys, *rest, **kw: (xs, ys))
    rec = game.recommendation
    assert rec.alternating == (g,)
    x = rec.row_strategies[g]
    low = np.where(np.asarray(game.structure.trusted[g])[:, None], rec.stage_games[g], -1.0)
    assert rec.values[g] == pytest.approx(float((x @ low).min()), abs=1e-12)
