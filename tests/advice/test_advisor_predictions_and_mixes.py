"""The live Advisor on the demo's Astrid NORDVIK - Dev MALHOTRA matches with a model that predicts a fixed
distribution: which replies it asks the model for and how it trusts them (c = n / (n + n0)), the options'
win probabilities recomputed in float64 from the game's arrays, the three mixes and their values (the safe
exploitation against a scipy LP), who hits next, the opponent's lead, the averaging over unrecorded heights and
zones against the data's counts, the prediction cache, and the situations without a game."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import strategist
import strategist.opponent  # noqa: F401 - imported with the module, not in a test's time
from strategist.advice.advisor import DEFAULT_N0, Advisor, prepare
from strategist.advice.history import read_history
from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.data.states import annotate_states
from strategist.errors import EstimationError
from strategist.estimation.shrinkage import two_sided_z
from strategist.opponent import Prediction
from strategist.rally.game import per_cell
from strategist.rally.model import RallySettings, strokes

P, O = "Astrid NORDVIK", "Dev MALHOTRA"
SHOTS = tuple(strategist.get_sport("badminton").shots)
_DEMO = load_rallies(demo_path()).table
#: The pair's own matches: a small table (485 strokes) the rally game is estimated on in well under a second.
TABLE = _DEMO[_DEMO["hitter"].isin([P, O]) & _DEMO["opponent"].isin([P, O])].reset_index(drop=True)
STROKES = strokes(TABLE, RallySettings())
NET = [("short service", P, "7", "low"), ("net shot", O, "1", "low")]        # -> rally after net shot (low, front)
#: Narrow intervals and trust at one stroke of evidence, so that exploiting the prediction pays somewhere.
EXPLOIT = dict(level=0.5, n0=1.0, min_action_count=2)

#: Rally games estimated once per (data, names, settings): the Advisor's own fitting runs in every test, the
#: estimation of the game (strategist.rally.game, tested on its own) is shared. The data are kept with the key.
_GAMES: dict = {}
_rally_game = __import__("strategist.rally.game", fromlist=["rally_game"]).rally_game


def _shared_game(data, player=None, opponent=None, **kwargs):
    key = (id(data), player, opponent, tuple(sorted(kwargs.items())))
    if key not in _GAMES:
        _GAMES[key] = (data, _rally_game(data, player, opponent, **kwargs))
    return _GAMES[key][1]


def _advisor_settings(level=0.9, min_action_count=5):
    return dict(min_action_count=min_action_count, min_share=0.02, min_count=10, level=level, states=None,
                zones=None, heights=None)


for _settings in ({}, {"level": 0.5, "min_action_count": 2}, {"level": 0.2, "min_action_count": 2}):
    _shared_game(STROKES, P, O, **_advisor_settings(**_settings))
_shared_game(STROKES, P, "Zed NEWCOMER", **_advisor_settings())
_shared_game(STROKES, P, O, **{**_advisor_settings(level=0.8, min_action_count=4), "min_share": 0.05, "min_count": 7,
                               "heights": False})
#: The table's situations, annotated once.
ANN = annotate_states(TABLE, situation=True)


@pytest.fixture(autouse=True)
def shared_games(monkeypatch):
    import strategist.rally.game as game_module

    monkeypatch.setattr(game_module, "rally_game", _shared_game)


class Fixed:
    """A model that predicts ``probs`` (over ``shots``) whatever the rally, with ``n`` strokes of evidence; it
    records what it is asked."""

    kind = "fixed"

    def __init__(self, probs: dict, n: float = 3.0, shots=SHOTS, source="player"):
        self.probs, self.n, self.shots, self.source = probs, n, tuple(shots), source
        self.asked, self.contexts = [], []

    def predict(self, history=None, context=None):
        self.asked.append(history)
        self.contexts.append(dict(context))
        return Prediction(self.shots, np.array([self.probs.get(s, 0.0) for s in self.shots]), n=self.n,
                          source=self.source, inputs=("shot",), known_player=True)


_FITTED: dict = {}     # fitted in a test's time (never at import), once per game setting per session


def advisor(model=None, **kwargs) -> Advisor:
    """An Advisor of the pair with ``model``: the game estimated once per (level, min_action_count), the
    prediction settings (n0, reply_predictions, cache_size) and the model set on a copy, its caches empty."""
    game = {k: kwargs.pop(k) for k in ("level", "min_action_count") if k in kwargs}
    key = tuple(sorted(game.items()))
    if key not in _FITTED:
        _FITTED[key] = Advisor(TABLE, P, O, model=Fixed({}), strokes=STROKES, **game)
    adv = copy.copy(_FITTED[key])
    adv.model = model or Fixed({"lob": 0.6, "drop": 0.4})
    adv._predictions, adv._positions, adv.notes = {}, {}, list(adv.notes)
    for name, value in kwargs.items():
        setattr(adv, name, float(value) if name == "n0" else int(value))
    return adv


@pytest.fixture(scope="module")
def exploit():
    return advisor(**EXPLOIT)


def _stage(adv, label):
    g = adv.game.index(f"player: {label}")
    return g, adv.game.stage(f"player: {label}")


def _reference_rows(adv, g, k):
    """The rows whose replies are predicted: the k likeliest by max(recommended, habit) among the advised ones
    (else among all), ties in row order."""
    game = adv.game
    weight = np.maximum(game.recommendation.row_strategies[g], game.observed_row[g])
    order = sorted((i for i in range(len(weight)) if weight[i] > 0), key=lambda i: (-weight[i], i))
    advised = np.asarray(game.structure.trusted[g], dtype=bool)
    return ([i for i in order if advised[i]][:k] or order[:k]), weight


def _reference_win(adv, g, probs, c, predicted):
    """See _reference_win_rows; one prediction and one trust for every predicted row."""
    return _reference_win_rows(adv, g, {i: probs for i in predicted}, {i: c for i in predicted})


def _reference_win_rows(adv, g, probs_of, c_of):
    """Each row's win probability against the opponent's habitual positions, a predicted row's opponent states
    played as c * prediction (over the shots there, renormalised) + (1 - c) * their habit: float64 from the
    game's arrays."""
    game = adv.game
    v = np.asarray(game.observed_values, float)
    q = np.asarray(game.observed_column[g], float)
    rewards, transitions = np.asarray(game.rewards[g], float), np.asarray(game.transitions[g], float)
    who = game.states["who"].to_numpy()
    out = (rewards + transitions @ v) @ q
    for i in probs_of:
        probs, c = probs_of[i], c_of[i]
        u = v.copy()
        weight = transitions[i].sum(axis=0)
        for s in np.flatnonzero((weight > 0) & (who == "opponent")):
            cols = game.layout.column_labels[s]
            if cols[0] not in SHOTS:
                continue
            p = np.array([probs.get(a, 0.0) for a in cols])
            habit = np.asarray(game.observed_column[s], float)
            p = p / p.sum() if p.sum() > 0 else habit
            q_obs = np.asarray(game.rewards[s]) + np.asarray(game.transitions[s]) @ v
            u[s] = (np.asarray(game.observed_row[s]) @ q_obs) @ (c * p + (1 - c) * habit)
        out[i] = (rewards[i] + transitions[i] @ u) @ q
    return out


