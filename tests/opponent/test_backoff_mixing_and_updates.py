"""The back-off counting models on tiny hand-made tables: the interpolated probabilities recomputed by hand in
float64 from counts kept in Counters, the vectorised table path against the one-history path, in-match updates
against the counts of the longer table, tuning against the validation log-loss computed here, and the helper
that numbers distinct context keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.opponent import FrequencyModel, MarkovModel, rally_frame
from strategist.opponent.backoff import TUNE_GRID, _codes
from strategist.opponent.base import History
from strategist.opponent.split import rank_matches

from .backoff_counts import context_counts

PAD = "<start>"

#: (match, rally number, first hitter, second hitter, shots): hitters alternate from the first.
RALLIES = [
    ("m1", 1, "A", "B", ["short service", "lob", "smash", "drive"]),
    ("m1", 2, "B", "A", ["long service", "clear", "smash"]),
    ("m1", 3, "A", "B", ["short service", "net shot", "lob", "smash", "drive"]),
    ("m2", 1, "A", "C", ["short service", "lob", "clear"]),
    ("m2", 2, "C", "A", ["short service", "push", "lob", "drop"]),
    ("m2", 3, "A", "C", ["long service", "clear", "drop", "net shot"]),
]


def make_table(rallies) -> pd.DataFrame:
    rows = []
    for match, number, first, second, shots in rallies:
        for stroke, shot in enumerate(shots, start=1):
            hitter, opponent = (first, second) if stroke % 2 else (second, first)
            rows.append({"match_id": match, "rally_id": f"{match}-r{number:02d}", "stroke": stroke,
                         "hitter": hitter, "opponent": opponent, "shot": shot})
    return pd.DataFrame(rows)


def strokes(rallies, order):
    """Per stroke in rally_frame order: (hitter, shot, [context key at level 0..order]), keys as shot names."""
    out = []
    for match, number, first, second, shots in sorted(rallies, key=lambda r: f"{r[0]}-r{r[1]:02d}"):
        for i, shot in enumerate(shots):
            hitter = first if i % 2 == 0 else second
            padded = [PAD] * order + shots[:i]
            out.append((hitter, shot, [tuple(padded[len(padded) - k:]) if k else () for k in range(order + 1)]))
    return out


def counts(rallies, order):
    return context_counts(strokes(rallies, order))


def by_hand(labels, pop, pl, player, keys, beta, beta_p, mix, known):
    """pop_0 .. pop_L and pl_L of backoff's docstring, one float64 vector at a time from the Counters."""
    k = len(labels)
    n = np.array([pop[(0, (), s)] for s in labels], dtype=np.float64)
    pops = [(n + 0.5) / (n.sum() + 0.5 * k)]
    for level in range(1, len(keys)):
        n = np.array([pop[(level, keys[level], s)] for s in labels], dtype=np.float64)
        pops.append((n + beta * pops[-1]) / (n.sum() + beta))
    if not known:
        return pops[-1]
    p = None
    for level in range(len(keys)):
        n = np.array([pl[(player, level, keys[level], s)] for s in labels], dtype=np.float64)
        prior = pops[0] if p is None else mix * pops[level] + (1 - mix) * p
        p = (n + beta_p * prior) / (n.sum() + beta_p)
    return p


def history_of(model, keys_last):
    """The History whose last shots are the finest key's shots (start marks dropped)."""
    shots = [model.vocabulary.shots.index(s) for s in keys_last if s != PAD]
    return History(shots, ("X",) * len(shots))


BETA, BETA_P, MIX = 3.0, 6.0, 0.8


@pytest.fixture(scope="module")
def order2():
    return MarkovModel(order=2, beta=BETA, beta_player=BETA_P, mix=MIX, tune=False).fit(make_table(RALLIES))


def test_a_stranger_in_the_table_gets_the_finest_population_level(order2):
    """Rows of a player the model never saw are predicted from the population's order-2 estimate, by hand, and
    exactly as the one-history path predicts them (β = 3: a level more or less would move the last bits)."""
    labels = order2.vocabulary.shots
    pop, pl = counts(RALLIES, 2)
    stranger = [(m, r, "Zed", "Yan", shots) for m, r, _, _, shots in RALLIES]
    probs = order2.predict_table(make_table(stranger))
    rows = strokes(stranger, 2)
    assert probs.shape == (len(rows), len(labels))
    for got, (_, _, keys) in zip(probs, rows):
        want = by_hand(labels, pop, pl, "Zed", keys, BETA, BETA_P, MIX, known=False)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
        # the same sums and divisions in the same order: the one-history path gives the very same numbers
        one = order2.predict(history_of(order2, keys[-1]), {"player": "Zed"})
        np.testing.assert_array_equal(one.probabilities, got)
    # the finest level differs from the order-1 level somewhere, so the level used is pinned down
    order1 = [by_hand(labels, pop, pl, "Zed", keys[:2], BETA, BETA_P, MIX, known=False) for _, _, keys in rows]
    assert np.abs(probs - np.array(order1)).max() > 1e-3


