"""The frequency model against the same reference formula as the Markov model, its contexts taken from the data
module's own annotation of decision states (a second implementation of the states), and what its predictions
say they rest on."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from strategist.data.states import annotate_states
from strategist.opponent import FrequencyModel, rally_frame
from strategist.opponent.base import positions_in_rally

from .test_backoff_reference import BETA, BETA_P, MIX, reference


@pytest.fixture(scope="module")
def frame(sim_table):
    return rally_frame(sim_table)


@pytest.fixture(scope="module")
def model(sim_table):
    return FrequencyModel(beta=BETA, beta_player=BETA_P, mix=MIX, tune=False).fit(sim_table)


def _keys(frame: pd.DataFrame) -> list:
    """Per stroke: [(), its phase, its decision state] from ``annotate_states``."""
    states = annotate_states(frame)["state"].astype(str).tolist()
    return [[(), s.split(" ", 1)[0], s] for s in states]


def _counts(frame, keys):
    pop, pl = Counter(), Counter()
    for hitter, shot, ks in zip(frame["hitter"].astype(str), frame["shot"].astype(str), keys):
        for level, key in enumerate(ks):
            pop[(level, key, shot)] += 1
            pl[(hitter, level, key, shot)] += 1
    return pop, pl


def test_the_table_path_equals_the_reference_formula(model, frame):
    shots = model.vocabulary.shots
    keys = _keys(frame)
    pop, pl = _counts(frame, keys)
    probs = model.predict_table(frame)
    hitters = frame["hitter"].astype(str).tolist()
    for row in range(0, len(frame), 29):
        np.testing.assert_allclose(probs[row], reference(shots, pop, pl, Counter(), hitters[row], True, keys[row]),
                                   rtol=1e-10)


def test_a_single_prediction_equals_the_reference_and_its_evidence(model, frame):
    shots = model.vocabulary.shots
    keys = _keys(frame)
    pop, pl = _counts(frame, keys)
    starts = np.flatnonzero(positions_in_rally(frame) == 0)
    for row in (starts[3] + 2, starts[10] + 4, starts[20]):
        start = starts[starts <= row].max()
        history = frame.iloc[start:row]
        player = str(frame["hitter"].iloc[row])
        p = model.predict(history, {"player": player})
        np.testing.assert_allclose(p.probabilities, reference(shots, pop, pl, Counter(), player, True, keys[row]),
                                   rtol=1e-10)
        assert p.source == "player" and p.known_player
        assert p.n == sum(pl[(player, 2, keys[row][2], s)] for s in shots)
        # a stranger gets the population's estimate for the same state
        stranger = model.predict(history, {"player": "Nobody KNOWN"})
        np.testing.assert_allclose(stranger.probabilities,
                                   reference(shots, pop, pl, Counter(), "Nobody KNOWN", False, keys[row]), rtol=1e-10)
        assert stranger.source == "population" and not stranger.known_player


def test_a_prediction_names_the_inputs_its_state_rests_on(model, frame):
    """In badminton the state rests on the shots and hitters (neither the landing area, which its rule does not
    read, nor the side served from), and on the player where the player is known."""
    starts = np.flatnonzero(positions_in_rally(frame) == 0)
    history = frame.iloc[starts[5]:starts[5] + 3]
    assert history["landing_area"].notna().any()
    player = str(frame["hitter"].iloc[starts[5] + 3])
    known = model.predict(history, {"player": player, "court_side": "right"})
    assert known.inputs == ("shot", "hitter", "player")
    assert model.predict(history, {"player": "Nobody KNOWN", "court_side": "left"}).inputs == ("shot", "hitter")


@pytest.mark.realdata
def test_in_tennis_the_serve_state_reads_the_court_side_and_the_return_the_landing_area(shared_data):
    """Tennis states tell serves apart by the side served from and returns by where the serve landed: a
    prediction names those inputs where they are given, and the serve's prediction changes with the side."""
    from strategist.data.load import load_rallies

    table = load_rallies(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv").table
    model = FrequencyModel("tennis", tune=False).fit(table)
    frame = rally_frame(table)
    server, receiver = str(frame["hitter"].iloc[0]), str(frame["hitter"].iloc[1])
    empty = frame.iloc[0:0]
    assert model.predict(empty, {"player": server, "court_side": "deuce"}).inputs == (
        "shot", "hitter", "court_side", "player")
    assert model.predict(empty, {"player": server}).inputs == ("shot", "hitter", "player")
    assert model.predict(empty, {"player": "Nobody KNOWN", "court_side": "ad"}).inputs == (
        "shot", "hitter", "court_side")
    served = frame.iloc[0:1]
    assert pd.notna(served["landing_area"].iloc[0])
    assert model.predict(served, {"player": receiver, "court_side": "deuce"}).inputs == (
        "shot", "hitter", "landing_area", "court_side", "player")
    deuce = model.predict(empty, {"player": server, "court_side": "deuce"}).probabilities
    ad = model.predict(empty, {"player": server, "court_side": "ad"}).probabilities
    assert not np.allclose(deuce, ad)
