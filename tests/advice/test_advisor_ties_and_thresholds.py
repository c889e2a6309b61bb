"""The Advisor's decisions at their thresholds, on hand-built situations (no data, no model): a departure from
the habit whose gain only equals its sd is no departure, the habit's own error counts, a safe exploitation may give up exactly the margin, the counts of a
mix name only its shots above half a percent, the scope is the pairing's from exactly 20 % of the evidence, the
note on predicted shots the game lacks starts above half a percent, and a situation seen once still has its
states."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import strategist.advice.advisor as advisor_module
from strategist.advice.advisor import PAIRING_SHARE, Advisor, _combine
from strategist.advice.decision import OPTION_NUMBERS
from strategist.advice.history import read_history

SHOTS = ("lob", "drop")


# -- _decide: one situation of two shots against one position of the opponent ----------------------------------------
def _bare_advisor(monkeypatch, low, win=None):
    """An Advisor with nothing fitted but what ``_decide`` reads (z = 1); the continuation's lower bound is
    ``low`` and the options' point estimates against the prediction are ``win`` (default: ``low``)."""
    adv = Advisor.__new__(Advisor)
    adv.reply_predictions, adv.n0, adv.opponent, adv._shots = 3, 20.0, "Opp", SHOTS
    adv._next, adv._v_obs, adv._u_low, adv._z, adv.game = None, None, None, 1.0, None
    adv._v_rec = np.zeros(1)
    adv._predict = lambda rally, who, context, memo=None: (np.array([0.5, 0.5]), 10.0, "player")
    adv._played = lambda rally, action: rally
    low = np.asarray(low, dtype=float)
    win = low[:, 0] if win is None else np.asarray(win, dtype=float)
    monkeypatch.setattr(advisor_module, "continuation",
                        lambda *args: SimpleNamespace(low=low, obs=win[:, None], outside=0.0))
    monkeypatch.setattr(advisor_module, "option_columns", lambda *args: {"win_probability": win})
    return adv


def _situation(stage_low, value_low, sd=(0.0, 0.0)):
    """Two advised shots, the habit all on the first, the recommendation half and half; one position (q = 1);
    the cells' sds ``sd``."""
    return SimpleNamespace(rows=("clear", "smash"), habit=np.array([1.0, 0.0]), usual=np.array([1.0, 0.0]),
                           recommended=np.array([0.5, 0.5]), advised=np.array([True, True]),
                           positions=np.array([1.0]), sd=np.array(sd, dtype=float)[:, None],
                           stage_low=np.asarray(stage_low, dtype=float)[:, None], value_low=float(value_low), tables={})


def _three_shots(habit, recommended, advised, stage_low):
    """Clear, smash and rush with the habit ``habit``, the usual mix the clear alone, the recommendation
    ``recommended``, which of them are ``advised``; one position (q = 1), exact cells, value 0.5 at the bound."""
    return SimpleNamespace(rows=("clear", "smash", "rush"), habit=np.array(habit, dtype=float),
                           usual=np.array([1.0, 0.0, 0.0]), recommended=np.array(recommended, dtype=float),
                           advised=np.array(advised), positions=np.array([1.0]), sd=np.zeros((3, 1)),
                           stage_low=np.array(stage_low, dtype=float)[:, None], value_low=0.5, tables={})


def test_a_shot_whose_gain_only_equals_its_sd_is_no_departure(monkeypatch):
    """The habit (clear) wins 0.6 ± 0.03, the smash 0.65 ± 0.04 on the point estimates against the prediction:
    the smash's gain 0.05 has sd sqrt(0.03² + 0.04²) = 0.05, its lower bound at z = 1 is 0: no departure, so
    the best response stays the habit and the safe exploitation the recommendation."""
    adv = _bare_advisor(monkeypatch, [[0.5], [0.7]], win=[0.6, 0.65])
    sa = _situation(stage_low=[0.5, 0.45], value_low=0.5, sd=(0.03, 0.04))
    eq, br, safe = adv._decide(sa, read_history(None), {}, 0.1)["mixes"]
    np.testing.assert_array_equal(br, [1.0, 0.0])
    np.testing.assert_array_equal(safe, eq)
    np.testing.assert_array_equal(eq, [0.5, 0.5])