def test_the_table_path_equals_the_one_history_path_and_the_hand_formula(order2):
    """Every stroke of the table (known players A, B, C): predict_table, predict and the hand formula agree."""
    labels = order2.vocabulary.shots
    pop, pl = counts(RALLIES, 2)
    probs = order2.predict_table(make_table(RALLIES))
    for got, (hitter, _, keys) in zip(probs, strokes(RALLIES, 2)):
        want = by_hand(labels, pop, pl, hitter, keys, BETA, BETA_P, MIX, known=True)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
        one = order2.predict(history_of(order2, keys[-1]), {"player": hitter})
        np.testing.assert_allclose(one.probabilities, got, rtol=1e-12, atol=0)


def test_a_table_of_one_stroke_is_predicted_like_its_empty_history(order2):
    """A one-row table (a serve) gets the same prediction as the serve asked for alone: the player's serve."""
    labels = order2.vocabulary.shots
    pop, pl = counts(RALLIES, 2)
    one = make_table([("m9", 1, "B", "A", ["short service"])])
    probs = order2.predict_table(one)
    want = by_hand(labels, pop, pl, "B", [(), (PAD,), (PAD, PAD)], BETA, BETA_P, MIX, known=True)
    assert probs.shape == (1, len(labels))
    np.testing.assert_allclose(probs[0], want, rtol=1e-12, atol=0)
    np.testing.assert_allclose(order2.predict(None, {"player": "B"}).probabilities, want, rtol=1e-12, atol=0)


def test_the_default_smoothing_and_a_one_stroke_rally_update_match_the_longer_tables_counts():
    """Defaults β = 4, β_p = 8, m = 0.5 and live counts weighted 1: after updating with a new match's rallies,
    the last a single stroke, a player's prediction is the hand formula with the population's counts of the
    fitted table and the player's counts of the fitted table plus the match."""
    model = MarkovModel(order=1, tune=False).fit(make_table(RALLIES))
    labels = model.vocabulary.shots
    match = [("m9", 1, "A", "B", ["short service", "lob", "smash"]), ("m9", 2, "B", "A", ["long service"])]
    for rally in match:                     # rally by rally, as in a match: the last update is one stroke
        model.update(make_table([rally]))
    pop, _ = counts(RALLIES, 1)
    _, pl = counts(RALLIES + match, 1)
    for player in ("A", "B"):
        for last in ([], ["short service"], ["lob"], ["long service"]):
            keys = [(), tuple(last[-1:]) or (PAD,)]
            want = by_hand(labels, pop, pl, player, keys, 4.0, 8.0, 0.5, known=True)
            got = model.predict(history_of(model, last), {"player": player}).probabilities
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    # the single stroke counted: B's serve now includes one long service more than before
    before = MarkovModel(order=1, tune=False).fit(make_table(RALLIES)).predict(None, {"player": "B"})
    after = model.predict(None, {"player": "B"})
    long_service = labels.index("long service")
    assert after.probabilities[long_service] > before.probabilities[long_service]
    assert after.n == before.n + 1


def test_a_context_the_population_saw_once_is_the_population_s_not_a_fallback(order2):
    """For a stranger after "net shot", "lob" (seen once, in m1) the source is the population with n = 1;
    after a pair nobody played it falls back."""
    seen = order2.predict(history_of(order2, ["net shot", "lob"]), {"player": "Zed"})
    assert (seen.source, seen.n, seen.known_player) == ("population", 1.0, False)
    unseen = order2.predict(history_of(order2, ["drop", "smash"]), {"player": "Zed"})
    assert (unseen.source, unseen.n) == ("fallback", 0.0)


def test_a_model_without_players_says_the_player_is_not_known():
    """by_player=False: a player with counts in the table is predicted from the population and reported so."""
    model = MarkovModel(order=1, by_player=False, tune=False).fit(make_table(RALLIES))
    labels = model.vocabulary.shots
    pop, pl = counts(RALLIES, 1)
    got = model.predict(history_of(model, ["lob"]), {"player": "A"})
    assert got.known_player is False and got.source == "population" and got.inputs == ("shot",)
    want = by_hand(labels, pop, pl, "A", [(), ("lob",)], 4.0, 8.0, 0.5, known=False)
    np.testing.assert_allclose(got.probabilities, want, rtol=1e-12, atol=0)


