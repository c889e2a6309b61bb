"""The common interface: distributions over the vocabulary, fallbacks, errors, consistency of the paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.data.states import annotate_states
from strategist.errors import OpponentModelError, StrategistError
from strategist.opponent import FrequencyModel, MarkovModel, fit_model, next_state, rally_frame
from strategist.opponent.base import positions_in_rally
from strategist.sports import get_sport

SHOTS = get_sport("badminton").shots


@pytest.fixture(scope="module")
def frequency(sim_table):
    return FrequencyModel().fit(sim_table)


def _rally(table, k=0):
    frame = rally_frame(table)
    rid = frame["rally_id"].unique()[k]
    return frame[frame["rally_id"] == rid].reset_index(drop=True)


@pytest.mark.parametrize("name", ["markov", "frequency"])
def test_distribution_over_the_vocabulary(request, sim_table, name):
    model = request.getfixturevalue(name)
    rally = _rally(sim_table, 3)
    p = model.predict_proba(rally.iloc[:3], {"player": rally["hitter"].iloc[3], "opponent": rally["hitter"].iloc[2]})
    assert list(p.index) == list(SHOTS)
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()
    assert p.attrs["source"] == "player" and p.attrs["known_player"] and p.attrs["n"] >= 0


@pytest.mark.parametrize("name", ["markov", "frequency"])
def test_empty_history_is_the_servers_serve(request, sim_table, name):
    model = request.getfixturevalue(name)
    server = sim_table["server"].iloc[0]
    p = model.predict_proba(pd.DataFrame(columns=["shot", "hitter"]), {"player": server})
    assert p[["short service", "long service"]].sum() > 0.9
    assert model.predict_proba(None, {"player": server}).equals(p)


@pytest.mark.parametrize("name", ["markov", "frequency"])
def test_unknown_player_falls_back_to_the_population(request, sim_table, name):
    model = request.getfixturevalue(name)
    rally = _rally(sim_table, 1)
    p = model.predict_proba(rally.iloc[:2], {"player": "Nobody KNOWN", "opponent": rally["hitter"].iloc[1]})
    assert p.attrs["source"] == "population" and not p.attrs["known_player"]
    assert p.sum() == pytest.approx(1.0)
    known = model.predict_proba(rally.iloc[:2], {"player": rally["hitter"].iloc[2]})
    assert not np.allclose(p.to_numpy(), known.to_numpy())


def test_a_shot_outside_the_vocabulary_is_refused(markov, sim_table):
    rally = _rally(sim_table).iloc[:2].copy()
    rally["shot"] = rally["shot"].astype(object)
    rally.loc[1, "shot"] = "tweener"
    with pytest.raises(OpponentModelError, match="'tweener' is not in the badminton vocabulary"):
        markov.predict_proba(rally)
    assert issubclass(OpponentModelError, StrategistError)


def test_shot_codes_of_a_column_equal_the_ids_one_shot_at_a_time():
    from strategist.opponent.base import Vocabulary

    vocab = Vocabulary.of("badminton")
    shots = ["lob", None, "smash", float("nan"), "clear", "lob"]
    for column in (pd.Series(shots, dtype="string"), pd.Series(shots, dtype=object), np.array(shots, dtype=object),
                   pd.Index(shots, dtype=object), shots):
        np.testing.assert_array_equal(vocab.shot_codes(column), vocab.shot_ids(shots))
    with pytest.raises(OpponentModelError, match="table: shot 'tweener' is not in the badminton vocabulary"):
        vocab.shot_codes(pd.Series(["lob", "tweener", None]))
    no_unknown = Vocabulary("badminton", ("lob", "smash"), ())
    with pytest.raises(OpponentModelError, match="a stroke has no shot"):
        no_unknown.shot_codes(pd.Series(["lob", None]))


def test_columns_read_as_lists_and_floats_equal_pandas_own_reads():
    from strategist.opponent.base import column_floats, column_list

    frame = pd.DataFrame({"arrow": pd.array(["lob", None, "smash"], dtype="string"),
                          "objects": pd.Series(["lob", None, "smash"], dtype=object),
                          "ints": pd.array([3, None, 1], dtype="Int64"),
                          "floats": np.array([1.0, np.nan, 2.5]),
                          "plain_ints": np.array([1, 2, 3]),
                          "texts": pd.Series(["1.5", None, "x"], dtype=object)})
    for name in ("arrow", "objects"):
        got = column_list(frame, name)
        assert got[0] == "lob" and got[2] == "smash" and pd.isna(got[1])
    assert column_list(frame, "plain_ints") == [1, 2, 3]
    for name in ("ints", "floats", "plain_ints", "texts"):
        np.testing.assert_array_equal(column_floats(frame, name), pd.to_numeric(frame[name], errors="coerce")
                                      .to_numpy(dtype=float, na_value=np.nan))


def test_a_history_out_of_stroke_order_is_put_in_order(markov):
    rally = pd.DataFrame({"shot": ["lob", "short service", "net shot"], "hitter": ["B", "A", "A"],
                          "stroke": pd.array([2, 1, 3], dtype="Int64")})
    from strategist.opponent.base import to_history

    hist = to_history(rally, markov.vocabulary)
    assert hist.shots == tuple(markov.vocabulary.shot_ids(["short service", "lob", "net shot"]))
    assert hist.hitters == ("A", "B", "A")


def test_unfitted_model_and_empty_table(sim_table):
    with pytest.raises(OpponentModelError, match="not fitted"):
        MarkovModel().predict_proba(None, {"player": "x"})
    with pytest.raises(OpponentModelError, match="empty"):
        MarkovModel().fit(sim_table.iloc[:0])
    with pytest.raises(OpponentModelError, match="unknown model kind"):
        fit_model("oracle", sim_table)


@pytest.mark.parametrize("name", ["markov", "frequency"])
def test_single_predictions_equal_the_table_path(request, sim_table, name):
    model = request.getfixturevalue(name)
    frame = rally_frame(sim_table[sim_table["match_id"] == sim_table["match_id"].iloc[0]])
    table_probs = model.predict_table(frame)
    pos = positions_in_rally(frame)
    for row in range(0, 200, 7):
        hist = frame.iloc[row - pos[row]:row]
        p = model.predict_proba(hist, {"player": frame["hitter"].iloc[row], "opponent": frame["opponent"].iloc[row],
                                       "court_side": frame["court_side"].iloc[row]})
        np.testing.assert_allclose(p.to_numpy(), table_probs[row], rtol=1e-12)


def test_next_state_matches_annotate_states(sim_table):
    frame = annotate_states(rally_frame(sim_table))
    pos = positions_in_rally(frame)
    shots, hitters = frame["shot"].tolist(), frame["hitter"].tolist()
    for row in range(0, len(frame), 5):
        start = row - pos[row]
        got = next_state("badminton", shots[start:row], hitters[start:row], hitters[row])
        assert got == frame["state"].iloc[row]


def test_markov_learns_player_tendencies_and_backs_off(markov, sim_table):
    # a context never seen by the population backs off and says so
    p = markov.predict_proba(pd.DataFrame({"shot": ["rush", "rush", "rush"], "hitter": ["A", "B", "A"]}),
                             {"player": "Nobody"})
    assert p.attrs["source"] in ("fallback", "population")
    assert p.sum() == pytest.approx(1.0)


def test_in_match_updates_move_the_prediction_and_reset(sim_table):
    model = MarkovModel(order=1, tune=False, beta_player=4.0).fit(sim_table)
    rally = _rally(sim_table, 0)
    player = rally["hitter"].iloc[1]
    hist = rally.iloc[:1]
    before = model.predict_proba(hist, {"player": player})
    # a match in which this player always answers the serve with a lob
    fake = pd.concat([rally.iloc[:2]] * 30, ignore_index=True)
    fake["rally"] = np.repeat(np.arange(1000, 1030), 2)
    fake["rally_id"] = fake["match_id"] + "|" + fake["set"].astype(str) + "|" + fake["rally"].astype(str)
    fake["stroke"] = np.tile([1, 2], 30)
    fake["shot"] = np.tile([rally["shot"].iloc[0], "lob"], 30)
    fake["shot"] = fake["shot"].astype("string")
    model.update(fake)
    after = model.predict_proba(hist, {"player": player})
    assert after["lob"] > before["lob"] + 0.2
    model.reset()
    np.testing.assert_allclose(model.predict_proba(hist, {"player": player}).to_numpy(), before.to_numpy())
    # a rally of another match starts afresh
    model.update(fake)
    other = _rally(sim_table[sim_table["match_id"] != fake["match_id"].iloc[0]], 0)
    model.update(other)
    assert model.predict_proba(hist, {"player": player})["lob"] < after["lob"]


def test_markov_reproduces_the_readme_reference(shuttleset_strokes):
    from strategist.data.load import load_rallies
    from strategist.opponent.evaluate import evaluate
    from strategist.opponent.split import select, split_matches

    table = load_rallies(shuttleset_strokes).table
    split = split_matches(table, valid_fraction=0.0)
    assert len(split.test) == 19
    model = MarkovModel(order=1, by_player=False, tune=False, beta=5.0).fit(select(table, split.train))
    result = evaluate(model, select(table, split.test), only_held_out=False)
    assert result["top1"] == pytest.approx(0.414, abs=0.005)
    assert result["log_loss"] == pytest.approx(1.507, abs=0.01)


def test_in_match_predictions_only_know_earlier_rallies(sim_table):
    from strategist.opponent.adapt import predict_in_match

    model = MarkovModel(order=1, tune=False).fit(sim_table)
    match = rally_frame(sim_table[sim_table["match_id"] == sim_table["match_id"].iloc[0]])
    match = match[match["set"] == 1]
    adapted = predict_in_match(model, match)
    plain = model.predict_table(match)
    first = (match["rally"] == match["rally"].min()).to_numpy()
    np.testing.assert_allclose(adapted[first], plain[first])      # nothing learnt before the first rally
    assert not np.allclose(adapted[~first], plain[~first])        # later rallies use the earlier ones
    # changing the last rally does not change any earlier prediction
    last = (match["rally"] == match["rally"].max()).to_numpy()
    changed = match.copy()
    changed.loc[last, "shot"] = "lob"
    again = predict_in_match(model, changed)
    np.testing.assert_allclose(again[~last], adapted[~last])
    # and the model is left as fitted
    np.testing.assert_allclose(model.predict_table(match), plain)


def test_scores_by_hand():
    from strategist.opponent.evaluate import scores

    probs = np.array([[0.7, 0.2, 0.1, 0.0], [0.1, 0.6, 0.3, 0.0], [0.5, 0.1, 0.1, 0.3]])
    y = np.array([0, 2, 3])
    s = scores(probs, y, bins=10)
    assert s["log_loss"] == pytest.approx(-(np.log(0.7) + np.log(0.3) + np.log(0.3)) / 3)
    assert s["top1"] == pytest.approx(1 / 3) and s["top3"] == pytest.approx(1.0) and s["n"] == 3
    # bins: 0.7 (right), 0.6 (wrong), 0.5 (wrong): |1 - .7| + |0 - .6| + |0 - .5|, each weight 1/3
    assert s["ece"] == pytest.approx((0.3 + 0.6 + 0.5) / 3)


def _loop_counts(model, frame):
    """Reference: the counts by a plain loop over the strokes, one dict update at a time."""
    k = len(model.vocabulary.shots)
    shots, hitters, keys = model._encoded(frame)
    pop, pl = {}, {}
    for row, y in enumerate(shots):
        for level in range(model.levels + 1):
            key = () if level == 0 else keys[level - 1][row]
            key = tuple(key.tolist()) if isinstance(key, np.ndarray) else key    # an integer row: its tuple
            pop.setdefault((level, key), np.zeros(k))[y] += 1
            pl.setdefault((hitters[row], level, key), np.zeros(k))[y] += 1
    return pop, pl


@pytest.mark.parametrize("cls", [MarkovModel, FrequencyModel])
def test_counts_equal_a_plain_loop_over_the_strokes(sim_table, cls):
    model = cls(adapt_weight=0.5).fit(sim_table, tune=False)
    frame = rally_frame(sim_table)
    pop, pl = model._count(frame)
    want_pop, want_pl = _loop_counts(model, frame)
    assert pop.keys() == want_pop.keys() and pl.keys() == want_pl.keys()
    for got, want in ((pop, want_pop), (pl, want_pl)):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    # the stacked arrays of the table path: row by row the dict entries (live counts weighted in)
    live = {key: 2 * vec for key, vec in list(want_pl.items())[::3]}
    pop_a, pl_a = model._level_arrays(frame, pop, pl, live)
    shots, hitters, keys = model._encoded(frame)
    zero = np.zeros(len(model.vocabulary.shots))
    for row in range(0, len(frame), 11):
        for level in range(model.levels + 1):
            key = () if level == 0 else keys[level - 1][row]
            key = tuple(key.tolist()) if isinstance(key, np.ndarray) else key    # an integer row: its tuple
            np.testing.assert_array_equal(pop_a[level, row], pop.get((level, key), zero))
            full = (hitters[row], level, key)
            np.testing.assert_array_equal(pl_a[level, row], pl.get(full, zero) + model.adapt_weight
                                          * live.get(full, zero))


def _frequency_keys_by_row(model, frame):
    """Reference: the state of every stroke from the whole rally so far (no shortcuts)."""
    labels = list(model.vocabulary.shots)
    shots, _, _ = model._encoded(frame)
    names = [labels[s] for s in shots]
    hitters = frame["hitter"].astype(str).tolist()
    areas = [None if pd.isna(a) else str(a) for a in frame["landing_area"].tolist()]
    sides = frame["court_side"].tolist() if "court_side" in frame else [None] * len(frame)
    pos = positions_in_rally(frame)
    out = []
    for row in range(len(frame)):
        start = row - pos[row]
        side = None if pd.isna(sides[start]) else sides[start]
        out.append(next_state(model.sport, names[start:row], hitters[start:row], hitters[row], areas[start:row],
                              side))
    return out


def test_frequency_states_equal_the_state_of_the_whole_rally_so_far(frequency, sim_table):
    frame = rally_frame(sim_table)
    shots, _, keys = frequency._encoded(frame)
    assert keys[1] == _frequency_keys_by_row(frequency, frame)
    assert keys[0] == [s.split(" ", 1)[0] for s in keys[1]]


@pytest.mark.realdata
def test_frequency_states_equal_the_state_of_the_whole_rally_so_far_in_tennis(shared_data):
    from strategist.data.load import load_rallies

    table = load_rallies(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv").table
    model = FrequencyModel("tennis").fit(table, tune=False)
    frame = rally_frame(table)
    _, _, keys = model._encoded(frame)
    want = _frequency_keys_by_row(model, frame)
    assert keys[1] == want
    assert len(set(want)) > 5          # serve, return and rally states of both sides occur


def test_neural_single_history_encoding_equals_the_table_path_with_positions_wings_heights(sim_table,
                                                                                           untrained_neural):
    """Positions, wings, landing heights, areas and the score reach the network the same way one history at a
    time (the light encoder) as for a whole table (an untrained network: only the encodings are compared)."""
    rng = np.random.default_rng(5)
    table = rally_frame(sim_table[sim_table["match_id"] == sim_table["match_id"].iloc[0]]).copy()
    for c, scale in (("hitter_x", 300), ("hitter_y", 600), ("opponent_x", 300), ("opponent_y", 600)):
        v = rng.uniform(0, scale, len(table))
        v[rng.random(len(table)) < 0.1] = np.nan
        table[c] = v
    table["wing"] = pd.array(rng.choice(["forehand", "backhand", None], len(table)), dtype="string")
    table["landing_height"] = pd.array(rng.choice(["high", "low", None], len(table)), dtype="string")
    model = untrained_neural(table)
    probs = model.predict_table(table)
    pos = positions_in_rally(table)
    checked = 0
    for row in range(0, min(len(table), 400), 3):
        hist = table.iloc[row - pos[row]:row]
        ctx = {"player": table["hitter"].iloc[row], "opponent": table["opponent"].iloc[row],
               "stroke": int(pos[row]) + 1, "server": table["server"].iloc[row],
               "score": (int(table["hitter_score"].iloc[row]), int(table["opponent_score"].iloc[row]))}
        p = model.predict_proba(hist, ctx)
        np.testing.assert_allclose(p.to_numpy(), probs[row], rtol=1e-5, atol=1e-7)
        checked += 1
    assert checked > 100


def test_column_values_equal_the_column_and_fall_back_on_a_repeated_name(sim_table):
    from strategist.opponent.base import column_values

    frame = rally_frame(sim_table).iloc[7:19]
    for name in ("shot", "hitter", "stroke", "landing_area"):
        assert list(column_values(frame, name)) == list(frame[name].array)
    twice = pd.concat([frame[["shot"]], frame[["shot"]]], axis=1)
    with pytest.raises(OpponentModelError, match="2 columns named 'shot'"):
        column_values(twice, "shot")


def test_the_encoder_codes_wings_heights_and_positions_by_hand():
    from strategist.opponent.neural import Encoder

    frame = pd.DataFrame({"shot": ["short service", "lob", "smash"], "hitter": ["A", "B", "A"],
                          "landing_area": ["1", None, "9"],
                          "wing": pd.array(["forehand", None, "backhand"], dtype="string"),
                          "landing_height": pd.array(["low", "high", None], dtype="string"),
                          "hitter_x": [10.0, np.nan, 30.0], "hitter_y": [1.0, 2.0, 3.0],
                          "opponent_x": [0.0, 0.0, np.nan], "opponent_y": [5.0, 5.0, 5.0]})
    enc = Encoder(SHOTS, [str(a) for a in range(1, 17)], ["A", "B"],
                  {"mean": [20.0, 2.0, 0.0, 5.0], "std": [10.0, 1.0, 1.0, 1.0]})
    got = enc.strokes(frame, ["B", "A", "A"])
    assert got["wing"].tolist() == [1, 0, 2] and got["height"].tolist() == [2, 1, 0]
    # standardised hitter (x, y), opponent (x, y); hitter's and opponent's "missing"; same hitter next
    np.testing.assert_allclose(got["num"], [[-1, -1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0], [1, 1, 0, 0, 0, 1, 1]])
