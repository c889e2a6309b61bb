"""The estimated rally game of a small simulated pair, state by state, against independent references: the
stage arrays against a loop over the outcome laws' support, the habits against the shrinkage written out, the
values of play against one linear solve, the point equilibrium's certificates, the recommendation as the fixed
point of its pessimistic stage games, the pair's level against its rally record, and what the lookups,
``stage`` and ``to_dict`` report."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy import stats

from strategist.errors import EstimationError
from strategist.rally.game import (HABIT_STRENGTH, candidate_habits, observed_mixes, open_situations,
                                   restrict_to_trusted, value_variance)

from .pair import O, P, paired_departure_bound, values_of_play
from .small_game import small_game, small_table


def _estimated():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)          # a converged game warns of nothing
        return small_game()


@pytest.fixture
def game():
    """The small pair's game estimated for the test (the tests of what the estimate holds)."""
    return _estimated()


@pytest.fixture(scope="module")
def shared():
    """One estimate of the small pair's game for the tests of the lookups, which only read it."""
    return _estimated()


def _who(game):
    return game.states["who"].to_numpy()


# ------------------------------------------------------------------------------------------- arrays
def test_stage_arrays_are_the_outcome_laws_in_game_orientation(game):
    """Every support entry's probability, summed by hand into its cell: where the player hits, rows are the
    player's shots and a win now pays; where the opponent hits, rows are the player's positions and the
    opponent's error pays; an entry that goes on adds to the next state's transition."""
    st, p = game.structure, game.estimate.probability[0]
    who = _who(game)
    rewards = [np.zeros((len(st.rows[g]), len(st.columns[g]))) if who[g] == "player"
               else np.zeros((len(st.columns[g]), len(st.rows[g]))) for g in range(st.size)]
    moves = [np.zeros(r.shape + (st.size,)) for r in rewards]
    for e in range(len(p)):
        c = st.entry_cell[e]
        g, a, b = st.cell_state[c], st.cell_a[c], st.cell_b[c]
        i, j = (a, b) if who[g] == "player" else (b, a)
        out = st.entry_outcome[e]
        if out >= 2:
            moves[g][i, j, out - 2] += p[e]
        elif (out == 0) == (who[g] == "player"):
            rewards[g][i, j] += p[e]
    for g in range(st.size):
        np.testing.assert_allclose(game.rewards[g], rewards[g], atol=1e-15, err_msg=game.labels[g])
        np.testing.assert_allclose(game.transitions[g], moves[g], atol=1e-15, err_msg=game.labels[g])
        rows, cols = (st.rows[g], st.columns[g]) if who[g] == "player" else (st.columns[g], st.rows[g])
        assert game.layout.row_labels[g] == tuple(rows) and game.layout.column_labels[g] == tuple(cols)


def test_observed_mixes_are_the_shrunk_habits(game):
    """The hitter's mix: the pairing's shot counts shrunk toward the hitter's against anyone, those toward all
    players', each with HABIT_STRENGTH pseudo-strokes; the receiver's positions: the pairing's toward all
    players'. Written out per state and compared."""
    st = game.structure
    who = _who(game)
    rows = {k: np.asarray(v.sum(axis=0)).ravel() for k, v in st.row_counts.items()}
    cols = {k: np.asarray(v.sum(axis=0)).ravel() for k, v in st.column_counts.items()}

    def shrink(counts, offsets, g, levels):
        c = [np.asarray(counts[k][offsets[g]:offsets[g + 1]], float) for k in levels]
        top = c[-1]
        mix = (top + 1e-9) / (top.sum() + 1e-9 * len(top))
        for level in reversed(c[:-1]):
            mix = (level + HABIT_STRENGTH * mix) / (level.sum() + HABIT_STRENGTH)
        return mix

    assert HABIT_STRENGTH == 10.0
    for g in range(st.size):
        hit = shrink(rows, st.row_offsets, g, ("game", "hitter", "all"))
        rec = shrink(cols, st.column_offsets, g, ("game", "all"))
        x, y = (hit, rec) if who[g] == "player" else (rec, hit)
        np.testing.assert_allclose(game.observed_row[g], x, rtol=1e-12, err_msg=game.labels[g])
        np.testing.assert_allclose(game.observed_column[g], y, rtol=1e-12, err_msg=game.labels[g])
    xs, ys = observed_mixes(st, rows, cols)
    for g in range(st.size):
        np.testing.assert_allclose(xs[g], game.observed_row[g], rtol=1e-12)


def test_candidate_habits_keep_only_candidate_shots():
    """By hand on a stub structure: the hitter's mix renormalised on its candidate shots; the receiver's mix,
    and a mix with no mass on any candidate, are left as they were (copies, the inputs untouched)."""
    import pandas as pd
    from types import SimpleNamespace

    structure = SimpleNamespace(states=pd.DataFrame({"who": ["player", "opponent", "player"]}),
                                candidate=(np.array([True, False, True]), np.array([False, True]),
                                           np.array([False, True])))
    xs = [np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.4]), np.array([1.0, 0.0])]
    ys = [np.array([0.7, 0.3]), np.array([0.25, 0.75]), np.array([0.5, 0.5])]
    rows, cols = candidate_habits(structure, xs, ys)
    np.testing.assert_allclose(rows[0], [0.4, 0.0, 0.6])
    np.testing.assert_allclose(cols[1], [0.0, 1.0])
    np.testing.assert_allclose(rows[2], [1.0, 0.0])                  # no mass on a candidate: as it was
    np.testing.assert_allclose(rows[1], [0.6, 0.4])                   # the receiver's positions untouched
    np.testing.assert_allclose(cols[0], [0.7, 0.3])
    np.testing.assert_allclose(xs[0], [0.2, 0.5, 0.3])               # the inputs are not changed
    np.testing.assert_allclose(ys[1], [0.25, 0.75])