# -- predictions ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_replies_after_the_likeliest_advised_shots_are_predicted(k):
    """The model is asked once for each of the k likeliest advised shots (the rally with that shot added, the
    pair's names, the stroke number) and those rows are valued against the prediction trusted at
    c = n / (n + n0); the other rows against the opponent's habit."""
    model = Fixed({"lob": 0.6, "drop": 0.4}, n=3.0)
    adv = advisor(model, reply_predictions=k, **EXPLOIT)
    a = adv.advise(NET)
    g, stage = _stage(adv, a.state)
    rows, _ = _reference_rows(adv, g, k)
    assert len(rows) == k
    assert [tuple(h["shot"]) for h in model.asked] == [("short service", "net shot", stage.rows[i]) for i in rows]
    assert a.confidence == pytest.approx(3.0 / 4.0) and a.prediction_n == 3 and a.prediction_source == "player"
    np.testing.assert_allclose(a.options["win_probability"].to_numpy(),
                               _reference_win(adv, g, model.probs, 0.75, rows), atol=1e-12)
    frame = model.asked[0]
    assert list(frame.columns) == ["shot", "hitter", "opponent", "landing_area", "landing_height", "stroke"]
    assert list(frame["hitter"]) == [P, O, P] and list(frame["opponent"]) == [O, P, O]
    assert list(frame["landing_area"])[:2] == ["7", "1"] and list(frame["landing_height"])[:2] == ["low", "low"]
    assert frame["landing_area"].isna().tolist() == frame["landing_height"].isna().tolist() == [False, False, True]
    assert list(frame["stroke"]) == [1, 2, 3]
    assert model.contexts[0] == {"player": O, "opponent": P, "stroke": 4}


@pytest.mark.parametrize("k", [2, 20])
def test_without_advised_shots_the_likeliest_shots_are_predicted(k):
    """Where no shot may be advised, the replies after the likeliest shots are predicted all the same (never
    after each shot when k is larger than the state's shots), and the best response keeps the habit."""
    model = Fixed({"lob": 1.0})
    adv = advisor(model, reply_predictions=k, **EXPLOIT)
    a = adv.advise([("short service", P, "7", "low"), ("push", O, "6", "high"), ("lob", P, "9", "high"),
                    ("smash", O, "2", "low")])
    g, stage = _stage(adv, a.state)
    assert not stage.advisable.any()
    rows, weight = _reference_rows(adv, g, k)
    assert len(rows) == min(k, len(stage.rows))
    assert [tuple(h["shot"])[-1] for h in model.asked] == [stage.rows[i] for i in rows]
    assert a.best_response.mix == pytest.approx({r: p for r, p in zip(stage.rows, _usual(adv, g)) if p > 0})
    assert a.best_response.basis.startswith("habit")


class ByShot(Fixed):
    """A model whose prediction, evidence and source depend on the rally's last shot."""

    def __init__(self, table: dict):
        super().__init__({})
        self.table = table

    def predict(self, history=None, context=None):
        probs, n, source = self.table.get(tuple(history["shot"])[-1], ({"clear": 1.0}, 1.0, "fallback"))
        self.probs, self.n, self.source = probs, n, source
        return super().predict(history, context)


@pytest.mark.parametrize("sources", [("population", "player", "fallback"), ("fallback", "population", "fallback")])
def test_each_rows_reply_is_predicted_and_trusted_on_its_own(sources):
    """Replies predicted after each of the three likeliest advised shots differ: each row is valued against its
    own prediction at its own trust n_i / (n_i + n0); the advice's prediction is their mix weighted by
    max(recommended, habit), its evidence the weighted mean of the n_i, its source 'player' when any row's is,
    else the likeliest row's."""
    adv = advisor(reply_predictions=3, **EXPLOIT)
    g, stage = _stage(adv, "rally after net shot (low, front)")
    rows, weight = _reference_rows(adv, g, 3)
    per_row = [({"lob": 1.0}, 2.0), ({"drop": 0.5, "smash": 0.5}, 12.0), ({"net shot": 0.2, "clear": 0.8}, 30.0)]
    adv.model = ByShot({stage.rows[i]: (*per_row[k], sources[k]) for k, i in enumerate(rows)})
    a = adv.advise(NET)
    assert [tuple(h["shot"])[-1] for h in adv.model.asked] == [stage.rows[i] for i in rows]
    probs_of = {i: per_row[k][0] for k, i in enumerate(rows)}
    c_of = {i: per_row[k][1] / (per_row[k][1] + 1.0) for k, i in enumerate(rows)}
    np.testing.assert_allclose(a.options["win_probability"].to_numpy(), _reference_win_rows(adv, g, probs_of, c_of),
                               atol=1e-12)
    w = weight[rows]
    mixed = sum(wk * np.array([probs_of[i].get(s, 0.0) for s in SHOTS]) for wk, i in zip(w, rows))
    np.testing.assert_allclose(a.prediction.to_numpy(), mixed / w.sum(), atol=1e-12)
    n = float(np.average([per_row[k][1] for k in range(3)], weights=w))
    assert a.prediction_n == round(n) and a.confidence == pytest.approx(n / (n + 1.0))
    assert a.prediction_source == ("player" if "player" in sources else sources[0])


