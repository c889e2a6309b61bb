"""Which state a payoff matrix is of, which actions enter it and by whose counts, and what its report says: on a
table built by hand, every number counted by hand below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from strategist.data.schema import conform
from strategist.errors import EstimationError
from strategist.estimation import estimate_payoff
from strategist.games import solve_zero_sum

from .hand_rallies import rally_rows

LONG, SHORT = ("long service", "9", "8"), ("short service", "7", "7")


def _rows():
    """Returns of serve (stroke 2). Pia: 3 long returns against Ola (clear at 8, clear at 7, smash at 8), 2
    against Rex (smash at 8, twice) and 1 short return. Rex returns 7 short serves; Sam 3 long ones (lob at 8,
    lob at 7, and one lob whose receiver's position is unknown)."""
    rows = []
    rows += rally_rows("a", 1, "Ola", "Pia", [LONG, ("clear", "3", "8"), ("smash", "5", "5")], "Ola")
    rows += rally_rows("a", 2, "Ola", "Pia", [LONG, ("clear", "3", "7"), ("drop", "2", "5")], "Pia")
    rows += rally_rows("a", 3, "Ola", "Pia", [LONG, ("smash", "5", "8")], "Pia")
    rows += rally_rows("a", 4, "Ola", "Pia", [SHORT, ("net shot", "2", "5")], "Pia")
    rows += rally_rows("c", 1, "Rex", "Pia", [LONG, ("smash", "5", "8")], "Pia")
    rows += rally_rows("c", 2, "Rex", "Pia", [LONG, ("smash", "6", "8")], "Rex")
    for k in range(7):
        rows += rally_rows("b", k + 1, "Sam", "Rex", [SHORT, ("push", "6", "5")], "Rex" if k % 2 else "Sam")
    rows += rally_rows("b", 10, "Rex", "Sam", [LONG, ("lob", "9", "8")], "Sam")
    rows += rally_rows("b", 11, "Rex", "Sam", [LONG, ("lob", "9", "7")], "Rex")
    rows += rally_rows("b", 12, "Rex", "Sam", [LONG, ("lob", "9", None)], "Rex")
    return rows


@pytest.fixture(scope="module")
def table():
    return conform(pd.DataFrame(_rows()))


@pytest.fixture(scope="module")
def table_with_rex():
    """The table and two long returns of Rex against Ola (lobs, Ola at 8): another hitter against Ola."""
    rows = _rows()
    rows += rally_rows("d", 1, "Ola", "Rex", [LONG, ("lob", "9", "8")], "Rex")
    rows += rally_rows("d", 2, "Ola", "Rex", [LONG, ("lob", "8", "8")], "Ola")
    return conform(pd.DataFrame(rows))


def test_the_state_of_a_player_is_the_one_with_most_of_the_players_own_decision_points(table):
    """Returns of serve: all players return short serves more often (8 against 7 with a known position), Pia
    long ones (5 against 1): her matrix is of long returns, everyone's of short ones."""
    pia = estimate_payoff(table, hitter="Pia", context="stroke=2", min_action_count=1)
    assert pia.report.state == "return of long service"
    assert pia.report.states == (("return of long service", 5), ("return of short service", 1))
    assert "'return of long service' (5 decision points); 1 other state not shown" in pia.report.state_note
    everyone = estimate_payoff(table, context="stroke=2", min_action_count=1)
    assert everyone.report.state == "return of short service"
    assert everyone.report.states == (("return of short service", 8), ("return of long service", 7))


@pytest.mark.parametrize("counts, rows, columns", [
    ("player", {"lob": 0, "clear": 2, "smash": 3}, {"7": 1, "8": 4}),     # Pia against anyone; Ola against anyone
    ("pairing", {"lob": 0, "clear": 2, "smash": 1}, {"7": 1, "8": 2}),    # Pia against Ola
    ("population", {"lob": 4, "clear": 2, "smash": 3}, {"7": 2, "8": 7}),    # everyone
])
def test_actions_are_counted_by_the_player_the_pairing_or_everyone(table_with_rex, counts, rows, columns):
    """Long returns: Pia's against Ola (clear at 8, clear at 7, smash at 8) and Rex (smash at 8 twice), Rex's
    against Ola (lob at 8 twice), Sam's against Rex (lob at 8 and at 7; one position unknown)."""
    table = table_with_rex
    est = estimate_payoff(table, hitter="Pia", opponent="Ola", state="return of long service", min_action_count=3,
                          action_counts=counts, include_unobserved=True)
    assert dict(zip(est.row_labels, est.row_counts)) == rows
    assert dict(zip(est.column_labels, est.column_counts)) == columns
    assert est.report.unobserved_rows == tuple((a, n) for a, n in rows.items() if n < 3)
    assert est.report.unobserved_columns == tuple((c, n) for c, n in columns.items() if n < 3)
    assert est.report.action_counts == counts and est.report.included_unobserved


def test_the_report_of_a_pairing_says_what_it_rests_on(table):
    """Pia against Ola, long returns, actions of at least 2 of her own (lob 0 and Ola's position 7 once: left
    out): clear at 8 and smash at 8 remain, 2 decision points of the 3 strokes; the population's 4 (Pia's two
    smashes at 8 against Rex beside them); Sam's lob without a position is left out of everyone's."""
    est = estimate_payoff(table, hitter="Pia", opponent="Ola", state="return of long service", min_action_count=2)
    assert (est.row_labels, est.column_labels) == (("clear", "smash"), ("8",))
    lines = est.report.lines()
    assert lines[:5] == [
        "state: return of long service",
        "decision points: 2 from 3 strokes; a rally counts once per cell and hitter; 2 rallies of 1 match "
        "(population: 4)",
        "left out: 1 strokes of all players (receiver's position unknown)",
        "hitter actions chosen fewer than 2 times by the hitter in this state (times in brackets), left out: lob (0)",
        "receiver actions chosen fewer than 2 times by the receiver in this state (times in brackets), left out: "
        "7 (1)"]
    assert lines[5].startswith("shrinkage toward the population matrix, strength by empirical Bayes (marginal), "
                               "estimated across 2 players or pairings: s = ")
    assert lines[6].startswith("population matrix: shrinkage toward the row rate, s = ")
    assert lines[7] == ("2 cells below the minimum count 5 (0 with no data: their interval is the prior's), kept at "
                        "their shrunken estimate")
    d = est.report.to_dict()
    assert (d["points"], d["strokes"], d["rallies"], d["matches"], d["population_points"]) == (2, 3, 2, 1, 4)
    assert d["dropped"] == {"receiver's position unknown": 1}
    assert d["unobserved_rows"] == [{"action": "lob", "count": 0}]
    assert d["unobserved_columns"] == [{"action": "7", "count": 1}]
    assert d["states"][:2] == [{"state": "return of long service", "decision_points": 3},
                               {"state": "return of short service", "decision_points": 1}]
    assert d["sparse_cells"] == [{"row": "clear", "column": "8", "count": 1},
                                 {"row": "smash", "column": "8", "count": 1}]
    assert (d["state"], d["state_note"], d["unit"], d["min_count"], d["sparse"], d["target"]) == \
        ("return of long service", None, "rally", 5, "shrink", "row")
    assert (d["min_action_count"], d["action_counts"], d["included_unobserved"]) == (2, "player", False)
    assert d["strength"] == est.report.strength and d["player_groups"] == 2
    assert d["strength_at_bound"] is True and d["strength"] > 1e5          # players no different here: pooled


def test_the_report_of_everyone_counted_by_stroke(table):
    """All players' long returns by stroke, a given prior strength: 7 decision points of 3 matches in 6 cells
    (lob, clear, smash × positions 7, 8), smash at 7 never played."""
    est = estimate_payoff(table, state="return of long service", min_action_count=1, prior=4, unit="stroke")
    assert est.report.lines() == [
        "state: return of long service",
        "decision points: 7 (strokes); 7 rallies of 3 matches",
        "left out: 1 strokes (receiver's position unknown)",
        "shrinkage toward the row rate, strength 4: s = 4 prior trials",
        "6 cells below the minimum count 5 (1 with no data: their interval is the prior's), kept at their shrunken "
        "estimate"]
    d = est.report.to_dict()
    assert d["population_points"] is None and d["population_strength"] is None and d["strength"] == 4
    assert {(c["row"], c["column"]): c["count"] for c in d["sparse_cells"]} == {
        ("lob", "7"): 1, ("lob", "8"): 1, ("clear", "7"): 1, ("clear", "8"): 1, ("smash", "7"): 0, ("smash", "8"): 3}


def _centre(wins, counts, target):
    """The prior centre by hand: all players' rate (W + ½)/(N + 1); a row's (or column's) rate pulled toward it
    by one pseudo-trial."""
    overall = (wins.sum() + 0.5) / (counts.sum() + 1.0)
    if target == "population":
        return np.full(wins.shape, overall)
    axis = 1 if target == "row" else 0
    rate = (wins.sum(axis=axis, keepdims=True) + overall) / (counts.sum(axis=axis, keepdims=True) + 1.0)
    return np.broadcast_to(rate, wins.shape)


@pytest.mark.parametrize("target", ["row", "column", "population"])
def test_cells_are_beta_posteriors_around_the_target_with_the_given_strength(table, target):
    """Long returns of all players, prior strength 4: every cell is Beta(w + 4c, n − w + 4(1 − c)) with c the
    target's centre; its interval that Beta's quantiles at the level asked."""
    est = estimate_payoff(table, state="return of long service", min_action_count=1, prior=4, target=target,
                          level=0.8)
    w, n = est.wins.astype(float), est.counts.astype(float)
    assert est.wins.dtype == np.int64 and n.sum() == 7
    c = _centre(w, n, target)
    a, b = w + 4 * c, n - w + 4 * (1 - c)
    np.testing.assert_allclose(est.mean, a / (a + b), atol=1e-12)
    np.testing.assert_allclose(est.lower, stats.beta.ppf(0.1, a, b), atol=1e-9)
    np.testing.assert_allclose(est.upper, stats.beta.ppf(0.9, a, b), atol=1e-9)
    assert est.level == 0.8 and est.sport == "badminton" and est.points is not None


def test_a_players_cells_shrink_toward_the_population_cells_with_the_given_strength(table):
    """Pia's long returns (clear and smash: lob she never played), player strength 3 toward the population
    cells of those rows (strength 4 toward their row centres): (w + 3m)/(n + 3) cell by cell."""
    est = estimate_payoff(table, hitter="Pia", state="return of long service", min_action_count=1, prior=4,
                          player_prior=3, level=0.9)
    pop = est.population
    assert est.row_labels == ("clear", "smash") and pop.row_labels == ("clear", "smash")
    pw, pn = pop.wins.astype(float), pop.counts.astype(float)
    c = _centre(pw, pn, "row")
    np.testing.assert_allclose(pop.mean, (pw + 4 * c) / (pn + 4), atol=1e-12)
    w, n = est.wins.astype(float), est.counts.astype(float)
    np.testing.assert_allclose(est.mean, (w + 3 * pop.mean) / (n + 3), atol=1e-12)
    a, b = w + 3 * pop.mean, n - w + 3 * (1 - pop.mean)
    np.testing.assert_allclose(est.lower, stats.beta.ppf(0.05, a, b), atol=1e-9)
    d = est.report.to_dict()
    assert (d["strength"], d["strength_at_bound"], d["player_groups"], d["population_strength"]) == (3.0, False, 0, 4.0)


def test_actions_below_the_count_kept_on_request_are_flagged(table):
    est = estimate_payoff(table, hitter="Pia", opponent="Ola", state="return of long service", min_action_count=3,
                          include_unobserved=True)
    assert est.flagged_rows == ("lob", "clear") and est.flagged_columns == ("7", "8")
    kept = estimate_payoff(table, state="return of long service", min_action_count=3, include_unobserved=True,
                           action_counts="population")
    assert kept.flagged_rows == ("lob", "clear") and kept.flagged_columns == ("7",)


def test_a_path_gives_the_estimate_of_its_table(table, tmp_path):
    path = tmp_path / "strokes.csv"
    table.to_csv(path, index=False)
    from_path = estimate_payoff(path, hitter="pia", state="return of long service", min_action_count=1)
    from_table = estimate_payoff(table, hitter="Pia", state="return of long service", min_action_count=1)
    np.testing.assert_allclose(from_path.mean, from_table.mean)
    assert from_path.report.to_dict() == from_table.report.to_dict()


@pytest.mark.parametrize("kwargs, field", [
    ({"min_count": 2.5}, "min_count"), ({"min_action_count": -1}, "min_action_count"), ({"level": 0.0}, "level"),
    ({"level": 1.0}, "level"), ({"level": 1.5}, "level"), ({"level": "0.9"}, "level"),
    ({"columns": "elbow"}, "columns")])
def test_settings_out_of_range_are_refused_by_name(table, kwargs, field):
    with pytest.raises(EstimationError, match=field):
        estimate_payoff(table, **kwargs)


def test_counts_of_zero_are_allowed(table):
    est = estimate_payoff(table, state="return of long service", min_count=0, min_action_count=0)
    assert est.report.sparse_cells == () and est.report.unobserved_rows == ()


def test_the_estimate_as_json_and_as_frames_carries_every_cell(table):
    est = estimate_payoff(table, hitter="Pia", opponent="Ola", state="return of long service", min_action_count=3,
                          include_unobserved=True, target="column")
    d = est.to_dict()
    assert (d["rows"], d["columns"], d["sport"], d["state"]) == (["lob", "clear", "smash"], ["7", "8"], "badminton",
                                                                  "return of long service")
    assert d["counts"] == [[0, 0], [1, 1], [0, 1]] and d["wins"] == [[0, 0], [1, 0], [0, 1]]
    assert d["no_data"] == [[True, True], [False, False], [True, False]]
    assert d["mean"] == est.mean.tolist() and d["lower"] == est.lower.tolist() and d["upper"] == est.upper.tolist()
    assert d["level"] == 0.95 and d["report"] == est.report.to_dict()
    assert d["row_counts"] == {"lob": 0, "clear": 2, "smash": 3} and d["column_counts"] == {"7": 1, "8": 2}
    assert d["flagged_rows"] == ["lob", "clear"] and d["flagged_columns"] == ["7", "8"]
    assert d["settings"] == {"rows": "shot", "columns": "position", "context": est.settings.context.describe(),
                             "hitter": "Pia", "opponent": "Ola", "target": "column", "min_action_count": 3,
                             "action_counts": "player", "include_unobserved": True}
    for what in ("mean", "lower", "upper", "counts", "wins", "center"):
        frame = est.frame(what)
        assert list(frame.index) == ["lob", "clear", "smash"] and list(frame.columns) == ["7", "8"]
        np.testing.assert_array_equal(frame.to_numpy(), getattr(est, what))
    cells = est.frame("cells")
    m, lo, hi = est.mean[2, 1], est.lower[2, 1], est.upper[2, 1]
    assert cells.loc["smash", "8"] == f"{m:.2f} [{lo:.2f}, {hi:.2f}] 1"
    assert cells.loc["lob", "7"].endswith(" 0*") and est.state == "return of long service"
    assert est.no_data.sum() == 3
    np.testing.assert_array_equal(est.game.payoffs, est.mean)
    assert est.game.row_labels == ("lob", "clear", "smash") and est.game.column_labels == ("7", "8")
    assert est.solve().value == pytest.approx(solve_zero_sum(est.mean).value, abs=1e-12)


def test_left_out_actions_are_listed_with_their_counts_and_whose_they_are(table):
    """Eight actions at most are named, the rest counted."""
    from dataclasses import replace

    est = estimate_payoff(table, hitter="Pia", opponent="Ola", state="return of long service", min_action_count=3,
                          action_counts="pairing", include_unobserved=True)
    assert est.report.action_lines() == [
        "hitter actions chosen fewer than 3 times in this pairing in this state (times in brackets), kept and "
        "flagged (advice that uses them has too little data behind it): lob (0), clear (2), smash (1)",
        "receiver actions chosen fewer than 3 times in this pairing in this state (times in brackets), kept and "
        "flagged (advice that uses them has too little data behind it): 7 (1), 8 (2)"]
    many = replace(est.report, unobserved_rows=tuple((f"shot {k}", k) for k in range(10)), unobserved_columns=(),
                   action_counts="population", included_unobserved=False)
    assert many.action_lines() == [
        "hitter actions chosen fewer than 3 times by all players in this state (times in brackets), left out: "
        + ", ".join(f"shot {k} ({k})" for k in range(8)) + " and 2 more"]


def test_a_matrix_without_enough_actions_says_whose_counts_fell_short(table):
    with pytest.raises(EstimationError, match="no hitter action has 4 of the player's own decision points in state "
                                              "'return of long service'; lower min_action_count"):
        estimate_payoff(table, hitter="Pia", state="return of long service", min_action_count=4)
    with pytest.raises(EstimationError, match="no receiver action has 3 of the player's own decision points"):
        estimate_payoff(table, hitter="Pia", opponent="Ola", state="return of long service", min_action_count=3)


def test_a_selection_without_decision_points_is_named(table):
    with pytest.raises(EstimationError, match="no decision points for Rex against Ola in state 'return of long "):
        estimate_payoff(table, hitter="Rex", opponent="Ola", state="return of long service", min_action_count=1)
    with pytest.raises(EstimationError, match="no decision points for receiver Ola in state 'serve'"):
        estimate_payoff(table, opponent="Ola", state="serve", min_action_count=1)
    # Ola never returns a serve: the state is the one with most of everyone's returns, and it is named
    with pytest.raises(EstimationError, match="no decision points for Ola in state 'return of short service'"):
        estimate_payoff(table, hitter="Ola", context="stroke=2", min_action_count=1)


def test_unknown_states_and_players_are_named_with_what_there_is(table):
    with pytest.raises(EstimationError, match=r"no decision points in state 'smash' \(context 'all strokes'\); "
                                              r"states here: "
                                              r"'serve' \(16\), 'return of short service' \(8\), 'return of long "
                                              r"service' \(7\), 'rally after neutral' \(2\)$"):
        estimate_payoff(table, state="smash")
    with pytest.raises(EstimationError, match=r"did you mean 'Pia'\?"):
        estimate_payoff(table, hitter="Piaa")
    with pytest.raises(EstimationError, match=r"players: .*Ola.*Pia.*Rex.*Sam$"):
        estimate_payoff(table, opponent="Zed Quux")
    note = estimate_payoff(table, min_action_count=1).report.state_note
    assert note.endswith("3 other states not shown: choose one with state=")


def test_a_previous_shot_in_the_context_names_the_state(table):
    est = estimate_payoff(table, context="previous=long service", min_action_count=1)
    assert est.report.state == "return of long service" and est.report.points == 7
    assert est.report.states == (("return of long service", 7),)


def test_the_settings_asked_are_the_settings_kept(table):
    """Rows by tactical group: the estimate says so in its settings and JSON; its decision points keep no stray
    index column."""
    est = estimate_payoff(table, hitter="Pia", state="return of long service", rows="group", columns="position",
                          min_action_count=1, target="column")
    assert (est.settings.rows, est.settings.columns, est.settings.target) == ("group", "position", "column")
    assert est.to_dict()["settings"]["rows"] == "group"
    assert set(est.row_labels) <= {"attack", "defence", "neutral"} and len(est.row_labels) >= 2
    assert "index" not in est.points.columns and est.points.index.equals(pd.RangeIndex(len(est.points)))
    with pytest.raises(EstimationError, match="unknown opponent 'Zed Quux'"):
        estimate_payoff(table, opponent="Zed Quux")
    with pytest.raises(EstimationError, match="unknown player 'Zed Quux'"):
        estimate_payoff(table, hitter="Zed Quux")
