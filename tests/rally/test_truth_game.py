"""The exact truth of the demo simulator against a second computation (area by area with the simulator's own
winner law, then value iteration), its mapping onto a rally game's states, the coverage table on a hand-made game,
and recommendations mapped into the true game with their reports and refusals."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from strategist.errors import EstimationError
from strategist.rally.game import rally_game
from strategist.rally.truth import (coverage, evaluate_recommendation, policy_report, recommended_policy,
                                    true_state_values, true_values)
from strategist.simulate.exact import policy_value, true_game
from strategist.simulate.model import (AREA_GRID, DEPTHS, SERVES, error_probability, position_distribution,
                                       reply_distribution, winner_probability)
from strategist.simulate.rally import SERVE_DEPTH

from .pair import O, P, PAIR, pair_table


def _terms(params, mix, from_depth, hitter, receiver):
    """(P(error), P(winner), P(the shot lands at depth d and the rally goes on)) summed area by area."""
    pos = position_distribution(params, from_depth, receiver)
    err = win = 0.0
    cont = np.zeros(3)
    for shot, p in mix.items():
        e = error_probability(params, shot, hitter)
        err += p * e
        for dl in range(3):
            for sl in range(3):
                land = params.landing_depth[shot][dl] * params.landing_side[sl]
                for dr in range(3):
                    for sr in range(3):
                        w = winner_probability(params, shot, AREA_GRID[dl][sl], AREA_GRID[dr][sr], hitter, receiver)
                        win += p * (1 - e) * land * pos[dr, sr] * w
                        cont[dl] += p * (1 - e) * land * pos[dr, sr] * (1 - w)
    return err, win, cont


def _reference(params, player, opponent):
    """P(player wins) from every state of the simulator's chain, by value iteration on the area-by-area terms."""
    people = {"player": params.player(player), "opponent": params.player(opponent)}
    other = {"player": "opponent", "opponent": "player"}
    terms = {(w, d): _terms(params, reply_distribution(params, d, people[w]), d, people[w], people[other[w]])
             for w in people for d in range(3)}
    u = {key: 0.0 for key in terms}
    for _ in range(400):
        u = {(w, d): (t[0] if w == "opponent" else t[1]) + sum(t[2][d2] * u[(other[w], d2)] for d2 in range(3))
             for (w, d), t in terms.items()}
    out = {(w, "stroke", DEPTHS[d]): v for (w, d), v in u.items()}
    for w in people:
        h = people[w]
        mix = {SERVES[1]: h.long_serve, SERVES[0]: 1 - h.long_serve}
        e, win, cont = _terms(params, mix, SERVE_DEPTH, h, people[other[w]])
        out[(w, "serve", None)] = (e if w == "opponent" else win) + sum(cont[d] * u[(other[w], d)] for d in range(3))
    return out


@pytest.mark.parametrize("player, opponent", [(P, O), (O, P)])
def test_true_state_values_agree_with_an_area_by_area_value_iteration(player, opponent):
    """Every (who, phase, depth) value of the exact chain equals the reference computed area by area with the
    simulator's winner law and iterated to convergence."""
    got = true_state_values(PAIR, player, opponent)
    ref = _reference(PAIR, player, opponent)
    assert set(got) == set(ref) and len(got) == 8
    for key in ref:
        assert got[key] == pytest.approx(ref[key], abs=1e-12), key
        assert 0 < got[key] < 1


def test_true_state_values_of_one_player_against_the_other_are_complements():
    """What the player wins from a state is what the opponent loses from the mirrored state."""
    a, b = true_state_values(PAIR, P, O), true_state_values(PAIR, O, P)
    mirror = {"player": "opponent", "opponent": "player"}
    for (who, phase, depth), v in a.items():
        assert v == pytest.approx(1 - b[(mirror[who], phase, depth)], abs=1e-12)


def test_an_unknown_player_is_refused_by_name():
    """A name that is not one of the simulator's players is one EstimationError naming it."""
    with pytest.raises(EstimationError, match="^player 'Nobody' is not one of the simulator's players$"):
        true_state_values(PAIR, P, "Nobody")


# -- true values of a rally game's states ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def game():
    return rally_game(pair_table(4, 2), P, O, min_action_count=1)