def test_equally_likely_shots_are_predicted_in_the_states_order():
    """Shots of equal weight are taken in the order of the state's rows: with the habit and recommendation
    1:1:1:1:2 after a lob, the replies after the last row (the heaviest, not advised) are not predicted, and of
    the four equal advised rows the first two are."""
    import dataclasses

    model = Fixed({"drop": 1.0})
    adv = advisor(model, reply_predictions=2, **EXPLOIT)
    g, stage = _stage(adv, "rally after lob (high, back)")
    assert stage.advisable.tolist() == [True, True, True, True, False]
    pattern = np.array([1.0, 1.0, 1.0, 1.0, 2.0]) / 6.0
    adv._arrays[g] = dataclasses.replace(adv._arrays_of(g), habit=pattern, recommended=pattern)
    adv.advise([("short service", P, "7", "low"), ("lob", O, "9", "high")])
    assert [tuple(h["shot"])[-1] for h in model.asked] == list(stage.rows[:2])


def test_the_trust_in_the_prediction_grows_with_its_evidence():
    """c = n / (n + n0) with the default n0 = 20; n0 = 0 trusts any prediction fully; the evidence reported is
    the model's, rounded."""
    made = Advisor(TABLE, P, O, model=Fixed({"lob": 1.0}, n=5.0), strokes=STROKES)
    assert made.advise(NET).confidence == pytest.approx(5 / (5 + DEFAULT_N0))
    assert DEFAULT_N0 == 20.0
    adv = advisor(Fixed({"lob": 1.0}, n=0.0), n0=0.0)
    full = adv.advise(NET)
    assert full.confidence == 1.0 and full.prediction_n == 0
    g, _ = _stage(adv, full.state)
    rows, _ = _reference_rows(adv, g, 3)
    np.testing.assert_allclose(full.options["win_probability"].to_numpy(),
                               _reference_win(adv, g, {"lob": 1.0}, 1.0, rows), atol=1e-12)
    part = advisor(Fixed({"lob": 1.0}, n=2.6, source="population"), n0=2.6).advise(NET)
    assert part.confidence == pytest.approx(0.5) and part.prediction_n == 3 and part.prediction_source == "population"


def test_a_model_with_no_evidence_leaves_the_opponents_habit():
    adv = advisor(Fixed({"smash": 1.0}, n=0.0))
    a = adv.advise(NET)
    g, _ = _stage(adv, a.state)
    np.testing.assert_allclose(a.options["win_probability"].to_numpy(), _reference_win(adv, g, {}, 0.0, []),
                               atol=1e-12)
    assert a.confidence == 0.0


@pytest.mark.parametrize("shots, probs, expected", [
    (SHOTS, {"lob": 3.0, "drop": 1.0}, {"lob": 0.75, "drop": 0.25}),                    # scaled to sum to 1
    (("drop", "lob", "not a shot"), {"lob": 0.2, "drop": 0.6, "not a shot": 0.2}, {"lob": 0.25, "drop": 0.75}),
    (("lob", "drop"), {}, {s: 1 / len(SHOTS) for s in SHOTS}),                          # nothing: uniform
])
def test_a_prediction_is_read_over_the_sports_shots(shots, probs, expected):
    """When the opponent hits next, their predicted shot is the model's, over the sport's shots in the sport's
    order (a shot the sport does not have dropped), scaled to sum to 1; all zero reads as uniform."""
    adv = advisor(Fixed(probs, n=7.0, shots=shots))
    a = adv.advise(NET + [("lob", P, "9", "high")])
    assert a.next_hitter == O and list(a.prediction.index) == list(SHOTS) and a.prediction.name == "p"
    np.testing.assert_allclose(a.prediction.to_numpy(), [expected.get(s, 0.0) for s in SHOTS], atol=1e-12)
    assert a.prediction_n == 7 and a.lead["n"] == 7 and a.lead["source"] == "player"


def test_predictions_are_kept_per_rally_who_and_context():
    """The cache keeps the last cache_size predictions (the oldest goes first); the key is the rally, who hits
    and the score, server, match and court side (not who hits next); cache_size 0 keeps none; a call's memo
    answers before the model and is filled from the cache."""
    model = Fixed({"lob": 1.0})
    adv = advisor(model, cache_size=2)
    r1, r2, r3 = (read_history(NET[:k]) for k in (1, 2, 0))
    adv._predict(r1, O, {})
    adv._predict(r2, O, {})
    adv._predict(r1, O, {"next": O})
    assert len(model.asked) == 2
    adv._predict(r3, P, {})
    assert len(model.asked) == 3 and model.contexts[-1] == {"player": P, "opponent": O, "stroke": 1}
    adv._predict(r2, O, {})
    assert len(model.asked) == 3
    adv._predict(r1, O, {})                                # the oldest, r1, went when r3 came
    assert len(model.asked) == 4
    context = {"score": (3, 4), "server": P, "match_id": "m", "court_side": "left", "other": 1}
    adv._predict(r1, O, context)
    assert len(model.asked) == 5
    assert model.contexts[-1] == {"player": O, "opponent": P, "stroke": 2, "score": (3, 4), "server": P,
                                  "match_id": "m", "court_side": "left"}
    adv._predict(r1, O, {**context, "score": (4, 4)})
    adv._predict(r1, P, context)
    assert len(model.asked) == 7
    memo = {}
    first = adv._predict(r1, P, context, memo)             # from the cache, into the memo
    assert len(model.asked) == 7 and list(memo.values()) == [first]
    key = next(iter(memo))
    memo[key] = ("kept", 1.0, "memo")
    assert adv._predict(r1, P, context, memo) == ("kept", 1.0, "memo")
    one = advisor(Fixed({"lob": 1.0}), cache_size=1)
    for _ in range(2):
        one._predict(r1, O, {})
    assert len(one.model.asked) == 1
    one._predict(r2, O, {})
    one._predict(r1, O, {})
    assert len(one.model.asked) == 3 and len(one._predictions) == 1
    none = advisor(Fixed({"lob": 1.0}), cache_size=0)
    for _ in range(2):
        none._predict(r1, O, {})
    assert len(none.model.asked) == 2 and none._predictions == {}
    memo = {}
    none._predict(r2, O, {}, memo)
    none._predict(r2, O, {}, memo)
    assert len(none.model.asked) == 3 and len(memo) == 1


def test_one_advice_asks_once_per_rally_even_without_the_cache():
    """Without the cache an advice that averages over two situations asks the model once for each rally it
    needs (the situations share them), with the context's score, and advises as with the cache."""
    bare = [("short service", P, "7", "low"), ("lob", O)]
    model = Fixed({"drop": 0.5, "smash": 0.5})
    a = advisor(model, cache_size=0, **EXPLOIT).advise(bare, {"score": (5, 6)})
    assert len(a.averaged) == 2
    asked = [tuple(h["shot"]) for h in model.asked]
    assert len(asked) == len(set(asked)) >= 3
    assert all(c == {"player": O, "opponent": P, "stroke": 4, "score": (5, 6)} for c in model.contexts)
    cached = advisor(Fixed(model.probs), **EXPLOIT).advise(bare, {"score": (5, 6)})
    pd.testing.assert_frame_equal(a.options, cached.options)
    assert a.equilibrium == cached.equilibrium and a.safe == cached.safe