def test_open_situations_are_those_with_an_unknown_part():
    import pandas as pd
    from types import SimpleNamespace

    structure = SimpleNamespace(states=pd.DataFrame({"decision_state": [
        "serve", "rally after lob (unknown, back)", "return of short service to front", "rally after unknown"]}))
    np.testing.assert_array_equal(open_situations(structure), [False, True, False, True])


def test_restriction_to_trusted_shots_dominates_the_others_or_stands_in_the_habit():
    """A player's state with one untrusted shot: its row pays -1 and ends the rally; a player's and an
    opponent's state without trusted shot: the habit stands in as the first action, the others dominated;
    an opponent's untrusted shot: its column pays 2. A side left out of ``sides`` is untouched."""
    import pandas as pd
    from types import SimpleNamespace

    structure = SimpleNamespace(states=pd.DataFrame({"who": ["player", "player", "opponent", "opponent"]}),
                                trusted=(np.array([True, False]), np.array([False, False]),
                                         np.array([False, False]), np.array([True, False, True])))
    rng = np.random.default_rng(2)
    rewards = [rng.uniform(0, 0.3, (2, 2)), rng.uniform(0, 0.3, (2, 2)), rng.uniform(0, 0.3, (2, 2)),
               rng.uniform(0, 0.3, (2, 3))]
    transitions = [rng.uniform(0, 0.1, r.shape + (4,)) for r in rewards]
    xs = [np.array([0.5, 0.5]), np.array([0.25, 0.75]), np.array([0.5, 0.5]), np.array([0.5, 0.5])]
    ys = [np.array([0.5, 0.5]), np.array([0.5, 0.5]), np.array([0.1, 0.9]), np.array([0.2, 0.3, 0.5])]
    r, t, stand_in = restrict_to_trusted(structure, rewards, transitions, (xs, ys))
    np.testing.assert_array_equal(stand_in, [False, True, True, False])
    np.testing.assert_array_equal(r[0], [rewards[0][0], [-1.0, -1.0]])
    np.testing.assert_array_equal(t[0][1], 0.0)
    np.testing.assert_array_equal(t[0][0], transitions[0][0])
    np.testing.assert_allclose(r[1][0], 0.25 * rewards[1][0] + 0.75 * rewards[1][1])
    np.testing.assert_allclose(t[1][0], 0.25 * transitions[1][0] + 0.75 * transitions[1][1])
    np.testing.assert_array_equal(r[1][1], -1.0)
    np.testing.assert_array_equal(t[1][1], 0.0)
    np.testing.assert_allclose(r[2][:, 0], rewards[2] @ ys[2])
    np.testing.assert_allclose(t[2][:, 0], np.einsum("abt,b->at", transitions[2], ys[2]))
    np.testing.assert_array_equal(r[2][:, 1], 2.0)
    np.testing.assert_array_equal(t[2][:, 1], 0.0)
    np.testing.assert_array_equal(r[3][:, 1], 2.0)
    np.testing.assert_array_equal(r[3][:, [0, 2]], rewards[3][:, [0, 2]])
    np.testing.assert_array_equal(t[3][:, 1], 0.0)
    np.testing.assert_array_equal(t[3][:, 2], transitions[3][:, 2])
    # the inputs are left as they were
    assert (rewards[0][1] >= 0).all() and (rewards[3][:, 1] <= 0.3).all()
    r, t, stand_in = restrict_to_trusted(structure, rewards, transitions, (xs, ys), sides=("player",))
    np.testing.assert_array_equal(stand_in, [False, True, False, False])
    np.testing.assert_array_equal(r[2], rewards[2])
    np.testing.assert_array_equal(r[3], rewards[3])
    r, t, stand_in = restrict_to_trusted(structure, rewards, transitions, (xs, ys), sides=("opponent",))
    np.testing.assert_array_equal(stand_in, [False, False, True, False])
    np.testing.assert_array_equal(r[0], rewards[0])


# ------------------------------------------------------------------------------------------- values
def test_values_of_play_solve_their_linear_systems(game):
    states, rec = game.states, game.recommendation
    observed = values_of_play(game, game.observed_row, game.observed_column)
    switch = values_of_play(game, rec.row_strategies, game.observed_column)
    realized = values_of_play(game, rec.row_strategies, rec.column_strategies)
    np.testing.assert_allclose(game.observed_values, observed, atol=1e-10)
    np.testing.assert_allclose(states["observed_value"], observed, atol=1e-10)
    np.testing.assert_allclose(states["switch_value"], switch, atol=1e-10)
    np.testing.assert_allclose(states["value"], realized, atol=1e-10)
    np.testing.assert_allclose(rec.realized, realized, atol=1e-10)
    np.testing.assert_allclose(states["gain"], switch - observed, atol=1e-10)
    np.testing.assert_allclose(states["pessimistic_value"], rec.values, atol=0)
    assert np.ptp(observed) > 0.05 and np.abs(switch - observed).max() > 1e-3


