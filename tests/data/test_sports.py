"""Sport definitions: vocabularies and groupings, the turn rule, court sides, endings, the registry."""

from __future__ import annotations

import json
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


# -- a user's own vocabulary file ------------------------------------------------------------------------------
TRACK2 = {"short service": ["short service"], "long service": ["long service"],
          "net shot": ["net shot", "cross-court net shot"], "clear": ["clear"], "push/rush": ["push", "rush"],
          "smash": ["smash", "wrist smash"],
          "defensive shot": ["return net", "defensive return lob", "defensive return drive"],
          "drive": ["drive", "driven flight", "back-court drive"], "drop": ["drop", "passive drop"], "lob": ["lob"]}


def _toml_list(values) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def test_a_toml_file_that_replaces_the_vocabulary_by_ten_merged_classes(tmp_path):
    """The CoachAI Track-2 classes written by hand: each class's tactical group is given, serves and areas come
    from badminton; the result agrees with badminton's own ``track2`` grouping."""
    path = tmp_path / "club.toml"
    path.write_text(textwrap.dedent(f'''
        name = "club-ten"
        extends = "badminton"
        shots = {_toml_list(TRACK2)}
        [groups.tactic]
        attack = ["smash", "push/rush"]
        defence = ["defensive shot", "lob"]
        neutral = ["short service", "long service", "net shot", "clear", "drive", "drop"]
    '''))
    sport = get_sport(path)
    badminton = get_sport("badminton")
    assert sport.shots == tuple(TRACK2) and set(sport.shots) == set(badminton.groups("track2"))
    assert sport.serves == badminton.serves and dict(sport.areas) == dict(badminton.areas)
    assert sport.groupings["tactic"]["push/rush"] == "attack" and sport.groupings["tactic"]["drop"] == "neutral"
    assert sport.extends == "badminton" and sport.court_sides == badminton.court_sides
    assert get_sport("club-ten") is sport and "club-ten" in available_sports()
    assert get_sport(str(path)).shots == sport.shots            # a path given as text


def test_merged_labels_extend_the_builtin_vocabulary_and_keep_shared_groups(tmp_path):
    path = tmp_path / "merged.json"
    path.write_text(json.dumps({"name": "badminton-merged", "extends": "badminton",
                                "merge": {k: v for k, v in TRACK2.items() if len(v) > 1}, "add_shots": ["tumble"]}))
    sport = get_sport(path)
    badminton = get_sport("badminton")
    # every built-in label is either kept or replaced by the class it was merged into, in the built-in order
    want = []
    for shot in badminton.shots:
        label = next((k for k, v in TRACK2.items() if shot in v and len(v) > 1), shot)
        if label not in want:
            want.append(label)
    assert sport.shots == tuple(want + ["tumble"])
    tactic = badminton.groupings["tactic"]
    for label, members in TRACK2.items():
        groups = {tactic[m] for m in members}
        assert sport.groupings["tactic"][label] == (groups.pop() if len(groups) == 1 else None), label
    assert sport.groupings["tactic"]["tumble"] is None
    # a source's labels follow the merge: ShuttleSet's 'rush' and 'push' both read as 'push/rush'
    zh = {en: z for z, en in badminton.labels["shuttleset"]["shot"].items()}
    assert sport.translate("shuttleset", "shot")[zh["rush"]] == "push/rush"
    assert sport.translate("shuttleset", "shot")[zh["push"]] == "push/rush"


