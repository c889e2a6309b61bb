"""Payoff matrices on a table built by hand: whose choices count for a hitter alone or a receiver alone, which
actions and cells keep their data at the count limits, the population matrix beside a player's, the order in
which settings are checked, the state chosen on a tie, and what the report and JSON say. Every count below is
counted by hand; means and intervals are recomputed in float64 and with scipy's Beta quantiles."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from strategist.data.schema import conform
from strategist.errors import EstimationError
from strategist.estimation import decision_points, estimate_payoff
from strategist.estimation.payoff import EstimateSettings, estimate_cells, estimate_from_points, player_strength
from strategist.estimation.shrinkage import parse_prior

from .hand_rallies import rally_rows

LONG = ("long service", "9", "8")
STATE = "return of long service"


def _returns(spec):
    """One rally per (match, server, receiver, return shot, server's position, receiver won): a long serve and
    its return."""
    rows = []
    for number, (match, server, receiver, shot, position, won) in enumerate(spec, start=1):
        rows += rally_rows(match, number, server, receiver, [LONG, (shot, "5", position)], receiver if won else server)
    return rows


# Returns of long serve (the server's position in the last column but one; True: the returner won the rally)
RETURNS = [
    ("a", "Ola", "Pia", "clear", "8", True), ("a", "Ola", "Pia", "clear", "7", False),
    ("a", "Ola", "Pia", "smash", "8", True),
    ("b", "Rex", "Pia", "smash", "8", True), ("b", "Rex", "Pia", "smash", "5", False),
    ("c", "Rex", "Sam", "lob", "8", True), ("c", "Rex", "Sam", "lob", "7", False),
    ("c", "Rex", "Sam", "lob", "5", False),
    ("d", "Ola", "Rex", "lob", "8", True), ("d", "Ola", "Rex", "lob", "8", False),
]
#   hitter\position   7      5      8          (wins/decision points, all players)
#   lob              0/1    0/1    2/3         Sam 3 against Rex, Rex 2 against Ola
#   clear            0/1     -     1/1         Pia against Ola
#   smash             -     0/1    2/2         Pia: 1 against Ola, 2 against Rex
HAND_WINS = np.array([[0, 0, 2], [0, 0, 1], [0, 0, 2]])
HAND_COUNTS = np.array([[1, 1, 3], [1, 0, 1], [0, 1, 2]])


@pytest.fixture(scope="module")
def table():
    return conform(pd.DataFrame(_returns(RETURNS)))


def test_the_hand_made_table_counts_as_counted_by_hand(table):
    est = estimate_payoff(table, state=STATE, min_action_count=1, prior=4)
    assert est.row_labels == ("lob", "clear", "smash") and est.column_labels == ("7", "5", "8")
    np.testing.assert_array_equal(est.counts, HAND_COUNTS)
    np.testing.assert_array_equal(est.wins, HAND_WINS)


def test_a_hitter_alone_counts_the_receivers_positions_of_their_own_returns(table):
    """Pia's returns met the server at 7 once, at 5 once and at 8 three times (all players': 2, 2 and 6)."""
    est = estimate_payoff(table, hitter="Pia", state=STATE, min_action_count=2, include_unobserved=True)
    assert dict(zip(est.row_labels, est.row_counts)) == {"lob": 0, "clear": 2, "smash": 3}
    assert dict(zip(est.column_labels, est.column_counts)) == {"7": 1, "5": 1, "8": 3}
    assert est.flagged_rows == ("lob",) and est.flagged_columns == ("7", "5")
    assert est.report.unobserved_columns == (("7", 1), ("5", 1))


def test_a_receiver_alone_counts_the_returns_of_every_hitter_against_them(table):
    """Against Ola: Pia's clear twice and smash once, Rex's lob twice (all players': lob 5, clear 2, smash 3);
    Ola never stood at 5."""
    est = estimate_payoff(table, opponent="Ola", state=STATE, min_action_count=2, include_unobserved=True)
    assert dict(zip(est.row_labels, est.row_counts)) == {"lob": 2, "clear": 2, "smash": 1}
    assert dict(zip(est.column_labels, est.column_counts)) == {"7": 1, "5": 0, "8": 4}
    assert est.report.unobserved_rows == (("smash", 1),)
    assert est.report.unobserved_columns == (("7", 1), ("5", 0))
    assert est.to_dict()["column_counts"] == {"7": 1, "5": 0, "8": 4}
    # an action never chosen is below a limit of one: it leaves the matrix, the others stay
    one = estimate_payoff(table, opponent="Ola", state=STATE, min_action_count=1)
    assert one.row_labels == ("lob", "clear", "smash") and one.column_labels == ("7", "8")
    assert one.report.unobserved_columns == (("5", 0),) and one.report.dropped_columns == ("5",)


def test_the_default_limit_keeps_an_action_chosen_exactly_five_times(table):
    """All players: lob 5 times, clear 2, smash 3; the server at 8 six times, at 7 and at 5 twice each."""
    est = estimate_payoff(table, state=STATE)
    assert est.row_labels == ("lob",) and est.column_labels == ("8",)
    assert est.row_counts == (5,) and est.column_counts == (6,)
    assert est.settings.min_action_count == 5 and est.report.dropped_rows == ("clear", "smash")


def test_kept_actions_that_never_meet_leave_no_decision_point_and_are_refused():
    """Kim's own returns: smash twice (against Max), drop once (against Lee); Lee stood at 7 twice (Nia's clears)
    and at 6 once: with a limit of two, smash and position 7 remain, and no smash ever met Lee at 7."""
    table = conform(pd.DataFrame(_returns([
        ("a", "Max", "Kim", "smash", "8", True), ("a", "Max", "Kim", "smash", "8", False),
        ("b", "Lee", "Kim", "drop", "6", True),
        ("c", "Lee", "Nia", "clear", "7", True), ("c", "Lee", "Nia", "clear", "7", False)])))
    with pytest.raises(EstimationError, match="no receiver action has 2 of the player's own decision points"):
        estimate_payoff(table, hitter="Kim", opponent="Lee", state=STATE, min_action_count=2)


@pytest.mark.parametrize("counts, whose", [("pairing", "this pairing's"), ("population", "all players'")])
def test_a_refusal_says_whose_counts_fell_short(table, counts, whose):
    """Pia against Ola: clear twice, smash once; all players: lob 5, clear 2, smash 3."""
    with pytest.raises(EstimationError, match=f"no hitter action has 6 of {whose} decision points in state "
                                              f"'{STATE}'"):
        estimate_payoff(table, hitter="Pia", opponent="Ola", state=STATE, min_action_count=6, action_counts=counts)


def test_the_single_column_of_no_recorded_reply_is_never_flagged(table):
    est = estimate_payoff(table, hitter="Pia", state=STATE, columns="none", min_action_count=6,
                          include_unobserved=True)
    assert est.column_labels == ("any reply",) and est.column_counts == (5,)
    assert est.flagged_columns == () and est.report.unobserved_columns == ()
    assert est.flagged_rows == ("lob", "clear", "smash")


def test_a_tie_between_states_goes_to_the_first_by_name_and_a_players_states_list_those_without_data(table):
    """Ten serves and ten returns of long serve: the returns come first by name. Pia never serves; Ola serves
    5 times and never returns."""
    est = estimate_payoff(table, min_action_count=1)
    assert est.report.states == ((STATE, 10), ("serve", 10)) and est.state == STATE
    assert "1 other state not shown" in est.report.state_note
    pia = estimate_payoff(table, hitter="Pia", min_action_count=1)
    assert pia.report.states == ((STATE, 5), ("serve", 0))
    ola = estimate_payoff(table, hitter="Ola", min_action_count=1)
    assert ola.report.states == (("serve", 5), (STATE, 0)) and ola.state == "serve"


def test_the_note_counts_two_other_states_in_the_plural():
    rows = rally_rows("a", 1, "Ola", "Pia", [LONG, ("lob", "9", "8"), ("smash", "5", "5")], "Ola")
    rows += rally_rows("a", 2, "Ola", "Pia", [LONG, ("clear", "3", "8")], "Pia")
    est = estimate_payoff(conform(pd.DataFrame(rows)), min_action_count=1)
    assert est.state == STATE and len(est.report.states) == 3
    assert est.report.state_note.endswith("2 other states not shown: choose one with state=")


def test_under_the_prior_rule_a_cell_with_exactly_the_minimum_count_keeps_its_data(table):
    """Strength 4 toward the row rate: lob at 8 has 3 decision points (2 won); with a minimum of 3 it keeps them,
    the cells with fewer fall to their prior mean."""
    est = estimate_payoff(table, state=STATE, min_action_count=1, prior=4, min_count=3, sparse="prior")
    w, n = HAND_WINS.astype(float), HAND_COUNTS.astype(float)
    keep = n >= 3
    wk, nk = np.where(keep, w, 0.0), np.where(keep, n, 0.0)
    overall = (wk.sum() + 0.5) / (nk.sum() + 1.0)
    centre = np.broadcast_to((wk.sum(axis=1, keepdims=True) + overall) / (nk.sum(axis=1, keepdims=True) + 1.0),
                             w.shape)
    np.testing.assert_allclose(est.mean, (wk + 4 * centre) / (nk + 4), atol=1e-12)
    assert est.mean[0, 2] != pytest.approx(est.center[0, 2])
    assert est.report.lines()[-1] == ("8 cells below the minimum count 3 (2 with no data: their interval is the "
                                      "prior's), set to their prior mean (their data ignored)")


def _column_centre(w, n):
    overall = (w.sum() + 0.5) / (n.sum() + 1.0)
    return np.broadcast_to((w.sum(axis=0, keepdims=True) + overall) / (n.sum(axis=0, keepdims=True) + 1.0), w.shape)


def test_a_players_matrix_and_its_population_matrix_use_the_target_level_and_priors_asked(table):
    """Pia (clear and smash), column target, strength 4 for everyone's cells, 3 for hers toward them, level 0.8:
    the population cells are Beta(w + 4c, n − w + 4(1 − c)) with c the column rate, hers (w + 3m)/(n + 3)."""
    est = estimate_payoff(table, hitter="Pia", state=STATE, min_action_count=1, target="column", prior=4,
                          player_prior=3, level=0.8, sparse="prior", min_count=1)
    pop = est.population
    assert est.row_labels == ("clear", "smash") and est.column_labels == ("7", "5", "8")
    pw, pn = HAND_WINS[1:].astype(float), HAND_COUNTS[1:].astype(float)
    np.testing.assert_array_equal(pop.counts, pn)
    c = _column_centre(pw, pn)
    a, b = pw + 4 * c, pn - pw + 4 * (1 - c)
    np.testing.assert_allclose(pop.mean, a / (a + b), atol=1e-12)
    np.testing.assert_allclose(pop.lower, stats.beta.ppf(0.1, a, b), atol=1e-9)
    np.testing.assert_allclose(pop.upper, stats.beta.ppf(0.9, a, b), atol=1e-9)
    w, n = est.wins.astype(float), est.counts.astype(float)
    np.testing.assert_array_equal(n, [[1, 0, 1], [0, 1, 2]])
    m = a / (a + b)
    np.testing.assert_allclose(est.mean, (w + 3 * m) / (n + 3), atol=1e-12)
    np.testing.assert_allclose(est.lower, stats.beta.ppf(0.1, w + 3 * m, n - w + 3 * (1 - m)), atol=1e-9)
    assert est.report.prior == "strength 3" and pop.report.prior == "strength 4"
    assert est.report.to_dict()["prior"] == "strength 3"
    assert est.report.sparse == "prior" and pop.report.sparse == "shrink" and pop.settings.sparse == "shrink"
    assert pop.points["selected"].tolist() == [True] * len(pop.points) and est.points["selected"].sum() == 5
    assert est.report.player_groups == 0 and "estimated across" not in " ".join(est.report.lines())


def test_an_estimate_of_everyone_has_no_player_groups(table):
    est = estimate_payoff(table, state=STATE, min_action_count=1)
    assert est.report.player_groups is None and est.report.to_dict()["player_groups"] is None
    assert est.report.prior == "strength by empirical Bayes (marginal)"
    assert not any("estimated across" in line for line in est.report.lines())


def _settings(**kw):
    base = dict(target="column", prior=parse_prior(4), player_prior=parse_prior(3), level=0.8)
    return EstimateSettings(**{**base, **kw})


def test_cells_without_a_given_player_strength_use_the_player_prior_toward_the_population_means():
    """Population: strength 4 toward the column rate; the player's cells: strength 3 toward those means (the
    population cells hold at least 4 + n trials, so the cap never binds), intervals at level 0.8 when asked."""
    pw, pn = np.array([[3.0, 1.0], [2.0, 5.0]]), np.array([[6.0, 2.0], [4.0, 9.0]])
    sw, sn = np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([[2.0, 1.0], [2.0, 3.0]])
    c = _column_centre(pw, pn)
    m = (pw + 4 * c) / (pn + 4)
    a, b = sw + 3 * m, sn - sw + 3 * (1 - m)
    final, population = estimate_cells(_settings(), pw, pn, sw, sn)
    np.testing.assert_allclose(population.mean, m, atol=1e-12)
    np.testing.assert_allclose(final.mean, a / (a + b), atol=1e-12)
    np.testing.assert_allclose(final.posterior.lower, stats.beta.ppf(0.1, a, b), atol=1e-9)
    np.testing.assert_allclose(final.posterior.upper, stats.beta.ppf(0.9, a, b), atol=1e-9)
    assert final.strength == 3.0
    for strength in (None, 3.0):
        quick, _ = estimate_cells(_settings(), pw, pn, sw, sn, player_strength=strength, intervals=False)
        np.testing.assert_allclose(quick.mean, a / (a + b), atol=1e-12)
        assert np.isnan(quick.posterior.lower).all() and np.isnan(quick.posterior.upper).all()


def test_a_player_strength_never_exceeds_the_trials_of_the_population_cell():
    """Player strength 1000 against population cells of 4 + n trials: each cell's strength is 4 + n."""
    pw, pn = np.array([[3.0, 1.0], [2.0, 5.0]]), np.array([[6.0, 2.0], [4.0, 9.0]])
    sw, sn = np.array([[1.0, 0.0], [2.0, 1.0]]), np.array([[2.0, 1.0], [2.0, 3.0]])
    m = (pw + 4 * _column_centre(pw, pn)) / (pn + 4)
    s = pn + 4
    for settings, strength in ((_settings(player_prior=parse_prior(1000)), None), (_settings(), 1000.0)):
        final, _ = estimate_cells(settings, pw, pn, sw, sn, player_strength=strength)
        np.testing.assert_allclose(final.mean, (sw + s * m) / (sn + s), atol=1e-12)
        np.testing.assert_allclose(final.posterior.alpha + final.posterior.beta, sn + s, atol=1e-12)