def test_a_model_with_a_vocabulary_gets_the_light_history():
    """The package's models (with a shot vocabulary) are given shot ids, hitters, landing areas and how high each
    stroke was taken (the neural model reads the heights)."""
    from strategist.opponent.base import History

    class Vocabulary:
        def shot_ids(self, shots):
            return [SHOTS.index(s) for s in shots]

    model = Fixed({"lob": 1.0})
    model.vocabulary = Vocabulary()
    adv = advisor(model, reply_predictions=1)
    adv.advise(NET)
    history = model.asked[0]
    assert isinstance(history, History)
    assert history.shots == (SHOTS.index("short service"), SHOTS.index("net shot"), history.shots[-1])
    assert history.hitters == (P, O, P) and history.areas == ("7", "1", None)
    assert history.heights[:2] == ("low", "low")


# -- the mixes ----------------------------------------------------------------------------------------------------
def _usual(adv, g):
    habit = np.asarray(adv.game.observed_row[g], float)
    kept = np.where(np.asarray(adv.game.structure.candidate[g], dtype=bool), habit, 0.0)
    return kept / kept.sum() if kept.sum() > 0 else habit


def _safe_lp(stage_low, c, usual, advised, floor):
    """max x.c over x = sum_i y_i e_i (advised rows) + y_u usual, y in the simplex, min_b (x A)_b >= floor: the
    optimum and x."""
    from scipy.optimize import linprog

    m = len(c)
    basis = np.vstack([np.eye(m)[advised], usual[None, :]])      # (k+1, m)
    obj = basis @ c
    a_ub = -(basis @ stage_low).T
    res = linprog(-obj, A_ub=a_ub, b_ub=-np.full(stage_low.shape[1], floor), A_eq=np.ones((1, len(obj))),
                  b_eq=[1.0], bounds=[(0, None)] * len(obj), method="highs")
    return (-res.fun, res.x @ basis) if res.status == 0 else (None, None)


@pytest.mark.parametrize("history, probs, margin", [
    (NET, {"lob": 0.6, "drop": 0.4}, 0.05),
    ([("short service", P, "7", "low"), ("lob", O, "9", "high")], {"drop": 1.0}, 0.02),
    ([("short service", P, "7", "low"), ("lob", O, "9", "high")], {"smash": 1.0}, 0.05),
    ([("short service", P, "7", "low"), ("clear", O, "9", "high")], {"smash": 1.0}, 0.05),
    ([("short service", P, "7", "low"), ("clear", O, "9", "high")], {"lob": 1.0}, 0.0),
    ([], {"lob": 1.0}, 0.05),
])
def test_the_three_mixes_and_what_they_win(history, probs, margin):
    """The equilibrium is the game's recommendation; the best response is the advised predicted shot with the
    highest lower bound when its gain over the usual mix is supported (else the usual mix); the safe
    exploitation is the LP optimum over the advised predicted shots and the usual mix with guarantee
    >= value - margin when its gain is supported (else the equilibrium). Supported: the gain (x − usual)·win
    on the options' point estimates, less z times its sd (each row's sd sqrt(Σ_b σ²_ab·y_b²) over the
    opponent's usual positions y, rows independent), is positive. Each mix's expected (against the lower
    bound), estimate (point) and guarantee (worst column of the recommendation's stage game), counts and
    evidence follow from the options and the stage."""
    adv = advisor(Fixed(probs, n=1e6), level=0.2, n0=1.0, min_action_count=2, reply_predictions=3)
    a = adv.advise(history, margin=margin)
    g, stage = _stage(adv, a.state)
    game = adv.game
    rows = list(stage.rows)
    vec = lambda rec: np.array([rec.mix.get(r, 0.0) for r in rows])        # noqa: E731
    low, win = a.options["pessimistic"].to_numpy(), a.options["win_probability"].to_numpy()
    stage_low = np.asarray(game.recommendation.stage_games[g], float)
    np.testing.assert_allclose(vec(a.equilibrium), game.recommendation.row_strategies[g], atol=1e-12)
    assert a.equilibrium.basis == stage.basis
    fell_back = margin > 0 and a.safe.mix == a.equilibrium.mix
    assert a.safe.basis == ("recommendation (no exploitation within the margin the lower bound supports)"
                            if fell_back else "safe exploitation")
    predicted, _ = _reference_rows(adv, g, 3)
    advised = [i for i in predicted if stage.advisable[i]]
    usual = _usual(adv, g)
    y = np.asarray(game.observed_column[g], float)
    sd_rows = np.sqrt(np.square(per_cell(game.layout, game.cell_sd)[g]) @ np.square(y))
    z = two_sided_z(adv.level)

    def gain_bound(x):
        d = x - usual
        return float(d @ win - z * np.sqrt(np.sum(d ** 2 * sd_rows ** 2)))

    best = max(advised, key=lambda i: low[i]) if advised else None
    if best is not None and gain_bound(np.eye(len(rows))[best]) > 1e-9:
        assert a.best_response.mix == {rows[best]: 1.0} and a.best_response.basis == "best response"
    else:
        np.testing.assert_allclose(vec(a.best_response), usual, atol=1e-12)
        assert a.best_response.basis == "habit (no better shot the lower bound supports)"
    if margin <= 0:
        assert a.safe.mix == a.equilibrium.mix
    else:
        optimum, x_lp = _safe_lp(stage_low, low, usual, advised, stage.pessimistic_value - margin)
        if optimum is not None and gain_bound(x_lp) > 1e-9:
            assert a.safe.expected == pytest.approx(optimum, abs=1e-7)
            assert a.safe.guarantee >= stage.pessimistic_value - margin - 1e-9
            assert gain_bound(vec(a.safe)) > 0
        else:
            assert a.safe.mix == a.equilibrium.mix
    assert a.value == pytest.approx(stage.pessimistic_value) and a.margin == margin
    evidence = a.options[["pairing", "player", "all players"]].to_numpy()
    for rec in a.recommendations:
        x = vec(rec)
        assert rec.expected == pytest.approx(x @ low, abs=1e-12)
        assert rec.estimate == pytest.approx(x @ win, abs=1e-12)
        assert rec.guarantee == pytest.approx((x @ stage_low).min(), abs=1e-12)
        assert rec.counts == {r: int(n) for r, n, p in zip(rows, stage_played(adv, g), x) if p > 0.005}
        assert all(p > 0 for p in rec.mix.values())
        assert rec.evidence == pytest.approx(dict(zip(("pairing", "player", "all players"),
                                                      vec(a.equilibrium) @ evidence)))
    assert a.evidence == a.equilibrium.evidence
    assert sum(a.evidence.values()) == pytest.approx(1.0)