@pytest.mark.parametrize("text, message", [
    ('name = "badminton"\nextends = "badminton"', "is a built-in sport"),
    ('name = "x"', "'extends' is missing"),
    ('name = "x"\nextends = "curling"', "not a built-in sport"),
    ('name = "x"\nextends = "badminton"\ncolour = "red"', "unknown fields"),
    ('name = "x"\nextends = "badminton"\nshots = ["lob", "lob"]', "given twice"),
    ('name = "x"\nextends = "badminton"\nshots = ["lob", "smash"]', "no shot of the vocabulary starts a rally"),
    ('name = "x"\nextends = "badminton"\nshots = ["lob"]\nserves = ["serve"]', "not shots of the vocabulary"),
    ('name = "x"\nextends = "badminton"\nshots = ["lob", 3]', "expected a non-empty text"),
    ('name = "x"\nextends = "badminton"\n[merge]\n"p/r" = ["push", "hammer"]', "'hammer' is not a badminton shot"),
    ('name = "x"\nextends = "badminton"\n[merge]\n"a" = ["push"]\n"b" = ["push"]', "merged into both"),
    ('name = "x"\nextends = "badminton"\n[groups.tactic]\nattack = ["hammer"]', "'hammer' is not a shot"),
    ('name = "x"\nextends = "badminton"\n[groups.tactic]\na = ["lob"]\nb = ["lob"]', "in both"),
    ('name = "x/../y"\nextends = "badminton"', "is not a sport name"),
    ('name = "x"\nextends = "badminton"\nshots = [' + ", ".join(f'"s{i}"' for i in range(201)) + "]", "limit"),
    ("name = ", "not a valid TOML sport file"),
])
def test_a_bad_sport_file_is_one_clear_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message) as caught:
        get_sport(path)
    assert str(path) in str(caught.value)


def test_only_small_regular_files_are_read_as_sport_files(tmp_path, monkeypatch):
    import os
    import time

    import strategist.sports.sportfile as sportfile

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(ConfigurationError, match="not a regular file \\(a FIFO\\)"):
        get_sport(fifo)                                   # would block for ever if opened for a plain read
    assert time.perf_counter() - started < 5
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(ConfigurationError, match="not a regular file \\(a character device\\)"):
        get_sport(link)
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(ConfigurationError, match="a folder"):
        get_sport(tmp_path / "folder.toml")
    with pytest.raises(ConfigurationError, match="no such file"):
        get_sport(tmp_path / "absent.toml")
    big = tmp_path / "big.toml"
    big.write_text('name = "big"\nextends = "badminton"\n' + "# padding\n" * 100)
    monkeypatch.setattr(sportfile, "MAX_FILE_BYTES", 200)
    with pytest.raises(ConfigurationError, match="more than the limit of 200"):
        get_sport(big)


def test_a_sport_file_loads_a_table_tagged_with_its_vocabulary(tmp_path, shuttleset_strokes):
    """ShuttleSet relabelled to the ten Track-2 classes (rallies with an unknown shot dropped, as Track 2 does)
    and written as a canonical CSV: refused as badminton, loaded with the sport file."""
    from strategist.data.load import load_rallies
    from strategist.errors import DataFormatError

    table = load_rallies(shuttleset_strokes).table
    table = table[table["match_id"].isin(table["match_id"].unique()[:3])]
    classes = get_sport("badminton").group(table["shot"], "track2")
    table = table[~table["rally_id"].isin(table.loc[classes.isna().to_numpy(), "rally_id"])].copy()
    table["shot"] = get_sport("badminton").group(table["shot"], "track2")
    sport_file = tmp_path / "ten.json"
    sport_file.write_text(json.dumps({"name": "badminton-ten", "extends": "badminton", "shots": list(TRACK2)}))
    csv = tmp_path / "ten.csv"
    table.assign(sport="badminton").to_csv(csv, index=False)
    with pytest.raises(DataFormatError, match="field .shot.: got .defensive shot., expected one of the badminton"):
        load_rallies(csv, strict=True)
    table.assign(sport="badminton-ten").to_csv(csv, index=False)
    loaded = load_rallies(csv, sport=sport_file)
    assert loaded.sport.name == "badminton-ten" and len(loaded.table) == len(table)
    assert set(loaded.table["shot"]) <= set(TRACK2) and "push/rush" in set(loaded.table["shot"])
    assert loaded.rejections.rows_rejected == 0