def _group_points(groups):
    """Decision points of one cell: ``groups`` is [(hitter, wins, trials)]."""
    rows = []
    for hitter, wins, trials in groups:
        rows += [{"hitter": hitter, "row_index": 0, "column_index": 0, "won": k < wins} for k in range(trials)]
    return pd.DataFrame(rows)


def _moments_strength(groups, centre):
    """The method-of-moments strength by hand: ρ = Σ((r − c)² − v/n) / Σ v(n − 1)/n, s = 1/ρ − 1."""
    v = centre * (1 - centre)
    num = sum((w / n - centre) ** 2 - v / n for _, w, n in groups)
    den = sum(v * (n - 1) / n for _, w, n in groups)
    return 1 / (num / den) - 1


@pytest.mark.parametrize("groups, centre, at_bound", [
    ([("Ann", 100, 100), ("Bea", 1, 100)], 0.5, False),        # s = 1/0.98 − 1 ≈ 0.0204: inside the bounds
    ([("Ann", 100, 100), ("Bea", 0, 100)], 0.5, True),         # ρ = 1: s clipped to 0.01, no pooling
    ([("Ann", 30, 100), ("Bea", 70, 100)], 0.5, False),        # a middling strength
])
def test_a_player_strength_is_flagged_only_within_a_factor_one_and_a_half_of_its_bounds(groups, centre, at_bound):
    settings = EstimateSettings(hitter="Ann", player_prior=parse_prior("moments"))
    s, flag, count = player_strength(settings, _group_points(groups), np.array([[centre]]), (1, 1))
    assert count == 2 and flag is at_bound
    assert s == pytest.approx(max(_moments_strength(groups, centre), 0.01), rel=1e-9)