def stage_played(adv, g):
    """The player's strokes with each shot in state g, counted in the table."""
    ann = ANN
    label = adv.game.labels[g].split(": ", 1)[1]
    mine = ann[(ann["hitter"] == P) & (ann["state"] == label)]["shot"].value_counts()
    return [int(mine.get(r, 0)) for r in adv.game.layout.row_labels[g]]


def test_a_departure_must_beat_the_habit(exploit):
    """With the prediction trusted (n0 = 1) and narrow intervals the best response after a net shot is a single
    advised shot; asked for no margin the safe exploitation is the equilibrium."""
    a = exploit.advise(NET, margin=0.0)
    assert len(a.best_response.mix) == 1 and a.best_response.basis == "best response"
    assert a.best_response.expected > a.equilibrium.expected
    assert a.safe.mix == a.equilibrium.mix and a.margin == 0.0 and a.margin_asked == 0.0


def test_gifts_cap_the_margin(exploit):
    """The margin is min(asked, max(0, gifts)); without gifts the asked margin; by default none; a negative one
    is refused."""
    plain = exploit.advise(NET)
    assert plain.margin == 0.0 and plain.margin_asked == 0.0 and plain.safe.mix == plain.equilibrium.mix
    with pytest.raises(EstimationError, match="margin"):
        exploit.advise(NET, margin=-0.1)
    assert exploit.advise(NET, margin=0.1, gifts=0.03).margin == pytest.approx(0.03)
    lost = exploit.advise(NET, margin=0.1, gifts=-0.2)
    assert lost.margin == 0.0 and lost.margin_asked == 0.1 and lost.safe.mix == lost.equilibrium.mix
    assert exploit.advise(NET, margin=0.04, gifts=0.5).margin == pytest.approx(0.04)
    assert exploit.advise(NET, margin=0.04).margin == pytest.approx(0.04)


# -- who hits, the lead, the situation -----------------------------------------------------------------------------
def test_who_hits_next(exploit):
    """After the player's stroke the opponent, after the opponent's the player; an empty rally is the server's
    (the player without one); context's next (or player) says it outright; anyone else is refused."""
    assert exploit.advise(NET).next_hitter == P
    assert exploit.advise(NET[:1]).next_hitter == O
    assert exploit.advise([]).next_hitter == P and exploit.advise(None).state == "serve"
    assert exploit.advise([], {"server": O}).next_hitter == O
    assert exploit.advise([], {"server": P}).next_hitter == P
    assert exploit.advise(NET, {"next": O}).next_hitter == O
    assert exploit.advise(NET, {"player": O}).next_hitter == O
    assert exploit.advise(NET[:1], {"next": P}).next_hitter == P
    with pytest.raises(EstimationError, match="neither"):
        exploit.advise(NET, {"next": "Somebody Else"})


def test_the_opponent_to_hit_leads_into_the_players_next_situation():
    """The opponent's likeliest shot (the later-named one of equals) is added to the rally; the advice is the
    player's after it, with the opponent's predicted shot, its mass, evidence and source, and the prediction of
    the reply to the player's shot after that."""
    class ByLength(Fixed):
        """Evidence: the rally's length + 1.4; source: 'population' for the lead (3 strokes), else 'player'."""

        def predict(self, history=None, context=None):
            self.n = len(history) + 1.4
            self.source = "population" if len(history) == 3 else "player"
            return super().predict(history, context)

    model = ByLength({"lob": 0.4, "clear": 0.4, "drop": 0.2})
    adv = advisor(model, **EXPLOIT)
    a = adv.advise(NET + [("lob", P, "9", "high")])
    assert a.lead["shot"] == "lob" and a.lead["mass"] == pytest.approx(0.4)     # 'lob' > 'clear'
    assert a.lead["n"] == 4 and a.lead["source"] == "population"
    assert a.prediction_source == "population"
    assert tuple(model.asked[0]["shot"]) == ("short service", "net shot", "lob")
    assert a.lead["state"] == "rally after lob (unknown height, unknown zone)"
    assert a.state == "rally after lob (unknown height, unknown zone)" and len(a.averaged) == 2
    assert a.prediction is a.lead["prediction"] and a.prediction_n == 4 and a.confidence == pytest.approx(6.4 / 7.4)
    assert a.lead["reply_prediction"].to_dict() == pytest.approx({s: model.probs.get(s, 0.0) for s in SHOTS})
    assert a.lead["reply_n"] == 6 and a.next_hitter == O
    assert a.lead["reply_prediction"].name == "p" and list(a.lead["reply_prediction"].index) == list(SHOTS)
    assert model.contexts[0] == {"player": O, "opponent": P, "stroke": 4}
    assert list(model.asked[0]["opponent"]) == [O, P, O]
    for asked in model.asked[1:]:
        assert tuple(asked["shot"])[:4] == ("short service", "net shot", "lob", "lob")
        assert tuple(asked["hitter"]) == (P, O, P, O, P)


def test_the_lead_of_the_opponents_serve_and_its_context(exploit):
    """The opponent to serve: their likeliest serve leads into the player's return; the prediction is asked with
    the context's score and server."""
    model = Fixed({"short service": 0.7, "long service": 0.3}, n=5.0)
    adv = advisor(model, **EXPLOIT)
    a = adv.advise([], {"server": O, "score": (3, 4)})
    assert a.next_hitter == O and a.lead["shot"] == "short service"
    assert a.lead["state"] == "return of short service (unknown height, unknown zone)"
    assert model.contexts[0] == {"player": O, "opponent": P, "stroke": 1, "score": (3, 4), "server": O}
    assert a.state == "return of short service (low, front)" and a.averaged == ()