def test_the_point_equilibrium_certifies_in_the_trusted_game(game):
    """The point estimate's equilibrium: in every state's stage game (continuation at its values), with the
    shots a hitter may not be advised dominated and the habit standing in where none is trusted, the row mix
    guarantees the value and the column mix concedes no more."""
    sol = game.solution
    rewards, transitions, stand_in = restrict_to_trusted(game.structure, game.rewards, game.transitions,
                                                         (game.observed_row, game.observed_column))
    assert stand_in.any()
    np.testing.assert_allclose(game.states["equilibrium_value"], sol.values, atol=0)
    who = _who(game)
    for g in range(len(game.labels)):
        q = rewards[g] + transitions[g] @ sol.values
        x, y = sol.row_strategies[g], sol.column_strategies[g]
        assert x.shape == (game.rewards[g].shape[0],) and y.shape == (game.rewards[g].shape[1],)
        assert x.sum() == pytest.approx(1) and y.sum() == pytest.approx(1)
        if stand_in[g]:             # the habit is the hitter's strategy there
            np.testing.assert_allclose(x if who[g] == "player" else y,
                                       game.observed_row[g] if who[g] == "player" else game.observed_column[g])
            hitter_q = game.rewards[g] + game.transitions[g] @ sol.values
            if who[g] == "player":
                assert (x @ hitter_q).min() == pytest.approx(sol.values[g], abs=1e-8)
            else:
                assert (hitter_q @ y).max() == pytest.approx(sol.values[g], abs=1e-8)
            continue
        assert (x @ q).min() == pytest.approx(sol.values[g], abs=1e-8), game.labels[g]
        assert (q @ y).max() == pytest.approx(sol.values[g], abs=1e-8), game.labels[g]
        assert sol.stage_games[g].shape == game.rewards[g].shape
    assert sol.row_labels == game.layout.row_labels and sol.column_labels == game.layout.column_labels


def test_the_recommendation_is_the_fixed_point_of_its_pessimistic_stage_games(game):
    """Q on the recommended play's values, lowered by z·σ (the player's bound) and raised by it (the
    opponent's): where the player departs from the habit, the mix is the maximin of the lower-bound game
    over the trusted shots (the LP's value, guaranteed); where the opponent departs, the minimax of the
    upper-bound game; a kept habit is the candidate habit; and what a departure guarantees over the habit on
    the point estimates is positive at its lower confidence bound (the cells of the two guarantees paired;
    for the opponent on −Q)."""
    from strategist.games.zero_sum import solve_zero_sum

    rec = game.recommendation
    assert rec.converged and 1 <= rec.iterations < 60 and rec.alternating == ()
    z = stats.norm.ppf(0.95)
    usual_x, usual_y = candidate_habits(game.structure, game.observed_row, game.observed_column)
    sd = _cell_sd(game)
    who = _who(game)
    player_departures = opponent_departures = 0
    for g in range(len(game.labels)):
        q = game.rewards[g] + game.transitions[g] @ rec.realized
        low = q - np.minimum(z * sd[g], q)
        high = q + np.minimum(z * sd[g], 1 - q)
        np.testing.assert_allclose(rec.stage_games[g], low, atol=1e-9)
        trusted = game.structure.trusted[g]
        x, y = rec.row_strategies[g], rec.column_strategies[g]
        if rec.row_habit[g]:
            np.testing.assert_allclose(x, usual_x[g], atol=1e-12)
        else:
            player_departures += 1
            # the opponent is free in the player's game: untrusted shots of either hitter dominated
            rows = np.where(trusted[:, None], low, -1.0) if who[g] == "player" else np.where(trusted, low, 2.0)
            if not trusted.any():
                rows = low
            value = solve_zero_sum(rows).value
            assert (x @ rows).min() == pytest.approx(value, abs=1e-5), game.labels[g]
            assert rec.values[g] == pytest.approx((x @ rows).min(), abs=1e-9), game.labels[g]
            partial = trusted.any() and not trusted.all()
            replies = trusted if partial and who[g] == "opponent" else np.ones(q.shape[1], bool)
            assert paired_departure_bound(q, sd[g], z, x, usual_x[g], replies) > 0, game.labels[g]
        if rec.column_habit[g]:
            np.testing.assert_allclose(y, usual_y[g], atol=1e-12)
        else:
            opponent_departures += 1
            cols = np.where(trusted, high, 2.0) if who[g] == "opponent" else np.where(trusted[:, None], high, -1.0)
            if not trusted.any():
                cols = high
            assert (cols @ y).max() == pytest.approx(solve_zero_sum(cols).value, abs=1e-5), game.labels[g]
            partial = trusted.any() and not trusted.all()
            replies = trusted if partial and who[g] == "player" else np.ones(q.shape[0], bool)
            assert paired_departure_bound(-q.T, sd[g].T, z, y, usual_y[g], replies) > 0, game.labels[g]
    assert player_departures >= 2 and opponent_departures >= 2     # the rules above checked on departures of both
    habit = tuple(g for g in range(len(who)) if (rec.row_habit[g] if who[g] == "player" else rec.column_habit[g]))
    assert game.habit_states == habit
    np.testing.assert_array_equal(game.states["basis"], np.where(np.isin(np.arange(len(who)), habit), "habit",
                                                                 "pessimistic equilibrium"))


