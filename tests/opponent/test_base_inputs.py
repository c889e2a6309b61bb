"""The opponent-model inputs of strategist.opponent.base against hand-worked values."""

import numpy as np
import pandas as pd
import pytest

from strategist.errors import OpponentModelError
from strategist.opponent.base import (Context, History, OpponentModel, Prediction, PredictionCache, Vocabulary,
                                      column_floats, column_list, column_values, next_state, positions_in_rally,
                                      rally_frame, to_context, to_history)


def test_cache_drops_oldest_when_full():
    """A full cache evicts its oldest key first and keeps exactly ``size`` entries."""
    cache = PredictionCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert len(cache) == 2 and cache.get("a") is None and cache.get("b") == 2 and cache.get("c") == 3


def test_cache_of_size_zero_stores_nothing():
    """A cache of size 0 keeps nothing; size 1 keeps the latest only."""
    zero, one = PredictionCache(0), PredictionCache(1)
    zero.put("a", 1)
    one.put("a", 1)
    one.put("b", 2)
    assert len(zero) == 0 and zero.get("a") is None
    assert len(one) == 1 and one.get("b") == 2


def test_positions_count_from_each_rally_start():
    """Positions restart at 0 at every new rally id, counted by hand."""
    frame = pd.DataFrame({"rally_id": ["r1", "r1", "r1", "r2", "r3", "r3"]})
    assert positions_in_rally(frame).tolist() == [0, 1, 2, 0, 0, 1]
    assert positions_in_rally(frame.iloc[:0]).tolist() == []


def _table(rallies, strokes):
    n = len(rallies)
    return pd.DataFrame({"match_id": ["m"] * n, "rally_id": rallies, "stroke": strokes, "hitter": ["A"] * n,
                         "opponent": ["B"] * n, "shot": ["clear"] * n})


def test_rally_frame_sorts_by_rally_then_stroke():
    """Rows come back in (rally_id, stroke) order with a fresh 0..n-1 index."""
    table = _table(["r2", "r1", "r1", "r2"], [1, 2, 1, 2]).set_axis([7, 8, 9, 10])
    out = rally_frame(table)
    assert list(zip(out["rally_id"], out["stroke"])) == [("r1", 1), ("r1", 2), ("r2", 1), ("r2", 2)]
    assert out.index.tolist() == [0, 1, 2, 3]


def test_rally_frame_sorts_equal_strokes_and_resets_sorted_index():
    """Already sorted rows keep their order but get a 0..n-1 index; a stroke out of order in a rally is sorted."""
    sorted_table = _table(["r1", "r1", "r2"], [1, 2, 1]).set_axis([5, 6, 7])
    assert rally_frame(sorted_table).index.tolist() == [0, 1, 2]
    unsorted = _table(["r1", "r1"], [2, 1])
    assert rally_frame(unsorted)["stroke"].tolist() == [1, 2]
    with pytest.raises(OpponentModelError):
        rally_frame(unsorted.drop(columns="opponent"))


def test_column_floats_reads_text_and_missing():
    """Numbers written as text are parsed, the rest become NaN."""
    frame = pd.DataFrame({"x": ["1.5", None, "abc", "2"]})
    out = column_floats(frame, "x")
    assert out[0] == 1.5 and np.isnan(out[1]) and np.isnan(out[2]) and out[3] == 2.0 and out.dtype == np.float64
    parsed = column_floats(pd.DataFrame({"x": ["3", None, "4.5"]}), "x")
    assert parsed.dtype == np.float64 and parsed[0] == 3.0 and np.isnan(parsed[1]) and parsed[2] == 4.5


def _rally():
    return pd.DataFrame({"stroke": [2, 1, 3], "shot": ["net shot", "short service", "lob"],
                         "hitter": ["B", "A", "A"], "opponent": ["A", "B", "B"],
                         "landing_area": ["7", None, np.nan], "server": ["S", "S", "S"], "match_id": ["m1"] * 3})


BAD = Vocabulary.of("badminton")


