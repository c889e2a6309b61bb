"""The data cache's details (strategist.data.cache): where it lies by default, what reaches the loader, how an
entry is named and written (whole, beside the entry, zstd, the index kept), and the text a sport is keyed by."""

from __future__ import annotations

import dataclasses
import os

import pandas as pd
import pytest

from strategist.data import cache
from strategist.data.demo import demo_path
from strategist.data.load import load_rallies


@pytest.fixture
def data(tmp_path):
    """A copy of the demo's strokes in a folder of its own (not a shipped set: keyed by path and time)."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "strokes.csv"
    load_rallies(demo_path()).table.to_csv(path, index=False)
    return path


class Spy:
    """load_rallies, recording the options each call gets."""

    def __init__(self):
        self.calls = []

    def __call__(self, path, **options):
        self.calls.append(options)
        return load_rallies(path, **options)


def test_the_default_folder_is_under_the_home_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("STRATEGIST_DATA_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "strategist" / "tables"
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", "")
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "strategist" / "tables"
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"


@pytest.mark.parametrize("setting", ["off", "folder"])
def test_every_option_reaches_the_loader(setting, data, tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", "off" if setting == "off" else str(tmp_path / "tables"))
    spy = Spy()
    monkeypatch.setattr(cache, "load_rallies", spy)
    cache.cached_load(data, sport="badminton", layout="canonical", strict=True)
    assert spy.calls == [{"sport": "badminton", "layout": "canonical", "strict": True}]


def test_each_layout_has_its_own_entry(data, tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", str(tmp_path / "tables"))
    spy = Spy()
    monkeypatch.setattr(cache, "load_rallies", spy)
    plain = cache.cached_load(data)
    named = cache.cached_load(data, layout="canonical")
    assert len(spy.calls) == 2 and named.cache_key != plain.cache_key
    assert cache.key(data) != cache.key(data.parent)               # a file and its folder: two loads


def test_a_folder_of_exactly_the_most_files_is_keyed(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MAX_FILES", 3)
    folder = tmp_path / "few"
    folder.mkdir()
    for k in range(3):
        (folder / f"{k}.csv").write_text("x")
    assert cache.key(folder) is not None
    (folder / "3.csv").write_text("x")
    assert cache.key(folder) is None


def test_an_entry_is_written_beside_itself_into_new_folders_and_keeps_the_index(tmp_path, monkeypatch):
    moved = []
    real = os.replace
    monkeypatch.setattr(cache.os, "replace", lambda a, b: moved.append((a, b)) or real(a, b))
    frame = pd.DataFrame({"x": [1.5, 2.5, 3.5]}, index=[10, 20, 30])
    entry = tmp_path / "a" / "b" / "entry.arrow"
    cache.write_frame(entry, frame, {"what": 1})
    assert [os.path.dirname(a) for a, _ in moved] == [str(entry.parent)]   # renamed within its folder: atomic
    back, record = cache.read_frame(entry)
    pd.testing.assert_frame_equal(back, frame)
    assert record == {"what": 1} and os.listdir(entry.parent) == ["entry.arrow"]


def test_a_failed_write_leaves_nothing_and_says_why(tmp_path, monkeypatch):
    import pyarrow.feather as feather

    def broken(table, where, **options):
        with open(where, "wb") as half:
            half.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(feather, "write_feather", broken)
    entry = tmp_path / "tables" / "entry.arrow"
    with pytest.raises(OSError, match="disk full"):
        cache.write_frame(entry, pd.DataFrame({"x": [1]}), {})
    assert os.listdir(entry.parent) == []


def test_a_sport_is_keyed_by_every_name_and_value_in_it():
    assert cache.sport_key(frozenset({1, "a"})) == cache.sport_key(frozenset({"a", 1}))
    assert cache.sport_key({"a": 1}) != cache.sport_key({"b": 1})
    assert cache.sport_key({"a": 1}) != cache.sport_key({"a": 2})
    assert cache.sport_key({"a": {"b", "c"}}) == '{"a": ["b", "c"]}'

    @dataclasses.dataclass
    class Rule:
        names: dict

    assert cache.sport_key(Rule({"x": 1})) != cache.sport_key(Rule({"y": 1}))
