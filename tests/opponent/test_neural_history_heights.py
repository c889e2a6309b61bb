"""How high each shot was taken reaches the neural model from a light History as it does from a table: the
Advisor passes heights with the History (no frame), and the prediction equals the one from the same strokes
as a table with ``landing_height``."""

from __future__ import annotations

import numpy as np

from strategist.opponent.base import History, positions_in_rally, rally_frame


def _rally(sim_table):
    table = rally_frame(sim_table).iloc[:60].copy()
    pos = positions_in_rally(table)
    row = int(np.flatnonzero(pos == 4)[0])
    strokes = table.iloc[row - 4:row].reset_index(drop=True)
    strokes["landing_height"] = ["low", "high", None, "high"]
    ctx = {"player": table["hitter"].iloc[row], "opponent": table["opponent"].iloc[row]}
    return strokes, ctx


def test_heights_given_with_a_history_predict_as_the_table_does(untrained_neural, sim_table):
    strokes, ctx = _rally(sim_table)
    model = untrained_neural(strokes)
    ids = model.vocabulary.shot_ids(strokes["shot"].tolist())
    hitters = tuple(strokes["hitter"])
    areas = tuple(None if a is None or a != a else str(a) for a in strokes["landing_area"])
    table = strokes[["shot", "hitter", "opponent", "landing_area", "landing_height"]]
    from_table = model.predict(table, ctx)
    given = model.predict(History(ids, hitters, areas, heights=tuple(strokes["landing_height"])), ctx)
    np.testing.assert_allclose(given.probabilities, from_table.probabilities, rtol=1e-6, atol=1e-9)
    assert "landing_height" in given.inputs
    unknown = model.predict(History(ids, hitters, areas), ctx)
    assert "landing_height" not in unknown.inputs
    assert not np.allclose(unknown.probabilities, given.probabilities, atol=1e-6)   # the heights are read


def test_a_frame_without_heights_takes_those_given_with_it(untrained_neural, sim_table):
    strokes, ctx = _rally(sim_table)
    model = untrained_neural(strokes)
    bare = strokes[["shot", "hitter", "opponent", "landing_area"]]
    ids = model.vocabulary.shot_ids(strokes["shot"].tolist())
    with_frame = model.predict(History(ids, frame=bare, heights=tuple(strokes["landing_height"])), ctx)
    table = model.predict(strokes[["shot", "hitter", "opponent", "landing_area", "landing_height"]], ctx)
    np.testing.assert_allclose(with_frame.probabilities, table.probabilities, rtol=1e-6, atol=1e-9)


def test_forgetting_the_rallies_drops_the_kept_states_and_keeps_the_answers(untrained_neural, sim_table):
    strokes, ctx = _rally(sim_table)
    model = untrained_neural(strokes)
    table = strokes[["shot", "hitter", "opponent", "landing_area", "landing_height"]]
    before = model.predict(table, ctx).probabilities
    assert len(model._folded._states) > 0
    assert model.forget_rallies() is model and len(model._folded._states) == 0
    np.testing.assert_array_equal(model.predict(table, ctx).probabilities, before)