def test_to_history_sorts_strokes_and_reads_columns():
    """Strokes out of order are sorted by stroke number before shots, hitters and areas are read."""
    h = to_history(_rally(), BAD)
    idx = BAD.index
    assert h.shots == (idx["short service"], idx["net shot"], idx["lob"])
    assert h.hitters == ("A", "B", "A") and h.areas == (None, "7", None) and len(h) == 3


def test_to_history_edges():
    """None and an empty frame give no strokes; a History passes through; bad inputs raise."""
    assert len(to_history(None, BAD)) == 0
    empty = to_history(_rally().iloc[:0], BAD)
    assert len(empty) == 0 and empty.frame is not None and empty.hitters == () and empty.areas == ()
    h = History((1, 2))
    assert to_history(h, BAD) is h
    assert h.hitters == (None, None) and h.areas == (None, None)
    with pytest.raises(OpponentModelError):
        to_history([1, 2], BAD)
    with pytest.raises(OpponentModelError):
        to_history(_rally().drop(columns="shot"), BAD)


def test_to_context_fills_from_history():
    """Next player is the last receiver, opponent the last hitter, server and match read from the frame."""
    ctx = to_context(to_history(_rally(), BAD), None)
    assert (ctx.player, ctx.opponent, ctx.stroke, ctx.server, ctx.match_id) == ("B", "A", 4, "S", "m1")


def test_to_context_opponent_when_player_hit_last():
    """When the given player hit last, the opponent is the last stroke's receiver; server falls back to the
    first hitter without a server column."""
    frame = _rally().drop(columns=["server", "match_id"])
    ctx = to_context(to_history(frame, BAD), {"player": "A"})
    assert (ctx.player, ctx.opponent, ctx.server, ctx.match_id) == ("A", "B", "A", None)
    only = to_context(to_history(frame, BAD), {"player": "C", "opponent": "D", "server": "E"})
    assert (only.player, only.opponent, only.server) == ("C", "D", "E")


def test_to_context_from_dict_and_context():
    """Given values are kept, the score becomes ints, stroke defaults to strokes + 1, unknown keys raise."""
    h = to_history(_rally(), BAD)
    ctx = to_context(h, {"stroke": None, "score": [1.0, 2], "court_side": "left"})
    assert ctx.stroke == 4 and ctx.score == (1, 2) and ctx.court_side == "left"
    assert to_context(h, {"stroke": 9}).stroke == 9
    given = Context(player="P", opponent="Q", stroke=7, server="R", match_id="x")
    copy = to_context(h, given)
    assert copy == given and copy is not given
    with pytest.raises(OpponentModelError):
        to_context(h, {"hitter": "A"})
    first = to_context(to_history(None, BAD), {"player": "A"})
    assert (first.player, first.server, first.stroke) == ("A", "A", 1)


def test_column_list_gives_python_scalars():
    """Numpy, masked and Arrow columns come back as Python scalars with None for missing."""
    frame = pd.DataFrame({"n": [1, 2, 4], "m": pd.array([1, None, 3], dtype="Int64"),
                          "s": pd.array(["x", None, "y"], dtype="string[pyarrow]"), "o": ["p", None, "q"]})
    assert column_list(frame, "n") == [1, 2, 4] and type(column_list(frame, "n")[0]) is int
    assert column_list(frame, "m") == [1, None, 3]
    assert column_list(frame, "s") == ["x", None, "y"]
    assert column_list(frame, "o") == ["p", None, "q"]


def test_column_values_refuses_duplicate_names():
    """Two columns of one name raise; a unique one gives its array."""
    with pytest.raises(OpponentModelError, match="2 columns"):
        column_values(pd.DataFrame([[1, 2]], columns=["x", "x"]), "x")
    assert list(column_values(pd.DataFrame({"x": [5, 6]}), "x")) == [5, 6]