def test_true_values_name_each_state_by_the_zone_its_incoming_shot_landed_in(game):
    """A serve state takes the serve's value, a return or rally state the value of its landing depth (the text
    after ' to '), a state whose zone is not a depth NaN; the series is indexed by the game's states."""
    truth = true_values(game, PAIR)
    table = true_state_values(PAIR, P, O)
    assert truth.name == "true_value" and list(truth.index) == list(game.states["state"])
    for state, who, phase, label in zip(game.states["state"], game.states["who"], game.states["phase"],
                                        game.states["decision_state"]):
        if phase == "serve":
            assert truth[state] == table[(who, "serve", None)]
        elif " to " in label and label.rsplit(" to ", 1)[1] in DEPTHS:
            assert truth[state] == table[(who, "stroke", label.rsplit(" to ", 1)[1])]
        else:
            assert np.isnan(truth[state])


def test_true_values_with_a_zone_that_is_not_a_depth_or_no_zone_are_nan(game):
    """A state label whose zone is 'other', or that names no zone, has no true value."""
    states = game.states.copy()
    k = int(np.flatnonzero(states["phase"].to_numpy() != "serve")[0])
    states.loc[k, "decision_state"] = "rally after lob to other"
    states.loc[k + 1, "decision_state"] = "rally after lob"
    fake = types.SimpleNamespace(player=P, opponent=O, structure=game.structure, states=states)
    truth = true_values(fake, PAIR)
    assert np.isnan(truth.iloc[k]) and np.isnan(truth.iloc[k + 1])
    assert truth.notna().sum() == len(states) - 2 - (true_values(game, PAIR).isna().sum())


def test_true_values_use_the_demo_parameters_by_default(game):
    """Without parameters the demo simulator's are used."""
    from strategist.simulate import SimulationParameters

    default = true_values(game)
    table = true_state_values(SimulationParameters(), P, O)
    assert default["player: serve"] == table[("player", "serve", None)]


def test_true_values_need_two_named_players_and_zones(game):
    """A game without named players, or whose states do not say where the incoming shot landed, is refused."""
    unnamed = types.SimpleNamespace(player=None, opponent=O, structure=game.structure, states=game.states)
    with pytest.raises(EstimationError, match="^true values need a game between two named simulated players$"):
        true_values(unnamed, PAIR)
    unnamed.player, unnamed.opponent = P, None
    with pytest.raises(EstimationError, match="two named simulated players"):
        true_values(unnamed, PAIR)
    no_zones = types.SimpleNamespace(player=P, opponent=O, states=game.states, structure=types.SimpleNamespace(
        settings=types.SimpleNamespace(zones=False)))
    with pytest.raises(EstimationError, match="^true values need a game whose states say where the incoming shot "
                                              "landed \\(zones=True\\)$"):
        true_values(no_zones, PAIR)


# -- coverage ----------------------------------------------------------------------------------------------------------
def test_coverage_keeps_visited_states_with_a_truth_and_checks_the_interval_inclusively():
    """Rows: states with at least min_visits visits and a true value; covered when low <= truth <= high."""
    states = pd.DataFrame({"state": list("abcdef"), "visits": [50, 49, 80, 60, 70, 90],
                           "observed_value": [0.5, 0.5, 0.4, 0.3, 0.6, 0.2],
                           "observed_low": [0.4, 0.4, 0.45, 0.3, 0.5, 0.1],
                           "observed_high": [0.6, 0.6, 0.5, 0.35, 0.6, 0.3]})
    truth = pd.Series({"a": 0.45, "b": 0.5, "c": 0.44, "d": 0.3, "e": 0.6, "f": np.nan})
    fake = types.SimpleNamespace(bootstrap=object(), states=states)
    out = coverage(fake, truth)
    assert list(out.index) == ["a", "c", "d", "e"]
    assert list(out.columns) == ["visits", "truth", "estimate", "low", "high", "covered"]
    assert out["covered"].tolist() == [True, False, True, True]
    assert out.loc["c", "estimate"] == 0.4 and out.loc["c", "low"] == 0.45 and out.loc["c", "high"] == 0.5
    assert out.loc["e", "truth"] == 0.6 and out.loc["a", "visits"] == 50
    assert list(coverage(fake, truth, min_visits=70).index) == ["c", "e"]
    assert list(coverage(fake, truth.drop("a"), min_visits=1).index) == ["b", "c", "d", "e"]
    with pytest.raises(EstimationError, match="^coverage needs a game estimated with bootstrap replicates$"):
        coverage(types.SimpleNamespace(bootstrap=None, states=states), truth)


# -- recommendations in the true game -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def truth():
    return true_game(PAIR, P, O)


