"""The frequency model's decision states on tennis rallies with faults, a let, unknown landing areas and court
sides, and tables without those columns: every stroke's state is the plain ``next_state`` of its rally so far
(no shortcuts), and a single prediction reads the same state as the table."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from strategist.opponent import FrequencyModel, rally_frame
from strategist.opponent.base import next_state, positions_in_rally

from .test_backoff_reference import BETA, BETA_P, MIX, reference

RALLY_SHOTS = ["forehand", "backhand", "forehand slice", "forehand volley", "backhand lob"]
SERVE_AREAS = ["wide", "body", "T"]
RALLY_AREAS = ["forehand side", "middle", "backhand side"]


def tennis_table(rallies: int = 80, seed: int = 0, missing=pd.NA) -> pd.DataFrame:
    """Rallies of two players: one serve in play, a fault then a second serve, a let then a fault then a third
    serve, or a double fault; then up to four rally strokes. Some landing areas and court sides are unknown
    (``missing``)."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(rallies):
        server, receiver = ("Ana", "Bea") if r % 2 == 0 else ("Bea", "Ana")
        side = "deuce" if (r // 2) % 2 == 0 else "ad"
        if rng.random() < 0.15:
            side = missing
        serves = int(rng.choice([1, 2, 3], p=[0.55, 0.3, 0.15]))
        double_fault = serves == 2 and rng.random() < 0.3
        strokes = [(server, "serve", rng.choice(SERVE_AREAS)) for _ in range(serves)]
        if not double_fault:
            hitter = receiver
            for _ in range(int(rng.integers(1, 5))):
                strokes.append((hitter, rng.choice(RALLY_SHOTS), rng.choice(RALLY_AREAS)))
                hitter = server if hitter == receiver else receiver
        for k, (hitter, shot, area) in enumerate(strokes):
            if rng.random() < 0.2:
                area = missing
            rows.append({"match_id": "m1", "rally_id": f"r{r:03d}", "stroke": k + 1, "hitter": hitter,
                         "opponent": "Bea" if hitter == "Ana" else "Ana", "shot": str(shot),
                         "landing_area": area, "court_side": side})
    table = pd.DataFrame(rows)
    if missing is pd.NA:
        table = table.astype({"landing_area": "string", "court_side": "string"})
    return table


def _known(value):
    return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else str(value)


def plain_keys(frame: pd.DataFrame) -> list:
    """Per stroke: [(), its phase, its state], the state from ``next_state`` on the rally so far."""
    shots, hitters = frame["shot"].astype(str).tolist(), frame["hitter"].astype(str).tolist()
    areas = [_known(a) for a in frame["landing_area"]] if "landing_area" in frame else [None] * len(frame)
    sides = [_known(s) for s in frame["court_side"]] if "court_side" in frame else [None] * len(frame)
    keys, start = [], 0
    for row, pos in enumerate(positions_in_rally(frame)):
        start = row if pos == 0 else start
        state = next_state("tennis", shots[start:row], hitters[start:row], hitters[row], areas[start:row],
                           sides[start])
        keys.append([(), state.split(" ", 1)[0], state])
    return keys


def check_table_against_plain_states(table: pd.DataFrame) -> FrequencyModel:
    model = FrequencyModel("tennis", beta=BETA, beta_player=BETA_P, mix=MIX, tune=False).fit(table)
    frame = rally_frame(table)
    keys = plain_keys(frame)
    pop, pl = Counter(), Counter()
    for hitter, shot, ks in zip(frame["hitter"].astype(str), frame["shot"].astype(str), keys):
        for level, key in enumerate(ks):
            pop[(level, key, shot)] += 1
            pl[(hitter, level, key, shot)] += 1
    probs = model.predict_table(frame)
    shots = model.vocabulary.shots
    hitters = frame["hitter"].astype(str).tolist()
    for row in range(len(frame)):
        np.testing.assert_allclose(probs[row], reference(shots, pop, pl, Counter(), hitters[row], True, keys[row]),
                                   rtol=1e-10, err_msg=f"row {row}: {keys[row][2]}")
    return model


def test_the_states_include_second_and_third_serves_and_unknown_areas_and_sides():
    """The table below exercises what the states tell apart (a guard on the fixture, not the model)."""
    states = {k[2] for k in plain_keys(rally_frame(tennis_table()))}
    assert {"serve (deuce, 2nd serve)", "serve (ad, 3rd serve)", "serve (side unknown, 1st serve)",
            "return of unknown direction"} <= states


def test_every_stroke_of_the_table_is_counted_in_its_plain_state():
    """Faults, a let's third serve, unknown areas and sides: predictions equal the reference formula's."""
    check_table_against_plain_states(tennis_table())


def test_unknown_areas_and_sides_stored_as_nan_are_unknown():
    """An object column holding NaN for unknown values gives the same states as one holding pd.NA."""
    check_table_against_plain_states(tennis_table(missing=np.nan))


@pytest.mark.parametrize("drop", [["landing_area"], ["court_side"], ["landing_area", "court_side"]])
def test_a_table_without_areas_or_sides_reads_them_as_unknown(drop):
    """Without the columns every area and side is unknown, as in the reference."""
    check_table_against_plain_states(tennis_table().drop(columns=drop))


@pytest.mark.parametrize("missing", [pd.NA, np.nan], ids=["NA", "NaN"])
def test_a_single_prediction_reads_the_state_the_table_counted(missing):
    """For two strokes of every state (second serves after a fault, returns of serves whose landing is unknown...),
    predicting from the rally so far gives the table's prediction for that stroke."""
    table = tennis_table(missing=missing)
    model = FrequencyModel("tennis", beta=BETA, beta_player=BETA_P, mix=MIX, tune=False).fit(table)
    frame = rally_frame(table)
    probs = model.predict_table(frame)
    pos = positions_in_rally(frame)
    rows_of = {}
    for row, key in enumerate(plain_keys(frame)):
        rows_of.setdefault(key[2], []).append(row)
    assert {"serve (deuce, 2nd serve)", "serve (ad, 3rd serve)", "return of unknown direction"} <= set(rows_of)
    for rows in rows_of.values():
        for row in rows[:2]:
            start = row - pos[row]
            p = model.predict(frame.iloc[start:row], {"player": str(frame["hitter"].iloc[row]),
                                                      "court_side": _known(frame["court_side"].iloc[start])})
            np.testing.assert_allclose(p.probabilities, probs[row], rtol=1e-12)
