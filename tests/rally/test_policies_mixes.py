"""Policies of one side of a small rally game: the spec names, given mixes checked, fixed mixes renormalised, each
side's equilibrium, observed and uniform mixes, the best response against a value-iteration reference, the safe
policy's guarantee, and the order in which resolve fills in a dependent side."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from strategist.errors import EstimationError
from strategist.rally.game import rally_game, restrict_to_trusted
from strategist.rally.policies import best_response_policy, resolve, safe_policy, side_policy

from .pair import O, P, pair_table, values_of_play

SIDES = ("player", "opponent")


@pytest.fixture(scope="module")
def table():
    return pair_table(4, 2)


@pytest.fixture(scope="module")
def game(table):
    """Every action the pair played may be chosen."""
    return rally_game(table, P, O, min_action_count=1)


@pytest.fixture(scope="module")
def advised(table):
    """The default game: rarely chosen actions are never recommended."""
    return rally_game(table, P, O)


def _labels(game, side):
    return game.layout.row_labels if side == "player" else game.layout.column_labels


def _same(a, b, atol=1e-12):
    return len(a) == len(b) and all(np.allclose(x, y, atol=atol) for x, y in zip(a, b))



# -- names -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("side", SIDES)
def test_the_named_mixes_are_the_sides_own(game, side):
    """equilibrium, point-equilibrium and observed give the side's own mixes of the game (rows for the player,
    columns for the opponent); uniform weighs every action of a state alike."""
    row = side == "player"
    rec, sol = game.recommendation, game.solution
    assert _same(side_policy(game, "equilibrium", side), rec.row_strategies if row else rec.column_strategies)
    assert _same(side_policy(game, "point-equilibrium", side), sol.row_strategies if row else sol.column_strategies)
    assert _same(side_policy(game, "observed", side), game.observed_row if row else game.observed_column)
    uniform = side_policy(game, "uniform", side)
    assert [len(x) for x in uniform] == [len(lab) for lab in _labels(game, side)]
    assert all(np.allclose(x, 1 / len(x)) for x in uniform)


def test_spec_names_ignore_case_and_surrounding_spaces(game):
    """A spec is read without regard to letter case or surrounding spaces; 'best' and 'br' name the best response."""
    ys = game.observed_column
    assert _same(side_policy(game, "  Uniform ", "player"), side_policy(game, "uniform", "player"))
    assert _same(side_policy(game, "OBSERVED", "opponent"), game.observed_column)
    br = side_policy(game, "best-response", "player", ys)
    for alias in ("best", "BR", " Best-Response "):
        assert _same(side_policy(game, alias, "player", ys), br)
    assert _same(side_policy(game, "MIX:Smash=1", "player"), side_policy(game, "mix:smash=1", "player"))
    assert _same(side_policy(game, "SAFE:0", "player", ys), side_policy(game, "safe:0", "player", ys))


def test_only_the_two_sides_are_known(game):
    """A side other than 'player' or 'opponent' is refused by name."""
    with pytest.raises(EstimationError, match="^side 'both': expected 'player' or 'opponent'$"):
        side_policy(game, "uniform", "both")


@pytest.mark.parametrize("spec, message", [
    ("bogus", "policy 'bogus' is not understood; expected one of equilibrium, point-equilibrium, observed, uniform, "
              "best-response, safe:MARGIN, mix:LABEL=W,..., model"),
    ("mixed", "policy 'mixed' is not understood"),
    ("safe", "policy 'safe': expected safe:MARGIN with a margin >= 0, e.g. safe:0.02"),
    ("safe:x", "policy 'safe:x': expected safe:MARGIN"),
    ("safe:-0.1", "policy 'safe:-0.1': the margin must be a number >= 0"),
    ("safe:nan", "policy 'safe:nan': the margin must be a number >= 0"),
    ("safe:inf", "policy 'safe:inf': the margin must be a number >= 0"),
    ("safe:0.1:0.2", "policy 'safe:0.1:0.2': expected safe:MARGIN with a margin >= 0, e.g. safe:0.02"),
    ("model", "policy 'model' needs the data and a fitted opponent model: pass "
              "strategist.rally.model_policy.model_policy(game, table, model, side) as the policy"),
])
def test_a_spec_that_cannot_be_resolved_says_why(game, spec, message):
    """An unknown name, a safe margin that is missing, not a number, negative or not finite, and 'model' without
    its data are refused with what was expected."""
    with pytest.raises(EstimationError) as caught:
        side_policy(game, spec, "player", game.observed_column)
    assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize("spec", ["best-response", "safe:0.1", "br"])
def test_a_dependent_policy_needs_the_other_side(game, spec):
    """best-response and safe are refused without the other side's mixes, naming the side and the spec."""
    with pytest.raises(EstimationError, match=f"^opponent policy '{spec}' needs the other side's policy$"):
        side_policy(game, spec, "opponent")


