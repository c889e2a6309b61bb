"""The Advisor on tennis, where the server chooses a direction (Match Charting Project points of Diego Sebastian
Schwartzman against Horacio Zeballos, in ../shared/data): the serve's replies are predicted after the serve with
that landing area, a fault leaves the serve to the server, and a return whose serve direction was not said
averages over the directions, weighted by the data's returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import strategist
from strategist.advice.advisor import Advisor
from strategist.data.states import annotate_states
from strategist.opponent import Prediction

P, O = "Diego Sebastian Schwartzman", "Horacio Zeballos"
SHOTS = tuple(strategist.get_sport("tennis").shots)
_FILE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tennis_mcp" / \
    "sample-points-5matches-2015.csv"
if _FILE.is_file():                       # read once with the module (896 strokes of the pair)
    _ALL = strategist.load_rallies(_FILE).table
    TABLE = _ALL[_ALL["hitter"].isin([P, O]) & _ALL["opponent"].isin([P, O])].reset_index(drop=True)
else:
    TABLE = None


class Fixed:
    kind = "fixed"

    def __init__(self, probs: dict, n: float = 3.0):
        self.probs, self.n, self.asked = probs, n, []

    def predict(self, history=None, context=None):
        self.asked.append(history)
        return Prediction(SHOTS, np.array([self.probs.get(s, 0.0) for s in SHOTS]), n=self.n, source="player",
                          inputs=("shot",), known_player=True)


@pytest.fixture(scope="module")
def tennis():
    if TABLE is None:
        pytest.skip("../shared/data/tennis_mcp is absent")
    return Advisor(TABLE, P, O, model=Fixed({"forehand": 0.5, "backhand": 0.5}), reply_predictions=3)


def test_a_serves_replies_are_predicted_after_the_serve_with_its_direction(tennis):
    """At the player's first serve from the deuce court the rows are directions; the model is asked about the
    rally of one serve landing in each of the likeliest directions."""
    tennis.model.asked.clear()
    tennis._predictions.clear()
    a = tennis.advise([], {"server": P, "court_side": "deuce"})
    assert a.state == "serve (deuce, 1st serve)" and a.next_hitter == P
    stage = tennis.game.stage(f"player: {a.state}")
    assert set(stage.rows) == {"T serve", "wide serve", "body serve"}
    asked = [(tuple(h["shot"]), tuple(h["landing_area"]), tuple(h["hitter"])) for h in tennis.model.asked]
    weight = np.maximum(stage.recommended, stage.observed_row)
    likeliest = [stage.rows[i] for i in sorted(range(len(weight)), key=lambda i: -weight[i]) if stage.advisable[i]]
    assert asked == [(("serve",), (row[:-len(" serve")],), (P,)) for row in likeliest[:3]]


def test_after_a_fault_the_server_serves_again(tennis):
    """A first serve that is a fault: the server hits next (the second serve); without a fault, or after the
    second serve, the receiver."""
    first = [("serve", P, "4", None)]
    again = tennis.advise(first, {"fault": True, "court_side": "deuce"})
    assert again.next_hitter == P and again.state == "serve (deuce, 2nd serve)"
    assert tennis.advise(first, {"court_side": "deuce"}).next_hitter == O
    assert tennis.advise(first, {"fault": False, "court_side": "deuce"}).next_hitter == O
    second = first + [("serve", P, "4", None)]
    assert tennis.advise(second, {"fault": True, "court_side": "deuce"}).next_hitter == O
    rally = [("serve", P, "4", None), ("forehand", O, None, None)]
    assert tennis.advise(rally, {"fault": True, "court_side": "deuce"}).next_hitter == P
    against = [("serve", O, "4", None)]
    assert tennis.advise(against, {"fault": True, "court_side": "deuce"}).next_hitter == O
    assert tennis.advise(against, {"court_side": "deuce"}).next_hitter == P


def test_a_return_of_a_serve_whose_direction_was_not_said_averages_over_the_directions(tennis):
    """The player returning a serve with no landing area: the returns of each direction, weighted by all players'
    returns of it (counted in the table), and a note that says the serve's direction is missing."""
    a = tennis.advise([("serve", O)], {"court_side": "deuce"})
    assert a.state == "return of unknown direction"
    ann = annotate_states(TABLE, situation=True)
    returns = ann[ann["state"].isin(["return of T serve", "return of wide serve", "return of body serve"])]
    counts = returns.groupby("state").size()
    assert dict(a.averaged) == pytest.approx((counts / counts.sum()).to_dict())
    assert a.notes[0] == ("the history does not say which way the serve went: the advice averages over where it "
                          "usually is (" + ", ".join(f"{lab} {w:.0%}" for lab, w in a.averaged) + ")")
    one = tennis.advise([("serve", O, "wide", None)], {"court_side": "deuce"})
    assert one.state == "return of wide serve" and one.averaged == ()


def test_the_states_of_a_return_with_no_direction(tennis):
    """Each side's returns of the recorded directions; a direction the game lacks is none."""
    for who in ("player", "opponent"):
        states, weights = tennis.states_of("return of unknown direction", who)
        assert sorted(tennis.game.labels[g] for g in states) == sorted(
            f"{who}: return of {d} serve" for d in ("T", "wide", "body"))
        assert sum(weights) == pytest.approx(1.0)
    assert tennis.states_of("return of 5 serve") == ([], [])


def test_a_rally_shots_reply_is_predicted_after_that_shot(tennis):
    """In a rally the rows are shots: the model is asked about the rally with the shot itself added."""
    tennis.model.asked.clear()
    tennis._predictions.clear()
    a = tennis.advise([("serve", O, "wide", None), ("forehand", P, None, None), ("backhand", O, None, None)],
                      {"court_side": "deuce"})
    assert a.state.startswith("rally after") and a.next_hitter == P
    stage = tennis.game.stage(f"player: {a.state}")
    for history in tennis.model.asked:
        assert tuple(history["shot"])[:3] == ("serve", "forehand", "backhand")
        assert tuple(history["shot"])[3] in stage.rows and len(history) == 4
        assert tuple(history["hitter"]) == (O, P, O, P)


def test_a_state_of_returns_whose_direction_was_not_recorded_is_averaged_with_the_recorded_ones():
    """Where some serves' directions were not recorded the game has a state for their returns; asking for a
    return of an unsaid direction averages over the recorded directions all the same."""
    if TABLE is None:
        pytest.skip("../shared/data/tennis_mcp is absent")
    table = TABLE.copy()
    serves = table.index[table["shot"] == "serve"]
    table.loc[serves[::4], "landing_area"] = None
    adv = Advisor(table, P, O, model=Fixed({"forehand": 1.0}))
    assert "player: return of unknown direction" in adv.game.labels
    states, weights = adv.states_of("return of unknown direction")
    assert sorted(adv.game.labels[g] for g in states) == sorted(
        f"player: return of {d} serve" for d in ("T", "wide", "body"))
    assert sum(weights) == pytest.approx(1.0)