def test_a_strength_of_half_a_million_is_not_at_the_upper_bound():
    """Two groups of 1000 trials with 500 wins each against a centre c: ρ = ((½ − c)² − v/1000)/(0.999 v); c is
    chosen so that s = 1/ρ − 1 = 500,000 (the flag starts at 10⁶/1.5)."""
    groups = [("Ann", 500, 1000), ("Bea", 500, 1000)]
    rho = 1 / 500_001
    # with d = ½ − c and v = ¼ − d²: d²(1.001 + 0.999ρ) = ¼(0.001 + 0.999ρ)
    centre = 0.5 - np.sqrt(0.25 * (0.001 + 0.999 * rho) / (1.001 + 0.999 * rho))
    assert _moments_strength(groups, centre) == pytest.approx(5e5, rel=1e-6)
    settings = EstimateSettings(hitter="Ann", player_prior=parse_prior("moments"))
    s, flag, _ = player_strength(settings, _group_points(groups), np.array([[centre]]), (1, 1))
    assert s == pytest.approx(5e5, rel=1e-6) and flag is False


def test_a_players_strength_by_moments_is_fitted_on_every_players_cells():
    """Ann wins 9 of 10, Bea 2 of 10 against a population mean of 0.55: the moments strength by hand."""
    groups = [("Ann", 9, 10), ("Bea", 2, 10)]
    settings = EstimateSettings(hitter="Ann", player_prior=parse_prior("moments"))
    s, flag, count = player_strength(settings, _group_points(groups), np.array([[0.55]]), (1, 1))
    assert s == pytest.approx(_moments_strength(groups, 0.55), rel=1e-9) and not flag and count == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"level": 0.0}, "interval level must lie strictly between 0 and 1"),
    ({"level": 1.0}, "interval level must lie strictly between 0 and 1"),
    ({"level": 1.5}, "interval level must lie strictly between 0 and 1"),
    ({"columns": "elbow"}, "columns 'elbow' is not one of"),
])
def test_settings_are_refused_before_the_table_is_looked_at(kwargs, message):
    with pytest.raises(EstimationError, match=f"^{message}"):
        estimate_payoff(42, **kwargs)