def test_predictions_are_cached_per_player_and_context_until_the_model_changes(order2):
    """The module keeps each (player, context) prediction; an update or reset empties the cache."""
    model = MarkovModel(order=2, beta=BETA, beta_player=BETA_P, mix=MIX, tune=False).fit(make_table(RALLIES))
    history = history_of(model, ["short service", "lob"])
    first = model.predict(history, {"player": "A"})
    cached = model._cache.get(("A", model._history_keys(history, None)))
    assert cached is not None
    np.testing.assert_array_equal(cached[0], first.probabilities)
    assert cached[1]["source"] == "player"
    model.predict(history, {"player": "A"})
    assert len(model._cache) == 1
    model.update(make_table([("m9", 1, "A", "B", ["short service", "lob"])]))
    assert len(model._cache) == 0


def test_a_state_model_reads_the_incoming_area_and_the_court_side_where_the_sport_s_rule_does():
    """Tennis returns are told apart by where the serve landed and serves by the side: a frequency model's
    prediction says it rests on them (and on the player it knows)."""
    rows = []
    for r, (side, area) in enumerate([("deuce", "wide"), ("ad", "T"), ("deuce", "body"), ("ad", "wide")], 1):
        for stroke, (hitter, opponent, shot) in enumerate([("P", "Q", "serve"), ("Q", "P", "forehand"),
                                                           ("P", "Q", "backhand")], 1):
            rows.append({"sport": "tennis", "match_id": "t1", "rally_id": f"t1-r{r}", "stroke": stroke,
                         "hitter": hitter, "opponent": opponent, "shot": shot, "court_side": side,
                         "landing_area": area if stroke == 1 else "middle"})
    model = FrequencyModel("tennis", tune=False).fit(pd.DataFrame(rows))
    serve = model.vocabulary.shots.index("serve")
    got = model.predict(History([serve], ("P",), ("wide",)), {"player": "Q", "court_side": "deuce"})
    assert got.inputs == ("shot", "hitter", "landing_area", "court_side", "player")
    assert got.known_player is True
    # the same state asked again without the side: the same numbers, and the answer no longer claims the side
    again = model.predict(History([serve], ("P",), ("wide",)), {"player": "Q"})
    np.testing.assert_array_equal(again.probabilities, got.probabilities)
    assert again.inputs == ("shot", "hitter", "landing_area", "player")


# -- tuning ----------------------------------------------------------------------------------------------------

def tuning_rallies(matches, newcomer=False):
    """``matches`` small matches among A, B, C, D; with ``newcomer`` the first validation match is played by
    E, whom no other match has."""
    shots = ["short service", "lob", "smash", "drive", "clear", "net shot", "drop", "push"]
    ids = [f"g{m}" for m in range(matches)]
    first_valid = rank_matches(ids)[0]
    rng = np.random.default_rng(5)
    out = []
    for m, match in enumerate(ids):
        a, b = "ABCD"[m % 4], "ABCD"[(m + 1) % 4]
        if newcomer and match == first_valid:
            a = "E"
        for r in range(1, 5):
            n = int(rng.integers(1, 6))
            # player A likes smashes, the rest play every shot alike
            rally = [str(rng.choice(shots[:2]))] + [str(rng.choice(shots[1:])) for _ in range(n - 1)]
            out.append((match, r, a, b, rally))
    return out


def validation_losses(rallies, valid, by_player):
    """Each grid point's log-loss on the validation matches, by hand from the other matches' counts."""
    labels = MarkovModel(order=1).vocabulary.shots
    inner = [r for r in rallies if r[0] not in valid]
    held = [r for r in rallies if r[0] in valid]
    pop, pl = counts(inner, 1)
    known = {hitter for hitter, _, _ in strokes(inner, 1)}
    out = []
    for beta in TUNE_GRID["beta"]:
        for beta_p in TUNE_GRID["beta_player"]:
            for mix in TUNE_GRID["mix"]:
                logs = [np.log(by_hand(labels, pop, pl, h, keys, beta, beta_p, mix,
                                       known=by_player and h in known)[labels.index(shot)])
                        for h, shot, keys in strokes(held, 1)]
                out.append(((beta, beta_p, mix), -float(np.mean(logs))))
    return out