def _cell_sd(game):
    from strategist.rally.game import per_cell

    return per_cell(game.layout, game.cell_sd)


def test_an_open_situation_or_one_without_trusted_shots_keeps_the_hitters_habit(game):
    rec, who = game.recommendation, _who(game)
    fixed = open_situations(game.structure) | np.array([not t.any() for t in game.structure.trusted])
    assert fixed.any()
    for g in np.flatnonzero(fixed):
        assert (rec.row_habit if who[g] == "player" else rec.column_habit)[g], game.labels[g]


def test_the_pairs_level_is_set_to_its_rally_record(game):
    """The visit-weighted serve values of both sides' habits average to the rally record's win probability;
    the player against everyone and the population game keep their estimate (no shift)."""
    st = game.structure
    serves = (game.states["phase"] == "serve").to_numpy()
    visits = game.states["visits"].to_numpy(float) + 1
    parts = [np.average(game.observed_values[serves & (_who(game) == w)], weights=visits[serves & (_who(game) == w)])
             for w in ("player", "opponent")]
    assert np.mean(parts) == pytest.approx(st.record_win, abs=1e-5)
    assert abs(game.estimate.level_shift) > 1e-3


def test_the_player_against_everyone_and_the_population_keep_their_estimates():
    from strategist.rally.game import rally_game

    for args in ((P, None), (None, None)):
        g = rally_game(small_table(), *args)
        assert g.estimate.level_shift == 0.0
        assert g.player == args[0] and g.opponent is None


# ------------------------------------------------------------------------------------------- intervals
def test_value_intervals_are_z_times_the_propagated_sd(game):
    """value ± z·sd with sd² the propagated variance of the recommended play; observed ± z·√(var + τ²) with
    τ the match-to-match sd; every end clipped to [0, 1]."""
    from strategist.rally.game import cell_variance, per_cell

    st, rec = game.structure, game.recommendation
    z = stats.norm.ppf(0.95)
    var = value_variance(game.rewards, game.transitions, rec.row_strategies, rec.column_strategies,
                         per_cell(game.layout, cell_variance(st, game.estimate, rec.realized)), rec.realized)
    np.testing.assert_allclose(game.states["value_low"], np.clip(rec.realized - z * np.sqrt(var), 0, 1), atol=1e-12)
    np.testing.assert_allclose(game.states["value_high"], np.clip(rec.realized + z * np.sqrt(var), 0, 1), atol=1e-12)
    obs = game.observed_values
    var_o = value_variance(game.rewards, game.transitions, game.observed_row, game.observed_column,
                           per_cell(game.layout, cell_variance(st, game.estimate, obs)), obs)
    half = z * np.sqrt(var_o + st.match_sd ** 2)
    assert st.match_sd > 0.01
    np.testing.assert_allclose(game.states["value_sd"], np.sqrt(var), atol=1e-15)          # unclipped
    np.testing.assert_allclose(game.states["observed_sd"], half / z, atol=1e-15)
    np.testing.assert_allclose(game.states["observed_low"], np.clip(obs - half, 0, 1), atol=1e-12)
    np.testing.assert_allclose(game.states["observed_high"], np.clip(obs + half, 0, 1), atol=1e-12)
    assert (var > 0).all() and (game.states["value_high"] > game.states["value_low"]).all()
    # the cells' sd kept by the game: on the continuation of the point equilibrium
    np.testing.assert_allclose(game.cell_sd, np.sqrt(cell_variance(st, game.estimate, game.solution.values)),
                               atol=1e-15)


def test_value_variance_is_the_first_order_variance_of_the_values():
    """Against finite differences: V = (I − P)⁻¹ r with r_s = xᵀ R_s y; perturbing one cell's reward by h moves
    V by h·∂V/∂R_ij, and independent cells add their variances times the squared derivatives."""
    rng = np.random.default_rng(5)
    size = 3
    shapes = [(2, 3), (3, 2), (2, 2)]
    rewards = [rng.uniform(0, 0.4, s) for s in shapes]
    transitions = [rng.dirichlet(np.ones(size), size=s) * 0.5 for s in shapes]
    xs = [rng.dirichlet(np.ones(s[0])) for s in shapes]
    ys = [rng.dirichlet(np.ones(s[1])) for s in shapes]
    cell_var = [rng.uniform(1e-4, 1e-3, s) for s in shapes]

    def values(rw):
        a = np.eye(size) - np.array([[xs[s] @ transitions[s][:, :, t] @ ys[s] for t in range(size)]
                                     for s in range(size)])
        return np.linalg.solve(a, [xs[s] @ rw[s] @ ys[s] for s in range(size)])

    base = values(rewards)
    expected = np.zeros(size)
    h = 1e-6
    for s in range(size):
        for i in range(shapes[s][0]):
            for j in range(shapes[s][1]):
                bumped = [r.copy() for r in rewards]
                bumped[s][i, j] += h
                grad = (values(bumped) - base) / h
                expected += grad ** 2 * cell_var[s][i, j]
    np.testing.assert_allclose(value_variance(rewards, transitions, xs, ys, cell_var, base), expected, rtol=1e-5)