@pytest.mark.parametrize("kwargs, message", [({"rows": "elbow"}, "rows 'elbow' is not one of"),
                                             ({"columns": "elbow"}, "columns 'elbow' is not one of")])
def test_settings_given_straight_to_the_points_are_named_when_unknown(table, kwargs, message):
    dp = decision_points(table)
    with pytest.raises(EstimationError, match=f"^{message}"):
        estimate_from_points(dp, EstimateSettings(min_action_count=1, **kwargs))


def test_a_grouping_orders_the_rows_and_a_reply_by_shot_the_columns_in_the_sports_order(table):
    """Badminton's track2 grouping lists lob, clear, smash in that order; its shot list lob before clear."""
    rows = estimate_payoff(table, state=STATE, rows="group:track2", min_action_count=1)
    assert rows.row_labels == ("lob", "clear", "smash")
    rally = []
    for k, (reply, won) in enumerate([("lob", True), ("clear", False), ("smash", True), ("lob", False)]):
        winner = "Pia" if won else "Ola"
        rally += rally_rows("r", k + 1, "Ola", "Pia", [LONG, ("drop", "2", "8"), (reply, "9", "7")], winner)
    replies = estimate_payoff(conform(pd.DataFrame(rally)), state=STATE, columns="reply:shot", min_action_count=1)
    assert replies.row_labels == ("drop",) and replies.column_labels == ("lob", "clear", "smash")
    np.testing.assert_array_equal(replies.counts, [[2, 1, 1]])