@pytest.mark.parametrize("habit_sd, departs", [(0.0, True), (0.03, False)])
def test_the_habits_own_error_counts_against_a_departure(monkeypatch, habit_sd, departs):
    """The smash gains 0.045 ± 0.04 when the habit's estimate is exact (a supported departure), ± 0.05 when the
    habit's own sd is 0.03 (not supported): the habit's error counts as much as the departure's."""
    adv = _bare_advisor(monkeypatch, [[0.5], [0.7]], win=[0.6, 0.645])
    sa = _situation(stage_low=[0.5, 0.45], value_low=0.5, sd=(habit_sd, 0.04))
    eq, br, safe = adv._decide(sa, read_history(None), {}, 0.1)["mixes"]
    np.testing.assert_array_equal(br, [0.0, 1.0] if departs else [1.0, 0.0])
    if departs:
        np.testing.assert_allclose(safe, [0.0, 1.0], atol=1e-12)
    else:
        np.testing.assert_array_equal(safe, eq)


def test_the_gain_is_measured_against_the_usual_mix_not_the_habit_with_its_rare_shots(monkeypatch):
    """The habit plays a rush (not a candidate) 60 % of the time, winning 0.9 with it: the habit is worth 0.78,
    the usual mix (the habit among the candidate shots: the clear alone, what the best response otherwise
    keeps) 0.6. The smash (0.66) beats the usual mix, so it is the departure, though not better than the
    habit with its rare shot."""
    adv = _bare_advisor(monkeypatch, [[0.5], [0.66], [0.2]], win=[0.6, 0.66, 0.9])
    sa = _three_shots([0.4, 0.0, 0.6], [0.5, 0.5, 0.0], [True, True, False], [0.5, 0.45, 0.2])
    _, br, _ = adv._decide(sa, read_history(None), {}, 0.0)["mixes"]
    np.testing.assert_array_equal(br, [0.0, 1.0, 0.0])


def test_a_shot_that_beats_the_habit_is_the_departure(monkeypatch):
    adv = _bare_advisor(monkeypatch, [[0.5], [0.61]], win=[0.6, 0.66])
    sa = _situation(stage_low=[0.5, 0.45], value_low=0.5, sd=(0.03, 0.04))
    _, br, safe = adv._decide(sa, read_history(None), {}, 0.1)["mixes"]
    np.testing.assert_array_equal(br, [0.0, 1.0])
    np.testing.assert_allclose(safe, [0.0, 1.0], atol=1e-12)


def test_the_best_response_is_chosen_at_the_lower_bound_and_judged_on_its_gain(monkeypatch):
    """The smash has the highest lower bound (0.7) and is the candidate; on the point estimates it does not beat
    the habit (0.55 against 0.6), so the best response keeps the habit — although the rush, lower at the bound
    (0.5), would gain 0.1 on the point estimates: the shot is chosen by the pessimistic game, not by its gain
    (all three are predicted: each has weight in the recommendation)."""
    adv = _bare_advisor(monkeypatch, [[0.5], [0.7], [0.5]], win=[0.6, 0.55, 0.7])
    sa = _three_shots([1.0, 0.0, 0.0], [0.4, 0.3, 0.3], [True, True, True], [0.5, 0.45, 0.4])
    _, br, _ = adv._decide(sa, read_history(None), {}, 0.0)["mixes"]
    np.testing.assert_array_equal(br, [1.0, 0.0, 0.0])


def test_the_safe_exploitation_may_give_up_exactly_the_margin(monkeypatch):
    """The smash guarantees 0.25, the value is 0.25 + 2⁻²⁰ and the margin 2⁻²⁰: the smash alone gives up exactly
    the margin and is allowed (a payoff range of 2⁻²⁰ leaves the solver's tolerance far below 1e-12)."""
    adv = _bare_advisor(monkeypatch, [[0.5], [0.7]])
    eps = 2.0 ** -20
    sa = _situation(stage_low=[0.25 + eps, 0.25], value_low=0.25 + eps)
    _, _, safe = adv._decide(sa, read_history(None), {}, eps)["mixes"]
    np.testing.assert_allclose(safe, [0.0, 1.0], rtol=0, atol=1e-9)


# -- _combine: one situation's Advice from its parts ---------------------------------------------------------------------
def _part(eq, *, pairing=(0.5, 0.5), outside=0.0):
    rows = ("clear", "smash")
    options = {c: np.zeros(2) for c in OPTION_NUMBERS}
    options.update({"pairing": np.array(pairing, dtype=float), "player": np.zeros(2), "all players": np.zeros(2),
                    "played": np.array([3, 4]), "advised": np.array([True, True]), "reason": np.array(["", ""])})
    eq = np.array(eq, dtype=float)
    sa = SimpleNamespace(rows=rows, columns=("front",), usual=np.array([1.0, 0.0]), value_low=0.5,
                         stage_low=np.array([[0.5], [0.5]]), basis="the pessimistic equilibrium",
                         played=np.array([3, 4]))
    cont = SimpleNamespace(low=np.array([[0.5], [0.5]]), obs=np.array([[0.5], [0.5]]), outside=outside)
    return {"sa": sa, "cont": cont, "q": np.array([1.0]), "options": options, "conf": 0.5, "n": 10.0,
            "source": "player", "prediction": np.array([0.5, 0.5]), "mixes": (eq, eq.copy(), eq.copy())}