# ------------------------------------------------------------------------------------------- lookups
def test_states_are_found_by_index_or_label(shared):
    labels = shared.labels
    assert shared.index(3) == 3 and shared.index(np.int64(5)) == 5 and shared.index(labels[7]) == 7
    assert shared.index(0) == 0 and shared.index(len(labels) - 1) == len(labels) - 1
    assert isinstance(shared.index(np.int32(2)), int)
    for bad in (-1, len(labels)):
        with pytest.raises(EstimationError, match="out of range"):
            shared.index(bad)
    with pytest.raises(EstimationError, match="did you mean 'player: serve'"):
        shared.index("player: serv")
    with pytest.raises(EstimationError, match=r"unknown state 'zzz'$"):
        shared.index("zzz")
    with pytest.raises(EstimationError, match="unknown state True"):
        shared.index(True)


def test_lookups_read_the_states_values_and_mixes(shared):
    rec = shared.recommendation
    g = shared.index("player: serve")
    assert shared.value("player: serve") == rec.realized[g] == shared.states["value"].iat[g]
    assert shared.pessimistic_value(g) == rec.values[g]
    assert shared.observed_value(g) == shared.observed_values[g]
    assert shared.level == 0.9 and shared.labels == tuple(shared.states["state"])
    eq = shared.equilibrium("player: serve")
    assert eq["state"] == "player: serve" and eq["value"] == rec.realized[g]
    assert eq["pessimistic_value"] == rec.values[g] and eq["basis"] == shared.states["basis"].iat[g]
    assert list(eq["player"]) == list(shared.layout.row_labels[g])
    assert list(eq["player"].values()) == list(rec.row_strategies[g])
    assert list(eq["opponent"]) == list(shared.layout.column_labels[g])
    assert list(eq["opponent"].values()) == list(rec.column_strategies[g])
    assert shared.recommended("player: serve") == eq
    h = shared.index("opponent: serve")
    pe = shared.point_equilibrium(h)
    assert pe["state"] == "opponent: serve" and pe["value"] == shared.solution.values[h]
    assert list(pe["player"]) == list(shared.layout.row_labels[h])
    assert list(pe["player"].values()) == list(shared.solution.row_strategies[h])
    assert list(pe["opponent"].values()) == list(shared.solution.column_strategies[h])
    assert list(pe["opponent"]) == list(shared.layout.column_labels[h])
    ob = shared.observed(h)
    assert ob["state"] == "opponent: serve" and ob["value"] == shared.observed_values[h]
    assert list(ob["player"].values()) == list(shared.observed_row[h])
    assert list(ob["opponent"].values()) == list(shared.observed_column[h])
    assert list(ob["player"]) == list(shared.layout.row_labels[h])
    assert list(ob["opponent"]) == list(shared.layout.column_labels[h])
    assert all(type(v) is float for d in (eq, pe, ob) for side in ("player", "opponent") for v in d[side].values())


def test_the_serve_state_is_the_most_visited_one(shared):
    import dataclasses

    assert shared.serve_state() == "player: serve" and shared.serve_state("opponent") == "opponent: serve"
    states = shared.states.copy()
    extra = states.iloc[[0]].assign(state="player: second serve", visits=states["visits"].iat[0] + 1)
    more = dataclasses.replace(shared, states=pd_concat(states, extra))
    assert more.serve_state("player") == "player: second serve"
    assert more.serve_state("opponent") == "opponent: serve"
    fewer = dataclasses.replace(shared, states=states[states["who"] != "opponent"])
    with pytest.raises(EstimationError, match="no serve state of the opponent"):
        fewer.serve_state("opponent")


def pd_concat(a, b):
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def test_who_is_described_by_name_or_as_the_field(shared):
    import dataclasses

    assert shared.describe_who("player") == P and shared.describe_who("opponent") == O
    alone = dataclasses.replace(shared, opponent=None)
    assert alone.describe_who("opponent") == "the field" and alone.describe_who("player") == P
    nobody = dataclasses.replace(shared, player=None, opponent=None)
    assert nobody.describe_who("player") == "any player" and nobody.describe_who("opponent") == "any player"


