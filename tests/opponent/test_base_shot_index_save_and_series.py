"""A vocabulary's label index built for labels never seen before, a model saved by its own ``save`` and loaded
back, and a prediction as a Series on the index it is given."""

from __future__ import annotations

import numpy as np
import pandas as pd

import strategist.opponent.base as base
from strategist.opponent import FrequencyModel, load_model
from strategist.opponent.base import Prediction, Vocabulary

from .conftest import planted_table


def test_the_index_of_labels_not_seen_before_maps_each_to_its_position_and_is_kept(monkeypatch):
    """With nothing cached yet (an empty cache, so no label tuple was seen before), the index is built from the
    labels' order and kept: asked again, the very same mapping comes back."""
    monkeypatch.setattr(base, "_INDEX_CACHE", {})
    vocab = Vocabulary("custom", ("serve", "lob", "smash"), ("front", "back"))
    assert vocab.index == {"serve": 0, "lob": 1, "smash": 2}
    assert vocab.area_index == {"front": 0, "back": 1}
    assert vocab.index is vocab.index
    assert vocab.shot_ids(["smash", "serve"]) == [2, 0]
    assert Prediction(vocab.shots, [0.2, 0.3, 0.5], n=1, source="player", inputs=("shot",),
                      known_player=True)["lob"] == 0.3


def test_a_model_saved_by_its_own_save_loads_back_with_the_same_predictions(tmp_path):
    table = planted_table(matches=2, rallies=4)
    model = FrequencyModel(tune=False).fit(table)
    model.save(tmp_path)
    loaded = load_model(tmp_path)
    assert type(loaded) is FrequencyModel
    history = table.iloc[:2]
    context = {"player": "Ann", "opponent": "Bea"}
    np.testing.assert_array_equal(loaded.predict(history, context).probabilities,
                                  model.predict(history, context).probabilities)


def test_a_prediction_as_a_series_takes_the_index_it_is_given():
    """The index given labels the probabilities (its name and labels kept); without one, the shots named 'shot'."""
    p = Prediction(("lob", "smash"), [0.25, 0.75], n=3, source="player", inputs=("shot",), known_player=True,
                   player="Ann", model="test")
    given = pd.Index(["LOB", "SMASH"], name="label")
    out = p.to_series(given)
    assert out.index.equals(given) and out.index.name == "label"
    assert out.tolist() == [0.25, 0.75] and out.name == "p"
    assert out.attrs["n"] == 3 and out.attrs["player"] == "Ann"
    default = p.to_series()
    assert default.index.tolist() == ["lob", "smash"] and default.index.name == "shot"
