"""The Advisor on the demo and on ShuttleSet: it reads the one rally game, its options against independent
computations from the game's arrays and the data, its three mixes and their basis, the order of play, the
averaging over unrecorded heights and zones, gifts, models and the sentence."""

import numpy as np
import pandas as pd
import pytest

import strategist
from strategist.advice.advisor import Advisor, prepare
from strategist.advice.fastlp import VertexTable
from strategist.advice.gifts import match_gifts
from strategist.data.states import annotate_states
from strategist.errors import EstimationError

P, O = "Astrid NORDVIK", "Dev MALHOTRA"
H = [("short service", P, "7", "low"), ("net shot", O, "1", "low")]


@pytest.fixture(scope="module")
def adv():
    return Advisor(player=P, opponent=O, model="markov2")


class _Fixed:
    """A model that predicts the same distribution whatever the rally, with ``n`` strokes of evidence."""

    kind = "fixed"

    def __init__(self, probs: dict, n: float = 1000.0):
        self.probs, self.n, self.calls, self.asked = probs, n, 0, []

    def predict(self, history=None, context=None):
        from strategist.opponent import Prediction

        self.calls += 1
        self.asked.append(tuple(history["shot"]) if isinstance(history, pd.DataFrame) else history)
        shots = strategist.get_sport("badminton").shots
        return Prediction(tuple(shots), np.array([self.probs.get(s, 0.0) for s in shots]), n=self.n,
                          source="player", inputs=("shot",), known_player=True)


def test_the_advice_is_the_rally_games(adv):
    """The equilibrium is the game's recommendation in the situation; the options are the stage's rows."""
    a = adv.advise(H, margin=0.05)
    assert a.state == "rally after net shot (low, front)" and a.next_hitter == P and a.lead is None
    rec = adv.game.equilibrium(f"player: {a.state}")
    assert a.equilibrium.mix == pytest.approx({k: v for k, v in rec["player"].items() if v > 0})
    stage = adv.game.stage(f"player: {a.state}")
    assert list(a.options.index) == list(stage.rows)
    np.testing.assert_array_equal(a.options["advised"].to_numpy(), stage.advisable)
    assert a.value == pytest.approx(adv.game.pessimistic_value(f"player: {a.state}"))
    assert a.value_estimate == pytest.approx(adv.game.value(f"player: {a.state}"))


def test_options_against_the_data_and_the_games_arrays(adv):
    """played: the player's strokes in the situation, counted with pandas; population_share in [0, 1] with
    the commonest shot's share highest; a model with no evidence leaves the opponent's habit after the shot,
    so each win probability is Q(V as played) of its row against the habitual positions."""
    ann = annotate_states(adv.table, situation=True)
    mine = ann[(ann["hitter"] == P) & (ann["state"] == "rally after net shot (low, front)")]
    counts = mine["shot"].value_counts()
    a = adv.advise(H)
    for shot, n in a.options["played"].items():
        assert n == counts.get(shot, 0), shot
    assert ((a.options["population_share"] >= 0) & (a.options["population_share"] <= 1)).all()
    blind = Advisor(adv.table, P, O, model=_Fixed({"lob": 1.0}, n=0.0), strokes=prepare(adv.table))
    b = blind.advise(H)
    g = blind.game.index(f"player: {b.state}")
    q_obs = blind.game.rewards[g] + blind.game.transitions[g] @ blind.game.observed_values
    np.testing.assert_allclose(b.options["win_probability"].to_numpy(), q_obs @ blind.game.observed_column[g],
                               atol=1e-12)
    assert (b.options["low"] <= b.options["win_probability"]).all()
    assert (b.options["win_probability"] <= b.options["high"]).all()


def test_three_mixes_their_basis_and_the_shots_they_may_use(adv):
    a = adv.advise(H, margin=0.05)
    unadvised = set(a.options.index[~a.options["advised"]])
    for rec in (a.best_response, a.safe):
        if not rec.basis.startswith("habit"):
            assert not unadvised & {s for s, p in rec.mix.items() if p > 1e-9}, rec
    if a.equilibrium.basis != "habit":
        assert not unadvised & {s for s, p in a.equilibrium.mix.items() if p > 1e-9}
    zero = adv.advise(H, margin=0.0)
    assert zero.safe.mix == zero.equilibrium.mix
    assert a.equilibrium.guarantee <= a.equilibrium.estimate + 1e-9      # a lower bound under the estimate
    assert sum(a.equilibrium.evidence.values()) == pytest.approx(1.0)
    assert set(a.evidence) == {"pairing", "player", "all players"}


def test_sentence_carries_the_numbers_and_no_pronoun(adv):
    a = adv.advise(H, margin=0.05)
    s = a.sentence
    assert s.startswith("After a net shot taken low at the front")
    assert f"{100 * a.safe.estimate:.0f} %" in s and f"never less than {100 * a.safe.guarantee:.0f} %" in s
    assert " his " not in s and " her " not in s


