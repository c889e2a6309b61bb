"""Loaded data kept on disk (strategist.data.cache): a cached load equals a fresh one, edited files are read
again, a damaged or unwritable cache never stands in the way of a load."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from strategist.data import cache
from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.data.rejections import Rejection, RejectionReport
from strategist.errors import ConfigurationError, DataFormatError


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "tables"
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", str(folder))
    return folder


@pytest.fixture
def data(tmp_path):
    """A copy of the demo's strokes with a rally cut short (so the load rejects something), in its own folder."""
    folder = tmp_path / "data"
    folder.mkdir()
    table = load_rallies(demo_path()).table
    bad = table.copy()
    bad.loc[bad.index[3], "winner"] = "nobody we know"
    path = folder / "strokes.csv"
    bad.to_csv(path, index=False)
    return path


def _refuse(*args, **kwargs):
    raise AssertionError("load_rallies called: the cache was not read")


def test_a_cached_load_equals_a_fresh_one_and_is_read_back(cache_folder, data, monkeypatch):
    fresh = load_rallies(data)
    first = cache.cached_load(data)
    assert first.cache_key and (cache_folder / f"{first.cache_key}.arrow").is_file()
    monkeypatch.setattr(cache, "load_rallies", _refuse)
    again = cache.cached_load(data)
    assert again.cache_key == first.cache_key
    pd.testing.assert_frame_equal(again.table, fresh.table)
    assert again.rejections.to_dict() == fresh.rejections.to_dict() and fresh.rejections.rallies_rejected == 1
    assert (again.layout, again.sport.name, again.paths) == (fresh.layout, fresh.sport.name, fresh.paths)


def test_an_edited_or_added_file_is_read_again(cache_folder, data):
    first = cache.cached_load(data)
    table = pd.read_csv(data)
    table.iloc[:-40].to_csv(data, index=False)                   # the last rallies removed
    os.utime(data, ns=(1, 1))
    edited = cache.cached_load(data)
    assert edited.cache_key != first.cache_key and len(edited.table) < len(first.table)
    (data.parent / "notes.txt").write_text("a file beside the data")
    assert cache.cached_load(data).cache_key != edited.cache_key


def test_options_make_their_own_entries(cache_folder, data):
    lenient = cache.cached_load(data)
    with pytest.raises(DataFormatError, match="winner"):
        cache.cached_load(data, strict=True)                     # strict stops at the bad winner
    assert cache.cached_load(data).cache_key == lenient.cache_key


def test_a_cached_entry_checks_the_sport_as_a_load_does(cache_folder, data):
    cache.cached_load(data)
    with pytest.raises(ConfigurationError) as fresh:
        load_rallies(data, sport="tennis")
    with pytest.raises(ConfigurationError) as cached:
        cache.cached_load(data, sport="tennis")
    assert str(cached.value) == str(fresh.value)
    assert cache.cached_load(data).sport.name == "badminton"      # the entry still serves the load it was for


def test_a_damaged_entry_is_loaded_again_and_replaced(cache_folder, data):
    first = cache.cached_load(data)
    entry = cache_folder / f"{first.cache_key}.arrow"
    entry.write_bytes(b"ARROW1 not an Arrow file")
    again = cache.cached_load(data)
    pd.testing.assert_frame_equal(again.table, first.table)
    assert entry.stat().st_size > 1000                            # rewritten whole


def test_an_unwritable_cache_warns_and_loads(tmp_path, data, monkeypatch):
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", str(blocker / "tables"))
    with pytest.warns(RuntimeWarning, match="could not be kept"):
        loaded = cache.cached_load(data)
    assert loaded.cache_key is None
    pd.testing.assert_frame_equal(loaded.table, load_rallies(data).table)


def test_the_cache_can_be_turned_off(tmp_path, data, monkeypatch):
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", "off")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    loaded = cache.cached_load(data)
    assert loaded.cache_key is None and cache.cache_dir() is None
    assert not (tmp_path / "home").exists()


def test_a_folder_of_data_is_keyed_by_every_file_in_it(cache_folder, tmp_path):
    folder = tmp_path / "shuttle"
    shutil.copytree(demo_path().parent, folder)
    first = cache.cached_load(folder)
    nested = folder / "more" / "deeper.txt"
    nested.parent.mkdir()
    nested.write_text("x")
    assert cache.cached_load(folder).cache_key != first.cache_key


def test_a_rejection_report_survives_its_dict():
    report = RejectionReport()
    report.add("winner not a player", 2, [Rejection("winner not a player", "a.csv", 4, "winner", "X", "a player",
                                                     "r1")])
    report.note("a note")
    report.rows_read, report.rows_rejected, report.rallies_rejected = 10, 3, 2
    back = RejectionReport.from_dict(report.to_dict())
    assert back == report and str(back) == str(report)
