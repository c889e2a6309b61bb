"""Sport definitions: vocabularies and groupings, the turn rule, court sides, endings, the registry."""

from __future__ import annotations

import sys
import textwrap

import pandas as pd
import pytest

import strategist.sports as sports_package
from strategist.errors import ConfigurationError
from strategist.sports import Sport, available_sports, get_sport
from strategist.sports.registry import _registry


def test_registry_lists_badminton_and_tennis():
    assert {"badminton", "tennis"} <= set(available_sports())
    assert get_sport("Badminton") is get_sport("badminton")
    assert get_sport(get_sport("tennis")).name == "tennis"
    with pytest.raises(ConfigurationError, match="unknown sport 'curling'"):
        get_sport("curling")


@pytest.mark.parametrize("name", ["badminton", "tennis"])
def test_groupings_cover_exactly_the_vocabulary(name):
    sport = get_sport(name)
    assert "unknown" in sport.shots
    assert sport.serves <= set(sport.shots)
    for grouping, table in sport.groupings.items():
        assert set(table) == set(sport.shots), grouping
    assert set(sport.endings.values()) <= {"hitter", "opponent", "server", "receiver"}


def test_badminton_vocabulary_and_groups():
    badminton = get_sport("badminton")
    assert len(badminton.shots) == 19  # 18 types + unknown
    assert set(badminton.groups("tactic")) == {"attack", "neutral", "defence"}
    assert len(badminton.groups("track2")) == 10
    groups = badminton.group(pd.Series(["smash", "lob", "short service", "unknown", "not a shot"]), "tactic")
    assert groups.iloc[:3].tolist() == ["attack", "defence", "neutral"]
    assert groups.iloc[3:].isna().all()
    with pytest.raises(ConfigurationError, match="no grouping"):
        badminton.group(["smash"], "colour")


def test_badminton_labels_match_translations_csv(shared_data):
    """The typed-in Chinese -> English map and the Track-2 merge agree with the dataset's translation table."""
    table = pd.read_csv(shared_data / "badminton_shuttleset" / "translations.csv", dtype=str, keep_default_na=False)
    types = table[table["column"] == "type"]
    badminton = get_sport("badminton")
    zh_to_en = dict(badminton.labels["shuttleset"]["shot"])
    assert len(types) == 19 and set(zh_to_en) == set(types["value_zh"])
    for zh, en, track2 in zip(types["value_zh"], types["value_en"], types["track2_type"]):
        expected = "unknown" if zh == "未知球種" else en
        assert zh_to_en[zh] == expected
        group = badminton.groupings["track2"][expected]
        assert group == (None if track2 == "(rally dropped)" else track2)
    reasons = table[table["column"] == "lose_reason"]["value_zh"]
    assert set(reasons) == {r for r in badminton.labels["shuttleset"]["end"] if not r.isascii()}


def test_tennis_mcp_letters_and_wings():
    tennis = get_sport("tennis")
    letters = dict(tennis.labels["mcp"]["shot"])
    assert sorted(letters) == sorted("fbrsvzopuylmhijktq")
    assert letters["f"] == "forehand" and letters["s"] == "backhand slice" and letters["q"] == "unknown"
    assert tennis.groupings["wing"]["backhand volley"] == "backhand"
    assert tennis.groupings["stroke"]["backhand volley"] == "volley"
    assert dict(tennis.labels["mcp"]["serve_area"]) == {"4": "wide", "5": "body", "6": "T"}


def test_turn_rule():
    badminton, tennis = get_sport("badminton"), get_sport("tennis")
    assert [badminton.stroke_role(k) for k in range(1, 6)] == ["server", "receiver", "server", "receiver", "server"]
    # tennis after a first-serve fault: fault, second serve, return, server, receiver
    assert [tennis.stroke_role(k, faults=1) for k in range(1, 6)] == \
        ["server", "server", "receiver", "server", "receiver"]
    assert [tennis.stroke_role(k, faults=2) for k in (1, 2)] == ["server", "server"]
    with pytest.raises(ConfigurationError):
        badminton.stroke_role(1, faults=2)
    with pytest.raises(ConfigurationError):
        tennis.stroke_role(0)


def test_court_sides_and_endings():
    badminton, tennis = get_sport("badminton"), get_sport("tennis")
    assert [badminton.court_side(s) for s in (0, 1, 2, 7)] == ["right", "left", "right", "left"]
    assert [tennis.court_side(k) for k in (0, 1, 2)] == ["deuce", "ad", "deuce"]
    assert badminton.winner_role("error") == "opponent" and badminton.winner_role("winner") == "hitter"
    assert tennis.winner_role("double fault") == "opponent" and tennis.winner_role("penalty on server") == "receiver"
    with pytest.raises(ConfigurationError, match="no ending"):
        tennis.winner_role("rain")


def _squash(**overrides) -> Sport:
    fields = dict(name="squash", shots=("serve", "drive", "boast", "drop", "unknown"), serves={"serve"},
                  groupings={"tactic": {"serve": "neutral", "drive": "neutral", "boast": "attack",
                                        "drop": "attack", "unknown": None}},
                  areas={"front": "front court", "back": "back court"}, court_sides=("right", "left"),
                  serves_per_point=1, endings={"winner": "hitter", "error": "opponent"}, errors=("tin", "out"))
    fields.update(overrides)
    return Sport(**fields)


@pytest.mark.parametrize("overrides, message", [
    ({"serves": {"lob"}}, "not shots"),
    ({"groupings": {"tactic": {"serve": "neutral"}}}, "cover exactly"),
    ({"endings": {"winner": "referee"}}, "expected one of"),
    ({"shots": ("serve", "serve", "drive", "boast", "drop", "unknown")}, "duplicate"),
    ({"serves_per_point": 0}, "at least one serve"),
])
def test_inconsistent_definitions_are_refused(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        _squash(**overrides)


def test_a_new_sport_is_one_new_module(tmp_path, monkeypatch):
    """Dropping a definition module into the sports package is all it takes to register a sport."""
    (tmp_path / "squash.py").write_text(textwrap.dedent('''
        from strategist.sports.definition import Sport
        SPORT = Sport(name="squash", shots=("serve", "drive", "unknown"), serves={"serve"},
                      groupings={"tactic": {"serve": "neutral", "drive": "attack", "unknown": None}},
                      areas={"front": "front court"}, court_sides=("right", "left"), serves_per_point=1,
                      endings={"winner": "hitter", "error": "opponent"}, errors=("tin",))
    '''))
    monkeypatch.setattr(sports_package, "__path__", [*sports_package.__path__, str(tmp_path)])
    _registry.cache_clear()
    try:
        assert "squash" in available_sports()
        squash = get_sport("squash")
        assert squash.group(["drive"], "tactic").tolist() == ["attack"]
        assert squash.stroke_role(2) == "receiver"
    finally:
        sys.modules.pop("strategist.sports.squash", None)
        _registry.cache_clear()
    monkeypatch.undo()
    assert "squash" not in available_sports()
