"""The interpolated counts of the Markov model against a reference written from the module docstring's formula
with plain per-stroke loops and Counters, and the in-match updates, tuning and conventions it documents."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from strategist.opponent import MarkovModel, rally_frame
from strategist.opponent.backoff import TUNE_GRID
from strategist.opponent.base import positions_in_rally
from strategist.opponent.split import held_out_matches, rank_matches

from .backoff_counts import context_counts

BETA, BETA_P, MIX = 3.0, 6.0, 0.8          # m away from 0.5: swapping m and 1 - m changes the predictions


def _contexts(frame: pd.DataFrame, order: int):
    """Per stroke: (hitter, shot, [key at level 0..order]) with the last shots of its rally, start-padded."""
    out, rally, shots_so_far = [], None, []
    for rid, hitter, shot in zip(frame["rally_id"], frame["hitter"], frame["shot"]):
        if rid != rally:
            rally, shots_so_far = rid, []
        padded = ["<start>"] * order + shots_so_far
        out.append((str(hitter), str(shot), [tuple(padded[len(padded) - k:]) if k else () for k in range(order + 1)]))
        shots_so_far.append(str(shot))
    return out


def _counts(frame, order):
    return context_counts(_contexts(frame, order))


def reference(shots, pop, pl, live, player, known, keys, w=1.0, beta=BETA, beta_p=BETA_P, mix=MIX):
    """pop_0 .. pop_L and pl_L of the docstring, one shot at a time (live counts weighted by ``w``)."""
    k = len(shots)

    def n_pop(level, key):
        return np.array([pop[(level, key, s)] for s in shots], float)

    def n_pl(level, key):
        return np.array([pl[(player, level, key, s)] + w * live[(player, level, key, s)] for s in shots], float)

    n = n_pop(0, ())
    pops = [(n + 0.5) / (n.sum() + 0.5 * k)]
    for level in range(1, len(keys)):
        n = n_pop(level, keys[level])
        pops.append((n + beta * pops[-1]) / (n.sum() + beta))
    if not known:
        return pops[-1]
    n = n_pl(0, ())
    p = (n + beta_p * pops[0]) / (n.sum() + beta_p)
    for level in range(1, len(keys)):
        n = n_pl(level, keys[level])
        p = (n + beta_p * (mix * pops[level] + (1 - mix) * p)) / (n.sum() + beta_p)
    return p


@pytest.fixture(scope="module")
def model(sim_table):
    return MarkovModel(order=2, beta=BETA, beta_player=BETA_P, mix=MIX, tune=False).fit(sim_table)


@pytest.fixture(scope="module")
def frame(sim_table):
    return rally_frame(sim_table)


def test_the_table_path_equals_the_reference_formula(model, frame):
    """Kills: the two mixing weights swapped in the vectorised chain (``_player_chain``)."""
    shots = model.vocabulary.shots
    pop, pl = _counts(frame, 2)
    probs = model.predict_table(frame)
    contexts = _contexts(frame, 2)
    for row in range(0, len(frame), 37):
        hitter, _, keys = contexts[row]
        want = reference(shots, pop, pl, Counter(), hitter, True, keys)
        np.testing.assert_allclose(probs[row], want, rtol=1e-10)


def test_a_single_prediction_equals_the_reference_and_says_what_it_rests_on(model, frame):
    """Replaces a check that a uniform prediction would pass: the probabilities, the evidence and the source
    against the formula and a count of the player's strokes in that context."""
    shots = model.vocabulary.shots
    pop, pl = _counts(frame, 2)
    pos = positions_in_rally(frame)
    rows = np.flatnonzero(pos == 3)[:5]
    for row in rows:
        history = frame.iloc[row - 3:row]
        player = frame["hitter"].iloc[row]
        p = model.predict(history, {"player": player})
        keys = _contexts(frame, 2)[row][2]
        np.testing.assert_allclose(p.probabilities, reference(shots, pop, pl, Counter(), player, True, keys),
                                   rtol=1e-10)
        assert p.source == "player" and p.known_player and p.inputs == ("shot", "player")
        assert p.n == sum(pl[(player, 2, keys[2], s)] for s in shots) > 0
        series = model.predict_proba(history, {"player": player})
        assert series.attrs["source"] == "player" and series.attrs["n"] == p.n        # the README's form
        np.testing.assert_array_equal(series.to_numpy(), p.probabilities)
        with pytest.raises(ValueError):
            p.probabilities[0] = 1.0                                                    # read-only
    stranger = model.predict(frame.iloc[rows[0] - 3:rows[0]], {"player": "Nobody KNOWN"})
    keys = _contexts(frame, 2)[rows[0]][2]
    np.testing.assert_allclose(stranger.probabilities, reference(shots, pop, pl, Counter(), "x", False, keys),
                               rtol=1e-10)
    assert stranger.source == "population" and stranger.n == sum(pop[(2, keys[2], s)] for s in shots)
    assert stranger.inputs == ("shot",)