def test_opponent_to_hit_gives_the_prediction_and_the_next_state(adv):
    a = adv.advise([("short service", P), ("net shot", O), ("lob", P)])
    assert a.next_hitter == O and a.lead is not None
    assert a.lead["state"].startswith("rally after") and a.prediction.sum() == pytest.approx(1.0)
    assert "hits next" in a.sentence


def test_history_forms_agree(adv):
    frame = pd.DataFrame(H, columns=["shot", "hitter", "landing_area", "landing_height"])
    dicts = [{"shot": s, "hitter": h, "landing_area": z, "landing_height": t} for s, h, z, t in H]
    texts = {adv.advise(x, margin=0.02).sentence for x in (H, frame, dicts)}
    assert len(texts) == 1


def test_a_history_without_heights_or_zones_averages_over_where_the_shot_is_taken(adv):
    """After a clear whose landing was not recorded, the advice is the average over the situations a clear
    is taken in (weights: how often all players face each), option by option."""
    rally = [("short service", P, "7", "low"), ("net shot", O, "1", "low"), ("lob", P, "9", "high")]
    bare = adv.advise([(s, h) for s, h, _, _ in rally] + [("clear", O)])
    assert len(bare.averaged) >= 2 and sum(w for _, w in bare.averaged) == pytest.approx(1.0)
    assert any("averages" in n for n in bare.notes)
    parts = {label: adv.advise(rally + [("clear", O, *_where(label))]) for label, _ in bare.averaged
             if _where(label)}
    weights = {label: w for label, w in bare.averaged if label in parts}
    for shot in bare.options.index:
        have = {lab: w for lab, w in weights.items() if shot in parts[lab].options.index}
        if sum(have.values()) < 1 - 1e-9 or len(weights) < len(bare.averaged):
            continue
        expected = sum(w * parts[lab].options.loc[shot, "win_probability"] for lab, w in have.items())
        assert bare.options.loc[shot, "win_probability"] == pytest.approx(expected)


def test_one_advice_asks_the_model_once_per_rally(adv):
    """Without the Advisor's cache, an advice that averages over several situations still asks the model once
    for each rally it needs (the situations share them), and advises exactly as with the cache."""
    model = _Fixed({"lob": 0.5, "clear": 0.3, "drop": 0.2})
    strokes = prepare(adv.table)
    bare = [("short service", P), ("net shot", O), ("lob", P), ("clear", O)]
    uncached = Advisor(adv.table, P, O, model=model, strokes=strokes, cache_size=0)
    a = uncached.advise(bare)
    assert len(a.averaged) >= 2
    assert model.calls == len(model.asked) == len(set(model.asked)) >= 2
    cached = Advisor(adv.table, P, O, model=_Fixed(model.probs), strokes=strokes).advise(bare)
    pd.testing.assert_frame_equal(a.options, cached.options)
    assert a.equilibrium == cached.equilibrium and a.safe == cached.safe


def _where(label: str):
    zone_area = {"front": "7", "middle": "8", "back": "9"}
    inside = label[label.rindex("(") + 1:-1].split(", ")
    if inside[0] not in ("high", "low") or inside[1] not in zone_area:
        return None
    return zone_area[inside[1]], inside[0]


@pytest.mark.parametrize("history, message", [
    ([("net shot", P)], "opens with a serve"),
    ([("short service", P), ("short service", O)], "only at the start"),
    ([("short service", P), ("net shot", P)], "alternate"),
    ([("short service", P), ("net shot", "Somebody Else")], "neither"),
    ([("short service", P), ("tweener", O)], "not a badminton shot"),
])
def test_the_order_of_play_is_checked(adv, history, message):
    with pytest.raises(EstimationError, match=message):
        adv.advise(history)


def test_gifts_cap_the_margin(adv):
    lost = adv.advise(H, margin=0.1, gifts=-0.3)
    assert lost.margin == 0.0 and lost.safe.mix == lost.equilibrium.mix
    some = adv.advise(H, margin=0.1, gifts=0.02)
    assert some.margin == pytest.approx(0.02) and some.margin_asked == 0.1
    with pytest.raises(EstimationError, match="margin"):
        adv.advise([], margin=-1)


def test_match_gifts_by_hand(adv):
    """The gift of a decision: the played shot's Q against the opponent's habitual positions, minus the
    situation's value as recommended — computed here from the stage directly."""
    rally = [("short service", P, "7", "low"), ("net shot", O, "1", "low"), ("lob", P, "9", "high"),
             ("smash", O, "8", "low")]
    g = match_gifts(adv, [(1, rally, True), (2, rally, False)])
    expected = 0.0
    for label, shot in (("serve", "short service"), ("rally after net shot (low, front)", "lob")):
        stage = adv.game.stage(f"player: {label}")
        expected += stage.mean[stage.rows.index(shot)] @ stage.observed_column - adv.game.value(f"player: {label}")
    assert g.total == pytest.approx(expected) and g.decisions == 2 and len(g.per_rally) == 1
    assert g.allowed == max(0.0, expected)


def test_a_given_model_is_used_and_its_evidence_counts(adv):
    model = _Fixed({"lob": 0.5, "clear": 0.5}, n=200.0)
    fixed = Advisor(adv.table, P, O, model=model, strokes=prepare(adv.table))
    a = fixed.advise(H)
    assert a.model == "fixed" and a.prediction_n == 200 and a.confidence == pytest.approx(200 / 220)
    assert a.prediction["lob"] == pytest.approx(0.5)