def test_a_stage_holds_the_states_game_for_display(shared):
    """Q on the point estimates with the continuation of the recommended play, its interval z·σ clipped to
    [0, 1], the pairing's strokes per cell counted by hand, evidence shares summing to one, and the mixes."""
    z = stats.norm.ppf(0.95)
    st, rec = shared.structure, shared.recommendation
    sd = _cell_sd(shared)
    counts = np.asarray(shared.estimate.counts[0])
    who = _who(shared)
    for g in (0, shared.index("opponent: serve"), 7, 8, len(shared.labels) - 1):
        s = shared.stage(shared.labels[g])
        q = shared.rewards[g] + shared.transitions[g] @ rec.realized
        assert s.state == shared.labels[g] and s.rows == shared.layout.row_labels[g]
        assert s.columns == shared.layout.column_labels[g]
        np.testing.assert_allclose(s.mean, q, atol=1e-15)
        np.testing.assert_allclose(s.low, np.clip(q - z * sd[g], 0, 1), atol=1e-12)
        np.testing.assert_allclose(s.high, np.clip(q + z * sd[g], 0, 1), atol=1e-12)
        np.testing.assert_array_equal(s.pessimistic, rec.stage_games[g])
        by_hand = np.zeros(q.shape)
        for e in np.flatnonzero(st.cell_state[st.entry_cell] == g):
            c = st.entry_cell[e]
            i, j = (st.cell_a[c], st.cell_b[c]) if who[g] == "player" else (st.cell_b[c], st.cell_a[c])
            by_hand[i, j] += counts[e]
        np.testing.assert_array_equal(s.counts, by_hand.astype(int))
        assert s.counts.dtype.kind == "i"
        assert s.evidence.shape == q.shape + (3,)
        np.testing.assert_allclose(s.evidence.sum(axis=-1), 1.0, atol=1e-9)
        assert s.value == rec.realized[g] and s.pessimistic_value == rec.values[g]
        assert s.recommended is rec.row_strategies[g] and s.opponent is rec.column_strategies[g]
        assert s.observed_row is shared.observed_row[g] and s.observed_column is shared.observed_column[g]
        np.testing.assert_array_equal(s.advisable, st.trusted[g])
        np.testing.assert_array_equal(s.candidate, st.candidate[g])
        assert s.basis == shared.states["basis"].iat[g]
    assert sum(shared.stage(g).counts.sum() for g in range(len(shared.labels))) == st.strokes_used


def test_evidence_shares_per_state_are_the_habits_weighted_cell_shares(game):
    cols = game.states[["pairing", "hitter", "all players"]].to_numpy()
    np.testing.assert_allclose(cols.sum(axis=1), 1.0, atol=1e-9)
    for g in (0, 1, 7):
        ev = game.stage(g).evidence
        w = np.outer(game.observed_row[g], game.observed_column[g])
        np.testing.assert_allclose(cols[g], [(w * ev[..., k]).sum() for k in range(3)], atol=1e-12)
    assert cols[:, 0].max() > 0.1 and cols[:, 2].max() > 0.1


def test_the_summary_holds_the_games_numbers(shared):
    d = shared.to_dict()
    json.dumps(d)                                            # plain types only
    st = shared.structure
    assert d["player"] == P and d["opponent"] == O
    assert d["settings"] == {"actions": "shot", "columns": st.settings.columns, "states": "situation",
                             "zones": st.settings.zones, "heights": st.settings.heights, "min_action_count": 5,
                             "min_share": 0.02, "min_count": 10, "prior": "marginal", "level": 0.9}
    assert (d["strokes"], d["rallies"], d["matches"]) == (st.strokes_used, st.rallies, st.game_matches)
    assert d["strokes"] > 500 and d["matches"] == 2 and d["dropped"] == dict(st.dropped)
    assert d["flagged_actions"] == [{"state": s, "action": a, "count": n, "reason": why}
                                    for s, a, n, why in st.flagged] and d["flagged_actions"]
    assert d["strength"] == {k: float(v[0]) for k, v in shared.estimate.strengths.items()} and d["strength"]
    assert d["solve"] == {"method": shared.solution.method, "iterations": shared.solution.iterations,
                          "residual": shared.solution.residual}
    assert d["recommendation"] == {"rounds": shared.recommendation.iterations, "converged": True, "alternating": [],
                                   "kept_again": [], "habits_settled": True}
    assert d["habit_states"] == list(shared.habit_states) and d["bootstrap"] is None
    assert len(d["states"]) == len(shared.labels)
    for row, (_, frame_row) in zip(d["states"], shared.states.iterrows()):
        assert row["state"] == frame_row["state"] and row["value"] == frame_row["value"]
        assert type(row["visits"]) is int and type(row["value"]) is float
        eq, ob = shared.equilibrium(row["state"]), shared.observed(row["state"])
        assert row["equilibrium"] == {"player": eq["player"], "opponent": eq["opponent"]}
        assert row["observed_mix"] == {"player": ob["player"], "opponent": ob["opponent"]}
    assert set(d["states"][0]) == set(shared.states.columns) | {"equilibrium", "observed_mix"}


def test_the_summary_writes_a_missing_number_as_none(shared):
    import dataclasses

    states = shared.states.copy()
    states.loc[0, "value_low"] = np.nan
    d = dataclasses.replace(shared, states=states).to_dict()
    assert d["states"][0]["value_low"] is None and d["states"][1]["value_low"] == states["value_low"].iat[1]


