"""In-match adaptation: rallies are predicted in (match, set, rally) order, each knowing only the earlier rallies
of its own match, and the model is reset before every match and after the walk (even when it fails)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from strategist.opponent.adapt import predict_in_match
from strategist.opponent.base import rally_frame


class Recorder:
    """A stand-in model: each predicted row holds (rallies learnt since the last reset, the stroke number,
    the rally number); every call is logged."""

    def __init__(self, fail_at=None):
        self.vocabulary = SimpleNamespace(shots=("a", "b", "c"))
        self.learnt = []
        self.log = []
        self.fail_at = fail_at

    def reset(self):
        self.learnt = []
        self.log.append("reset")
        return self

    def update(self, rally):
        self.learnt.append(rally["rally_id"].iloc[0])
        self.log.append(("update", rally["rally_id"].iloc[0]))
        return self

    def predict_table(self, rally):
        ids = rally["rally_id"].unique().tolist()
        assert len(ids) == 1                                      # one whole rally at a time
        self.log.append(("predict", ids[0], len(rally)))
        if ids[0] == self.fail_at:
            raise RuntimeError("boom")
        return np.column_stack([np.full(len(rally), len(self.learnt), float), rally["stroke"].to_numpy(float),
                                rally["rally"].to_numpy(float)])


def _table() -> pd.DataFrame:
    # rally ids whose text order ("m1-s1-r10" < "m1-s1-r2" < "m1-s2-r1") is not the (match, set, rally) order
    rallies = [("m2", 1, 1, 2), ("m1", 1, 10, 3), ("m1", 2, 1, 1), ("m1", 1, 2, 2), ("m1", 1, 1, 2), ("m2", 1, 3, 1)]
    rows = []
    for match, set_, rally, strokes in rallies:
        for s in range(1, strokes + 1):
            rows.append({"match_id": match, "set": set_, "rally": rally, "rally_id": f"{match}-s{set_}-r{rally}",
                         "stroke": s, "hitter": "A" if s % 2 else "B", "opponent": "B" if s % 2 else "A",
                         "shot": "a"})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_rallies_are_walked_in_match_set_rally_order_with_a_reset_per_match_and_at_the_end():
    model = Recorder()
    predict_in_match(model, _table())
    order = ["m1-s1-r1", "m1-s1-r2", "m1-s1-r10", "m1-s2-r1", "m2-s1-r1", "m2-s1-r3"]
    strokes = {"m1-s1-r1": 2, "m1-s1-r2": 2, "m1-s1-r10": 3, "m1-s2-r1": 1, "m2-s1-r1": 2, "m2-s1-r3": 1}
    expected = []
    for i, rid in enumerate(order):
        if i in (0, 4):
            expected.append("reset")
        expected += [("predict", rid, strokes[rid]), ("update", rid)]
    assert model.log == expected + ["reset"]
    assert model.learnt == []


def test_each_row_gets_the_prediction_made_for_its_own_rally_knowing_the_earlier_rallies_of_its_match():
    table = _table()
    out = predict_in_match(Recorder(), table)
    frame = rally_frame(table)
    assert out.shape == (len(frame), 3)
    known = {"m1-s1-r1": 0, "m1-s1-r2": 1, "m1-s1-r10": 2, "m1-s2-r1": 3, "m2-s1-r1": 0, "m2-s1-r3": 1}
    np.testing.assert_array_equal(out[:, 0], frame["rally_id"].map(known).to_numpy(float))
    np.testing.assert_array_equal(out[:, 1], frame["stroke"].to_numpy(float))
    np.testing.assert_array_equal(out[:, 2], frame["rally"].to_numpy(float))


def test_a_failing_prediction_still_leaves_the_model_reset():
    model = Recorder(fail_at="m1-s1-r10")
    with pytest.raises(RuntimeError, match="boom"):
        predict_in_match(model, _table())
    assert model.log[-1] == "reset" and model.learnt == []
    assert ("update", "m1-s1-r2") in model.log and ("update", "m1-s1-r10") not in model.log


def test_an_empty_table_gives_no_rows_and_a_reset_model():
    model = Recorder()
    out = predict_in_match(model, _table().iloc[:0])
    assert out.shape == (0, 3)
    assert model.log == ["reset"]


def test_what_the_model_learnt_before_the_walk_is_forgotten_before_the_first_match_whatever_its_id():
    table = _table()
    table["match_id"] = table["match_id"].map({"m1": "", "m2": "m2"})   # an empty id is still a match
    table["rally_id"] = table["match_id"] + "/" + table["rally_id"]
    model = Recorder()
    model.learnt = ["from an earlier call"]
    out = predict_in_match(model, table)
    frame = rally_frame(table)
    first = (frame["match_id"] == "") & (frame["set"] == 1) & (frame["rally"] == 1)
    assert model.log[0] == "reset"
    np.testing.assert_array_equal(out[first.to_numpy(), 0], 0.0)