@pytest.mark.parametrize("by_player", [True, False])
def test_tuning_keeps_the_first_grid_point_of_least_validation_loss(by_player):
    """Grid losses equal the hand computation (a validation player absent from the other matches is predicted
    from the population); the chosen point is the first least one (np.argmin), which without players is the
    smallest β_p and m at the best β, every (β_p, m) tying exactly."""
    rallies = tuning_rallies(8, newcomer=True)
    model = MarkovModel(order=1, by_player=by_player, tune=True).fit(make_table(rallies))
    valid = set(model.metrics_["tuning_valid_matches"])
    want = validation_losses(rallies, valid, by_player)
    got = [((g["beta"], g["beta_player"], g["mix"]), g["valid_log_loss"]) for g in model.metrics_["tuning_grid"]]
    assert [p for p, _ in got] == [p for p, _ in want]
    np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-12, atol=0)
    best = int(np.argmin([v for _, v in want]))
    assert (model.beta_, model.beta_player_, model.mix_) == want[best][0]
    if not by_player:
        assert (model.beta_player_, model.mix_) == (TUNE_GRID["beta_player"][0], TUNE_GRID["mix"][0])


def test_tuning_holds_out_fifteen_percent_of_the_matches():
    """Of 8 matches round(0.15 * 8) = 1 is held out for tuning (a fifth would be 2): the first in split order."""
    rallies = tuning_rallies(8)
    model = MarkovModel(order=1, tune=True).fit(make_table(rallies))
    ids = sorted({r[0] for r in rallies})
    assert model.metrics_["tuning_valid_matches"] == [rank_matches(ids)[0]]


# -- numbering distinct keys ---------------------------------------------------------------------------------

def check_codes(values, labels, codes):
    rows = [tuple(int(x) for x in r) for r in np.asarray(values).tolist()]
    assert labels == sorted(set(rows))
    assert isinstance(codes, np.ndarray) and codes.dtype == np.int64 and codes.shape == (len(rows),)
    assert [labels[c] for c in codes.tolist()] == rows


@pytest.mark.parametrize("values", [
    np.zeros((0, 2), dtype=np.int64),
    np.array([[3, -1]]),
    np.array([[2, -1], [0, 5], [2, -1], [-1, -1]]),
    # digits too large for one int64 per row: (2**30)**3 and (2**40)**2 exceed 2**63
    np.array([[0, 2 ** 30, 1], [2 ** 30, 0, 1], [0, 2 ** 30, 1], [0, 0, 0]]),
    np.array([[0, 0], [2 ** 24, 0], [2 ** 40 - 1, 3], [2 ** 24, 0]]),
], ids=["empty", "one-row", "small", "wide-range-3", "wide-range-2"])
def test_distinct_rows_are_numbered_in_sorted_order(values):
    """Rows of a 2-D integer array: the distinct rows as sorted tuples of ints, each row's index among them."""
    labels, codes = _codes(values)
    check_codes(values, labels, codes)


def test_distinct_values_are_numbered_in_order_of_first_appearance_missing_included():
    """A 1-D array or a list: first-appearance order, a missing value one value like any other."""
    labels, codes = _codes(np.array(["b", None, "a", "b", None], dtype=object))
    assert labels[0] == "b" and pd.isna(labels[1]) and labels[2] == "a" and len(labels) == 3
    assert codes.tolist() == [0, 1, 2, 0, 1] and codes.dtype == np.int64
    labels, codes = _codes([("x",), ("y",), ("x",)])
    assert labels == [("x",), ("y",)] and codes.tolist() == [0, 1, 0]


def test_the_table_path_of_a_state_model_equals_its_one_history_path():
    """The frequency model's string keys go through the list path: table and single predictions agree."""
    table = make_table(RALLIES)
    model = FrequencyModel(beta=BETA, beta_player=BETA_P, mix=MIX, tune=False).fit(table)
    frame = rally_frame(table)
    probs = model.predict_table(frame)
    for i, row in enumerate(frame.itertuples()):
        before = frame[(frame["rally_id"] == row.rally_id) & (frame["stroke"] < row.stroke)]
        got = model.predict(before if len(before) else None, {"player": row.hitter})
        np.testing.assert_allclose(got.probabilities, probs[i], rtol=1e-12, atol=0)


def test_tuning_ignores_extra_columns_whatever_their_names():
    """A table that carries its own "index" and "level_0" columns tunes exactly as the same table without."""
    table = make_table(tuning_rallies(6))
    plain = MarkovModel(order=1, tune=True).fit(table)
    extra = MarkovModel(order=1, tune=True).fit(table.assign(index=range(len(table)), level_0=0))
    assert extra.metrics_["tuning_grid"] == plain.metrics_["tuning_grid"]
    assert extra.fitted_params() == plain.fitted_params()
