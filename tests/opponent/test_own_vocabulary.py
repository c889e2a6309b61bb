"""A table tagged with a user's own 10-class vocabulary (ShuttleSet relabelled to CoachAI Track 2's classes)
loads through a sport file, and every model fits, predicts, saves and loads on it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from strategist.errors import CheckpointError
from strategist.opponent import FrequencyModel, MarkovModel, NeuralModel, load_model, rally_frame
from strategist.opponent.base import positions_in_rally
from strategist.sports import get_sport

import track2
from track2 import TEN

from .conftest import TINY



@pytest.fixture(scope="module")
def ten_class(tmp_path_factory, shuttleset_strokes):
    """(sport file, canonical CSV, loaded table): 12 ShuttleSet matches in the Track-2 classes."""
    from strategist.data.load import load_rallies

    sport_file, csv = track2.write(tmp_path_factory.mktemp("ten"), shuttleset_strokes, 12, "badminton-track2")
    return sport_file, csv, load_rallies(csv, sport=sport_file).table


@pytest.fixture(scope="module")
def fitted(ten_class):
    from strategist.opponent.split import select, split_matches

    sport_file, _, table = ten_class
    sport = get_sport(sport_file)
    split = split_matches(table, test_fraction=0.2)
    train, valid = select(table, split.train), select(table, split.valid)
    return {"frequency": FrequencyModel(sport).fit(train), "markov": MarkovModel(sport, order=2).fit(train),
            "neural": NeuralModel(sport, max_steps=20, **TINY).fit(train, valid=valid)}, select(table, split.test)


@pytest.mark.parametrize("kind", ["frequency", "markov", "neural"])
def test_every_model_fits_and_predicts_over_the_ten_classes(fitted, kind):
    models, test = fitted
    model = models[kind]
    assert model.vocabulary.shots == TEN and model.sport == "badminton-track2"
    frame = rally_frame(test)
    probs = model.predict_table(frame)
    assert probs.shape == (len(frame), 10) and np.allclose(probs.sum(1), 1.0)
    pos = positions_in_rally(frame)
    row = int(np.flatnonzero(pos == 3)[0])
    p = model.predict(frame.iloc[row - 3:row], {"player": frame["hitter"].iloc[row],
                                                "opponent": frame["opponent"].iloc[row],
                                                "server": frame["server"].iloc[row],
                                                "score": (frame["hitter_score"].iloc[row],
                                                          frame["opponent_score"].iloc[row])})
    assert p.shots == TEN and p.probabilities.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p.probabilities, probs[row], rtol=1e-4, atol=1e-6)
    # a label of the built-in vocabulary that the ten classes merged away is refused, naming the vocabulary
    bad = frame.iloc[row - 3:row].copy()
    bad["shot"] = bad["shot"].astype(object)
    bad.iloc[0, bad.columns.get_loc("shot")] = "rush"
    with pytest.raises(Exception, match="'rush' is not in the badminton-track2 vocabulary"):
        model.predict(bad)


@pytest.mark.parametrize("kind", ["markov", "neural"])
def test_a_saved_model_of_the_ten_classes_loads_where_the_file_is_not_known(fitted, kind, tmp_path, monkeypatch):
    from strategist.sports import registry

    models, test = fitted
    models[kind].save(tmp_path / kind)
    meta = json.loads((tmp_path / kind / "model.json").read_text())
    assert meta["sport_definition"]["shots"] == list(TEN) and meta["sport_definition"]["extends"] == "badminton"
    monkeypatch.delitem(registry._USER, "badminton-track2")          # another process: the file never read
    loaded = load_model(tmp_path / kind)
    assert get_sport("badminton-track2").shots == TEN
    np.testing.assert_allclose(loaded.predict_table(test), models[kind].predict_table(test), rtol=1e-6, atol=1e-9)
    # a record of the sport that does not define the recorded vocabulary is refused
    monkeypatch.delitem(registry._USER, "badminton-track2")
    meta["sport_definition"]["shots"] = list(TEN[:-1]) + ["tumble"]
    (tmp_path / kind / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="sport_definition"):
        load_model(tmp_path / kind)