def test_column_floats_numeric_columns():
    """Integer, masked-integer and boolean columns convert directly, missing as NaN."""
    frame = pd.DataFrame({"i": [1, 2], "m": pd.array([3, None], dtype="Int64"), "b": [True, False]})
    assert column_floats(frame, "i").tolist() == [1.0, 2.0]
    m = column_floats(frame, "m")
    assert m[0] == 3.0 and np.isnan(m[1])
    assert column_floats(frame, "b").tolist() == [1.0, 0.0]
    assert all(column_floats(frame, c).dtype == np.float64 for c in frame.columns)


def test_next_state_passes_areas_and_court_side():
    """The serve's side and the serve's landing area reach the tennis state."""
    assert next_state("tennis", [], [], "A", court_side="deuce") == "serve (deuce, 1st serve)"
    assert next_state("tennis", ["serve"], ["A"], "B", areas=["wide"]) == "return of wide serve"
    assert next_state("tennis", ["serve"], ["A"], "B") == "return of unknown direction"


def test_vocabulary_ids_and_codes():
    """Shots map to their position; missing shots are 'unknown'; labels outside the vocabulary raise."""
    v = Vocabulary("toy", ("a", "b", "unknown"), ("1", "2"))
    assert v.index == {"a": 0, "b": 1, "unknown": 2} and v.area_index == {"1": 0, "2": 1}
    assert v.shot_ids(["b", None, float("nan"), pd.NA, "a"]) == [1, 2, 2, 2, 0]
    codes = v.shot_codes(pd.Series(["b", None, "a"]))
    assert codes.tolist() == [1, 2, 0] and codes.dtype == np.int64
    assert v.shot_codes(["a", "b"]).tolist() == [0, 1]
    with pytest.raises(OpponentModelError, match="^history: shot 'z'"):
        v.shot_ids(["z"])
    with pytest.raises(OpponentModelError, match="1.5"):
        v.shot_ids([1.5])
    with pytest.raises(OpponentModelError, match="'z'"):
        v.shot_codes(pd.Series(["a", None, "z"]))
    strict = Vocabulary("toy", ("a", "b"), ())
    with pytest.raises(OpponentModelError):
        strict.shot_ids([None])
    with pytest.raises(OpponentModelError):
        strict.shot_codes(pd.Series(["a", None]))


def test_vocabulary_json_and_fingerprint():
    """A JSON round trip keeps the vocabulary and its fingerprint; another shot list changes it."""
    v = Vocabulary.of("badminton")
    assert v.sport == "badminton" and v.shots[-1] == "unknown"
    back = Vocabulary.from_json(v.to_json())
    assert back == v and back.fingerprint == v.fingerprint and len(v.fingerprint) == 16
    assert Vocabulary(v.sport, v.shots[:-1], v.areas).fingerprint != v.fingerprint


def test_prediction_lookup_and_series():
    """A shot's probability is read by name; the Series carries the prediction's fields; probabilities are
    read-only."""
    p = Prediction(("a", "b"), [0.25, 0.75], n=3.0, source="player", inputs=("shot",), known_player=True,
                   player="P", model="m", details={"k": 1})
    assert p["b"] == 0.75 and p["a"] == 0.25
    assert Prediction(("a", "b"), [0, 1], 1.0, "player", (), True).probabilities.dtype == np.float64
    s = p.to_series()
    assert s.index.tolist() == ["a", "b"] and s.index.name == "shot" and s.tolist() == [0.25, 0.75]
    assert s.name == "p"
    assert s.attrs == {"k": 1, "n": 3.0, "source": "player", "inputs": ("shot",), "known_player": True,
                       "player": "P", "model": "m"}
    s.iloc[0] = 9.0
    assert p["a"] == 0.25
    with pytest.raises(ValueError):
        p.probabilities[0] = 1.0


class _Uniform(OpponentModel):
    kind = "uniform"

    def fit(self, table):
        frame = self._check_table(table)
        self.players_ = set(frame["hitter"])
        self.fitted_ = True
        return self

    def _predict(self, history, context):
        k = len(self.vocabulary.shots)
        return np.full(k, 1.0 / k), {"n": len(history), "source": "player", "inputs": ("shot",), "extra": 5}

    def predict_table(self, table):
        return np.zeros((len(table), len(self.vocabulary.shots)))