# -- given mixes -----------------------------------------------------------------------------------------------------
def test_given_mixes_are_taken_as_floats_when_they_are_distributions(game):
    """A sequence of one distribution per state is returned as float arrays; rounding of up to 1e-12 below zero
    and 1e-6 off the sum is tolerated."""
    labels = _labels(game, "opponent")
    given = [[1] + [0] * (len(lab) - 1) for lab in labels]
    out = side_policy(game, given, "opponent")
    assert all(x.dtype == float for x in out) and _same(out, given)
    slack = [np.full(len(lab), 1 / len(lab)) for lab in labels]
    slack[0] = slack[0] + 0.9e-6 / len(slack[0])
    slack[1] = np.zeros(len(slack[1]))
    slack[1][0], slack[1][1] = -0.9e-12, 1 + 0.9e-12
    assert _same(side_policy(game, slack, "opponent"), slack)


@pytest.mark.parametrize("change", ["negative", "sum", "short", "states"])
def test_given_mixes_that_are_not_one_distribution_per_state_are_refused(game, change):
    """One mix per state with one weight per action, non-negative beyond 1e-12 and summing to 1 within 1e-6."""
    labels = _labels(game, "player")
    mixes = [np.full(len(lab), 1 / len(lab)) for lab in labels]
    message = "player policy: every mix must be non-negative and sum to 1"
    if change == "negative":
        mixes[2] = np.zeros(len(mixes[2]))
        mixes[2][0], mixes[2][1] = -2e-12, 1 + 2e-12
    elif change == "sum":
        mixes[0] = mixes[0] * (1 + 2e-6)
    else:
        message = "player policy: expected one mix per state with one weight per action"
        if change == "short":
            mixes[3] = mixes[3][:-1]
        else:
            mixes = mixes[:-1]
    with pytest.raises(EstimationError, match=f"^{message}$"):
        side_policy(game, mixes, "player")


# -- fixed mixes -----------------------------------------------------------------------------------------------------
def test_a_fixed_mix_is_renormalised_over_the_actions_of_each_state(game):
    """mix:LABEL=W,... weighs each state's actions by the named weights (letter case and spaces ignored, the last
    weight of a label kept), renormalised over those present; a state with none of them plays its observed mix."""
    spec = " mix: Lob = 3 , smash=1, lob=1, clear=0 ,"
    out = side_policy(game, spec, "player")
    observed = game.observed_row
    for g, labels in enumerate(game.layout.row_labels):
        w = np.array([{"lob": 1.0, "smash": 1.0}.get(lab, 0.0) for lab in labels])
        expected = w / w.sum() if w.sum() > 0 else observed[g]
        np.testing.assert_allclose(out[g], expected, atol=1e-15)
    assert any("lob" in lab and "smash" in lab for lab in game.layout.row_labels)


