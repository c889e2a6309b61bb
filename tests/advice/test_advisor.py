"""The Advisor on the demo: its three mixes, their guarantees, confidence weighting, gifts, the sentence."""

import numpy as np
import pandas as pd
import pytest

import strategist
from strategist.advice.advisor import Advisor
from strategist.advice.fastlp import VertexTable
from strategist.advice.gifts import match_gifts
from strategist.errors import EstimationError

P, O = "Astrid NORDVIK", "Dev MALHOTRA"


@pytest.fixture(scope="module")
def adv():
    return Advisor(player=P, opponent=O)


def test_export_and_model_label(adv):
    assert strategist.Advisor is Advisor
    assert adv.player == P and adv.opponent == O
    assert set(adv.games) >= {"serve", "rally after attack", "rally after defence", "rally after neutral"}
    a = adv.advise()
    assert a.model == adv.model_label
    if "built-in" in adv.model_label:  # until strategist.opponent lands, the result says which model it used
        assert any("built-in frequency prediction" in n for n in a.notes)


def test_vertex_solver_agrees_with_safe_exploit():
    rng = np.random.default_rng(1)
    for _ in range(25):
        m, n = rng.integers(2, 9), rng.integers(1, 4)
        a = rng.random((m, n))
        q = rng.dirichlet(np.ones(n))
        vt = VertexTable.of(a)
        value = strategist.solve_zero_sum(a).value
        for margin in (0.0, 0.03, 0.1, 1.0):
            ref = strategist.safe_exploit(a, q, margin)
            x = vt.solve(a @ q, value - margin - 1e-12)
            assert x @ a @ q == pytest.approx(ref.expected_payoff, abs=1e-9)
            assert (x @ a).min() >= value - margin - 1e-9
            assert (x @ a).min() == pytest.approx(ref.guarantee, abs=1e-7)


def test_three_mixes_and_their_guarantees(adv):
    h = [("short service", P), ("net shot", O)]
    a = adv.advise(h, margin=0.05)
    assert a.state == "rally after neutral" and a.next_hitter == P and a.lead is None
    assert a.prediction.sum() == pytest.approx(1.0) and sum(a.reply.values()) == pytest.approx(1.0)
    assert a.equilibrium.guarantee == pytest.approx(a.value, abs=1e-9)
    assert a.safe.guarantee >= a.value - 0.05 - 1e-9
    assert a.best_response.expected >= a.safe.expected - 1e-12 >= a.equilibrium.expected - 2e-12
    assert a.decision_points > 0 and all(v > 0 for v in a.safe.counts.values())
    zero = adv.advise(h, margin=0.0)
    assert zero.safe.mix == zero.equilibrium.mix
    wide = adv.advise(h, margin=1.0)
    assert wide.safe.expected == pytest.approx(wide.best_response.expected, abs=1e-12)


def test_sentence_carries_the_numbers(adv):
    a = adv.advise([("short service", P), ("net shot", O)], margin=0.05)
    s = a.sentence
    assert O in s and f"{100 * a.safe.expected:.0f} %" in s and f"never less than {100 * a.safe.guarantee:.0f} %" in s
    assert "of his strokes" in s


def test_opponent_to_hit_gives_the_prediction_and_the_next_state(adv):
    a = adv.advise([("short service", P), ("net shot", O), ("lob", P)])
    assert a.next_hitter == O and a.lead is not None
    assert a.lead["state"] == a.state and a.state.startswith("rally after")
    assert a.prediction.sum() == pytest.approx(1.0)
    assert "hits next" in a.sentence


def test_history_forms_agree(adv):
    pairs = [("short service", P), ("net shot", O)]
    frame = pd.DataFrame({"shot": [s for s, _ in pairs], "hitter": [h for _, h in pairs]})
    dicts = [{"shot": s, "hitter": h} for s, h in pairs]
    texts = {adv.advise(x, margin=0.02).sentence for x in (pairs, frame, dicts)}
    assert len(texts) == 1


