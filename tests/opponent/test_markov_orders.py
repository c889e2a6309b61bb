"""The Markov model's order (a positive whole number, 2 by default) and its sport."""

from __future__ import annotations

import numpy as np
import pytest

from strategist.errors import OpponentModelError
from strategist.opponent import MarkovModel, rally_frame
from strategist.opponent.base import Vocabulary, positions_in_rally

from .test_frequency_states import tennis_table


@pytest.mark.parametrize("order", [0, -1, 1.5, 2.5, -0.5])
def test_an_order_that_is_not_a_positive_whole_number_is_refused(order):
    """The refusal names the order, what it must be and the value given."""
    with pytest.raises(OpponentModelError) as info:
        MarkovModel(order=order)
    assert str(info.value) == f"order must be a positive integer, got {order!r}"


def test_a_whole_float_order_is_that_integer():
    """order=3.0 is order 3: three levels of context, stored as an int."""
    model = MarkovModel(order=3.0)
    assert model.order == 3 and isinstance(model.order, int) and model.config()["order"] == 3


def test_the_default_order_is_two(sim_table):
    """MarkovModel() conditions on the last two shots: it predicts exactly as MarkovModel(order=2) does."""
    default = MarkovModel(tune=False).fit(sim_table)
    assert default.order == 2 and default.config()["order"] == 2
    frame = rally_frame(sim_table).iloc[:400]
    np.testing.assert_array_equal(default.predict_table(frame),
                                  MarkovModel(order=2, tune=False).fit(sim_table).predict_table(frame))


def test_a_markov_model_keeps_its_sport():
    """MarkovModel("tennis") reads tennis shots: every rally of the table opens with a serve, so a rally's first
    stroke is predicted to be a serve."""
    table = tennis_table()
    model = MarkovModel("tennis", tune=False).fit(table)
    assert model.sport == "tennis"
    assert model.vocabulary.shots == Vocabulary.of("tennis").shots
    frame = rally_frame(table)
    probs = model.predict_table(frame)
    firsts = probs[positions_in_rally(frame) == 0]
    serve = model.vocabulary.shots.index("serve")
    assert (firsts.argmax(axis=1) == serve).all()
