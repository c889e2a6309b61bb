"""Prepared strokes on disk (strategist.rally.stored): which entry a table and its settings get, which entries
are read back and which are refused and made again, and what happens when nothing can be written."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from strategist.data.cache import FORMAT, read_frame, write_frame
from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.rally import stored
from strategist.rally.model import RallySettings, match_spread, ratings, strokes
from strategist.rally.strength import Ratings
from strategist.sports import get_sport

KEY = "k" * 24


@pytest.fixture(scope="module")
def table():
    return load_rallies(demo_path()).table


@pytest.fixture(scope="module")
def fresh(table):
    """Strokes of the demo made from the table, with their ratings and match spread."""
    st = strokes(table, RallySettings())
    ratings(st), match_spread(st)
    return st


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", str(tmp_path))
    return tmp_path


def entry_of(folder):
    return stored._entry(KEY, RallySettings(), None)


def _only_entry(folder):
    [entry] = folder.glob("*-strokes-*.arrow")
    return entry


def test_missing_names_are_kept_as_none_and_others_as_text():
    """A name that is NA is written as null, every other name as its text."""
    record = stored._names_record({"person": np.array(["Ann", None, 3], dtype=object),
                                   "shot": pd.array(["lob", pd.NA], dtype="string")})
    assert record == {"person": ["Ann", None, "3"], "shot": ["lob", None]}


def test_no_entry_without_a_cache_or_a_data_key(folder, monkeypatch):
    assert stored._entry(None, RallySettings(), None) is None
    entry = stored._entry(KEY, RallySettings(), None)
    assert entry.parent == folder and entry.name.startswith(f"{KEY}-strokes-") and entry.suffix == ".arrow"
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", "off")
    assert stored._entry(KEY, RallySettings(), None) is None


@pytest.mark.parametrize("change", [{"actions": "group:tactic"}, {"columns": "zone"}, {"states": "group:tactic"},
                                    {"zones": False}, {"heights": True}])
def test_each_shaping_setting_names_its_own_entry(folder, change):
    """actions, columns, states, zones and heights each change the entry's name."""
    base = stored._entry(KEY, RallySettings(), None)
    assert stored._entry(KEY, RallySettings(**change), None) != base


def test_what_shapes_only_the_game_shares_the_entry_and_the_sport_and_data_do_not(folder, monkeypatch):
    """player, opponent and the estimation's settings keep the name; the data key, the sport's definition and
    the cache's format change it."""
    base = stored._entry(KEY, RallySettings(), None)
    same = RallySettings(player="Ann", opponent="Bea", min_action_count=2, min_share=0.2, min_count=3,
                         prior="flat", level=0.5)
    assert stored._entry(KEY, same, None) == base
    assert stored._entry("j" * 24, RallySettings(), None) != base
    badminton = stored._entry(KEY, RallySettings(), get_sport("badminton"))
    assert badminton != base and stored._entry(KEY, RallySettings(), get_sport("tennis")) != badminton
    monkeypatch.setattr(stored, "FORMAT", FORMAT + 1)
    assert stored._entry(KEY, RallySettings(), None) != base


def test_a_stored_entry_reads_back_with_its_types(folder, table, fresh):
    """Read back: the dropped counts as int, flags as bool, names as object arrays, the ratings as float arrays
    and the match spread as float — equal to those of the strokes made from the table."""
    stored.stored_strokes(table, KEY)
    back = stored._read(_only_entry(folder))
    assert back.dropped == fresh.dropped and all(type(v) is int for v in back.dropped.values())
    assert back.zones is bool(fresh.zones) and back.heights is bool(fresh.heights)
    assert back.sport is get_sport("badminton") or back.sport == get_sport("badminton")
    assert back.columns == fresh.columns and back.rally_rule == fresh.rally_rule
    for key, values in fresh.names.items():
        assert back.names[key].dtype == object
        assert [None if pd.isna(v) else str(v) for v in values] == list(back.names[key]), key
    got, want = back.cache["ratings"], ratings(fresh)
    assert isinstance(got, Ratings) and got.theta.dtype == np.float64
    np.testing.assert_array_equal(got.theta, want.theta)
    np.testing.assert_array_equal(got.rallies, want.rallies)
    assert type(got.precision) is float and got.precision == want.precision
    assert type(back.cache["match_sd"]) is float and back.cache["match_sd"] == match_spread(fresh)