def test_confidence_weighting():
    cheap = Advisor(player=P, opponent=O, n0=0.0)
    a = cheap.advise([("short service", P), ("net shot", O)])
    assert a.confidence == 1.0 and a.reply == pytest.approx(a.reply_raw)
    doubtful = Advisor(player=P, opponent=O, n0=1e9)
    b = doubtful.advise([("short service", P), ("net shot", O)])
    sg = doubtful.games[b.state]
    assert b.confidence < 1e-5
    assert list(b.reply.values()) == pytest.approx(list(sg.column_strategy), abs=1e-5)


def test_gifts_cap_the_margin(adv):
    h = [("short service", P), ("net shot", O)]
    lost = adv.advise(h, margin=0.1, gifts=-0.3)
    assert lost.margin == 0.0 and lost.safe.mix == lost.equilibrium.mix
    some = adv.advise(h, margin=0.1, gifts=0.02)
    assert some.margin == pytest.approx(0.02) and some.margin_asked == 0.1


def test_match_gifts_by_hand(adv):
    rally = [("short service", P), ("net shot", O), ("lob", P), ("smash", O)]
    g = match_gifts(adv, [(1, rally, True), (2, rally, False)])
    serve, neutral = adv.games["serve"], adv.games["rally after neutral"]
    expected = (serve.payoffs[serve.rows.index("short service"), serve.columns.index("neutral")] - serve.value
                + neutral.payoffs[neutral.rows.index("lob"), neutral.columns.index("attack")] - neutral.value)
    assert g.total == pytest.approx(expected) and g.decisions == 2 and len(g.per_rally) == 1
    assert g.allowed == max(0.0, expected)


class _AlwaysLob:
    kind = "always lob"

    def predict_proba(self, history=None, context=None):
        shots = strategist.get_sport("badminton").shots
        s = pd.Series([0.5 if x == "lob" else (0.5 if x == "unknown" else 0.0) for x in shots], index=shots)
        s.attrs.update(n=1000, source="player")
        return s


def test_a_given_model_is_used_and_outside_mass_reported():
    adv = Advisor(player=P, opponent=O, model=_AlwaysLob())
    a = adv.advise([("short service", P), ("net shot", O)])
    assert a.model == "always lob"
    assert a.reply_raw["defence"] == pytest.approx(1.0)
    assert a.outside == pytest.approx(0.5) and any("outside the game's columns" in n for n in a.notes)


def test_errors_are_clear(adv):
    with pytest.raises(EstimationError, match="not in the badminton vocabulary"):
        adv.advise([("tweener", P)])
    with pytest.raises(EstimationError, match="margin"):
        adv.advise([], margin=-1)
    with pytest.raises(EstimationError, match="unknown player"):
        Advisor(player="Nobody Atall")


def test_ties_against_the_prediction_go_to_the_safer_mix():
    a = np.array([[0.6, 0.2], [0.6, 0.4], [0.3, 0.5]])
    q = np.array([1.0, 0.0])
    x = VertexTable.of(a).solve(a @ q, -1.0)          # no floor: every mix of rows 1-2 earns 0.6
    assert x == pytest.approx([0.0, 1.0, 0.0])
    assert strategist.safe_exploit(a, q, 1.0).row_strategy == pytest.approx(x, abs=1e-9)


def test_the_package_models_predict_the_same_from_the_light_history_as_from_a_frame(adv, untrained_neural):
    """The Advisor hands strategist.opponent's models a History, not a DataFrame: same probabilities."""
    from strategist.opponent import MarkovModel

    table = adv.table
    for model in (MarkovModel().fit(table, tune=False), untrained_neural(table)):
        advisor = Advisor(table, player=P, opponent=O, model=model, cache_size=0)
        for shots in ([], ["short service"], ["short service", "net shot", "lob"]):
            hitters = [P if k % 2 == 0 else O for k in range(len(shots))]
            who = O if len(shots) % 2 else P
            other = P if who == O else O
            probs, _, _ = advisor._predict(shots, hitters, who, {"server": P})
            frame = pd.DataFrame({"shot": shots, "hitter": hitters, "opponent": [O if h == P else P for h in hitters],
                                  "stroke": list(range(1, len(shots) + 1))})
            want = model.predict_proba(frame, {"player": who, "opponent": other, "stroke": len(shots) + 1,
                                               "server": P})
            np.testing.assert_allclose(probs, want.to_numpy(), rtol=1e-6, atol=1e-9)