def test_a_fixed_mix_of_the_opponent_names_its_actions(game):
    """The opponent's fixed mix weighs the opponent's actions (its positions where the player hits)."""
    out = side_policy(game, "mix:back=2,front=1", "opponent")
    for g, labels in enumerate(game.layout.column_labels):
        w = np.array([{"back": 2.0, "front": 1.0}.get(lab, 0.0) for lab in labels])
        np.testing.assert_allclose(out[g], w / w.sum() if w.sum() else game.observed_column[g], atol=1e-15)
    with pytest.raises(EstimationError, match="^policy 'mix:volley=1': no state has the opponent's actions "
                                              "\\['volley'\\]$"):
        side_policy(game, "mix:volley=1", "opponent")


@pytest.mark.parametrize("spec, message", [
    ("mix:", "expected at least one positive weight"),
    ("mix", "expected at least one positive weight"),
    ("mix:lob=0,smash=0", "expected at least one positive weight"),
    ("mix:lob", "expected mix:LABEL=W,LABEL=W with weights >= 0"),
    ("mix:=1", "expected mix:LABEL=W,LABEL=W with weights >= 0"),
    ("mix: =1", "expected mix:LABEL=W,LABEL=W with weights >= 0"),
    ("mix:lob=-1", "expected mix:LABEL=W,LABEL=W with weights >= 0"),
    ("mix:lob=x", "expected mix:LABEL=W,LABEL=W with weights >= 0"),
    ("mix:lob=inf", "expected mix:LABEL=W,LABEL=W with weights >= 0"),
    ("mix:lob=nan", "expected mix:LABEL=W,LABEL=W with weights >= 0"),
    ("mix:lob=1,volley=1", "no state has the player's actions ['volley']"),
])
def test_a_malformed_fixed_mix_is_refused(game, spec, message):
    """A fixed mix needs LABEL=W parts with finite weights >= 0, one of them positive, of actions the side has."""
    with pytest.raises(EstimationError) as caught:
        side_policy(game, spec, "player")
    assert str(caught.value) == f"policy {spec!r}: {message}"


def test_a_label_may_hold_an_equals_sign(game, monkeypatch):
    """The weight is what follows the last '=' of a part: the label before it may hold '='."""
    labels = [tuple("a=b" if lab == "lob" else lab for lab in state) for state in game.layout.row_labels]
    layout = dataclasses.replace(game.layout, row_labels=tuple(labels))
    renamed = dataclasses.replace(game, layout=layout)
    out = side_policy(renamed, "mix:a=b=1", "player")
    g = next(g for g, state in enumerate(labels) if "a=b" in state)
    assert out[g][labels[g].index("a=b")] == 1.0


# -- best response ---------------------------------------------------------------------------------------------------
def _value_iteration(game, side, other, stand_in_ok=True):
    """Optimal values of ``side`` against ``other``'s fixed mixes over its trusted actions, by value iteration."""
    rewards, transitions, _ = restrict_to_trusted(game.structure, game.rewards, game.transitions,
                                                  (game.observed_row, game.observed_column), sides=(side,))
    v = np.zeros(len(rewards))
    for _ in range(3000):
        if side == "player":
            v = np.array([(r @ y + np.einsum("abt,b,t->a", t, y, v)).max()
                          for r, t, y in zip(rewards, transitions, other)])
        else:
            v = np.array([(x @ r + np.einsum("a,abt,t->b", x, t, v)).min()
                          for r, t, x in zip(rewards, transitions, other)])
    return v


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("which", ["game", "advised"])
def test_the_best_response_reaches_the_value_iteration_optimum(game, advised, side, which):
    """Against the other side's observed mixes, the best response (pure where the side may choose) is worth, from
    every state, the optimum a value-iteration loop finds over the side's trusted actions."""
    g = game if which == "game" else advised
    other = g.observed_column if side == "player" else g.observed_row
    mixes = best_response_policy(g, other, side)
    xs, ys = (mixes, other) if side == "player" else (other, mixes)
    np.testing.assert_allclose(values_of_play(g, xs, ys), _value_iteration(g, side, other), atol=1e-8)
    assert [len(x) for x in mixes] == [len(lab) for lab in _labels(g, side)]


