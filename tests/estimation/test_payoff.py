"""Payoff matrices from rally tables: counts, shrinkage, player-specific pooling, reports and bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.data.schema import conform
from strategist.errors import EstimationError, StrategistError
from strategist.estimation import decision_points, estimate_payoff, parse_context
from strategist.games import solve_zero_sum

from .conftest import game_table


def _rally(match, number, strokes, winner_is_first_hitter, players=("Ann", "Bea")):
    """Rows of one rally: ``strokes`` is a list of (shot, landing_area, opponent_area)."""
    rows = []
    for k, (shot, landing, position) in enumerate(strokes, start=1):
        hitter, opponent = (players if k % 2 else players[::-1])
        winner = players[0] if winner_is_first_hitter else players[1]
        rows.append({"sport": "badminton", "source": "constructed", "match_id": match, "set": 1, "rally": number,
                     "rally_id": f"{match}|1|{number}", "stroke": k, "hitter": hitter, "opponent": opponent,
                     "shot": shot, "landing_area": landing, "opponent_area": position, "server": players[0],
                     "winner": winner, "hitter_won": winner == hitter})
    return rows


@pytest.fixture(scope="module")
def small_table():
    rows = []
    rows += _rally("m1", 1, [("short service", "7", "8"), ("lob", "9", "8"), ("smash", "5", "5")], True)
    rows += _rally("m1", 2, [("short service", "1", "8"), ("net shot", "2", "5"), ("lob", "3", "7"),
                             ("smash", "6", "8")], False)
    rows += _rally("m1", 3, [("long service", "9", "8"), ("clear", "3", "8")], False)
    rows += _rally("m2", 1, [("short service", "7", "7"), ("push", "6", "5"), ("smash", "8", "5")], True,
                   players=("Cleo", "Ann"))
    return conform(pd.DataFrame(rows))


# The decision state of every stroke of small_table, by hand (stroke 2 faces the serve; later strokes face
# the incoming shot's tactical group: net shot and the serves are neutral, lob defence, push attack).
SMALL_STATES = {
    "serve": [("m1|1|1", 1), ("m1|1|2", 1), ("m1|1|3", 1), ("m2|1|1", 1)],
    "return of short service": [("m1|1|1", 2), ("m1|1|2", 2), ("m2|1|1", 2)],
    "return of long service": [("m1|1|3", 2)],
    "rally after neutral": [("m1|1|2", 3)],
    "rally after defence": [("m1|1|1", 3), ("m1|1|2", 4)],
    "rally after attack": [("m2|1|1", 3)],
}


def test_counts_and_hand_computed_means_per_state(small_table):
    frame = small_table.assign(won=small_table["hitter_won"].astype(bool))
    for state, strokes in SMALL_STATES.items():
        est = estimate_payoff(small_table, min_action_count=1, state=state, prior=(0.5, 4.0), min_count=1)
        assert est.state == state
        cells = frame[[(r, s) in strokes for r, s in zip(frame["rally_id"], frame["stroke"])]]
        for i, shot in enumerate(est.row_labels):
            for j, area in enumerate(est.column_labels):
                cell = cells[(cells["shot"] == shot) & (cells["opponent_area"] == area)]
                assert est.counts[i, j] == len(cell)
                assert est.wins[i, j] == cell["won"].sum()
                assert est.mean[i, j] == pytest.approx((cell["won"].sum() + 2.0) / (len(cell) + 4.0), abs=1e-15)
        assert set(est.row_labels) == set(cells["shot"]) and est.report.points == len(strokes)
    serve = estimate_payoff(small_table, min_action_count=1, state="serve", prior=(0.5, 4.0), min_count=1)
    # rows follow the sport's vocabulary order, columns its area order (front 1 7 2, middle 5 8 6, back 3 9 4)
    assert serve.row_labels == ("short service", "long service") and serve.column_labels == ("7", "8")
    assert serve.report.rallies == 4 and serve.report.matches == 2


def test_serves_never_share_a_matrix_with_rally_shots(small_table, simulated_table):
    est = estimate_payoff(small_table, min_action_count=1, prior=(0.5, 4.0))
    assert est.state == "serve" and est.row_labels == ("short service", "long service")
    assert "spans 6 decision states" in est.report.state_note
    assert dict(est.report.states) == {s: len(v) for s, v in SMALL_STATES.items()}
    sport_serves = {"short service", "long service"}
    for state, _ in estimate_payoff(simulated_table).report.states:
        rows = set(estimate_payoff(simulated_table, state=state).row_labels)
        assert rows <= sport_serves if state == "serve" else not rows & sport_serves, state
    after_smash = estimate_payoff(simulated_table, context="previous=smash")
    assert after_smash.state == "rally after smash" and after_smash.report.state_note is None
    with pytest.raises(EstimationError, match="no decision points in state 'rally after teapot'"):
        estimate_payoff(small_table, state="rally after teapot")


def test_reply_columns_pair_each_stroke_with_the_next(small_table):
    dp = decision_points(small_table, rows="shot", columns="reply:shot")
    pairs = set(zip(dp.frame["row"], dp.frame["column"]))
    assert ("short service", "lob") in pairs and ("lob", "smash") in pairs and ("long service", "clear") in pairs
    assert len(dp.frame) == len(small_table) - 4  # the last stroke of every rally has no reply
    assert dp.dropped == {"no reply: the stroke ended the rally": 4}
    grouped = decision_points(small_table, rows="group", columns="reply")
    assert set(grouped.frame["row"]) <= {"attack", "neutral", "defence"}
    assert ("neutral", "defence") in set(zip(grouped.frame["row"], grouped.frame["column"]))  # serve -> lob


def test_context_filters_previous_shot_and_stroke_numbers(small_table):
    after_lob = decision_points(small_table, context="previous=lob")
    assert list(after_lob.frame["row"]) == ["smash", "smash"]
    after_defence = decision_points(small_table, context={"previous": "defence"})  # a group of the tactic grouping
    assert list(after_defence.frame["row"]) == ["smash", "smash"]
    third_on = decision_points(small_table, context="stroke=3+")
    assert sorted(third_on.frame["stroke"]) == [3, 3, 3, 4]
    window = decision_points(small_table, context="stroke=2-3")
    assert sorted(window.frame["stroke"]) == [2, 2, 2, 2, 3, 3, 3]
    assert parse_context("previous=smash; stroke=4").describe() == "after smash, stroke 4"


def test_unknown_winner_and_positions_are_dropped_and_counted(small_table):
    table = small_table.copy()
    table.loc[table["rally_id"] == "m1|1|3", ["winner", "hitter_won"]] = pd.NA
    table.loc[0, "opponent_area"] = pd.NA
    dp = decision_points(table)
    assert dp.dropped == {"rally winner unknown": 2, "receiver's position unknown": 1}
    assert len(dp.frame) == len(table) - 3


def test_sparse_cells_are_reported_and_the_prior_rule_replaces_them(small_table):
    kept = estimate_payoff(small_table, min_action_count=1, prior=(0.5, 4.0), min_count=2)
    below = {(r, c) for r, c, _ in kept.report.sparse_cells}
    assert below == {(r, c) for i, r in enumerate(kept.row_labels) for j, c in enumerate(kept.column_labels)
                     if kept.counts[i, j] < 2}
    assert any("below the minimum count 2" in line for line in kept.report.lines())
    prior_rule = estimate_payoff(small_table, min_action_count=1, prior=(0.5, 4.0), min_count=2, sparse="prior")
    sparse_mask = kept.counts < 2
    np.testing.assert_allclose(prior_rule.mean[sparse_mask], 0.5)
    np.testing.assert_allclose(prior_rule.mean[~sparse_mask], kept.mean[~sparse_mask])


def test_rare_actions_can_be_left_out_and_are_reported(small_table):
    est = estimate_payoff(small_table, state="serve", min_action_count=2)
    assert est.row_labels == ("short service",) and est.column_labels == ("8",)
    assert est.report.dropped_rows == ("long service",) and est.report.unobserved_rows == (("long service", 1),)
    assert est.report.dropped_columns == ("7",)  # the receiver stood at 7 once
    assert est.counts.sum() == 2 and est.row_counts == (3,) and est.column_counts == (3,)
    flagged = estimate_payoff(small_table, state="serve", min_action_count=2, include_unobserved=True)
    assert flagged.row_labels == ("short service", "long service") and flagged.flagged_rows == ("long service",)
    assert any("kept and flagged" in line for line in flagged.report.lines())


def test_player_cells_shrink_toward_the_population_matrix(simulated_table):
    est = estimate_payoff(simulated_table, hitter="Astrid NORDVIK", opponent="Bao Thanh LE", rows="group",
                          player_prior=25.0)
    pop = est.population
    assert pop is not None and pop.row_labels == est.row_labels and pop.column_labels == est.column_labels
    # the given strength, capped by the population cell's own posterior trials
    strength = np.minimum(25.0, pop.alpha + pop.beta)
    by_hand = (est.wins + strength * pop.mean) / (est.counts + strength)
    np.testing.assert_allclose(est.mean, by_hand, rtol=1e-12)
    from strategist.data.states import annotate_states

    states = annotate_states(simulated_table)
    sub = states[(states["hitter"] == "Astrid NORDVIK") & (states["opponent"] == "Bao Thanh LE")
                 & (states["state"] == est.state)]
    assert est.report.strokes == sub["hitter_won"].notna().sum()
    assert est.report.population_points == pop.counts.sum()
    strokes = estimate_payoff(simulated_table, hitter="Astrid NORDVIK", opponent="Bao Thanh LE", rows="group",
                              unit="stroke", state=est.state, include_unobserved=True)
    assert strokes.counts.sum() == sub["hitter_won"].notna().sum()


def test_a_rally_counts_once_per_cell_and_hitter(small_table):
    extra = _rally("m3", 1, [("short service", "7", "8"), ("lob", "9", "8"), ("smash", "5", "5"), ("lob", "3", "8"),
                             ("smash", "6", "5")], False)
    table = conform(pd.concat([small_table, pd.DataFrame(extra)], ignore_index=True))
    by_rally = estimate_payoff(table, min_action_count=1, prior=(0.5, 4.0), min_count=1, state="rally after defence")
    by_stroke = estimate_payoff(table, min_action_count=1, prior=(0.5, 4.0), min_count=1, unit="stroke", state="rally after defence")
    i, j = by_rally.row_labels.index("smash"), by_rally.column_labels.index("5")
    assert by_stroke.counts[i, j] == by_rally.counts[i, j] + 1  # m3's two smashes against 5 are one rally
    assert by_rally.report.strokes == 4 and by_rally.report.points == 3


def test_a_pairing_with_few_rallies_stays_near_the_population(simulated_table):
    full = estimate_payoff(simulated_table, hitter="Carmen ORTIZ", rows="group")
    rallies = simulated_table.loc[simulated_table["hitter"] == "Carmen ORTIZ", "rally_id"].unique()[:4]
    few = simulated_table[~simulated_table["rally_id"].isin(
        simulated_table.loc[simulated_table["hitter"] == "Carmen ORTIZ", "rally_id"])
        | simulated_table["rally_id"].isin(rallies)]
    sparse = estimate_payoff(few, hitter="Carmen ORTIZ", rows="group", min_action_count=1)
    assert sparse.report.points <= 25 and sparse.report.player_groups == 8
    gap_sparse = np.abs(sparse.mean - sparse.population.mean).max()
    gap_full = np.abs(full.mean - full.population.mean).max()
    assert gap_sparse < 0.05 and gap_sparse < gap_full
    assert np.isfinite(sparse.solve().value)


def test_estimates_converge_to_the_true_game_and_solve():
    payoffs = np.array([[0.7, 0.35, 0.5], [0.3, 0.65, 0.45]])
    table = game_table(payoffs, [0.5, 0.5], [0.3, 0.4, 0.3], 40_000, seed=4)
    est = estimate_payoff(table, target="population")
    assert est.row_labels == ("smash", "drop") and est.column_labels == ("1", "7", "2")
    assert np.abs(est.mean - payoffs).max() < 0.03
    inside = (est.lower <= payoffs) & (payoffs <= est.upper)
    assert inside.mean() >= 4 / 6
    truth = solve_zero_sum(payoffs)
    assert est.solve().value == pytest.approx(truth.value, abs=0.02)


def test_all_simulated_players_matrix_builds_and_solves(simulated_table):
    for rows, columns in (("shot", "position"), ("group", "reply"), ("area", "position")):
        est = estimate_payoff(simulated_table, rows=rows, columns=columns, context="stroke=2+")
        solution = est.solve()
        assert solution.duality_gap < 1e-7
        assert ((est.lower <= est.mean) & (est.mean <= est.upper)).all()
        assert est.to_dict()["rows"] == list(est.row_labels)


@pytest.mark.parametrize("kwargs,message", [
    ({"hitter": "Nobody Known"}, "unknown player 'Nobody Known'"),
    ({"opponent": "astrid nordvk"}, "did you mean 'Astrid NORDVIK'"),
    ({"context": "stroke=400"}, "no strokes in context 'stroke 400'"),
    ({"context": "previous=teapot"}, "previous='teapot'"),
    ({"context": "speed=3"}, "unknown context keys"),
    ({"prior": (1.2, 5.0)}, "prior mean must be a probability"),
    ({"prior": -3}, "prior strength"),
    ({"rows": "colour"}, "rows 'colour'"),
    ({"columns": "reply:nogrouping"}, "no grouping 'nogrouping'"),
    ({"target": "median"}, "target 'median'"),
    ({"min_count": -1}, "min_count"),
    ({"level": 1.5}, "level"),
    ({"hitter": "Astrid NORDVIK", "opponent": "Astrid NORDVIK"}, "both"),
])
def test_bad_inputs_raise_one_clear_error(simulated_table, kwargs, message):
    with pytest.raises(StrategistError) as info:
        estimate_payoff(simulated_table, **kwargs)
    assert message in str(info.value)


def test_a_pairing_that_never_met_is_a_clear_error(simulated_table):
    met = set(zip(simulated_table["hitter"], simulated_table["opponent"]))
    players = sorted(set(simulated_table["hitter"]))
    pair = next((a, b) for a in players for b in players if a != b and (a, b) not in met)
    with pytest.raises(EstimationError, match="no decision points for"):
        estimate_payoff(simulated_table, hitter=pair[0], opponent=pair[1])


def test_mixed_sports_and_missing_columns_are_rejected(small_table):
    mixed = small_table.copy()
    mixed.loc[0, "sport"] = "tennis"
    with pytest.raises(EstimationError, match="mixes sports"):
        estimate_payoff(mixed)
    with pytest.raises(EstimationError, match="lacks columns"):
        estimate_payoff(small_table.drop(columns=["opponent_area"]))


@pytest.mark.slow
def test_shuttleset_all_players_matrix_builds_and_solves(shuttleset_strokes):
    from strategist.data import load

    loaded = load.load_rallies(shuttleset_strokes)
    table = loaded[0] if isinstance(loaded, tuple) else getattr(loaded, "table", loaded)
    est = estimate_payoff(table, rows="group", columns="position", context="stroke=2+")
    assert est.state == "rally after neutral" and est.report.matches == 94
    assert 20_000 < est.report.strokes < 40_000
    assert est.solve().duality_gap < 1e-7
    shots = estimate_payoff(table, context="previous=smash")
    assert "return net" in shots.row_labels
    assert 0.0 < shots.solve().value < 1.0
    player = estimate_payoff(table, hitter="Kento MOMOTA", opponent="CHOU Tien Chen", rows="group")
    assert player.report.points > 0 and np.isfinite(player.solve().value)


def test_a_cell_without_data_shows_the_prior_interval_never_zero_width():
    from scipy import stats

    # every cell wins half the time, so empirical Bayes pools completely (strength at its bound); no smash
    # ever met a receiver standing at "7", so that cell has no data
    table = game_table(np.full((2, 2), 0.5), [0.5, 0.5], [0.5, 0.5], 4000, seed=1)
    table = table[~((table["shot"] == "smash") & (table["opponent_area"] == "7"))].reset_index(drop=True)
    pop = estimate_payoff(table)
    i, j = pop.row_labels.index("smash"), pop.column_labels.index("7")
    assert pop.report.strength_at_bound and pop.counts[i, j] == 0 and pop.no_data[i, j]
    # the prior of the empty cell holds the trials behind its centre (the smash row's rate), no more
    s, c = pop.counts[i].sum() + 1.0, pop.center[i, j]
    lo, hi = stats.beta.ppf([0.025, 0.975], s * c, s * (1 - c))
    assert (pop.lower[i, j], pop.upper[i, j]) == pytest.approx((lo, hi), abs=1e-12)
    assert pop.upper[i, j] - pop.lower[i, j] > 0.02
    assert pop.frame("cells").iloc[i, j].endswith(" 0*") and pop.to_dict()["no_data"][i][j] is True
    # a player's empty cell is never surer than the population cell it shrinks toward
    ann = estimate_payoff(table, hitter="Ann", include_unobserved=True)
    s = min(ann.strength, ann.population.alpha[i, j] + ann.population.beta[i, j])
    c = ann.population.mean[i, j]
    lo, hi = stats.beta.ppf([0.025, 0.975], s * c, s * (1 - c))
    assert ann.counts[i, j] == 0 and (ann.lower[i, j], ann.upper[i, j]) == pytest.approx((lo, hi), abs=1e-12)
    assert ann.upper[i, j] - ann.lower[i, j] >= pop.upper[i, j] - pop.lower[i, j] > 0