def test_the_recommended_policy_is_the_games_mix_on_the_true_states(game, truth):
    """Each true state takes the game's mix of the state it maps to, over the shots the true state offers
    (renormalised); the policy has one distribution per true state and how counts every state once."""
    policy, how = recommended_policy(game, truth)
    assert len(policy) == len(truth.keys) and how["mapped"] + how["habit"] == len(policy)
    assert how["mapped"] > len(policy) // 2 and 0 <= how["unplayable"] < 1
    serve = truth.index("player: serve")
    g = game.index("player: serve")
    mix = dict(zip(game.layout.row_labels[g], game.recommendation.row_strategies[g]))
    expected = np.array([mix.get(a, 0.0) for a in truth.row_labels[serve]])
    np.testing.assert_allclose(policy[serve], expected / expected.sum(), atol=1e-12)
    for x in policy:
        assert np.asarray(x).min() >= 0 and np.asarray(x).sum() == pytest.approx(1.0)


def test_other_strategies_and_states_the_game_lacks(game, truth):
    """strategies replaces the recommendation's mixes; a true state whose name the game lacks, or where none of
    the mix can be played, takes the simulator's habit and is counted as habit."""
    observed, how = recommended_policy(game, truth, game.observed_row)
    serve = truth.index("player: serve")
    g = game.index("player: serve")
    mix = dict(zip(game.layout.row_labels[g], game.observed_row[g]))
    np.testing.assert_allclose(observed[serve], [mix.get(a, 0.0) for a in truth.row_labels[serve]], atol=1e-12)
    # the game's serve mix put entirely on a shot the true state lacks: the habit there
    bogus = [np.asarray(x, float) for x in game.recommendation.row_strategies]
    labels = [tuple(labs) for labs in game.layout.row_labels]
    labels[g] = tuple("volley" for _ in labels[g])
    import dataclasses
    renamed = dataclasses.replace(game, layout=dataclasses.replace(game.layout, row_labels=tuple(labels)))
    policy, how2 = recommended_policy(renamed, truth, bogus)
    np.testing.assert_allclose(policy[serve], truth.row_habits[serve])
    assert how2["habit"] == how["habit"] + 1 and how2["unplayable"] == 1.0


def test_the_policy_report_is_the_policys_guaranteed_value_and_its_gap(game, truth):
    """policy_report: the value guaranteed against a best response from each serve, the gap to the optimum (and
    its maximum), the value against the optimal opponent, the states mapped and the game's settings."""
    policy, how = recommended_policy(game, truth)
    report = policy_report(game, truth)
    guaranteed = policy_value(truth, policy)
    serves = list(truth.serve_states)
    assert report["states"] == how
    assert set(report["value"]) == set(serves) == set(report["gap"]) == set(report["against_optimal_opponent"])
    for s in serves:
        g = truth.index(s)
        assert report["value"][s] == pytest.approx(guaranteed[g], abs=1e-12)
        assert report["gap"][s] == pytest.approx(truth.values[g] - guaranteed[g], abs=1e-12)
        assert report["gap"][s] >= -1e-9
        assert report["value"][s] - 1e-9 <= report["against_optimal_opponent"][s] <= truth.values[g] + 1e-9
    assert report["max_gap"] == pytest.approx(max(report["gap"].values()), abs=1e-15)
    s = game.structure.settings
    assert report["model"] == {"states": s.states or "situation", "zones": True, "heights": bool(s.heights),
                               "strokes": int(game.structure.strokes_used),
                               "matches": int(game.structure.game_matches)}
    assert report["model"]["states"] == "situation" and report["model"]["matches"] == 4


def test_evaluate_recommendation_reports_the_optimum_the_habit_and_both_games(game, truth):
    """The optimum and the habit's values from each serve, the recommendation's report and the coarse game's."""
    coarse = rally_game(pair_table(4, 2), P, O, states="group:tactic", zones=False)
    out = evaluate_recommendation(game, PAIR, coarse=coarse, truth=truth)
    serves = [truth.index(s) for s in truth.serve_states]
    habit = policy_value(truth, truth.row_habits)
    observed = truth.habit_values()
    assert out["player"] == P and out["opponent"] == O
    assert out["optimum"] == {truth.labels[g]: pytest.approx(truth.values[g]) for g in serves}
    assert out["habit"]["guaranteed"] == {truth.labels[g]: pytest.approx(habit[g]) for g in serves}
    assert out["habit"]["observed"] == {truth.labels[g]: pytest.approx(observed[g]) for g in serves}
    assert out["recommendation"] == policy_report(game, truth)
    assert out["coarse"] == policy_report(coarse, truth) and out["coarse"]["model"]["states"] == "group:tactic"
    assert evaluate_recommendation(game, PAIR, truth=truth)["coarse"] is None
    built = evaluate_recommendation(game, PAIR)
    assert built["optimum"] == out["optimum"]


