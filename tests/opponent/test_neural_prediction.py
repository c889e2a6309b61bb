"""One prediction of the neural model against the table path and by hand: the temperature and in-match offsets
it applies, its evidence and source, the inputs it reports, a context without a score, a hitter who hits twice,
unknown wings and players (one called "None" included), and a history given without its frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from strategist.opponent import NeuralModel, rally_frame
from strategist.opponent.base import History
from strategist.opponent.neural import Encoder
from strategist.sports import get_sport

SHOTS = list(get_sport("badminton").shots)
AREAS = list(get_sport("badminton").areas)


def _rallies() -> pd.DataFrame:
    """Rally 1: A serves, B lobs, A smashes; rally 2: B serves, A drives, B drives."""
    return pd.DataFrame({
        "sport": "badminton", "match_id": "m1", "set": 1,
        "rally": [1, 1, 1, 2, 2, 2], "rally_id": ["m1|1|1"] * 3 + ["m1|1|2"] * 3, "stroke": [1, 2, 3, 1, 2, 3],
        "hitter": ["A", "B", "A", "B", "A", "B"], "opponent": ["B", "A", "B", "A", "B", "A"],
        "shot": ["short service", "lob", "smash", "long service", "drive", "drive"],
        "landing_area": [AREAS[0], None, AREAS[2], AREAS[3], None, AREAS[1]], "server": ["A"] * 3 + ["B"] * 3})


def _model(players=("A", "B", "None")):
    torch.manual_seed(0)
    model = NeuralModel(hidden=6, d_shot=4, d_area=3, d_player=2, d_height=2)
    model.build(list(players), {"mean": [0.0] * 4, "std": [1.0] * 4})
    model.net.eval()
    model.fitted_ = True
    return model


@pytest.fixture(scope="module")
def model():
    m = _model()
    m.evidence_ = m.count_evidence(rally_frame(_rallies()))
    return m


def _context(frame, row):
    return {"player": frame["hitter"].iloc[row], "opponent": frame["opponent"].iloc[row],
            "server": frame["server"].iloc[row], "stroke": int(frame["stroke"].iloc[row])}


def test_a_prediction_applies_the_temperature_and_offsets_as_the_table_path_does(model):
    frame = rally_frame(_rallies())
    model.reset()
    model.temperature_ = 1.7
    try:
        model.update(frame.iloc[:3])
        table = model.predict_table(frame)
        for row in (4, 5):
            hist = frame.iloc[3:row]
            np.testing.assert_allclose(model.predict(hist, _context(frame, row)).probabilities, table[row],
                                       rtol=1e-5, atol=1e-7)
        assert model.predict(frame.iloc[3:4], _context(frame, 4)).details["adapted"]
    finally:
        model.reset()
        model.temperature_ = 1.0


def test_a_context_without_a_score_reads_as_the_table_path_without_one(model):
    frame = rally_frame(_rallies())
    table = model.predict_table(frame)
    for row in (1, 2, 4):
        start = 0 if row < 3 else 3
        np.testing.assert_allclose(model.predict(frame.iloc[start:row], _context(frame, row)).probabilities,
                                   table[row], rtol=1e-5, atol=1e-7)


def test_a_hitter_who_hits_twice_is_flagged_as_in_the_table(model):
    frame = rally_frame(_rallies()).iloc[:3].copy()
    frame["hitter"] = ["A", "A", "B"]
    frame["opponent"] = ["B", "B", "A"]
    table = model.predict_table(frame)
    np.testing.assert_allclose(model.predict(frame.iloc[:1], _context(frame, 1)).probabilities, table[1],
                               rtol=1e-5, atol=1e-7)


def test_evidence_and_source_of_a_prediction(model):
    """n: the player's training strokes in the context (a rally's first stroke, or after the last shot); the
    source is the player's own record for a known player."""
    frame = rally_frame(_rallies())
    first = model.predict(None, {"player": "A"})
    assert first.n == 1.0 and first.source == "player" and first.known_player         # A served once
    after_serve = model.predict(frame.iloc[3:4], {"player": "A"})
    assert after_serve.n == 1.0                                                         # A after a long service
    after_lob = model.predict(frame.iloc[:2], {"player": "B"})
    assert after_lob.n == 0.0                                                           # B never hit after a lob
    nobody = model.predict(frame.iloc[:2], {"player": "Zed"})
    assert nobody.n == 1.0 and nobody.source == "population" and not nobody.known_player


def test_the_inputs_reported_follow_every_stroke_of_the_history():
    """An area or a position recorded on the history's first stroke only counts as used."""
    model = _model()
    frame = rally_frame(_rallies()).iloc[:3].copy()
    frame["landing_area"] = [AREAS[0], None, None]
    ctx = {"player": "B", "opponent": "A"}
    assert "landing_area" in model.predict(frame.iloc[:2], ctx).inputs
    frame["landing_area"] = None
    frame["hitter_x"] = [1.0, np.nan, np.nan]
    frame["hitter_y"] = [1.0, np.nan, np.nan]
    used = model.predict(frame.iloc[:2], ctx).inputs
    assert "positions" in used and "landing_area" not in used
    assert "opponent" in model.predict(frame.iloc[:2], {"player": "B", "opponent": "A"}).inputs
    assert "opponent" not in model.predict(frame.iloc[:2], {"player": "B", "opponent": "Zed"}).inputs


def test_a_player_called_none_is_not_the_missing_player():
    model = _model(("A", "None"))
    enc = model._encoder
    assert enc.player(None) == 0 and enc.player("None") == 2 and enc.player("A") == 1 and enc.player("Q") == 0
    p = model.predict(None, {"player": None})
    assert not p.known_player and p.source == "population"


def test_an_unknown_wing_or_height_is_the_missing_code():
    enc = Encoder(SHOTS, AREAS, ["A"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    frame = pd.DataFrame({"shot": ["drive"] * 3, "hitter": "A", "wing": ["overhead", "backhand", None],
                          "landing_height": ["low", "mid", None]})
    got = enc.strokes(frame, ["A"] * 3)
    assert got["wing"].tolist() == [0, 2, 0] and got["height"].tolist() == [2, 0, 0]


def test_a_history_given_without_its_frame_predicts_from_shots_and_hitters(model):
    frame = rally_frame(_rallies())
    bare = frame.iloc[:2][["shot", "hitter", "opponent"]]
    ids = tuple(SHOTS.index(s) for s in bare["shot"])
    history = History(ids, tuple(bare["hitter"]), (None, None))
    ctx = {"player": "A", "opponent": "B"}
    np.testing.assert_allclose(model.predict(history, ctx).probabilities, model.predict(bare, ctx).probabilities,
                               rtol=1e-6)


def test_a_player_named_by_a_number_is_known_by_its_text():
    model = _model(("7", "B"))
    p = model.predict(None, {"player": 7})
    assert p.known_player and p.source == "player"