def test_a_context_without_decision_points_says_why_strokes_were_left_out():
    rows = rally_rows("a", 1, "Ola", "Pia", [LONG, ("clear", "3", None)], "Ola")
    rows += rally_rows("a", 2, "Ola", "Pia", [LONG, ("unknown", "3", "8")], "Ola")
    table = conform(pd.DataFrame(rows))
    dp = decision_points(table, context="stroke=2")
    assert dp.frame.empty and len(dp.dropped) == 2
    why = "; ".join(f"{n} strokes with {reason}" for reason, n in dp.dropped.items())
    with pytest.raises(EstimationError, match=f"no decision points in context 'stroke 2' \\({why}\\)"):
        estimate_payoff(table, context="stroke=2")


def test_a_sport_named_reads_a_table_whose_sport_is_not_recorded(table):
    blank = table.assign(sport=pd.Series([None] * len(table), dtype="string"))
    est = estimate_payoff(blank, state=STATE, min_action_count=1, prior=4, sport="badminton")
    np.testing.assert_array_equal(est.counts, HAND_COUNTS)
    assert est.sport == "badminton"


def test_the_reports_action_lines_name_eight_actions_and_count_the_rest(table):
    report = estimate_payoff(table, state=STATE, min_action_count=1).report
    eight = replace(report, unobserved_rows=(), unobserved_columns=tuple((str(k), 0) for k in range(8)),
                    min_action_count=1, action_counts="population", included_unobserved=False)
    assert eight.action_lines() == [
        "receiver actions chosen fewer than 1 times by all players in this state (times in brackets), left out: "
        + ", ".join(f"{k} (0)" for k in range(8))]
    nine = replace(eight, unobserved_columns=tuple((str(k), 0) for k in range(9)))
    assert nine.action_lines()[0].endswith("7 (0) and 1 more")


