"""A checkpoint of a sport defined by a user's file, loaded where that file was never read: the sport is defined
from the checkpoint's own record of it, and only when that record defines exactly the recorded vocabulary."""

from __future__ import annotations

import pytest

from strategist.errors import CheckpointError
from strategist.opponent.base import Vocabulary
from strategist.opponent.checkpoint import check_vocabulary, sport_definition
from strategist.sports import get_sport, registry
from strategist.sports.sportfile import sport_from_mapping, sport_to_mapping

NAME = "mini-ball-ckpt"
SHOTS = ["short service", "long service", "clear", "smash"]


@pytest.fixture()
def recorded(monkeypatch):
    """What a saved model of the sport records (its vocabulary and definition), the sport then forgotten as in
    a process that never read its file."""
    sport = sport_from_mapping({"name": NAME, "extends": "badminton", "shots": SHOTS})
    get_sport(sport)
    meta = {"vocabulary": Vocabulary.of(sport).to_json(), "sport_definition": sport_definition(NAME)}
    monkeypatch.delitem(registry._USER, NAME)
    yield meta
    registry._USER.pop(NAME, None)


def test_the_definition_recorded_is_the_sport_files_fields_and_none_for_a_built_in_sport():
    sport = sport_from_mapping({"name": NAME, "extends": "badminton", "shots": SHOTS})
    get_sport(sport)
    try:
        assert sport_definition(NAME) == sport_to_mapping(sport)
        assert sport_definition(NAME)["shots"] == SHOTS
        assert sport_definition("badminton") is None and sport_definition("tennis") is None
    finally:
        registry._USER.pop(NAME, None)


def test_an_unknown_sport_is_defined_from_its_record_and_registered(recorded):
    with pytest.raises(Exception, match="unknown sport"):
        get_sport(NAME)
    saved = check_vocabulary(recorded, "run/model.json")
    assert saved.sport == NAME and list(saved.shots) == SHOTS
    assert list(get_sport(NAME).shots) == SHOTS and get_sport(NAME).extends == "badminton"
    # the expected sport, when named, must be the recorded one
    assert check_vocabulary(recorded, "run/model.json", sport=NAME) == saved
    with pytest.raises(CheckpointError, match=f"^run/model.json: a {NAME} model, not badminton$"):
        check_vocabulary(recorded, "run/model.json", sport="badminton")


def test_an_unknown_sport_without_its_record_is_refused(recorded):
    del recorded["sport_definition"]
    with pytest.raises(CheckpointError) as caught:
        check_vocabulary(recorded, "run/model.json")
    assert str(caught.value) == (f"run/model.json: sport '{NAME}' of the checkpoint is not known here (load its "
                                 "sport file first)")
    assert NAME not in registry._USER


def test_a_record_that_is_no_sport_definition_names_the_field(recorded):
    recorded["sport_definition"]["extends"] = "croquet"
    with pytest.raises(CheckpointError) as caught:
        check_vocabulary(recorded, "run/model.json")
    assert str(caught.value).startswith("run/model.json: field 'sport_definition': field 'extends': 'croquet'")
    assert NAME not in registry._USER


@pytest.mark.parametrize("edit", [
    pytest.param(lambda d: d.update(name="other-ball-ckpt"), id="another name, the same shots"),
    pytest.param(lambda d: d.update(areas=d["areas"][:-1]), id="the same name and shots, other areas"),
    pytest.param(lambda d: d.update(shots=[SHOTS[1], SHOTS[0], *SHOTS[2:]]), id="the same shots in another order"),
])
def test_a_record_that_defines_another_vocabulary_is_refused(recorded, edit):
    """Refused, and nothing registered: a good checkpoint of the sport read next in the same process loads."""
    good = {"vocabulary": recorded["vocabulary"], "sport_definition": dict(recorded["sport_definition"])}
    edit(recorded["sport_definition"])
    with pytest.raises(CheckpointError) as caught:
        check_vocabulary(recorded, "run/model.json")
    assert str(caught.value) == "run/model.json: field 'sport_definition': does not define the recorded vocabulary"
    assert NAME not in registry._USER and "other-ball-ckpt" not in registry._USER
    assert list(check_vocabulary(good, "good/model.json").shots) == SHOTS


def test_a_vocabulary_that_is_not_the_current_one_says_where_it_differs():
    """The shots in one vocabulary and not the other are named; the same shots in another order (or other
    areas) are said to differ in their order."""
    current = Vocabulary.of("badminton")
    swapped = {**current.to_json(), "shots": list(current.shots[:-1]) + ["hammer throw"]}
    with pytest.raises(CheckpointError) as caught:
        check_vocabulary({"vocabulary": swapped}, "m.json")
    assert str(caught.value) == ("m.json: the checkpoint's vocabulary is not the current badminton vocabulary "
                                 f"(differs in {sorted(['hammer throw', current.shots[-1]])}); retrain the model")
    order = {**current.to_json(), "shots": [current.shots[1], current.shots[0], *current.shots[2:]]}
    with pytest.raises(CheckpointError) as caught:
        check_vocabulary({"vocabulary": order}, "m.json")
    assert "(differs in the order of the shots or the areas); retrain" in str(caught.value)


def test_a_model_of_a_users_sport_records_its_definition_and_a_built_in_one_none(tmp_path, monkeypatch):
    import json

    import pandas as pd

    from strategist.opponent import FrequencyModel, load_model

    sport = sport_from_mapping({"name": NAME, "extends": "badminton", "shots": SHOTS})
    get_sport(sport)
    try:
        rows = [{"sport": NAME, "match_id": "m", "rally_id": f"r{r}", "rally": r, "stroke": k,
                 "hitter": "AB"[k % 2], "opponent": "BA"[k % 2], "shot": SHOTS[0] if k == 1 else SHOTS[2 + k % 2]}
                for r in range(3) for k in range(1, 4)]
        model = FrequencyModel(NAME, tune=False).fit(pd.DataFrame(rows))
        model.save(tmp_path / "own")
        meta = json.loads((tmp_path / "own" / "model.json").read_text())
        assert meta["sport_definition"] == sport_to_mapping(sport)
        monkeypatch.delitem(registry._USER, NAME)
        assert load_model(tmp_path / "own").vocabulary.shots == tuple(SHOTS)
    finally:
        registry._USER.pop(NAME, None)
    built_in = FrequencyModel(tune=False).fit(pd.DataFrame(rows).assign(sport="badminton"))
    built_in.save(tmp_path / "badminton")
    assert "sport_definition" not in json.loads((tmp_path / "badminton" / "model.json").read_text())
