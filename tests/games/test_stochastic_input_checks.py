"""What the stochastic-game solver accepts and how it names what it refuses: labelled states in messages, the
default labels of a state given none, one entry per state, transition rows at the rounding limit, the options'
types, the mixes policy evaluation takes, the labels a stage solution keeps, and the work limits at their edge."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.errors import ComputationLimitError, InvalidGameError, InvalidStrategyError
from strategist.games import stochastic
from strategist.games.stochastic import PROB_TOL, evaluate_policies, solve_stochastic_game

REWARDS = [np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.5, 0.1], [0.3, 0.9]])]
TRANSITIONS = [np.full((2, 2, 2), 0.25), np.full((2, 2, 2), 0.1)]


# -- names --------------------------------------------------------------------------------------------------------
def test_errors_in_a_labelled_state_name_it_by_position_and_label():
    transitions = [TRANSITIONS[0], TRANSITIONS[1].copy()]
    transitions[1][0, 1, 0] = -0.1
    with pytest.raises(InvalidGameError, match=r"^transitions of state 1 \('rally'\): P\(next=0 \| row action 0, "
                                               r"column action 1\) is -0\.1"):
        solve_stochastic_game(REWARDS, transitions, state_labels=["serve", "rally"])
    with pytest.raises(InvalidGameError, match=r"^rewards of state 0 \('serve'\): "):
        solve_stochastic_game([[[0.2, np.nan]], REWARDS[1]], [np.zeros((1, 2, 2)), TRANSITIONS[1]],
                              state_labels=["serve", "rally"])


def test_a_state_given_no_labels_gets_the_default_ones():
    """One list or None per state: None gives that state the labels an unlabelled game has (r1, r2 / c1, c2)."""
    plain = solve_stochastic_game(REWARDS, TRANSITIONS)
    assert plain.row_labels == (("r1", "r2"), ("r1", "r2")) and plain.column_labels == (("c1", "c2"), ("c1", "c2"))
    sol = solve_stochastic_game(REWARDS, TRANSITIONS, row_labels=[["short", "long"], None],
                                column_labels=[None, ["cover line", "cover cross"]])
    assert sol.row_labels == (("short", "long"), plain.row_labels[1])
    assert sol.column_labels == (plain.column_labels[0], ("cover line", "cover cross"))
    assert set(sol.row_mixes["1"]) == {"r1", "r2"} and set(sol.column_mixes["0"]) == {"c1", "c2"}


@pytest.mark.parametrize("labels", [
    [["short", "long"]],                     # one list for two states
    [["a", "b"], ["c", "d"], ["e", "f"]],    # three
    "ab",                                    # text: not one list per state, though two characters long
])
def test_labels_must_come_one_list_per_state(labels):
    with pytest.raises(InvalidGameError, match=r"^row labels: expected one list of labels \(or None\) per state, "
                                               r"2 in all"):
        solve_stochastic_game(REWARDS, TRANSITIONS, row_labels=labels)


def test_a_stage_solution_keeps_its_states_action_labels():
    sol = solve_stochastic_game(REWARDS, TRANSITIONS, state_labels=["serve", "rally"],
                                row_labels=[["short", "long"], ["drop", "clear"]],
                                column_labels=[["cover T", "cover wide"], ["front", "back"]])
    stage = sol.state("rally")
    assert stage.game.row_labels == ("drop", "clear") and stage.game.column_labels == ("front", "back")
    assert set(stage.column_mix) == {"front", "back"} and set(sol.state(0).column_mix) == {"cover T", "cover wide"}


# -- transition rows ----------------------------------------------------------------------------------------------
def test_a_row_summing_to_exactly_one_plus_prob_tol_is_rescaled_not_refused():
    """One state paying 1 that comes back with probability 1 + PROB_TOL (rounding): read as 1, so with
    discount ½ the value solves V = 1 + ½V, V = 2."""
    rewards, transitions = [np.array([[1.0]])], [np.full((1, 1, 1), 1.0 + PROB_TOL)]
    assert stochastic._prepare(rewards, transitions, 0.5).transitions[0][0, 0, 0] == 1.0
    sol = solve_stochastic_game(rewards, transitions, discount=0.5)
    assert sol.values[0] == pytest.approx(2.0, abs=1e-9)


def test_the_first_pair_moving_on_with_more_than_one_is_named():
    """Column 0 moves on with exactly 1 + PROB_TOL (allowed), column 1 with 1.5: column 1 is at fault."""
    transitions = [np.array([[[1.0 + PROB_TOL], [1.5]]])]
    with pytest.raises(InvalidGameError, match=r"row action 0, column action 1 moves on with total probability 1\.5;"):
        solve_stochastic_game([np.array([[0.1, 0.2]])], transitions, discount=0.5)


# -- options ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tol", ["0.1", None, [0.1]])
def test_a_tolerance_that_is_not_a_number_is_refused_by_name(tol):
    with pytest.raises(InvalidGameError, match=r"^tol: got "):
        solve_stochastic_game(REWARDS, TRANSITIONS, tol=tol)


@pytest.mark.parametrize("method", ["strategy", "value"])
def test_one_sweep_is_a_valid_budget(method):
    """Payoffs all 0: V = 0 is the fixed point, and the first sweep shows it."""
    sol = solve_stochastic_game([np.zeros((2, 2))] * 2, TRANSITIONS, method=method, max_iterations=1)
    assert sol.iterations == 1 and (sol.values == 0).all() and sol.residual == 0.0


# -- policy evaluation's mixes -------------------------------------------------------------------------------------
def test_mixes_given_as_text_are_refused_as_not_one_per_state():
    with pytest.raises(InvalidStrategyError, match=r"^row_strategies: expected one mix per state, 2 in all"):
        evaluate_policies(REWARDS, TRANSITIONS, "ab", [[0.5, 0.5]] * 2)


@pytest.mark.parametrize("mix", [[0.5, 0.5 + 1e-7], [0.5 + 1e-7, 0.5 - 2e-7]])
def test_mixes_must_sum_to_one_within_1e_9(mix):
    """A mix off by 1e-7 is refused: policy evaluation holds mixes to 1e-9, not the 1e-6 of a single game."""
    with pytest.raises(InvalidStrategyError, match=r"^column_strategies of state 1: probabilities sum to"):
        evaluate_policies(REWARDS, TRANSITIONS, [[0.5, 0.5]] * 2, [[0.5, 0.5], mix])


def test_mixes_within_1e_9_are_accepted():
    values = evaluate_policies(REWARDS, TRANSITIONS, [[0.5, 0.5]] * 2, [[0.5, 0.5], [0.5, 0.5 + 5e-10]])
    exact = evaluate_policies(REWARDS, TRANSITIONS, [[0.5, 0.5]] * 2, [[0.5, 0.5]] * 2)
    np.testing.assert_allclose(values, exact, rtol=0, atol=1e-9)


# -- work limits at their edge ------------------------------------------------------------------------------------
def test_a_game_of_exactly_max_states_states_is_accepted(monkeypatch):
    monkeypatch.setattr(stochastic, "MAX_STATES", 2)
    assert len(solve_stochastic_game(REWARDS, TRANSITIONS).values) == 2


def test_the_transition_limit_counts_every_pair_times_every_state(monkeypatch):
    """Two 2 × 2 states: (4 + 4) pairs × 2 next states = 16 probabilities; a limit of 16 admits the game, 15
    refuses it."""
    monkeypatch.setattr(stochastic, "MAX_TRANSITIONS", 16)
    assert len(solve_stochastic_game(REWARDS, TRANSITIONS).values) == 2
    monkeypatch.setattr(stochastic, "MAX_TRANSITIONS", 15)
    with pytest.raises(ComputationLimitError, match=r"the game has 16 transition probabilities, over the limit of 15"):
        solve_stochastic_game(REWARDS, TRANSITIONS)