def test_the_report_says_which_bound_a_fitted_strength_hit_and_when_every_cell_has_enough_data(table):
    report = estimate_payoff(table, state=STATE, min_action_count=1, min_count=0, prior=4).report
    assert report.lines()[-1] == "every cell has at least 0 decision points"
    line = next(x for x in report.lines() if x.startswith("shrinkage"))
    assert line == "shrinkage toward the row rate, strength 4: s = 4 prior trials"
    pooled = replace(report, strength=1e6, strength_at_bound=True)
    assert ("shrinkage toward the row rate, strength 4: s = 1e+06 prior trials (at its bound: complete pooling)"
            in pooled.lines())
    apart = replace(report, strength=0.01, strength_at_bound=True)
    text = " ".join(apart.lines())
    assert "s = 0.01 prior trials (at its bound: no pooling)" in text and "complete" not in text


def test_the_report_and_estimate_as_json_keep_their_fields_and_whole_counts(table):
    est = estimate_payoff(table, hitter="Pia", state=STATE, min_action_count=2, prior=4, player_prior=3)
    d = est.report.to_dict()
    assert d["dropped_rows"] == ["lob"] and d["dropped_columns"] == ["7", "5"] and d["prior"] == "strength 3"
    j = est.to_dict()
    assert all(type(x) is int for row in j["counts"] + j["wins"] for x in row)
    assert j["counts"] == [[1], [2]] and j["wins"] == [[1], [2]]
    pd.testing.assert_frame_equal(est.frame(), est.frame("mean"))
    np.testing.assert_array_equal(est.frame().to_numpy(), est.mean)