# ------------------------------------------------------------------------------------------- inputs
@pytest.mark.parametrize("kwargs, match", [
    ({"level": 0.0}, "level"), ({"level": 1.0}, "level"), ({"level": -0.5}, "level"),
    ({"bootstrap": -1}, "bootstrap"), ({"bootstrap": True}, "bootstrap"), ({"bootstrap": 2.5}, "bootstrap"),
    ({"interval": "basic"}, "interval"), ({"prior": "moments"}, "moments"), ({"prior": " Moments "}, "moments")])
def test_bad_settings_are_refused(kwargs, match):
    from strategist.rally.game import rally_game

    with pytest.raises(EstimationError, match=match):
        rally_game(small_table(), P, O, **kwargs)


def test_the_settings_reach_the_game():
    """A game of prepared strokes is the game of the table; the level, min_share and min_count asked are
    the game's."""
    import pandas as pd

    from strategist.rally.game import rally_game
    from strategist.rally.model import RallySettings, strokes

    st = strokes(small_table(), RallySettings())
    from_strokes = rally_game(st, P, O, level=0.8, min_share=0.05, min_count=20, min_action_count=3)
    from_table = rally_game(small_table(), P, O, level=0.8, min_share=0.05, min_count=20, min_action_count=3)
    pd.testing.assert_frame_equal(from_strokes.states, from_table.states)
    settings = from_strokes.to_dict()["settings"]
    assert (settings["level"], settings["min_share"], settings["min_count"], settings["min_action_count"]) == \
        (0.8, 0.05, 20, 3)
    assert from_strokes.level == 0.8 and from_strokes.interval == "normal" and from_strokes.bootstrap is None
    z = stats.norm.ppf(0.9)
    s = from_strokes.stage(0)
    sd = _cell_sd(from_strokes)[0]
    np.testing.assert_allclose(s.high, np.clip(s.mean + z * sd, 0, 1), atol=1e-12)


def test_every_setting_reaches_the_model_and_the_solver(monkeypatch):
    """rally_game hands each of its settings on as given: to the strokes (with the sport), to the structure, and
    the bootstrap's to the game's build (the builders are stood in for, so nothing is estimated)."""
    import strategist.rally.game as rally_module

    seen = {}

    class Stop(Exception):
        pass

    def fake_strokes(table, settings, sport):
        seen["strokes"] = (settings, sport)
        return "strokes"

    def fake_structure(st, settings):
        seen["structure"] = (st, settings)
        return "structure"

    def fake_build(structure, **kwargs):
        seen["build"] = (structure, kwargs)
        raise Stop

    monkeypatch.setattr(rally_module, "strokes", fake_strokes)
    monkeypatch.setattr(rally_module, "build_structure", fake_structure)
    monkeypatch.setattr(rally_module, "build_game", fake_build)
    with pytest.raises(Stop):
        rally_module.rally_game(small_table(), P, O, actions="group", columns="position", states="group:tactic",
                                zones=False, heights=True, min_action_count=7, min_share=0.03, min_count=12,
                                prior=4.0, bootstrap=3.0, level=0.75, seed=9, sport="badminton",
                                equilibrium=False, interval="percentile")
    settings, sport = seen["strokes"]
    assert sport == "badminton" and seen["structure"] == ("strokes", settings)
    assert (settings.player, settings.opponent, settings.actions, settings.columns, settings.states) == \
        (P, O, "group", "position", "group:tactic")
    assert (settings.zones, settings.heights, settings.min_action_count, settings.min_count) == (False, True, 7, 12)
    assert settings.min_share == 0.03 and settings.prior == 4.0 and settings.level == 0.75
    assert type(settings.min_count) is int and type(settings.level) is float
    structure, kwargs = seen["build"]
    assert structure == "structure"
    assert kwargs == {"bootstrap": 3, "seed": 9, "equilibrium": False, "interval": "percentile"}
    assert type(kwargs["bootstrap"]) is int
    # defaults
    with pytest.raises(Stop):
        rally_module.rally_game(small_table())
    settings, sport = seen["strokes"]
    assert sport is None and settings.player is None and settings.opponent is None
    assert (settings.actions, settings.columns, settings.states, settings.zones, settings.heights) == \
        ("shot", "auto", None, None, None)
    assert (settings.min_action_count, settings.min_share, settings.min_count, settings.prior, settings.level) == \
        (5, 0.02, 10, "marginal", 0.9)
    assert seen["build"][1] == {"bootstrap": 0, "seed": 0, "equilibrium": True, "interval": "normal"}
    # prepared strokes go straight to the structure
    from strategist.rally.model import Strokes

    prepared = object.__new__(Strokes)
    seen.clear()
    with pytest.raises(Stop):
        rally_module.rally_game(prepared, P, O)
    assert "strokes" not in seen and seen["structure"][0] is prepared


def test_an_unknown_state_suggests_at_most_three_close_labels(shared):
    close = [label for label in shared.labels if label.startswith("player: rally after")]
    assert len(close) > 4
    with pytest.raises(EstimationError) as caught:
        shared.index("player: rally after lob to bac")
    hint = str(caught.value).split("did you mean ")[1]
    assert hint.count("'") == 6 and "'player: rally after lob to back'" in hint