def _match(frame, k):
    return frame[frame["match_id"] == sorted(frame["match_id"].unique())[k]]


def test_updates_add_the_counts_of_every_completed_rally_of_the_match(model, frame):
    """Kills: ``update`` overwriting a context's live counts instead of adding; the new-match reset
    condition flipped (a second rally of the same match would reset)."""
    shots = model.vocabulary.shots
    pop, pl = _counts(frame, 2)
    match = _match(frame, 0)
    rallies = match["rally_id"].unique()[:6]
    model.reset()
    try:
        for rid in rallies:
            model.update(match[match["rally_id"] == rid])
        _, live = _counts(match[match["rally_id"].isin(rallies)], 2)
        row = frame.index.get_loc(match.index[match["rally_id"] == rallies[-1]][2])
        player = frame["hitter"].iloc[row]
        keys = _contexts(frame, 2)[row][2]
        p = model.predict(frame.iloc[row - 2:row], {"player": player})
        np.testing.assert_allclose(p.probabilities, reference(shots, pop, pl, live, player, True, keys), rtol=1e-10)
        assert p.n == sum(pl[(player, 2, keys[2], s)] + live[(player, 2, keys[2], s)] for s in shots)
        # a rally of another match starts afresh: only its counts are live
        other = _match(frame, 1)
        first = other[other["rally_id"] == other["rally_id"].iloc[0]]
        model.update(first)
        _, live = _counts(first, 2)
        p = model.predict(frame.iloc[row - 2:row], {"player": player})
        np.testing.assert_allclose(p.probabilities, reference(shots, pop, pl, live, player, True, keys), rtol=1e-10)
    finally:
        model.reset()


def test_a_player_seen_only_in_this_match_is_known_from_the_updates(model, frame):
    """Kills: a player who appears only in live updates treated as unknown (the population's prediction)."""
    shots = model.vocabulary.shots
    pop, pl = _counts(frame, 2)
    match = _match(frame, 2)
    rally = match[match["rally_id"] == match["rally_id"].iloc[0]].copy()
    newcomer = str(rally["hitter"].iloc[1])
    renamed = rally.assign(hitter=rally["hitter"].astype(str).replace({newcomer: "Newcomer"}),
                           opponent=rally["opponent"].astype(str).replace({newcomer: "Newcomer"}))
    model.reset()
    try:
        model.update(renamed)
        _, live = _counts(renamed, 2)
        history = renamed.iloc[:1]
        p = model.predict(history, {"player": "Newcomer"})
        keys = _contexts(renamed, 2)[1][2]
        assert p.source == "player"
        np.testing.assert_allclose(p.probabilities, reference(shots, pop, pl, live, "Newcomer", True, keys),
                                   rtol=1e-10)
        assert model.predict_table(renamed)[1] == pytest.approx(p.probabilities, rel=1e-10)
    finally:
        model.reset()


def test_tuning_keeps_the_grid_point_with_the_lowest_validation_loss_and_leaves_the_constructor_alone(sim_table):
    """Kills: tuning keeping the worst grid point. Each grid point's validation loss is recomputed by a model
    fitted with those values on the inner matches (the table path, checked above against the formula)."""
    tuned = MarkovModel(order=1, beta=BETA, beta_player=BETA_P, mix=MIX).fit(sim_table)
    assert (tuned.beta, tuned.beta_player, tuned.mix) == (BETA, BETA_P, MIX)       # the constructor's, as given
    frame = rally_frame(sim_table)
    valid = held_out_matches(rank_matches(frame["match_id"].unique()), 0.15)
    inner, held = frame[~frame["match_id"].isin(valid)], frame[frame["match_id"].isin(valid)]
    targets = tuned.vocabulary.shot_codes(rally_frame(held)["shot"])
    losses = {}
    for beta in TUNE_GRID["beta"]:
        for beta_p in TUNE_GRID["beta_player"]:
            for mix in TUNE_GRID["mix"]:
                probs = MarkovModel(order=1, beta=beta, beta_player=beta_p, mix=mix, tune=False).fit(inner) \
                    .predict_table(held)
                losses[(beta, beta_p, mix)] = -np.mean(np.log(probs[np.arange(len(targets)), targets]))
    best = min(losses, key=losses.get)
    assert (tuned.beta_, tuned.beta_player_, tuned.mix_) == best
    assert tuned.metrics_["tuning_valid_log_loss"] == pytest.approx(losses[best], rel=1e-10)
    grid = tuned.metrics_["tuning_grid"]                            # every grid point kept, with its loss
    assert len(grid) == len(losses)
    for point in grid:
        key = (point["beta"], point["beta_player"], point["mix"])
        assert point["valid_log_loss"] == pytest.approx(losses[key], rel=1e-10), key
    assert tuned.metrics_["tuning_valid_matches"] == sorted(valid)
    assert max(losses.values()) > losses[best] + 1e-3               # the grid is not flat: the choice matters