def _advisor_for_combine():
    return SimpleNamespace(game=SimpleNamespace(labels=["player: rally after lob"]), player="Ann", opponent="Bea",
                           _shot_index=pd.Index(list(SHOTS), name="shot"), model_label="fixed", notes=[],
                           _value_columns={"value": np.array([0.5]), "value_low": np.array([0.4]),
                                           "value_high": np.array([0.6])},
                           _positions={0: {"front": 1.0}})


def _combined(part):
    return _combine(_advisor_for_combine(), [part], [1.0], [0], "Ann", None, 0.0, 0.0, [], "rally after lob")


def test_a_safe_exploitation_that_falls_back_to_the_recommendation_says_so():
    """With a margin, a safe mix equal to the recommendation is named as the recommendation (no exploitation the
    data support), not as an exploitation; with margin 0 it is the safe exploitation of margin 0."""
    fell_back = _combine(_advisor_for_combine(), [_part([0.5, 0.5])], [1.0], [0], "Ann", None, 0.05, 0.05, [],
                         "rally after lob")
    assert fell_back.safe.basis == "recommendation (no exploitation within the margin the lower bound supports)"
    exploits = _part([0.5, 0.5])
    exploits["mixes"] = (exploits["mixes"][0], exploits["mixes"][1], np.array([0.0, 1.0]))
    moved = _combine(_advisor_for_combine(), [exploits], [1.0], [0], "Ann", None, 0.05, 0.05, [], "rally after lob")
    assert moved.safe.basis == "safe exploitation"
    assert _combined(_part([0.5, 0.5])).safe.basis == "safe exploitation"


def test_a_mix_counts_only_its_shots_above_half_a_percent():
    advice = _combined(_part([0.995, 0.005]))
    assert advice.equilibrium.mix == {"clear": 0.995, "smash": 0.005}
    assert advice.equilibrium.counts == {"clear": 3}
    assert _combined(_part([0.99, 0.01])).equilibrium.counts == {"clear": 3, "smash": 4}


@pytest.mark.parametrize("share, scope", [(PAIRING_SHARE, "pairing"), (0.19, "player"), (0.5, "pairing")])
def test_the_pairing_carries_the_advice_from_its_share_of_the_evidence(share, scope):
    """Evidence below 20 % from the pairing: advice against everyone, with a note; exactly 20 % is not below."""
    advice = _combined(_part([1.0, 0.0], pairing=(share, 0.9)))
    assert advice.evidence["pairing"] == pytest.approx(share, abs=0)
    assert advice.scope == scope
    assert any("advice against everyone" in n for n in advice.notes) is (scope == "player")


@pytest.mark.parametrize("outside, noted", [(0.005, False), (0.004, False), (0.006, True)])
def test_predicted_shots_the_game_lacks_are_noted_above_half_a_percent(outside, noted):
    advice = _combined(_part([1.0, 0.0], outside=outside))
    assert advice.outside == outside
    assert any("predicted shots are ones the next situation" in n for n in advice.notes) is noted


# -- states_of ---------------------------------------------------------------------------------------------------------
def _labelled(labels, situations_after):
    adv = Advisor.__new__(Advisor)
    adv.heights = adv.zones = True
    adv.game = SimpleNamespace(labels=list(labels))
    adv._state_of = {label: g for g, label in enumerate(labels)}
    adv._situations_after = situations_after
    return adv


def test_a_situation_seen_once_gives_its_one_agreeing_state():
    """One stroke of all players after a lob taken low at the back: the history without the height is that
    state, with all the weight."""
    adv = _labelled(["player: rally after lob (low, back)"], {("player", "lob", "rally after lob"): [(0, 1.0)]})
    assert adv.states_of("rally after lob (unknown height, back)") == ([0], [1.0])


def test_a_state_that_left_the_height_open_stands_for_itself_when_the_others_have_no_strokes():
    adv = _labelled(["player: rally after lob (low, back)", "player: rally after lob (unknown height, back)"],
                    {("player", "lob", "rally after lob"): [(0, 0.0)]})
    assert adv.states_of("rally after lob (unknown height, back)") == ([1], [1.0])
    assert adv.states_of("rally after lob (unknown height, front)") == ([], [])