def test_an_unrecorded_landing_averages_over_where_such_a_shot_is_taken(exploit):
    """After a lob whose landing was not recorded, the advice averages over the situations a lob is taken in,
    weighted by all players' strokes there (counted in the table): its mixes, value, interval and options."""
    bare = exploit.advise([("short service", P, "7", "low"), ("lob", O)], margin=0.05)
    ann = ANN
    counts = ann[ann["state"].str.startswith("rally after lob (")].groupby("state").size()
    weights = (counts / counts.sum()).to_dict()
    assert dict(bare.averaged) == pytest.approx(weights) and len(weights) == 2
    assert bare.state == "rally after lob (unknown height, unknown zone)"
    assert bare.equilibrium.basis == "averaged"
    assert bare.notes[-1 if len(bare.notes) == 1 else 0] == (
        "the history does not say how high or where the last shot was taken: the advice averages over where it "
        "usually is (" + ", ".join(f"{lab} {w:.0%}" for lab, w in bare.averaged) + ")")
    parts = {lab: exploit.advise([("short service", P, "7", "low"), ("lob", O, *_where(lab))], margin=0.05)
             for lab in weights}
    for name in ("equilibrium", "best response", "safe exploitation"):
        mixed = {}
        for lab, w in weights.items():
            rec = {r.name: r for r in parts[lab].recommendations}[name]
            for s, p in rec.mix.items():
                mixed[s] = mixed.get(s, 0.0) + w * p
            assert rec.name == name
        got = {r.name: r for r in bare.recommendations}[name]
        assert got.mix == pytest.approx({s: p for s, p in mixed.items() if p > 0})
        for attr in ("expected", "guarantee", "estimate"):
            assert getattr(got, attr) == pytest.approx(sum(w * getattr({r.name: r for r in parts[lab]
                                                                         .recommendations}[name], attr)
                                                           for lab, w in weights.items()))
    assert bare.value == pytest.approx(sum(w * parts[lab].value for lab, w in weights.items()))
    assert bare.value_estimate == pytest.approx(sum(w * parts[lab].value_estimate for lab, w in weights.items()))
    for k in (0, 1):
        assert bare.value_interval[k] == pytest.approx(sum(w * parts[lab].value_interval[k]
                                                           for lab, w in weights.items()))
    assert bare.decision_points == sum(parts[lab].decision_points for lab in weights)
    for source in ("pairing", "player", "all players"):
        assert bare.evidence[source] == pytest.approx(sum(w * parts[lab].evidence[source]
                                                          for lab, w in weights.items()))
    assert sum(bare.evidence.values()) == pytest.approx(1.0)
    assert bare.confidence == pytest.approx(sum(w * parts[lab].confidence for lab, w in weights.items()))
    assert bare.outside == pytest.approx(sum(w * parts[lab].outside for lab, w in weights.items()))
    first = parts[bare.averaged[0][0]]
    assert bare.reply == first.reply and bare.reply_raw == first.reply_raw


def _where(label):
    height, zone = label[label.rindex("(") + 1:-1].split(", ")
    return {"front": "1", "middle": "5", "back": "9"}[zone], height


def test_one_situation_reads_its_values_and_positions_off_the_game(exploit):
    """In one situation: the value at the lower bound, the point value and its interval are the state's; the
    opponent's positions as used are the habitual ones, as recorded the shares of the pairing's counts; the
    decision points are the player's strokes there; nothing is averaged."""
    a = exploit.advise(NET)
    g, stage = _stage(exploit, a.state)
    row = exploit.game.states.iloc[g]
    assert a.state == "rally after net shot (low, front)" and a.averaged == ()
    assert (a.player, a.opponent, a.model, a.next_hitter, a.lead) == (P, O, "fixed", P, None)
    assert a.prediction.name == "p" and a.prediction.index.name == "shot" and list(a.prediction.index) == list(SHOTS)
    assert a.prediction.sum() == pytest.approx(1.0)
    assert type(a.seconds) is float and 0 < a.seconds < 60
    assert a.sentence.startswith("After a net shot taken low at the front")
    assert not any("does not say" in n for n in a.notes)
    assert a.value == pytest.approx(stage.pessimistic_value)
    assert a.value_estimate == pytest.approx(row["value"])
    assert a.value_interval == pytest.approx((row["value_low"], row["value_high"]))
    assert a.reply == pytest.approx(dict(zip(stage.columns, stage.observed_column)))
    assert a.decision_points == sum(stage_played(exploit, g)) > 0
    assert a.options["played"].tolist() == stage_played(exploit, g)
    ann = ANN
    replies = ann[(ann["hitter"] == P) & (ann["state"] == a.state)]
    assert set(a.reply_raw) == set(stage.columns) and sum(a.reply_raw.values()) == pytest.approx(1.0)
    assert g in exploit._positions and exploit._positions[g] == a.reply_raw
    assert len(replies) >= sum(stage_played(exploit, g))


def test_the_scope_says_whether_the_pairing_carries_the_advice():
    """Against the pair's own matches most evidence is the pairing's; against a new opponent none is, and the
    advice says it is against everyone."""
    pair = advisor().advise(NET)
    assert pair.evidence["pairing"] >= 0.2 and pair.scope == "pairing"
    assert not any("little of this rests" in n for n in pair.notes)
    new = Advisor(TABLE, P, "Zed NEWCOMER", model=Fixed({"lob": 1.0}), strokes=STROKES)
    a = new.advise([("short service", P, "7", "low"), ("net shot", "Zed NEWCOMER", "1", "low")])
    assert a.scope == "player" and a.evidence["pairing"] == pytest.approx(0.0)
    assert a.notes[0] == ("Zed NEWCOMER has no strokes in the data the Advisor is built on: their play is taken to "
                          "be all players'")
    assert "little of this rests on Astrid NORDVIK against Zed NEWCOMER (0%): advice against everyone" in a.notes


