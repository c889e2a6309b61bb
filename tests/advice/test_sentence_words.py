"""The coach's sentence, word for word: the opponent's likely shot, the situation, the mix (one shot or up to three
with their shares), what it wins and never loses below, the habit caveat and the share resting on the pairing."""

from __future__ import annotations

from types import SimpleNamespace

from strategist.advice.advisor import Recommendation
from strategist.advice.sentence import pct, sentence

STATE = "rally after net shot (low, front)"          # "after a net shot taken low at the front"


def _rec(mix, basis="pessimistic equilibrium", estimate=0.534, guarantee=0.481):
    return Recommendation(name="safe", mix=mix, expected=0.5, guarantee=guarantee, counts={}, basis=basis,
                          estimate=estimate)


def _advice(safe, lead=None, scope="pairing", evidence=None, equilibrium=None, state=STATE):
    return SimpleNamespace(safe=safe, lead=lead, scope=scope, evidence=evidence or {}, equilibrium=equilibrium,
                           state=state, opponent="CHOU Tien Chen", player="Ann")


def test_pct_rounds_to_whole_percent():
    assert pct(0.534) == "53 %" and pct(1.0) == "100 %" and pct(0.0) == "0 %" and pct(0.996) == "100 %"


def test_one_shot_wins():
    text = sentence(_advice(_rec({"lob": 0.97, "clear": 0.03})))
    assert text == ("After a net shot taken low at the front: lob wins 53 % against what CHOU Tien Chen is "
                    "predicted to play, never less than 48 % at the lower bound.")


def test_a_mix_names_its_three_largest_shots_with_their_shares_and_win():
    mix = {"clear": 0.2, "lob": 0.4, "drop": 0.06, "net shot": 0.3, "smash": 0.04}
    text = sentence(_advice(_rec(mix), state="return of wide serve"))
    assert text == ("Returning a wide serve: lob 40 % / net shot 30 % / clear 20 % win 53 % against what CHOU Tien "
                    "Chen is predicted to play, never less than 48 % at the lower bound.")
    two = sentence(_advice(_rec({"lob": 0.95, "clear": 0.05})))
    assert two.startswith("After a net shot taken low at the front: lob 95 % / clear 5 % win 53 %")


def test_the_opponents_likely_shot_comes_first_and_the_situation_follows_in_lower_case():
    lead = {"shot": "smash", "mass": 0.62, "n": 40}
    text = sentence(_advice(_rec({"lob": 1.0}), lead=lead))
    assert text == ("CHOU Tien Chen hits next: most often smash (62 %, 40 strokes of evidence); then after a net "
                    "shot taken low at the front: lob wins 53 % against what CHOU Tien Chen is predicted to play, "
                    "never less than 48 % at the lower bound.")


def test_no_advice_without_strokes_of_the_player():
    assert sentence(_advice(None)) == ("no advice here (after a net shot taken low at the front): the data hold no "
                                       "strokes of Ann in this situation.")
    lead = {"shot": "lob", "mass": 0.5, "n": 3}
    assert sentence(_advice(None, lead=lead)) == (
        "CHOU Tien Chen hits next: most often lob (50 %, 3 strokes of evidence); no advice here (after a net shot "
        "taken low at the front): the data hold no strokes of Ann in this situation.")


HABIT = "; Ann's usual mix: the data do not support a change here."


def test_the_habit_caveat_when_the_mix_is_the_habit_or_the_equilibrium_that_is_the_habit():
    mix = {"lob": 1.0}
    assert sentence(_advice(_rec(mix, basis="habit (no better mix)"))).endswith("lower bound" + HABIT)
    assert sentence(_advice(_rec(mix, basis="model habit"))).endswith("lower bound.")
    same = SimpleNamespace(mix={"lob": 1.0}, basis="habit")
    assert sentence(_advice(_rec(mix), equilibrium=same)).endswith(HABIT)
    other_mix = SimpleNamespace(mix={"clear": 1.0}, basis="habit")
    assert sentence(_advice(_rec(mix), equilibrium=other_mix)).endswith("lower bound.")
    not_habit = SimpleNamespace(mix={"lob": 1.0}, basis="equilibrium")
    assert sentence(_advice(_rec(mix), equilibrium=not_habit)).endswith("lower bound.")


def test_advice_not_resting_on_the_pairing_says_how_much_does():
    mix = {"lob": 1.0}
    text = sentence(_advice(_rec(mix), scope="everyone", evidence={"pairing": 0.14, "all": 0.64}))
    assert text.endswith("lower bound; 14 % of it rests on this pairing: advice against everyone.")
    assert sentence(_advice(_rec(mix), scope="player")).endswith("; 0 % of it rests on this pairing: advice "
                                                                "against everyone.")
    both = sentence(_advice(_rec(mix, basis="habit"), scope="everyone", evidence={"pairing": 0.5}))
    assert both.endswith(HABIT[:-1] + "; 50 % of it rests on this pairing: advice against everyone.")
    assert sentence(_advice(_rec(mix), evidence={"pairing": 0.1})).endswith("lower bound.")