def test_tuning_needs_five_matches_and_can_be_declined(sim_table):
    """The grid is searched from five matches on (a validation split needs them), never with ``tune=False``."""
    ids = sorted(sim_table["match_id"].unique())
    for n, tunes in ((4, False), (5, True)):
        part = sim_table[sim_table["match_id"].isin(ids[:n])]
        fitted = MarkovModel(order=1, beta=BETA, beta_player=BETA_P, mix=MIX).fit(part)
        assert ("tuning_grid" in fitted.metrics_) is tunes, n
        if not tunes:
            assert (fitted.beta_, fitted.beta_player_, fitted.mix_) == (BETA, BETA_P, MIX)
    declined = MarkovModel(order=1, beta=BETA, beta_player=BETA_P, mix=MIX).fit(sim_table, tune=False)
    assert "tuning_grid" not in declined.metrics_ and declined.mix_ == MIX


def test_an_empty_update_changes_nothing_and_a_table_of_two_matches_belongs_to_its_last(model, frame):
    """Updating with no rally keeps the prediction; a table whose last rally is of match B makes B the match
    in progress, so a later rally of B adds to it (nothing is reset)."""
    shots = model.vocabulary.shots
    pop, pl = _counts(frame, 2)
    a, b = _match(frame, 0), _match(frame, 1)
    rallies_b = b["rally_id"].unique()
    first_a = a[a["rally_id"] == a["rally_id"].iloc[0]]
    first_b, second_b = (b[b["rally_id"] == rallies_b[k]] for k in (0, 1))
    row = frame.index.get_loc(second_b.index[2])
    player, keys = frame["hitter"].iloc[row], _contexts(frame, 2)[row][2]
    history = frame.iloc[row - 2:row]
    model.reset()
    try:
        before = model.predict(history, {"player": player}).probabilities
        for empty in (None, frame.iloc[:0]):
            assert model.update(empty) is model
        np.testing.assert_array_equal(model.predict(history, {"player": player}).probabilities, before)
        model.update(pd.concat([first_a, first_b]))
        model.update(second_b)
        _, live = _counts(pd.concat([first_a, first_b, second_b]), 2)
        p = model.predict(history, {"player": player})
        np.testing.assert_allclose(p.probabilities, reference(shots, pop, pl, live, player, True, keys), rtol=1e-10)
    finally:
        model.reset()


def test_a_context_nobody_played_falls_back_and_says_so(model, frame):
    """An unknown player after a pair of shots no rally holds: the source is the fallback with no evidence; in
    a context the population has played, the evidence is the population's count there, for a known player too."""
    seen = {tuple(frame["shot"].iloc[i - 2:i]) for i in range(2, len(frame))}
    pair = next((x, y) for x in model.vocabulary.shots for y in model.vocabulary.shots if (x, y) not in seen)
    history = pd.DataFrame({"shot": list(pair), "hitter": ["A", "B"]})
    p = model.predict(history, {"player": "Nobody KNOWN"})
    assert p.source == "fallback" and p.n == 0 and p.details["population_n"] == 0 and not p.known_player
    pos = positions_in_rally(frame)
    row = int(np.flatnonzero(pos == 3)[0])
    stranger = model.predict(frame.iloc[row - 2:row], {"player": "Nobody KNOWN"})
    known = model.predict(frame.iloc[row - 2:row], {"player": frame["hitter"].iloc[row]})
    assert stranger.source == "population" and stranger.n == stranger.details["population_n"] > 0
    assert known.details["population_n"] == stranger.n and known.known_player


def test_a_population_model_saved_and_loaded_stays_one(sim_table, frame, tmp_path):
    """``by_player=False`` (every player predicted as the population) survives a checkpoint: the loaded model
    predicts a known player as the population does, as the saved one did."""
    from strategist.opponent import load_model

    saved = MarkovModel(order=1, beta=BETA, tune=False, by_player=False).fit(sim_table)
    saved.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.by_player is False
    history, player = frame.iloc[:2], frame["hitter"].iloc[2]
    p, q = (m.predict(history, {"player": player}) for m in (saved, loaded))
    assert q.source == p.source == "population"
    np.testing.assert_allclose(q.probabilities, p.probabilities, rtol=1e-12)
    np.testing.assert_allclose(loaded.predict_table(frame), saved.predict_table(frame), rtol=1e-12)