def test_predicted_shots_the_next_situations_lack_are_said_so():
    """A prediction wholly on a serve, which no rally situation has: all of it is outside, said in a note; else
    the share outside is the predicted mass on shots an opponent's next state lacks, weighted by how likely each
    state is reached after the predicted rows."""
    a = advisor(Fixed({"long service": 1.0}, n=50.0)).advise(NET)
    assert a.outside == pytest.approx(1.0)
    assert ("100% of the predicted shots are ones the next situation's game does not have (left out; the others' "
            "shares scaled up to make 100 %)") in a.notes
    probs = {"net shot": 0.5, "lob": 0.3, "smash": 0.2}
    adv = advisor(Fixed(probs, n=50.0))
    b = adv.advise(NET)
    g, _ = _stage(adv, b.state)
    rows, _ = _reference_rows(adv, g, 3)
    who = adv.game.states["who"].to_numpy()
    lost = reached = 0.0
    for i in rows:
        weight = np.asarray(adv.game.transitions[g], float)[i].sum(axis=0)
        for s in np.flatnonzero((weight > 0) & (who == "opponent")):
            cols = adv.game.layout.column_labels[s]
            lost += weight[s] * (1 - sum(probs.get(c, 0.0) for c in cols))
            reached += weight[s]
    assert 0.005 < b.outside == pytest.approx(lost / reached)
    assert f"{b.outside:.0%} of the predicted shots are ones" in " ".join(b.notes)


def test_a_situation_without_the_players_strokes_gets_no_advice(exploit):
    """After a rush taken high at the front the data hold no stroke of the player: no mixes, a note, the
    prediction uniform (the player hits next) and no evidence; with the opponent to hit, their lead."""
    a = exploit.advise([("short service", P, "7", "low"), ("rush", O, "1", "high")], margin=0.05)
    assert a.equilibrium is None and a.best_response is None and a.safe is None and a.recommendations == ()
    assert a.notes == ("no advice after a rush taken high at the front: the data hold no strokes of Astrid NORDVIK "
                       "in this situation",)
    assert a.state == "rally after rush (high, front)" and a.scope == "none" and a.decision_points == 0
    np.testing.assert_allclose(a.prediction.to_numpy(), np.full(len(SHOTS), 1 / len(SHOTS)))
    assert list(a.prediction.index) == list(SHOTS) and a.prediction_n == 0 and a.prediction_source == "fallback"
    assert a.margin == 0.05 and a.margin_asked == 0.05 and a.value is None and a.sentence
    assert a.reply == {} and a.reply_raw == {} and a.outside == 0.0 and a.confidence == 0.0
    assert (a.player, a.opponent, a.model, a.next_hitter, a.prediction.name) == (P, O, "fixed", P, "p")
    assert type(a.seconds) is float and 0 < a.seconds < 60
    model = Fixed({"passive drop": 1.0}, n=9.0)
    led = advisor(model, **EXPLOIT).advise([("short service", P, "7", "low"), ("lob", O, "9", "high"),
                                            ("drop", P, "1", "low")])
    assert led.next_hitter == O and led.lead["shot"] == "passive drop" and led.equilibrium is None
    assert led.prediction is led.lead["prediction"] and led.prediction_n == 9 and led.prediction_source == "player"


def test_the_situations_of_a_label(exploit):
    """A situation the game has is its own state; one with height or zone unknown is the states that agree with
    it, weighted by all players' strokes; one the game lacks is none; the opponent's states are asked apart."""
    g = exploit.game.index("player: rally after net shot (low, front)")
    assert exploit.states_of("rally after net shot (low, front)") == ([g], [1.0])
    states, weights = exploit.states_of("rally after lob (unknown height, back)")
    assert [exploit.game.labels[s] for s in states] == ["player: rally after lob (high, back)"] and weights == [1.0]
    states, weights = exploit.states_of("rally after lob (unknown height, unknown zone)")
    assert sorted(exploit.game.labels[s] for s in states) == ["player: rally after lob (high, back)",
                                                              "player: rally after lob (high, middle)"]
    assert sum(weights) == pytest.approx(1.0)
    assert exploit.states_of("rally after rush (high, front)") == ([], [])
    assert exploit.states_of("rally after tweener (low, front)") == ([], [])
    opp = exploit.game.index("opponent: return of short service (low, front)")
    assert exploit.states_of("return of short service (low, front)", "opponent") == ([opp], [1.0])
    states, _ = exploit.states_of("return of short service (unknown height, front)", "opponent")
    assert states == [opp]


def test_the_advisors_situations_are_the_players_stages(exploit):
    games = exploit.games
    who = exploit.game.states["who"].to_numpy()
    assert len(games) == int((who == "player").sum())
    assert "serve" in games and "rally after net shot (low, front)" in games
    for label, stage in games.items():
        assert stage.rows == exploit.game.stage(f"player: {label}").rows


# -- fitting ----------------------------------------------------------------------------------------------------
def test_the_settings_are_kept_and_reach_the_game():
    """Settings are kept as numbers; the situation rule reaches the game (no heights: zones only)."""
    adv = Advisor(TABLE, P, O, model=Fixed({"lob": 1.0}), n0=3, min_action_count=4.0, min_share="0.05",
                  min_count=7.0, level="0.8", cache_size=9.0, reply_predictions=2.0, heights=False)
    assert (adv.n0, adv.min_action_count, adv.min_share, adv.min_count, adv.level, adv.cache_size,
            adv.reply_predictions) == (3.0, 4, 0.05, 7, 0.8, 9, 2)
    assert type(adv.n0) is float and type(adv.min_action_count) is int and type(adv.cache_size) is int
    settings = adv.game.structure.settings
    assert (settings.min_action_count, settings.min_share, settings.min_count, settings.level) == (4, 0.05, 7, 0.8)
    assert adv.heights is False and adv.zones is True and adv.rally_rule == "shot"
    led = adv.advise(NET + [("lob", P, "9", "high")])
    assert led.lead["shot"] == "lob" and led.lead["state"] == "rally after lob to unknown zone"
    assert led.prediction.index.name == "shot" and list(led.prediction.index) == list(SHOTS)
    assert "player: rally after net shot to front" in adv.game.labels
    assert adv.states_of("rally after net shot to front") == ([adv.game.index("player: rally after net shot to front")],
                                                              [1.0])
    assert adv.data_label == "table" and adv.fitted is True and 0 < adv.build_seconds < 60
    assert adv.model_label == "fixed" and adv.sport.name == "badminton"


def test_the_documented_defaults():
    adv = Advisor(TABLE, P, O, fit=False)
    assert (adv.n0, adv.min_action_count, adv.min_share, adv.min_count, adv.level, adv.cache_size,
            adv.reply_predictions) == (20.0, 5, 0.02, 10, 0.9, 4096, 3)
    assert adv.situation == {"states": None, "zones": None, "heights": None} and adv.strokes is None
    assert adv.fitted is False and adv.model_asked is None