def test_evaluate_recommendation_refuses_other_pairs(game, truth):
    """The game needs two named players; the true game and the coarse game must be of the same pair."""
    with pytest.raises(EstimationError, match="^a recommendation is evaluated for a game between two named simulated "
                                              "players$"):
        evaluate_recommendation(types.SimpleNamespace(player=P, opponent=None), PAIR, truth=truth)
    with pytest.raises(EstimationError, match="^a recommendation is evaluated"):
        evaluate_recommendation(types.SimpleNamespace(player=None, opponent=O), PAIR, truth=truth)
    mirrored = true_game(PAIR, O, P)
    with pytest.raises(EstimationError, match=f"^the true game is {O} v {P}, the rally game {P} v {O}$"):
        evaluate_recommendation(game, PAIR, truth=mirrored)
    other = types.SimpleNamespace(player=P, opponent="Someone")
    with pytest.raises(EstimationError, match="^the coarse game must be of the same pair as the game$"):
        evaluate_recommendation(game, PAIR, coarse=other, truth=truth)
    other = types.SimpleNamespace(player="Someone", opponent=O)
    with pytest.raises(EstimationError, match="^the coarse game must be of the same pair"):
        evaluate_recommendation(game, PAIR, coarse=other, truth=truth)


def test_the_ground_truth_check_compares_each_pairs_intervals_with_the_truth():
    """ground_truth_check simulates the named players' matches, estimates one game per pair (names sorted) with a
    match bootstrap and returns coverage's rows with the pair named, the truth being the exact values."""
    from strategist.rally.truth import ground_truth_check
    from strategist.simulate import canonical_table, simulate_matches

    rows = ground_truth_check(matches=3, seed=1, replicates=4, level=0.8, min_visits=30, players=(O, P), params=PAIR)
    assert list(rows.columns) == ["pair", "state", "visits", "truth", "estimate", "low", "high", "covered"]
    assert set(rows["pair"]) == {f"{P} v {O}"} and len(rows) >= 5 and (rows["visits"] >= 30).all()
    table = true_state_values(PAIR, P, O)
    assert rows.set_index("state").loc["player: serve", "truth"] == table[("player", "serve", None)]
    from dataclasses import replace

    kept = replace(PAIR, players=(PAIR.player(O), PAIR.player(P)))        # the players in the order named
    game = rally_game(canonical_table(simulate_matches(kept, matches=3, seed=1)), P, O, bootstrap=4, level=0.8,
                      seed=1, equilibrium=False)
    expected = coverage(game, true_values(game, PAIR), min_visits=30)
    np.testing.assert_allclose(rows["estimate"], expected["estimate"], atol=1e-12)
    np.testing.assert_allclose(rows["low"], expected["low"], atol=1e-12)
    assert rows["covered"].tolist() == expected["covered"].tolist()


def _by_name(game, truth, strategies):
    """The policy built from the true game's own state names: a true state named as a state of ``game`` takes that
    state's mix over the true state's shots (renormalised); any other state, or one with no playable mass, its
    habit. Returns (policy, number of states mapped)."""
    index = {label: k for k, label in enumerate(game.labels)}
    policy, mapped = [], 0
    for g, label in enumerate(truth.labels):
        k = index.get(label)
        x = None
        if k is not None:
            mix = dict(zip(game.layout.row_labels[k], np.asarray(strategies[k], float)))
            x = np.array([mix.get(a, 0.0) for a in truth.row_labels[g]])
            x = x / x.sum() if x.sum() > 1e-12 else None
        mapped += x is not None
        policy.append(np.asarray(truth.row_habits[g], float) if x is None else x)
    return policy, mapped