def test_model_predict_fills_the_prediction():
    """predict refuses before fit, then reports the player, whether known, n and details."""
    model = _Uniform()
    with pytest.raises(OpponentModelError, match="not fitted"):
        model.predict()
    table = _table(["r1", "r1"], [1, 2]).assign(hitter=["A", "B"], opponent=["B", "A"])
    model.fit(table)
    p = model.predict(_rally())
    assert p.player == "B" and p.known_player is True and p.n == 3.0 and p.model == "uniform"
    assert p.details == {"extra": 5} and p.source == "player"
    assert p.shots == model.vocabulary.shots and p.inputs == ("shot",) and p["lob"] == 1.0 / 19
    q = model.predict(None, {"player": "Z"})
    assert q.known_player is False and q.n == 0.0
    s = model.predict_proba(None, {"player": "A"})
    assert s.index.tolist() == list(model.vocabulary.shots) and s.attrs["known_player"] is True


def test_model_check_table():
    """Empty tables, another sport's data and unknown shots are refused; the table comes back sorted."""
    model = _Uniform()
    with pytest.raises(OpponentModelError, match="empty"):
        model.fit(_table([], []))
    with pytest.raises(OpponentModelError):
        model.fit(_table(["r1"], [1]).assign(sport="tennis"))
    with pytest.raises(OpponentModelError):
        model.fit(_table(["r1"], [1]).assign(shot="serve"))
    ok = _table(["r2", "r1"], [1, 1]).assign(sport=["badminton", None])
    assert model._check_table(ok)["rally_id"].tolist() == ["r1", "r2"]
    assert model.fit(ok).fitted_ and model.update(ok) is model and model.reset() is model


def test_fingerprint_matches_shipped_checkpoints():
    """The vocabulary fingerprint recorded in each shipped checkpoint is the one its vocabulary gives now."""
    import json
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parents[2] / "data" / "models").glob("*/model.json"))
    assert files
    for path in files:
        meta = json.loads(path.read_text())
        assert Vocabulary.from_json(meta["vocabulary"]).fingerprint == meta["vocabulary_fingerprint"]


def test_default_cache_holds_65536():
    """The default cache keeps 65536 predictions before evicting the oldest."""
    cache = PredictionCache()
    for k in range(65536):
        cache.put(k, k)
    assert len(cache) == 65536 and cache.get(0) == 0
    cache.put("new", 1)
    assert len(cache) == 65536 and cache.get(0) is None and cache.get(1) == 1


def test_positions_are_int64():
    """Positions are int64, also for an empty frame."""
    assert positions_in_rally(pd.DataFrame({"rally_id": []})).dtype == np.int64
    assert positions_in_rally(pd.DataFrame({"rally_id": ["a", "a"]})).dtype == np.int64


def test_to_history_sort_is_stable_for_tied_strokes():
    """Rows with equal stroke numbers keep their order when the history is sorted (many rows, so an unstable
    sort would show)."""
    n = 200
    rng = np.random.default_rng(0)
    strokes = rng.integers(0, 3, n)
    shots = [BAD.shots[k % 18] for k in range(n)]
    frame = pd.DataFrame({"stroke": strokes, "shot": shots})
    order = sorted(range(n), key=lambda i: strokes[i])          # Python's sort is stable
    assert to_history(frame, BAD).shots == tuple(BAD.index[shots[i]] for i in order)


class _Says(_Uniform):
    kind = "says"

    def _predict(self, history, context):
        probs, info = super()._predict(history, context)
        return probs, {**info, "known_player": False}


def test_model_reported_known_player_wins():
    """A model's own known_player verdict overrides membership in players_ and is not left in the details."""
    model = _Says().fit(_table(["r1"], [1]))
    assert model.players_ == {"A"}
    p = model.predict(None, {"player": "A"})
    assert p.known_player is False and p.details == {"extra": 5}


def test_new_model_state():
    """A new model is a badminton model with no players, no metrics, not fitted."""
    model = _Uniform()
    assert model.sport == "badminton" and model.players_ == set() and model.metrics_ == {}
    assert model.fitted_ is False and model.split_ is None