def test_the_neural_model_is_used_with_its_evidence(adv):
    """A neural model given to the Advisor is asked, and its evidence is the player's strokes it has seen
    (never 0 for a player it was trained with: then its prediction would be discarded)."""
    from strategist.opponent import fit_model

    model = fit_model("neural", adv.table, max_steps=3, hidden=16, progress=False)
    neural = Advisor(adv.table, P, O, model=model, strokes=prepare(adv.table))
    a = neural.advise(H)
    assert a.model == "neural"
    pred = model.predict(pd.DataFrame({"shot": ["short service", "net shot", "lob"], "hitter": [P, O, P]}),
                         {"player": O, "opponent": P})
    assert pred.n > 0 and a.prediction_n > 0 and a.confidence > 0


def test_names_are_checked(adv):
    with pytest.raises(EstimationError, match="unknown player"):
        Advisor(player="Nobody Atall")
    with pytest.raises(EstimationError, match="did you mean"):
        Advisor(adv.table, P, "Dev MALHOTRO", model="markov2")
    new = Advisor(adv.table, P, "Zed NEWCOMER", model="markov2", strokes=prepare(adv.table))
    assert any("no strokes in the data" in n for n in new.notes)
    a = new.advise([("short service", P, "7", "low"), ("net shot", "Zed NEWCOMER", "1", "low")])
    assert a.scope == "player" and a.evidence["pairing"] == pytest.approx(0.0)


def test_ties_against_the_prediction_go_to_the_safer_mix():
    a = np.array([[0.6, 0.2], [0.6, 0.4], [0.3, 0.5]])
    q = np.array([1.0, 0.0])
    x = VertexTable.of(a).solve(a @ q, -1.0)          # no floor: every mix of rows 1-2 earns 0.6
    assert x == pytest.approx([0.0, 1.0, 0.0])
    assert strategist.safe_exploit(a, q, 1.0).row_strategy == pytest.approx(x, abs=1e-9)


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


@pytest.mark.realdata
def test_shuttleset_advice_recommends_only_candidate_shots(shuttleset_strokes):
    """Kento MOMOTA against CHOU Tien Chen: after every kind of shot in their matches, no recommendation puts
    mass on a shot all players play under 2 % of the time there."""
    table = strategist.load_rallies(shuttleset_strokes).table
    adv = Advisor(table, "Kento MOMOTA", "CHOU Tien Chen", model="markov2")
    ann = annotate_states(table, situation=True)
    ann = ann[ann["shot"].notna() & (ann["shot"] != "unknown")]
    size = ann["state"].value_counts()
    share = ann.groupby("state")["shot"].value_counts(normalize=True)
    checked = 0
    for state in adv.games:
        stage = adv.game.stage(f"player: {state}")
        if stage.basis == "habit" or size.get(state, 0) < 500:   # large situations decide on their own counts
            continue
        for shot, p in zip(stage.rows, stage.recommended):
            if p > 1e-9:
                assert share.get((state, shot), 0.0) >= 0.015, (state, shot)   # 2 % after a light shrinkage
        checked += 1
    assert checked >= 1


@pytest.mark.realdata
def test_shuttleset_advice_predicts_each_rally_once_per_call(shuttleset_strokes, monkeypatch):
    """Kento MOMOTA against CHOU Tien Chen without the Advisor's cache: the situations an advice averages over
    share rallies to predict, and each is predicted once per call; the advice is the same as when every
    situation asks the model itself (the per-call memo switched off)."""
    table = strategist.load_rallies(shuttleset_strokes).table
    adv = Advisor(table, "Kento MOMOTA", "CHOU Tien Chen", model="markov2", cache_size=0)
    asked = []
    predict = adv.model.predict
    monkeypatch.setattr(adv.model, "predict", lambda h, c: asked.append((h.shots, h.areas)) or predict(h, c))
    both = ["Kento MOMOTA", "CHOU Tien Chen"]
    pair = table[table["hitter"].isin(both) & table["opponent"].isin(both)]
    histories = []
    for _, rally in list(pair.groupby("rally_id", sort=False))[:12]:
        rows = list(zip(rally["shot"], rally["hitter"], rally["landing_area"], rally["landing_height"]))
        histories += [rows[:k] for k in range(min(len(rows), 7))]
    with_memo, calls = [], 0
    for h in histories:
        asked.clear()
        with_memo.append(adv.advise(h))
        assert len(asked) == len(set(asked))
        calls += len(asked)
    plain = Advisor._predict
    monkeypatch.setattr(Advisor, "_predict", lambda self, r, w, c, memo=None: plain(self, r, w, c, None))
    asked.clear()
    without = [adv.advise(h) for h in histories]
    assert len(asked) > calls
    for a, b in zip(with_memo, without):
        pd.testing.assert_frame_equal(a.options, b.options)
        assert a.equilibrium == b.equilibrium and a.value == b.value
