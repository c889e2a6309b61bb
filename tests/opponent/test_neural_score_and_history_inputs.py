"""The neural model's inputs off the common path, checked by hand: the score context of a table whose scores
are text that is not a number, absent over several rallies or stored as half-precision floats; one rally's
arrays from a light History against the same strokes as a table, and a History whose heights run short; the
position standardisation and players of a model not yet built."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from strategist.opponent import NeuralModel
from strategist.opponent.base import History
from strategist.opponent.neural import N_NUM, encode_table
from strategist.sports import get_sport

AREAS = list(get_sport("badminton").areas)


def _model(players=("A", "B"), norm=None) -> NeuralModel:
    torch.manual_seed(0)
    model = NeuralModel(hidden=6, d_shot=4, d_area=3, d_player=2, d_height=2)
    model.build(list(players), norm or {"mean": [0.0] * 4, "std": [1.0] * 4})
    model.net.eval()
    model.fitted_ = True
    return model


def _rallies(lengths) -> pd.DataFrame:
    """Rallies of the given lengths, A serving each, with no score columns."""
    rows = []
    for r, n in enumerate(lengths, start=1):
        for k in range(1, n + 1):
            rows.append({"match_id": "m", "rally_id": f"m|1|{r}", "stroke": k, "hitter": "AB"[(k - 1) % 2],
                         "opponent": "BA"[(k - 1) % 2], "shot": "short service" if k == 1 else "drive",
                         "server": "A"})
    return pd.DataFrame(rows)


def _score_steps(out, lengths):
    """Per valid step (rally by rally): (hitter's score / 21, opponent's / 21, missing flag)."""
    return [tuple(float(v) for v in out["ctx"][k, j, :3]) for k, n in enumerate(lengths) for j in range(n)]


def test_rallies_without_score_columns_all_read_as_no_score():
    """No hitter_score / opponent_score column at all: every step of every rally (not only the first rally's)
    has the score 'missing' flag and zero points."""
    lengths = [3, 2, 4]
    out = encode_table(_model()._encoder, _rallies(lengths))
    assert _score_steps(out, lengths) == [(0.0, 0.0, 1.0)] * sum(lengths)
    only_hitter = _rallies(lengths).assign(hitter_score=5.0)             # one side alone is no score either
    assert _score_steps(encode_table(_model()._encoder, only_hitter), lengths) == [(0.0, 0.0, 1.0)] * 9
    only_opponent = _rallies(lengths).assign(opponent_score=5.0)
    assert _score_steps(encode_table(_model()._encoder, only_opponent), lengths) == [(0.0, 0.0, 1.0)] * 9


def test_a_score_written_as_text_that_is_no_number_reads_as_no_score():
    """Scores given as text are parsed; an entry that is not a number ('n/a', 'unknown') makes that stroke's
    score missing, on either side, instead of failing the table; so does an empty text."""
    frame = _rallies([4])
    frame["hitter_score"] = ["3", "n/a", "3", "4"]
    frame["opponent_score"] = ["4", "", "unknown", "5"]
    out = encode_table(_model()._encoder, frame)
    assert _score_steps(out, [4]) == [(np.float32(3 / 21), np.float32(4 / 21), 0.0), (0.0, 0.0, 1.0),
                                      (0.0, 0.0, 1.0), (np.float32(4 / 21), np.float32(5 / 21), 0.0)]


def test_scores_stored_as_half_precision_floats_reach_the_network_at_single_precision():
    """Whole points held in a float16 column are exact there; the context divides them by 21 to single
    precision (reference: the quotient in float64), not to half precision."""
    frame = _rallies([3])
    frame["hitter_score"] = np.array([3, 17, 20], np.float16)
    frame["opponent_score"] = np.array([11, 6, 19], np.float16)
    out = encode_table(_model()._encoder, frame)
    assert out["ctx"].dtype == np.float32
    np.testing.assert_allclose(out["ctx"][0, :, 0], np.array([3, 17, 20]) / 21.0, rtol=1e-6)
    np.testing.assert_allclose(out["ctx"][0, :, 1], np.array([11, 6, 19]) / 21.0, rtol=1e-6)
    assert out["ctx"][0, :, 2].tolist() == [0.0, 0.0, 0.0]


def test_a_history_gives_the_arrays_of_the_same_strokes_as_a_table_with_their_types():
    """Encoder.history is Encoder.strokes for one rally: the same values and the same integer codes (embedding
    indices) and float32 numbers, the heights given with the History included."""
    model = _model()
    enc = model._encoder
    frame = pd.DataFrame({"shot": ["short service", "lob", "smash"], "hitter": ["A", "B", "A"],
                          "opponent": ["B", "A", "B"], "landing_area": [AREAS[0], None, AREAS[3]],
                          "wing": ["forehand", None, "backhand"], "landing_height": ["high", "low", None],
                          "hitter_x": [0.5, np.nan, 1.5], "hitter_y": [1.0, 2.0, 3.0],
                          "opponent_x": [0.1, 0.2, 0.3], "opponent_y": [2.0, 1.0, np.nan]})
    table = enc.strokes(frame, ["B", "A", "B"])
    ids = model.vocabulary.shot_ids(frame["shot"].tolist())
    history = History(ids, ("A", "B", "A"), (AREAS[0], None, AREAS[3]), frame=frame,
                      heights=("high", "low", None))
    got = enc.history(history, "B")
    assert set(got) == set(table) == {"shot", "area", "wing", "height", "num"}
    for key in table:
        assert got[key].dtype == table[key].dtype, key
        np.testing.assert_array_equal(got[key], table[key], err_msg=key)
    assert got["height"].dtype == np.int64 and got["height"].tolist() == [1, 2, 0]
    assert got["num"].shape == (3, N_NUM)


def test_a_history_with_fewer_heights_or_areas_than_strokes_is_refused():
    """Each per-stroke field of a History must cover every stroke: one height for two strokes is an error, not
    spread over both."""
    model = _model()
    ids = tuple(model.vocabulary.shot_ids(["short service", "lob"]))
    context = {"player": "A", "opponent": "B"}
    with pytest.raises(ValueError):
        model.predict(History(ids, ("A", "B"), (None, None), heights=("high",)), context)
    with pytest.raises(ValueError):
        model.predict(History(ids, ("A", "B"), (AREAS[0],), heights=("high", "low")), context)
    whole = model.predict(History(ids, ("A", "B"), (None, None), heights=("high", "high")), context)
    assert "landing_height" in whole.inputs


def test_a_new_model_knows_no_players_and_standardises_positions_by_the_identity():
    """Before it is built a model has no players, and its position standardisation leaves positions as
    recorded: built with it, the network's position inputs are the positions themselves."""
    model = NeuralModel(hidden=6, d_shot=4, d_area=3, d_player=2, d_height=2)
    assert model.players == [] and model.players_ == set()
    model.build(["A", "B"], model.norm)
    frame = _rallies([3])
    positions = np.array([[0.5, -1.25, 3.0, 4.5], [2.0, 0.75, -0.5, 1.0], [1.5, 2.5, 0.25, -3.0]])
    for j, c in enumerate(("hitter_x", "hitter_y", "opponent_x", "opponent_y")):
        frame[c] = positions[:, j]
    inputs = model._encoder.strokes(frame, ["B", "A", None])
    np.testing.assert_array_equal(inputs["num"][:, :4], positions.astype(np.float32))
    assert inputs["num"][:, 4:6].tolist() == [[0.0, 0.0]] * 3