def test_a_hitter_without_a_trusted_action_plays_its_observed_mix_in_the_best_response(advised):
    """Where the side hits and none of its actions may be advised, the best response keeps its observed mix."""
    trusted = [np.array(t, dtype=bool) for t in advised.structure.trusted]
    who = advised.structure.states["who"].to_numpy()
    g = next(g for g in range(len(trusted)) if who[g] == "player" and len(trusted[g]) > 1)
    trusted[g][:] = False
    marked = dataclasses.replace(advised, structure=dataclasses.replace(advised.structure, trusted=tuple(trusted)))
    out = best_response_policy(marked, marked.observed_column, "player")
    np.testing.assert_allclose(out[g], marked.observed_row[g])
    assert not np.isclose(marked.observed_row[g].max(), 1.0)           # not a pure mix the solver could give


# -- safe exploitation ----------------------------------------------------------------------------------------------
def _stage(game, side, g):
    """The side's pessimistic stage game of state ``g`` (rows: its actions, maximised) and the actions it may
    choose there (its trusted ones where it hits)."""
    q = np.asarray(game.recommendation.stage_games[g])
    a = q if side == "player" else -q.T
    hits = game.structure.states["who"].iat[g] == side
    keep = np.asarray(game.structure.trusted[g], dtype=bool) if hits else np.ones(a.shape[0], dtype=bool)
    return a, keep, hits


@pytest.mark.parametrize("side", SIDES)
def test_the_safe_policy_keeps_the_guarantee_within_the_margin(game, side):
    """In every state the safe mix is a distribution on the actions the side may choose whose worst case on the
    pessimistic stage game is within the margin of that game's value, and which does at least as well against
    the other side as the stage game's equilibrium (or it is the recommendation)."""
    from strategist import solve_zero_sum

    other = game.observed_column if side == "player" else game.observed_row
    recommended = side_policy(game, "equilibrium", side)
    for margin in (0.0, 0.05, 1.0):
        out = safe_policy(game, other, side, margin)
        assert _same(out, side_policy(game, f"safe:{margin}", side, other))
        for g in range(len(out)):
            a, keep, _ = _stage(game, side, g)
            x, y = out[g], np.asarray(other[g])
            assert x.min() >= 0 and x.sum() == pytest.approx(1.0)
            if np.allclose(x, recommended[g]) or not keep.any():
                continue
            assert x[~keep].sum() == 0
            stage = solve_zero_sum(a[keep])
            assert (x @ a).min() >= stage.value - margin - 1e-7
            assert x @ a @ y >= stage.row_strategy @ a[keep] @ y - 1e-7


@pytest.mark.parametrize("side", SIDES)
def test_a_wide_margin_exploits_the_other_side_where_the_data_support_it(game, side):
    """With a margin of 1 the safe mix is a best reply to the other side's observed mix on the pessimistic stage
    game (over the actions the side may choose); where the side hits it departs from the recommendation only
    when the lower confidence bound of its gain over the side's habit against the other side is positive: the
    gain Σ_ab c_ab·Q_ab with c = (x − habit) ⊗ y on the point estimates, less z times sqrt(Σ c²·σ²), cell by
    cell."""
    from strategist.estimation.shrinkage import two_sided_z
    from strategist.rally.game import per_cell

    other = game.observed_column if side == "player" else game.observed_row
    out = safe_policy(game, other, side, 1.0)
    recommended = side_policy(game, "equilibrium", side)
    habit = side_policy(game, "observed", side)
    v = game.recommendation.realized
    sds, z = per_cell(game.layout, game.cell_sd), two_sided_z(game.level)
    departed = kept = 0
    for g in range(len(out)):
        a, keep, hits = _stage(game, side, g)
        y = np.asarray(other[g])
        if not keep.any():                                  # no action it may be advised: its habit
            np.testing.assert_allclose(out[g], habit[g], atol=0)
            continue
        best = (a[keep] @ y).max()
        mid = game.rewards[g] + game.transitions[g] @ v
        mid, sd = (mid, sds[g]) if side == "player" else (-mid.T, sds[g].T)
        x = np.zeros(a.shape[0])
        x[np.flatnonzero(keep)[np.argmax(a[keep] @ y)]] = 1.0
        c = np.outer(x - habit[g], y)
        if hits and (c * mid).sum() - z * np.sqrt((c ** 2 * sd ** 2).sum()) <= 1e-9:
            np.testing.assert_allclose(out[g], recommended[g], atol=1e-12)
            kept += 1
            continue
        assert out[g] @ a @ y == pytest.approx(best, abs=1e-7)
        departed += hits and not np.allclose(out[g], recommended[g])
    assert kept
    assert departed


