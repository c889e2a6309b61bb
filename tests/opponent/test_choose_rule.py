"""Choosing an opponent model: each candidate fitted on the training matches and scored on the validation matches
(strokes after the serve), the lowest log-loss kept (ties by name), a count model refitted on training and
validation matches, the neural one kept as it is; the kind names ``markov1`` ... ``markov8``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import strategist.opponent as opponent
from strategist.errors import OpponentModelError
from strategist.opponent.base import Vocabulary
from strategist.opponent.choose import CANDIDATES, Choice, choose_model, parse_kind, validation_scores
from strategist.opponent.split import Split

SHOTS = ("a", "b", "c")


class StandIn:
    """A model that gives probability ``q`` to each stroke's own shot after the serve (the rest shared evenly)
    and 0.01 to the serve's own shot: its validation log-loss is -ln q, whatever the strokes."""

    def __init__(self, kind, q, table):
        self.kind, self.q = kind, q
        self.vocabulary = Vocabulary("x", SHOTS, ())
        self.matches = sorted(table["match_id"].unique())

    def predict_table(self, frame):
        out = np.empty((len(frame), len(SHOTS)))
        for i, (shot, stroke) in enumerate(zip(frame["shot"], frame["stroke"])):
            own = 0.01 if stroke == 1 else self.q
            out[i] = (1 - own) / 2
            if shot in SHOTS:
                out[i, SHOTS.index(shot)] = own
        return out


def _table(matches=("m1", "m2", "m3", "m4")) -> pd.DataFrame:
    rows = []
    for m in matches:
        for r, shots in enumerate([("a", "b", "c"), ("b", "a")]):
            for s, shot in enumerate(shots, start=1):
                rows.append({"match_id": m, "rally_id": f"{m}-{r}", "stroke": s, "hitter": "P", "opponent": "Q",
                             "shot": shot})
    return pd.DataFrame(rows).iloc[::-1].reset_index(drop=True)     # rows out of rally order


@pytest.fixture
def fitted(monkeypatch):
    """Replace fit_model by stand-ins of fixed quality per kind; returns the log of its calls."""
    quality = {"markov1": 0.5, "markov2": 0.6, "markov3": 0.4, "frequency": 0.3, "neural": 0.55}
    calls = []

    def fake_fit(kind, table, sport=None, **options):
        calls.append({"kind": kind, "matches": sorted(table["match_id"].unique()), "sport": sport,
                      "options": options})
        model = StandIn(kind, quality[kind], table)
        model.call = len(calls)
        return model

    monkeypatch.setattr(opponent, "fit_model", fake_fit)
    return quality, calls


SPLIT = Split(train=("m1", "m2"), valid=("m3",), test=("m4",))


def test_validation_scores_are_those_of_the_strokes_after_the_serve():
    model = StandIn("k", 0.5, _table())
    s = validation_scores(model, _table(("m3",)))
    assert s == {"log_loss": pytest.approx(-math.log(0.5)), "top1": 1.0, "n": 3}
    worse = validation_scores(StandIn("k", 0.2, _table()), _table(("m3", "m4")))
    assert worse["log_loss"] == pytest.approx(-math.log(0.2)) and worse["top1"] == 0.0 and worse["n"] == 6


def test_validation_scores_name_the_validation_matches_for_a_shot_outside_the_vocabulary():
    table = _table(("m3",))
    table.loc[0, "shot"] = "zzz"
    with pytest.raises(OpponentModelError, match=r"^validation matches: shot 'zzz'"):
        validation_scores(StandIn("k", 0.5, table), table)


def test_the_lowest_validation_log_loss_wins_and_a_count_model_is_refitted_on_train_and_valid(fitted):
    quality, calls = fitted
    lines = []
    choice = choose_model(_table(), SPLIT, sport="tennis", candidates=("markov1", "markov3", "markov2", "frequency"),
                          neural={"max_steps": 3}, progress=lines.append)
    assert choice.kind == "markov2"
    assert [c["kind"] for c in calls] == ["markov1", "markov3", "markov2", "frequency", "markov2"]
    assert all(c["matches"] == ["m1", "m2"] and c["options"] == {} for c in calls[:4])
    assert calls[4]["matches"] == ["m1", "m2", "m3"] and calls[4]["options"] == {}
    assert all(c["sport"] == "tennis" for c in calls)
    assert choice.model.call == 5                                     # the refitted model is the one kept
    assert set(choice.scores) == {"markov1", "markov3", "markov2", "frequency"}
    for kind, s in choice.scores.items():
        assert s["log_loss"] == pytest.approx(-math.log(quality[kind])) and s["n"] == 3
    assert choice.scores["markov3"]["top1"] == 1.0                    # 0.4 against 0.3 each: still the top shot
    assert lines == ["markov1: validation log-loss 0.6931, top-1 1.000 (3 strokes)",
                     "markov3: validation log-loss 0.9163, top-1 1.000 (3 strokes)",
                     "markov2: validation log-loss 0.5108, top-1 1.000 (3 strokes)",
                     "frequency: validation log-loss 1.2040, top-1 0.000 (3 strokes)"]
    assert choice.reason == ("markov2: the lowest log-loss on the 1 validation matches (3 strokes): 0.5108 nats, "
                             "top-1 100.0%; against markov1 0.6931, markov3 0.9163, frequency 1.2040; refitted on the training and "
                             "validation matches")
    assert choice.to_json() == {"chosen": "markov2", "reason": choice.reason, "candidates": choice.scores}