def test_history_keeps_given_hitters_and_areas():
    """Hitters and areas given to History are used, not re-read from the frame."""
    h = History((1, 2), hitters=["A", "B"], areas=["1", "2"], frame=_rally())
    assert h.hitters == ("A", "B") and h.areas == ("1", "2")


def test_to_history_sorts_short_and_partly_sorted_rallies():
    """Two strokes out of order, and a rally whose first stroke is smallest but the rest out of order, are
    sorted."""
    two = pd.DataFrame({"stroke": [2, 1], "shot": ["lob", "clear"]})
    assert to_history(two, BAD).shots == (BAD.index["clear"], BAD.index["lob"])
    three = pd.DataFrame({"stroke": [1, 3, 2], "shot": ["clear", "lob", "drop"]})
    assert to_history(three, BAD).shots == (BAD.index["clear"], BAD.index["drop"], BAD.index["lob"])


def test_to_context_without_frame_or_opponent_column():
    """Without a frame or an opponent column the next player stays unknown; hitters still give opponent and
    server; an opponent alone still lets the player be read."""
    ctx = to_context(History((1, 2), hitters=("A", "B")), None)
    assert (ctx.player, ctx.opponent, ctx.server) == (None, "B", "A")
    no_opp = to_context(to_history(_rally().drop(columns="opponent"), BAD), None)
    assert no_opp.player is None and no_opp.opponent == "A"
    given_opp = to_context(to_history(_rally(), BAD), {"opponent": "A"})
    assert (given_opp.player, given_opp.opponent) == ("B", "A")


def test_to_context_keeps_numeric_and_cleans_missing():
    """A float stroke number is kept; NaN and NA context values count as missing and are filled."""
    assert to_context(History(()), {"stroke": 2.0}).stroke == 2
    ctx = to_context(to_history(_rally(), BAD), {"player": float("nan"), "opponent": pd.NA})
    assert (ctx.player, ctx.opponent) == ("B", "A")


def test_rally_frame_keeps_columns_and_single_rows():
    """rally_frame adds no index column, sorted input or not; one stroke gets position 0."""
    for table in (_table(["r1", "r2"], [1, 1]), _table(["r2", "r1"], [1, 1])):
        assert list(rally_frame(table).columns) == list(table.columns)
    assert positions_in_rally(pd.DataFrame({"rally_id": ["r1"]})).tolist() == [0]


def test_shot_codes_errors_and_missing_in_lists():
    """NaN in a plain list counts as missing; without 'unknown' a bad label is named; errors say where."""
    v = Vocabulary("toy", ("a", "b", "unknown"), ())
    assert v.shot_codes(["a", float("nan")]).tolist() == [0, 2]
    strict = Vocabulary("toy", ("a", "b"), ())
    with pytest.raises(OpponentModelError, match="'z'"):
        strict.shot_codes(pd.Series(["a", "z"]))
    with pytest.raises(OpponentModelError, match="^table: a stroke has no shot"):
        strict.shot_codes(pd.Series(["a", None]))
    with pytest.raises(OpponentModelError, match="^table: shot 'serve'"):
        _Uniform().fit(_table(["r1"], [1]).assign(shot="serve"))


def test_predict_proba_index_named_shot():
    """predict_proba's Series is indexed by shots under the name 'shot'."""
    model = _Uniform().fit(_table(["r1"], [1]))
    assert model.predict_proba().index.name == "shot"


def test_history_heights_from_the_frame_in_stroke_order_or_given():
    """How high each shot was taken: read from ``landing_height`` after the strokes are sorted (missing ones
    None), unknown for every stroke of a frame without the column, or as given."""
    frame = _rally().assign(landing_height=["low", "high", np.nan])       # strokes 2, 1, 3
    assert to_history(frame, BAD).heights == ("high", "low", None)
    assert to_history(_rally(), BAD).heights == (None, None, None)
    assert History((1, 2), ("A", "B"), (None, "7"), heights=("low", None)).heights == ("low", None)
    assert History((1, 2)).heights == (None, None)