# -- resolve ---------------------------------------------------------------------------------------------------------
def test_resolve_fills_in_the_dependent_side_after_the_other(game):
    """A dependent player policy is resolved against the opponent's, a dependent opponent policy against the
    player's; two independent specs are each their own; two dependent ones are refused."""
    xs, ys = resolve(game, "best-response", "observed")
    assert _same(ys, game.observed_column) and _same(xs, best_response_policy(game, game.observed_column, "player"))
    xs, ys = resolve(game, "uniform", "br")
    assert _same(ys, best_response_policy(game, xs, "opponent"))
    xs, ys = resolve(game, "observed", "safe:0.1")
    assert _same(xs, game.observed_row) and _same(ys, safe_policy(game, game.observed_row, "opponent", 0.1))
    xs, ys = resolve(game)
    assert _same(xs, game.recommendation.row_strategies) and _same(ys, game.observed_column)
    for specs in (("best-response", "safe:0.1"), ("safe:0", "br"), ("BR", "best")):
        with pytest.raises(EstimationError, match="^both policies depend on the other side's"):
            resolve(game, *specs)


def test_a_label_may_hold_a_colon(game):
    """Only the first ':' of a fixed mix ends its name: the labels after it may hold ':'."""
    labels = [tuple("a:b" if lab == "lob" else lab for lab in state) for state in game.layout.row_labels]
    renamed = dataclasses.replace(game, layout=dataclasses.replace(game.layout, row_labels=tuple(labels)))
    out = side_policy(renamed, "mix:a:b=1,smash=1", "player")
    g = next(g for g, state in enumerate(labels) if "a:b" in state and "smash" in state)
    assert out[g][labels[g].index("a:b")] == 0.5 and out[g][labels[g].index("smash")] == 0.5


def test_a_hitter_without_a_trusted_action_plays_its_observed_mix_in_the_safe_policy(advised):
    """Where the side hits and none of its actions may be advised, the safe policy keeps its observed mix there and
    still gives one distribution for every state."""
    trusted = [np.array(t, dtype=bool) for t in advised.structure.trusted]
    who = advised.structure.states["who"].to_numpy()
    g = next(g for g in range(len(trusted)) if who[g] == "player" and len(trusted[g]) > 1)
    trusted[g][:] = False
    marked = dataclasses.replace(advised, structure=dataclasses.replace(advised.structure, trusted=tuple(trusted)))
    out = safe_policy(marked, marked.observed_column, "player", 0.05)
    assert g < len(trusted) - 1 and len(out) == len(trusted)
    np.testing.assert_allclose(out[g], marked.observed_row[g])
    assert all(len(x) == len(lab) and x.min() >= 0 and x.sum() == pytest.approx(1.0)
               for x, lab in zip(out, marked.layout.row_labels))


def test_a_given_weight_of_exactly_minus_1e_12_is_tolerated(game):
    """The tolerance below zero is inclusive: a weight of exactly -1e-12 is accepted as rounding."""
    labels = _labels(game, "player")
    mixes = [np.full(len(lab), 1 / len(lab)) for lab in labels]
    mixes[1] = np.zeros(len(mixes[1]))
    mixes[1][0], mixes[1][1] = -1e-12, 1 + 1e-12
    assert _same(side_policy(game, mixes, "player"), mixes)