def _rewrite(entry, **changes):
    frame, record = read_frame(entry)
    for key, value in changes.items():
        if value is None:
            record.pop(key)
        else:
            record[key] = value
    write_frame(entry, frame, record)


@pytest.mark.parametrize("changes", [{"format": FORMAT + 1}, {"kind": "table"}, {"ratings": None},
                                     {"match_sd": None}, {"match_sd": [0.1]}, {"sport": "no such sport"},
                                     {"dropped": {"x": "many"}}])
def test_an_entry_of_another_format_or_kind_or_incomplete_is_made_again(folder, table, changes, monkeypatch):
    """An entry that is not a strokes entry of this format, or lacks a part, is not read: the strokes are made
    again from the table and the entry replaced."""
    stored.stored_strokes(table, KEY)
    entry = _only_entry(folder)
    _rewrite(entry, **changes)
    made = []
    real = stored.strokes
    monkeypatch.setattr(stored, "strokes", lambda *a, **k: made.append(1) or real(*a, **k))
    again = stored.stored_strokes(table, KEY)
    assert made == [1] and len(again.frame) > 0
    _, record = read_frame(entry)
    assert record["format"] == FORMAT and record["kind"] == "strokes" and "ratings" in record


def test_the_sport_asked_for_is_used_and_keys_the_entry(folder, table, monkeypatch):
    """sport= is passed to the strokes as the sport asked for (by name) and gives an entry of its own."""
    seen = []
    real = stored.strokes
    monkeypatch.setattr(stored, "strokes", lambda t, s, sport: seen.append(sport) or real(t, s, sport))
    stored.stored_strokes(table, KEY)
    stored.stored_strokes(table, KEY, sport="badminton")
    assert seen == [None, "badminton"]
    assert len(list(folder.glob("*-strokes-*.arrow"))) == 2


def test_settings_default_to_the_defaults(folder, table):
    """No settings: the entry of RallySettings()."""
    stored.stored_strokes(table, KEY)
    assert _only_entry(folder) == stored._entry(KEY, RallySettings(), None)


def test_an_entry_that_cannot_be_written_warns_at_the_caller_and_the_strokes_are_still_made(folder, table,
                                                                                          monkeypatch):
    """A failed write is a RuntimeWarning naming the entry, reported outside the module (at its caller); the
    strokes are returned all the same."""
    def refuse(entry, frame, record, **options):
        raise OSError("disk full")

    monkeypatch.setattr(stored, "write_frame", refuse)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        st = stored.stored_strokes(table, KEY)
    [w] = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert "could not be kept in the cache" in str(w.message) and "disk full" in str(w.message)
    assert str(entry_of(folder)) in str(w.message) and not w.filename.endswith("stored.py")
    assert len(st.frame) > 0 and not list(folder.glob("*-strokes-*.arrow"))


def test_the_left_out_counts_read_back_by_reason(folder, table):
    """Strokes left out (a shot not recorded, a receiver unknown) are counted per reason; read back, the entry
    gives the same reasons with the same counts."""
    damaged = table.copy()
    damaged.loc[damaged.index[[3, 10, 11]], "shot"] = pd.NA
    damaged.loc[damaged.index[20], "opponent"] = pd.NA
    made = stored.stored_strokes(damaged, KEY)
    assert made.dropped == {"hitter's shot unknown": 3, "hitter or receiver unknown": 1}
    back = stored._read(_only_entry(folder))
    assert back.dropped == {"hitter's shot unknown": 3, "hitter or receiver unknown": 1}


def test_a_flag_json_cannot_write_still_names_an_entry(folder, table):
    """A shaping setting JSON has no form for (a numpy bool, as read off an array) is keyed by its text: the
    strokes are made and kept, and found again under the same name."""
    flags = RallySettings(zones=np.bool_(False))
    entry = stored._entry(KEY, flags, None)
    assert entry is not None and entry == stored._entry(KEY, RallySettings(zones=np.bool_(False)), None)
    st = stored.stored_strokes(table, KEY, flags)
    assert not st.zones and _only_entry(folder) == entry