def test_the_neural_model_sees_the_validation_matches_and_is_kept_unrefitted(fitted):
    quality, calls = fitted
    quality["neural"] = 0.9
    split = Split(train=("m1",), valid=("m2", "m3"), test=("m4",))
    choice = choose_model(_table(), split, candidates=("frequency", "neural"), neural={"max_steps": 3})
    assert choice.kind == "neural" and choice.model.call == 2 and len(calls) == 2
    neural = calls[1]
    assert neural["matches"] == ["m1"] and set(neural["options"]) == {"max_steps", "valid"}
    assert neural["options"]["max_steps"] == 3
    assert sorted(neural["options"]["valid"]["match_id"].unique()) == ["m2", "m3"]
    assert calls[0]["options"] == {} and calls[0]["sport"] is None
    assert choice.scores["frequency"] == {"log_loss": pytest.approx(-math.log(0.3)), "top1": 0.0, "n": 6}
    assert choice.reason == ("neural: the lowest log-loss on the 2 validation matches (6 strokes): 0.1054 nats, "
                             "top-1 100.0%; against frequency 1.2040 (the neural model also used these matches to "
                             "stop early and set its temperature)")
    # without neural options it still gets the validation matches
    calls.clear()
    choose_model(_table(), split, candidates=("neural",))
    assert set(calls[0]["options"]) == {"valid"}


def test_a_tie_goes_to_the_first_name_in_alphabetical_order_and_a_lone_candidate_has_no_rivals(fitted):
    quality, calls = fitted
    quality["markov1"] = quality["frequency"] = 0.7
    choice = choose_model(_table(), SPLIT, candidates=("markov1", "frequency"))
    assert choice.kind == "frequency"
    alone = choose_model(_table(), SPLIT, candidates=("frequency",))
    assert alone.reason == ("frequency: the lowest log-loss on the 1 validation matches (3 strokes): 0.3567 nats, "
                            "top-1 100.0%; refitted on the training and validation matches")


def test_by_default_every_candidate_is_tried_in_order(fitted):
    _, calls = fitted
    assert CANDIDATES == ("markov1", "markov2", "markov3", "frequency", "neural")
    choose_model(_table(), SPLIT)
    assert [c["kind"] for c in calls] == list(CANDIDATES) + ["markov2"]


def test_choosing_needs_training_and_validation_matches(fitted):
    _, calls = fitted
    with pytest.raises(OpponentModelError, match="training and validation"):
        choose_model(_table(), Split(train=("m1", "m2"), valid=(), test=("m4",)))
    with pytest.raises(OpponentModelError, match="training and validation"):
        choose_model(_table(), Split(train=(), valid=("m3",), test=("m4",)))
    assert calls == []
    choose_model(_table(), Split(train=("m1",), valid=("m3",), test=()), candidates=("markov1",))


def test_choice_json_defaults():
    choice = Choice(model=None, kind="markov1")
    assert choice.to_json() == {"chosen": "markov1", "reason": "", "candidates": {}}


@pytest.mark.parametrize("name, expected", [
    ("markov1", ("markov", {"order": 1})), ("markov8", ("markov", {"order": 8})),
    (" Markov2 ", ("markov", {"order": 2})), ("MARKOV3", ("markov", {"order": 3})),
    ("markov", ("markov", {})), ("markovx", ("markovx", {})), ("Neural", ("neural", {})),
    ("frequency", ("frequency", {})), ("markov 2", ("markov 2", {})),
])
def test_parse_kind(name, expected):
    assert parse_kind(name) == expected


@pytest.mark.parametrize("name", ["markov0", "markov9", "markov10"])
def test_parse_kind_refuses_orders_outside_one_to_eight(name):
    with pytest.raises(OpponentModelError, match="from 1 to 8"):
        parse_kind(name)