@pytest.mark.parametrize("which", ["recommendation", "uniform"])
def test_each_true_state_takes_the_mix_of_the_game_state_of_its_name(game, truth, which):
    """Every true state (serves, returns of either side, rallies) takes the given mixes of the game's state that the
    true game names alike, and the count of mapped states is theirs."""
    uniform = [np.full(len(lab), 1.0 / len(lab)) for lab in game.layout.row_labels]
    strategies = game.recommendation.row_strategies if which == "recommendation" else uniform
    expected, mapped = _by_name(game, truth, strategies)
    policy, how = recommended_policy(game, truth, None if which == "recommendation" else uniform)
    assert how["mapped"] == mapped and how["habit"] == len(policy) - mapped
    for g, (x, y) in enumerate(zip(policy, expected)):
        np.testing.assert_allclose(x, y, atol=1e-12, err_msg=truth.labels[g])
    returns = [g for g, (who, shot, _, _) in enumerate(truth.keys) if who == "opponent" and shot in SERVES]
    assert returns and all(truth.labels[g] in game.labels for g in returns)


def test_a_game_naming_no_true_state_leaves_every_state_to_its_habit(game, truth):
    """When none of the game's states names a true state, nothing is mapped: every state plays its habit."""
    renamed = types.SimpleNamespace(structure=game.structure, layout=game.layout, recommendation=game.recommendation,
                                    labels=tuple(f"elsewhere {k}" for k in range(len(game.labels))))
    policy, how = recommended_policy(renamed, truth)
    assert how == {"mapped": 0, "habit": len(truth.keys), "unplayable": 0.0}
    for x, habit in zip(policy, truth.row_habits):
        np.testing.assert_array_equal(x, habit)


def test_the_policy_report_evaluates_the_strategies_given(game, truth):
    """policy_report with other strategies reports the guaranteed value of the policy those strategies map to."""
    uniform = [np.full(len(lab), 1.0 / len(lab)) for lab in game.layout.row_labels]
    policy, how = recommended_policy(game, truth, uniform)
    report = policy_report(game, truth, uniform)
    guaranteed = policy_value(truth, policy)
    assert report["states"] == how
    for s in truth.serve_states:
        assert report["value"][s] == pytest.approx(guaranteed[truth.index(s)], abs=1e-12)
    assert report["value"] != policy_report(game, truth)["value"]


def test_the_ground_truth_check_by_default_simulates_200_matches_and_checks_states_of_50_visits(monkeypatch):
    """Defaults: the demo parameters, 200 matches from seed 0, a 200-fold bootstrap at level 0.9 (seed 0), states
    with at least 50 visits (the simulation, the games and the coverage are shrunk here, their arguments kept)."""
    import strategist.rally.game as rally_module
    import strategist.rally.truth as truth_module
    import strategist.simulate as simulate_module
    from dataclasses import replace

    from strategist.simulate import SimulationParameters

    seen = {}
    real_simulate, real_game, real_coverage = simulate_module.simulate_matches, rally_module.rally_game, coverage

    def simulate(params, matches, seed):
        seen["simulate"] = (params, matches, seed)
        return real_simulate(params, matches=2, seed=seed)

    def game(shared, player, opponent, bootstrap, level, seed, equilibrium, **options):
        seen["game"] = (bootstrap, level, seed, equilibrium, options)
        return real_game(shared, player, opponent, bootstrap=3, level=level, seed=seed, equilibrium=equilibrium)

    def cover(game, truth, min_visits):
        seen["coverage"] = min_visits
        return real_coverage(game, truth, min_visits=1)

    monkeypatch.setattr(simulate_module, "simulate_matches", simulate)
    monkeypatch.setattr(rally_module, "rally_game", game)
    monkeypatch.setattr(truth_module, "coverage", cover)
    rows = truth_module.ground_truth_check(players=(O, P))
    demo = SimulationParameters()
    assert seen["simulate"] == (replace(demo, players=(demo.player(O), demo.player(P))), 200, 0)
    assert seen["game"] == (200, 0.9, 0, False, {}) and seen["coverage"] == 50
    assert set(rows["pair"]) == {f"{P} v {O}"}


def test_the_ground_truth_check_builds_the_games_with_the_options_given():
    """Options of the game (rule, zones, actions, columns, prior) shape the shared strokes and each game: the rows
    are those of the game built directly with the same options."""
    from strategist.rally.truth import ground_truth_check
    from strategist.simulate import canonical_table, simulate_matches

    options = dict(states="group:tactic", zones=True, actions="group", columns="none", prior=20)
    rows = ground_truth_check(matches=3, seed=1, replicates=4, level=0.8, min_visits=30, players=(O, P), params=PAIR,
                              **options)
    from dataclasses import replace

    kept = replace(PAIR, players=(PAIR.player(O), PAIR.player(P)))
    game = rally_game(canonical_table(simulate_matches(kept, matches=3, seed=1)), P, O, bootstrap=4, level=0.8,
                      seed=1, equilibrium=False, **options)
    expected = coverage(game, true_values(game, PAIR), min_visits=30)
    assert list(rows["state"]) == list(expected.index) and len(rows) >= 3
    np.testing.assert_allclose(rows["estimate"], expected["estimate"], atol=1e-12)
    np.testing.assert_allclose(rows["high"], expected["high"], atol=1e-12)