def test_the_hint_lists_the_close_labels_separated_by_commas(shared):
    with pytest.raises(EstimationError) as caught:
        shared.index("player: rally after lob to bac")
    assert str(caught.value) == ("unknown state 'player: rally after lob to bac'; did you mean "
                                 "'player: rally after lob to back', 'player: rally after clear to back', "
                                 "'player: rally after push to back'?")


def test_the_unrestricted_point_game_is_solved_without_a_structure(game):
    """Solved without the structure (no shot restricted, no habit standing in), the point game's equilibrium
    certifies in the full stage games: the maximin and minimax of every stage at the solution's values."""
    from strategist.rally.game import _solve

    sol = _solve(game.rewards, game.transitions, game.labels, game.layout)
    for g in range(len(game.labels)):
        q = game.rewards[g] + game.transitions[g] @ sol.values
        x, y = sol.row_strategies[g], sol.column_strategies[g]
        assert (x @ q).min() == pytest.approx(sol.values[g], abs=1e-8)
        assert (q @ y).max() == pytest.approx(sol.values[g], abs=1e-8)
    assert sol.row_labels == game.layout.row_labels and len(sol.stage_games) == len(game.labels)


def test_the_point_solution_names_the_games_states(shared):
    assert tuple(shared.solution.state_labels) == tuple(shared.labels)
    assert shared.solution.value_by_state == dict(zip(shared.labels, map(float, shared.solution.values)))
    assert shared.solution.state("opponent: serve").value == pytest.approx(shared.solution.values[1], abs=1e-8)


def _two_state_structure():
    """By hand: the player hits in state 0 (shots a, b against front/back), the opponent in state 1 (shot x);
    every cell may end either way or go on to either state (a rally back into state 0 included), except the
    last cell, where the opponent never errs."""
    import pandas as pd
    from types import SimpleNamespace

    cells = [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1)]
    entry_cell, entry_outcome = [], []
    for c in range(len(cells)):
        for out in ((0, 2, 3) if c == len(cells) - 1 else (0, 1, 2, 3)):
            entry_cell.append(c)
            entry_outcome.append(out)
    cs, ca, cb = (np.array(v) for v in zip(*cells))
    return SimpleNamespace(size=2, states=pd.DataFrame({"who": ["player", "opponent"]}),
                           rows=(("a", "b"), ("x",)), columns=(("front", "back"), ("front", "back")),
                           cell_state=cs, cell_a=ca, cell_b=cb, entry_cell=np.array(entry_cell),
                           entry_outcome=np.array(entry_outcome))


def test_stage_arrays_of_a_hand_made_structure():
    from strategist.rally.game import _entry_values, layout, stage_arrays

    st = _two_state_structure()
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.3, len(st.entry_cell))
    lay = layout(st)
    assert lay.shapes == ((2, 2), (2, 1))
    assert lay.row_labels == (("a", "b"), ("front", "back")) and lay.column_labels == (("front", "back"), ("x",))
    rewards, moves = stage_arrays(lay, p)
    expected_r = [np.zeros((2, 2)), np.zeros((2, 1))]
    expected_t = [np.zeros((2, 2, 2)), np.zeros((2, 1, 2))]
    for e, (c, out) in enumerate(zip(st.entry_cell, st.entry_outcome)):
        g, a, b = st.cell_state[c], st.cell_a[c], st.cell_b[c]
        i, j = (a, b) if g == 0 else (b, a)
        if out >= 2:
            expected_t[g][i, j, out - 2] += p[e]
        elif out == (0 if g == 0 else 1):
            expected_r[g][i, j] += p[e]
    for g in range(2):
        np.testing.assert_array_equal(rewards[g], expected_r[g])
        np.testing.assert_array_equal(moves[g], expected_t[g])
    assert rewards[1][1, 0] == 0.0 and moves[0][1, 1, 0] > 0            # the last cell; a rally back to state 0
    # the value of every outcome to the player
    u = _entry_values(st, np.array([0.3, 0.7]))
    worth = {(0, 0): 1.0, (0, 1): 0.0, (1, 0): 0.0, (1, 1): 1.0}
    for e, (c, out) in enumerate(zip(st.entry_cell, st.entry_outcome)):
        expected = [0.3, 0.7][out - 2] if out >= 2 else worth[(st.cell_state[c], out)]
        assert u[e] == expected, (e, out)


def test_a_structure_built_elsewhere_is_estimated_with_the_documented_defaults():
    """build_game(structure) without settings: no bootstrap, the normal interval; with replicates asked, seed 0
    and the recommended play valued in them, as rally_game's defaults."""
    import pandas as pd

    from strategist.rally.game import build_game, rally_game
    from strategist.rally.model import RallySettings, build_structure

    from .small_game import small_strokes

    structure = build_structure(small_strokes(), RallySettings(player=P, opponent=O))
    plain = build_game(structure)
    assert plain.bootstrap is None and plain.interval == "normal"
    boot = build_game(structure, bootstrap=2)
    ref = rally_game(small_strokes(), P, O, bootstrap=2, seed=0, equilibrium=True, interval="normal")
    assert boot.bootstrap.seed == 0 and boot.interval == "normal"
    assert np.isfinite(boot.bootstrap.value).all()
    pd.testing.assert_frame_equal(boot.states, ref.states)
