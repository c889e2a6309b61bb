"""The Advisor's small parts, each against a hand-worked case: reading situation labels (prefix, incoming shot,
serve direction, agreement of known parts), the opponent's name, the model's name and how the model argument is
resolved, how the data argument is read, the recommendations and the advice as dictionaries, and the positions
and visits read off a game's count matrices."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import strategist.opponent  # noqa: F401 - imported once here (torch), not in a test's time
from strategist.advice.advisor import (Advice, Recommendation, _agrees, _incoming, _is_direction, _load_table,
                                       _opponent_name, _prefix, _raw_positions, _situations_after, _usual,
                                       model_name, resolve_model)
from strategist.errors import EstimationError


# -- situation labels ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label, prefix", [
    ("rally after net shot (low, front)", "rally after net shot"),
    ("return of short service (unknown height, back)", "return of short service"),
    ("serve (deuce, 2nd)", "serve (deuce, 2nd)"),            # a serve's parenthesis is its side, not a height
    ("rally after lob to back", "rally after lob to back"),  # no height: nothing to take off
    ("rally after lob (low, back) to x", "rally after lob (low, back) to x"),
    ("rally after drive (a (b), c)", "rally after drive"),    # cut at the first parenthesis
])
def test_a_labels_prefix_drops_its_height_and_zone(label, prefix):
    assert _prefix(label) == prefix


@pytest.mark.parametrize("prefix, shot", [
    ("rally after net shot", "net shot"), ("return of short service", "short service"), ("serve", "serve"),
    ("rally after shot after smash", "shot after smash"),       # cut at the first " after "
    ("return of one of two", "one of two"),                     # cut at the first " of "
    ("rally after return of serve", "return of serve"),          # " after " is looked for first
])
def test_the_incoming_shot_is_what_follows_after_or_of(prefix, shot):
    assert _incoming(prefix) == shot


@pytest.mark.parametrize("label, head, tail, expected", [
    ("return of wide serve", "return of ", "", True),
    ("return of body serve (deuce)", "return of ", " (deuce)", True),
    ("return of body serve (ad)", "return of ", " (deuce)", False),         # another side
    ("rally after wide serve", "return of ", "", False),                    # another phase
    ("return of wide", "return of ", "", False),                            # not a serve direction
    ("return of unknown direction serve", "return of ", "", False),         # a direction not recorded
    ("return of serve", "return of ", "", False),                           # no direction at all
])
def test_a_recorded_serve_direction_is_recognised(label, head, tail, expected):
    assert _is_direction(label, head, tail) is expected


@pytest.mark.parametrize("state, wanted, expected", [
    ("player: rally after net shot (low, front)", "rally after net shot (low, front)", True),
    ("player: rally after net shot (low, front)", "rally after net shot (unknown height, front)", True),
    ("player: rally after net shot (high, front)", "rally after net shot (unknown height, front)", True),
    ("player: rally after net shot (low, back)", "rally after net shot (unknown height, front)", False),
    ("player: rally after net shot (low, back)", "rally after net shot (low, unknown zone)", True),
    ("player: rally after net shot (high, back)", "rally after net shot (low, unknown zone)", False),
    ("player: rally after net shot (high, back)", "rally after net shot (unknown height, unknown zone)", True),
    ("player: rally after net shot (high, back)", "rally after net shot (high, back)", True),
    ("player: rally after net shot (high, back)", "rally after net shot (low, back)", False),
    ("player: rally after lob (low, front)", "rally after net shot (unknown height, front)", False),
    # a state that itself left height or zone open stands only for itself
    ("player: rally after net shot (unknown height, front)", "rally after net shot (unknown height, front)", True),
    ("player: rally after net shot (unknown height, front)", "rally after net shot (unknown height, unknown zone)",
     False),
    ("player: rally after net shot (low, unknown zone)", "rally after net shot (unknown height, unknown zone)",
     False),
    ("player: rally after lob", "rally after lob (unknown height, back)", False),
    ("player: rally after lob (low, back)", "rally after lob", False),
    ("opponent: return of wide serve", "return of unknown direction", True),
    ("player: return of body serve (deuce)", "return of unknown direction (deuce)", True),
    ("player: return of body serve (ad)", "return of unknown direction (deuce)", False),
    ("player: return of unknown direction", "return of unknown direction", False),
    # the situation is everything after the first ": "; the serve's direction is the first "unknown direction"
    ("player: rally after a: b (low, front)", "rally after a: b (unknown height, front)", True),
    ("player: return of wide serve (unknown direction)", "return of unknown direction (unknown direction)", True),
    # the height and zone are read from the last parenthesis
    ("player: rally after x (y) (low, front)", "rally after x (y) (unknown height, front)", True),
    ("player: rally after x (y) (low, front)", "rally after x (y) (low, unknown zone)", True),
])
def test_a_state_agrees_with_the_known_parts_of_a_situation(state, wanted, expected):
    assert _agrees(state, wanted) is expected


# -- names -----------------------------------------------------------------------------------------------------------
PEOPLE = ["Astrid NORDVIK", "Dev MALHOTRA"]


def test_the_opponents_name_is_spelt_as_the_data_spell_it():
    notes = []
    assert _opponent_name("Dev MALHOTRA", PEOPLE, notes) == "Dev MALHOTRA"
    assert _opponent_name("dev malhotra", PEOPLE, notes) == "Dev MALHOTRA"
    assert notes == []


def test_a_name_close_to_one_in_the_data_is_refused_as_a_likely_typo():
    notes = []
    with pytest.raises(EstimationError, match="^unknown opponent 'Dev MALHOTRO'.*did you mean 'Dev MALHOTRA'"):
        _opponent_name("Dev MALHOTRO", PEOPLE, notes)
    assert notes == []


def test_a_name_far_from_all_in_the_data_is_a_new_opponent_with_a_note():
    """'Devi MAL' is 0.70 like 'dev malhotra' (difflib): under the 0.75 of a likely typo, so a new opponent."""
    notes = ["kept"]
    assert _opponent_name("  Devi MAL ", PEOPLE, notes) == "Devi MAL"
    assert notes == ["kept", "  Devi MAL  has no strokes in the data the Advisor is built on: their play is taken "
                             "to be all players'"]
    assert _opponent_name("Zed NEWCOMER", PEOPLE, notes) == "Zed NEWCOMER"
    assert notes[-1] == ("Zed NEWCOMER has no strokes in the data the Advisor is built on: their play is taken to be "
                         "all players'")


class _Kind:
    def __init__(self, kind=None, order=None, **more):
        if kind is not None:
            self.kind = kind
        if order is not None:
            self.order = order
        self.__dict__.update(more)

    def predict(self, history=None, context=None):      # pragma: no cover - never asked here
        raise AssertionError


@pytest.mark.parametrize("model, name", [
    (_Kind(), "given"), (_Kind("markov", 2), "markov2"), (_Kind("markov"), "markov"), (_Kind("markov", 0), "markov0"),
    (_Kind("frequency", 3), "frequency"), (_Kind(7), "7"), (_Kind("neural", None), "neural"),
])
def test_a_models_name_is_its_kind_with_a_markov_order(model, name):
    assert model_name(model, "given") == name


def test_the_model_argument_is_resolved(monkeypatch, tmp_path):
    """An object with predict is used as it is (named by its kind, else its class); a folder or a Path is
    loaded; a kind is fitted on the table; None is the package's default model, kept per data set, with its
    note."""
    import strategist.opponent as opponent
    import strategist.opponent.cache as cache

    calls = []
    monkeypatch.setattr(opponent, "load_model", lambda m: calls.append(("load", m)) or _Kind("markov", 4))
    monkeypatch.setattr(opponent, "fit_model",
                        lambda kind, table: calls.append(("fit", kind, table)) or _Kind("frequency"))
    monkeypatch.setattr(opponent, "DEFAULT_MODEL", "defaultkind")
    monkeypatch.setattr(cache, "cached_model",
                        lambda kind, table: calls.append(("cached", kind, table)) or (_Kind("markov", 1), "kept"))
    table = pd.DataFrame({"x": [1]})
    given = _Kind("frequency")
    assert resolve_model(given, table) == (given, "frequency", None)
    plain = _Kind()
    assert resolve_model(plain, table) == (plain, "_Kind", None)
    assert calls == []
    model, name, note = resolve_model(str(tmp_path), table)
    assert (name, note, calls[-1]) == ("markov4", None, ("load", str(tmp_path)))
    model, name, note = resolve_model(tmp_path / "absent", table)          # a Path is always a saved model
    assert (name, note, calls[-1]) == ("markov4", None, ("load", tmp_path / "absent"))
    model, name, note = resolve_model(None, table)
    assert (name, note, calls[-1][:2]) == ("markov1", "kept", ("cached", "defaultkind"))
    assert calls[-1][2] is table
    model, name, note = resolve_model("markov3", table)                     # a kind, no such folder
    assert (name, note, calls[-1][:2]) == ("frequency", None, ("fit", "markov3"))
    assert calls[-1][2] is table
    model, name, note = resolve_model(3, table)                             # no predict: read as a kind
    assert calls[-1][:2] == ("fit", "3") and name == "frequency"
    assert len(calls) == 5


def test_a_loaded_or_fitted_model_without_a_kind_is_named_by_its_origin(monkeypatch, tmp_path):
    import strategist.opponent as opponent

    monkeypatch.setattr(opponent, "load_model", lambda m: _Kind())
    monkeypatch.setattr(opponent, "fit_model", lambda kind, table: _Kind())
    assert resolve_model(str(tmp_path), None)[1] == "loaded model"
    assert resolve_model("markov3", None)[1] == "markov3"


def test_a_default_model_without_a_kind_is_named_after_the_default(monkeypatch):
    import strategist.opponent as opponent
    import strategist.opponent.cache as cache

    monkeypatch.setattr(opponent, "DEFAULT_MODEL", "defaultkind")
    monkeypatch.setattr(cache, "cached_model", lambda kind, table: (_Kind(), None))
    assert resolve_model(None, pd.DataFrame())[1:] == ("defaultkind", None)


# -- the data argument -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    """A small canonical table (the simulated pair's) written as a file the loader reads."""
    from tests.rally.pair import pair_table

    path = tmp_path_factory.mktemp("advisor_data") / "pair.csv"
    pair_table(1, 3).to_csv(path, index=False)
    return path


def test_the_data_argument_is_read(small_csv, monkeypatch):
    """A table is used as it is; a path (text or Path) is loaded; a LoadResult gives its table and its first
    file (or its layout when it has none); None is the shipped demo; anything else is refused."""
    from strategist.data import demo
    from strategist.data.load import LoadResult, load_rallies

    frame = pd.DataFrame({"a": [1]})
    table, label = _load_table(frame)
    assert table is frame and label == "table"
    reference = load_rallies(small_csv).table
    for given in (small_csv, str(small_csv)):
        table, label = _load_table(given)
        pd.testing.assert_frame_equal(table, reference)
        assert label == str(small_csv)
    loaded = load_rallies(small_csv)
    assert _load_table(loaded) == (loaded.table, str(loaded.paths[0]))
    bare = LoadResult(frame, loaded.rejections, loaded.sport, "some layout")
    assert _load_table(bare) == (frame, "some layout")
    monkeypatch.setattr(demo, "demo_path", lambda: small_csv)
    table, label = _load_table(None)
    pd.testing.assert_frame_equal(table, reference)
    assert label == "demo"
    with pytest.raises(EstimationError, match="got int"):
        _load_table(3)


# -- recommendations and advice as dictionaries ---------------------------------------------------------------------
def test_a_recommendations_main_shot_and_its_shots_above_a_threshold():
    rec = Recommendation("safe exploitation", {"lob": 0.2, "drop": 0.7, "clear": 0.005, "smash": 0.095},
                         0.55, 0.5, {"lob": 3, "drop": 9})
    assert rec.main == "drop"
    assert rec.shots() == [("drop", 0.7), ("lob", 0.2), ("smash", 0.095), ("clear", 0.005)]
    assert rec.shots(0.1) == [("drop", 0.7), ("lob", 0.2)]
    assert rec.shots(0.2) == [("drop", 0.7), ("lob", 0.2)]                   # the threshold itself is kept
    assert rec.basis == "" and np.isnan(rec.estimate) and rec.evidence == {}
    d = rec.to_dict()
    assert d == {"name": "safe exploitation", "mix": rec.mix, "expected": 0.55, "guarantee": 0.5,
                 "counts": {"lob": 3, "drop": 9}, "basis": "", "estimate": d["estimate"], "evidence": {}}
    assert np.isnan(d["estimate"])
    d["mix"]["lob"] = 1.0                                                      # a copy: the mix is not changed
    d["counts"]["lob"] = 1
    d["evidence"]["x"] = 1
    assert rec.mix["lob"] == 0.2 and rec.counts["lob"] == 3 and rec.evidence == {}


def _advice(**changes):
    eq = Recommendation("equilibrium", {"lob": 1.0}, 0.6, 0.5, {"lob": 4}, "pessimistic equilibrium", 0.61,
                        {"pairing": 0.5, "player": 0.3, "all players": 0.2})
    safe = Recommendation("safe exploitation", {"drop": 1.0}, 0.65, 0.45, {"drop": 2}, "safe exploitation", 0.66)
    base = dict(player="A", opponent="B", next_hitter="A", state="rally after lob (low, back)", model="fixed",
                prediction=pd.Series([0.25, 0.75], index=pd.Index(["lob", "drop"], name="shot"), name="p"),
                prediction_n=12, prediction_source="player", reply={"front": 1.0}, reply_raw={"front": 0.5},
                outside=0.0, confidence=0.375, value=0.55, equilibrium=eq, best_response=None, safe=safe,
                margin=0.02, margin_asked=0.05, decision_points=7, scope="pairing", sentence="s")
    base.update(changes)
    return Advice(**base)


def test_the_advice_as_a_dictionary():
    options = pd.DataFrame({"win_probability": [0.6, 0.4]}, index=pd.Index(["lob", "drop"], name="shot"))
    lead = {"prediction": pd.Series([0.1, 0.9], index=["lob", "drop"]), "n": 3, "shot": "drop"}
    a = _advice(options=options, lead=lead, value_estimate=0.6, value_interval=(0.5, 0.7), notes=("n1",),
                averaged=(("rally after lob (low, back)", 0.25), ("rally after lob (high, back)", 0.75)),
                evidence={"pairing": 1.0})
    assert a.recommendations == (a.equilibrium, a.safe)
    d = a.to_dict()
    assert d["prediction"] == {"lob": 0.25, "drop": 0.75}
    assert all(type(v) is float for v in d["prediction"].values())
    assert d["recommendations"] == {"equilibrium": a.equilibrium.to_dict(),
                                    "safe exploitation": a.safe.to_dict()}
    assert d["options"] == [{"shot": "lob", "win_probability": 0.6}, {"shot": "drop", "win_probability": 0.4}]
    assert d["value_interval"] == [0.5, 0.7] and d["value_estimate"] == 0.6
    assert d["averaged"] == [["rally after lob (low, back)", 0.25], ["rally after lob (high, back)", 0.75]]
    assert d["lead"] == {"prediction": {"lob": 0.1, "drop": 0.9}, "n": 3, "shot": "drop"}
    assert d["notes"] == ["n1"] and d["evidence"] == {"pairing": 1.0}
    plain = {k: d[k] for k in ("player", "opponent", "next_hitter", "state", "model", "prediction_n",
                               "prediction_source", "reply", "reply_raw", "outside", "confidence", "value",
                               "margin", "margin_asked", "decision_points", "scope", "sentence")}
    assert plain == {"player": "A", "opponent": "B", "next_hitter": "A", "state": "rally after lob (low, back)",
                     "model": "fixed", "prediction_n": 12, "prediction_source": "player", "reply": {"front": 1.0},
                     "reply_raw": {"front": 0.5}, "outside": 0.0, "confidence": 0.375, "value": 0.55,
                     "margin": 0.02, "margin_asked": 0.05, "decision_points": 7, "scope": "pairing", "sentence": "s"}
    assert set(d) == set(plain) | {"prediction", "recommendations", "options", "value_interval", "value_estimate",
                                   "averaged", "lead", "notes", "evidence"}


def test_an_advice_without_options_interval_or_lead():
    a = _advice(equilibrium=None, safe=None)
    assert a.recommendations == ()
    assert a.lead is None and a.notes == () and a.seconds == 0.0 and a.options is None and a.averaged == ()
    assert a.value_estimate is None and a.value_interval is None and a.evidence == {}
    d = a.to_dict()
    assert d["options"] is None and d["value_interval"] is None and d["lead"] is None
    assert d["recommendations"] == {} and d["averaged"] == [] and d["notes"] == []


# -- counts read off a game --------------------------------------------------------------------------------------
def _fake_game():
    """Three states (columns 0-1, 2-4, 5-6 of the row counts; columns 0-2, 3-3, 4-5 of the column counts)."""
    states = pd.DataFrame({"who": ["player", "player", "opponent"],
                           "decision_state": ["rally after lob (low, back)", "rally after lob (high, back)",
                                              "rally after lob (low, back)"]})
    row_all = np.array([[1, 2, 0, 0, 5, 1, 1],
                        [0, 1, 3, 4, 0, 0, 2]])
    col_game = np.array([[2, 1, 0, 0, 0, 0],
                         [2, 0, 0, 0, 0, 0]])
    structure = SimpleNamespace(row_counts={"all": row_all}, row_offsets=[0, 2, 5, 7], states=states,
                                column_counts={"game": col_game}, column_offsets=[0, 3, 4, 6],
                                columns=[("front", "middle", "back"), ("front",), ("middle", "back")])
    return SimpleNamespace(structure=structure)


def test_the_situations_after_a_shot_count_all_players_strokes():
    """Per (who, incoming shot, situation without height and zone): each state with all players' strokes in it
    (the row counts of its columns, summed over every row of the count matrix)."""
    out = _situations_after(_fake_game())
    assert out == {("player", "lob", "rally after lob"): [(0, 4.0), (1, 12.0)],
                   ("opponent", "lob", "rally after lob"): [(2, 4.0)]}


def test_the_opponents_recorded_positions_are_the_shares_of_the_games_counts():
    game = _fake_game()
    assert _raw_positions(game, 0) == {"front": pytest.approx(4 / 5), "middle": pytest.approx(1 / 5), "back": 0.0}
    assert _raw_positions(game, 2) == {"middle": 0.0, "back": 0.0}           # nothing recorded there
    assert all(type(v) is float for v in _raw_positions(game, 2).values())


def test_the_usual_mix_is_weighted_over_the_situations():
    parts = [{"sa": SimpleNamespace(rows=("lob", "drop"), usual=np.array([0.5, 0.5]))},
             {"sa": SimpleNamespace(rows=("drop", "clear"), usual=np.array([0.2, 0.8]))}]
    np.testing.assert_allclose(_usual(parts, [0.25, 0.75], ["lob", "drop", "clear"]),
                               [0.125, 0.125 + 0.15, 0.6])