def test_in_the_height_mode_each_true_state_takes_the_mix_of_its_name():
    """With heights (the simulator's height mode, a game with heights=True), a true state's name says how high the
    incoming shot was taken, and it takes the mix of the game's state of that name."""
    from dataclasses import replace

    from strategist.simulate import HEIGHT_PARAMETERS, canonical_table, simulate_matches

    params = replace(HEIGHT_PARAMETERS, players=(HEIGHT_PARAMETERS.player(P), HEIGHT_PARAMETERS.player(O)))
    game = rally_game(canonical_table(simulate_matches(params, matches=4, seed=2)), P, O, min_action_count=1,
                      heights=True)
    truth = true_game(params, P, O)
    expected, mapped = _by_name(game, truth, game.recommendation.row_strategies)
    policy, how = recommended_policy(game, truth)
    assert how["mapped"] == mapped > len(policy) // 3
    for g, (x, y) in enumerate(zip(policy, expected)):
        np.testing.assert_allclose(x, y, atol=1e-12, err_msg=truth.labels[g])


def test_coverage_ignores_truths_of_states_the_game_lacks():
    """A true value named for a state the game does not have is left out silently; the rows are the game's states."""
    import warnings

    states = pd.DataFrame({"state": ["a", "b"], "visits": [60, 70], "observed_value": [0.5, 0.4],
                           "observed_low": [0.4, 0.3], "observed_high": [0.6, 0.5]})
    fake = types.SimpleNamespace(bootstrap=object(), states=states)
    truth = pd.Series({"z": 0.1, "b": 0.45, "a": 0.7})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = coverage(fake, truth)
    assert list(out.index) == ["a", "b"] and out["covered"].tolist() == [False, True]


def test_the_ground_truth_check_uses_the_parameters_given_for_the_truth():
    """The truth of each state is the exact value under the parameters given, not the demo's."""
    from dataclasses import replace

    from strategist.rally.truth import ground_truth_check

    params = replace(PAIR, depth_mismatch=PAIR.depth_mismatch + 0.5)
    rows = ground_truth_check(matches=3, seed=1, replicates=4, level=0.8, min_visits=30, players=(O, P), params=params)
    table, demo = true_state_values(params, P, O), true_state_values(PAIR, P, O)
    serve = rows.set_index("state").loc["player: serve", "truth"]
    assert serve == table[("player", "serve", None)] != demo[("player", "serve", None)]


def test_the_ground_truth_checks_rows_are_numbered_across_pairs():
    """With several pairs the rows of all pairs are numbered 0, 1, 2, ... in one run."""
    from strategist.rally.truth import ground_truth_check
    from strategist.simulate import SimulationParameters

    names = [p.name for p in SimulationParameters().players[:3]]
    rows = ground_truth_check(matches=6, seed=0, replicates=3, level=0.8, min_visits=20, players=names)
    assert rows["pair"].nunique() >= 2
    assert list(rows.index) == list(range(len(rows)))


def test_the_zone_of_a_state_is_the_whole_text_after_its_last_to(game):
    """The zone is all the text after the last ' to ': a zone of two words ending in a depth is not that depth, a
    label with ' to ' twice takes its last zone, and a label without ' to ' has no zone even if it is a depth."""
    states = game.states.copy()
    rows = np.flatnonzero((states["phase"].to_numpy() != "serve") & (states["who"].to_numpy() == "player"))[:3]
    labels = ["rally after lob to deep back", "rally after push to net to back", "front"]
    for k, label in zip(rows, labels):
        states.loc[k, "decision_state"] = label
    fake = types.SimpleNamespace(player=P, opponent=O, structure=game.structure, states=states)
    truth = true_values(fake, PAIR)
    table = true_state_values(PAIR, P, O)
    assert np.isnan(truth.iloc[rows[0]]) and np.isnan(truth.iloc[rows[2]])
    assert truth.iloc[rows[1]] == table[("player", "stroke", "back")]