def test_the_strokes_given_are_the_ones_the_game_is_estimated_on():
    """Strokes prepared without heights make a game without heights, whatever the table records."""
    adv = Advisor(TABLE, P, O, model=Fixed({"lob": 1.0}), strokes=prepare(TABLE, zones=True, heights=False))
    assert adv.heights is False and "player: rally after net shot to front" in adv.game.labels


def test_the_player_and_opponent_default_to_the_most_frequent():
    """Without names: the player with the most strokes and the opponent they met most (counted here)."""
    table = TABLE[~((TABLE["hitter"] == O) & (TABLE.index % 2 == 0))]        # fewer strokes of Dev MALHOTRA
    counts = table["hitter"].value_counts()
    assert counts.index[0] == P
    adv = Advisor(table, model=Fixed({"lob": 1.0}))
    assert adv.player == P and adv.opponent == O and adv.player_asked is None
    assert Advisor(TABLE, "dev malhotra", model=Fixed({"lob": 1.0})).player == O


@pytest.mark.parametrize("change, names, message", [
    (lambda t: t.assign(sport=np.where(t.index == 0, "tennis", t["sport"])), (P, O), "mix sports"),
    (lambda t: t, (P, P), "both 'Astrid NORDVIK'"),
    (lambda t: t, ("Nobody Atall", O), "^unknown player 'Nobody Atall'"),
    (lambda t: t.assign(opponent=np.where(t.index == 0, "Ghost PLAYER", t["opponent"])), ("Ghost PLAYER", None),
     "Ghost PLAYER hits no stroke"),
])
def test_data_and_names_that_cannot_be_advised_are_refused(change, names, message):
    with pytest.raises(EstimationError, match=message):
        Advisor(change(TABLE.copy()), *names, model=Fixed({"lob": 1.0}))


def test_a_model_that_cannot_be_used_is_refused():
    from strategist.errors import OpponentModelError

    class Broken:
        def __init__(self):
            raise OpponentModelError("broken")

    import strategist.advice.advisor as module

    def resolve(model, table):
        raise OpponentModelError("no such kind")
    original = module.resolve_model
    module.resolve_model = resolve
    try:
        with pytest.raises(EstimationError, match="^the opponent model cannot be used: no such kind$"):
            Advisor(TABLE, P, O, strokes=STROKES)
    finally:
        module.resolve_model = original


def test_the_default_models_note_is_kept(monkeypatch):
    import strategist.advice.advisor as module

    given = []
    monkeypatch.setattr(module, "resolve_model",
                        lambda model, table: given.append((model, table)) or (Fixed({"lob": 1.0}), "fixed", "fitted once"))
    adv = Advisor(TABLE, P, O, strokes=STROKES)
    assert adv.notes == ["fitted once"] and adv.model_label == "fixed"
    assert given == [(None, TABLE)] and given[0][1] is TABLE
    monkeypatch.setattr(module, "resolve_model", lambda model, table: (Fixed({"lob": 1.0}), "fixed", None))
    assert Advisor(TABLE, P, O, strokes=STROKES).notes == []


def test_an_unfitted_advisor_refuses_to_advise_until_fitted():
    adv = Advisor(None, P, O, model=Fixed({"lob": 1.0}), strokes=STROKES, fit=False)
    assert not adv.fitted
    with pytest.raises(EstimationError, match="not fitted"):
        adv.advise(NET)
    assert adv.fit(TABLE) is adv and adv.fitted and adv.data_label == "table"
    assert adv.table is TABLE and adv.player == P and adv.opponent == O


@pytest.mark.parametrize("k", [0, -1])
def test_at_least_one_reply_prediction(k):
    with pytest.raises(EstimationError, match="reply_predictions must be at least 1"):
        Advisor(TABLE, P, O, reply_predictions=k, fit=False)
    assert Advisor(TABLE, P, O, reply_predictions=1, fit=False).reply_predictions == 1


def test_prepare_makes_the_usable_strokes_once():
    """prepare(table) is the table's usable strokes under the situation rule asked for, read off the table's
    annotation when it is given (a wrong one is refused)."""
    from strategist.rally.model import situation_annotation

    _same_strokes(prepare(TABLE), STROKES)
    settings = dict(states="group:tactic", zones=True, heights=False)
    made = prepare(TABLE, **settings)
    _same_strokes(made, strokes(TABLE, RallySettings(**settings)))
    assert (made.rally_rule, made.zones, made.heights) == ("group:tactic", True, False)
    annotated = situation_annotation(TABLE, RallySettings(**settings))
    _same_strokes(prepare(TABLE, annotated=annotated, **settings), made)
    with pytest.raises(EstimationError, match="the annotated table has 3 rows"):
        prepare(TABLE, annotated=annotated.head(3))


def _same_strokes(a, b):
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert (a.dropped, a.rally_rule, a.zones, a.heights, a.columns) == (b.dropped, b.rally_rule, b.zones, b.heights,
                                                                        b.columns)


def test_situations_the_data_left_open_are_averaged_with_the_states_that_agree():
    """Where some lobs' heights and some clears' landings were not recorded, the game has states with an
    unknown height or zone; asking for such a situation averages that state with the recorded ones that agree,
    weighted by all players' strokes (counted in the table); a recorded situation is its own state."""
    table = TABLE.copy()
    lobs, clears = table.index[table["shot"] == "lob"], table.index[table["shot"] == "clear"]
    table.loc[lobs[::3], "landing_height"] = pd.NA
    table.loc[clears[::3], "landing_area"] = pd.NA
    adv = Advisor(table, P, O, model=Fixed({"drop": 1.0}))
    counts = annotate_states(table, situation=True)["state"].value_counts()
    for wanted, agreeing in [
        ("rally after lob (unknown height, back)", ["rally after lob (high, back)",
                                                    "rally after lob (unknown height, back)"]),
        ("rally after clear (high, unknown zone)", ["rally after clear (high, back)", "rally after clear (high, middle)",
                                                    "rally after clear (high, unknown zone)"]),
    ]:
        assert f"player: {wanted}" in adv.game.labels
        present = [lab for lab in agreeing if f"player: {lab}" in adv.game.labels]
        assert len(present) >= 2
        states, weights = adv.states_of(wanted)
        got = dict(zip((adv.game.labels[g].split(": ", 1)[1] for g in states), weights))
        total = sum(counts[lab] for lab in present)
        assert got == pytest.approx({lab: counts[lab] / total for lab in present})
    g = adv.game.index("player: rally after lob (high, back)")
    assert adv.states_of("rally after lob (high, back)") == ([g], [1.0])
