"""The shipped data sets' cache entries (strategist.data.prepared, data/prepared): current, equal to a fresh
load, read without writing anything, keyed by what the files hold, and never in the way of a load."""

from __future__ import annotations

import os
import shutil
import stat

import numpy as np
import pandas as pd
import pytest

from strategist.data import cache, prepared
from strategist.data.load import load_rallies
from strategist.rally.model import RallySettings, strokes
from strategist.rally.stored import stored_strokes
from strategist.resources import shipped_path


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    folder = tmp_path / "tables"
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", str(folder))
    return folder


def _refuse(*args, **kwargs):
    raise AssertionError("load_rallies called: the shipped entry was not read")


def _same_load(got, fresh):
    pd.testing.assert_frame_equal(got.table, fresh.table)
    assert got.rejections.to_dict() == fresh.rejections.to_dict()
    assert (got.layout, got.sport.name) == (fresh.layout, fresh.sport.name)
    assert [os.path.normpath(p) for p in got.paths] == [os.path.normpath(p) for p in fresh.paths]


def test_the_shipped_entries_are_current():
    lacking = prepared.missing()
    assert not lacking, f"stale shipped entries {lacking}: run python -m strategist.data.prepared"


def test_no_other_entry_ships():
    folder = shipped_path(cache.PREPARED)
    assert sorted(p.name for p in folder.glob("*.arrow")) == sorted(prepared.expected_names())


@pytest.mark.parametrize("name", cache.SHIPPED_SETS)
@pytest.mark.parametrize("as_file", [False, True])
def test_a_shipped_set_is_read_from_its_entry_and_equals_a_fresh_load(name, as_file, empty_cache, monkeypatch):
    folder = shipped_path(name)
    path = folder / cache.SHIPPED_FILE if as_file else folder
    fresh = load_rallies(path)
    monkeypatch.setattr(cache, "load_rallies", _refuse)
    got = cache.cached_load(path)
    _same_load(got, fresh)
    assert got.cache_key.startswith("shipped-")
    assert not empty_cache.exists() or not any(empty_cache.iterdir())      # nothing written


@pytest.mark.parametrize("name", cache.SHIPPED_SETS)
def test_the_shipped_strokes_equal_strokes_made_again(name, empty_cache, monkeypatch):
    loaded = cache.cached_load(shipped_path(name))
    made = strokes(loaded.table, RallySettings(), loaded.sport)
    import strategist.rally.stored as stored

    monkeypatch.setattr(stored, "strokes", _refuse)
    got = stored_strokes(loaded.table, loaded.cache_key, RallySettings(), sport=loaded.sport)
    pd.testing.assert_frame_equal(got.frame, made.frame)
    assert got.dropped == made.dropped
    assert set(got.names) == set(made.names)
    for key in made.names:
        assert list(got.names[key]) == list(made.names[key]), key
    fitted = stored.ratings(made)
    np.testing.assert_allclose(got.cache["ratings"].theta, fitted.theta)
    assert not empty_cache.exists() or not any(empty_cache.iterdir())


@pytest.fixture
def copied_set(tmp_path, monkeypatch):
    """The demo copied to a folder that stands in for a shipped set, with its own prepared folder."""
    folder = tmp_path / "shipped" / "demo"
    shutil.copytree(shipped_path("demo"), folder)
    entries = tmp_path / "shipped" / "prepared"
    entries.mkdir()
    _ship_from(monkeypatch, tmp_path / "shipped")
    monkeypatch.setattr(cache, "SHIPPED_SETS", ("demo",))     # the copy alone: ShuttleSet is not made again
    return folder, entries


def _ship_from(monkeypatch, root):
    """``root`` stands in for the package's shipped folder: its demo and its prepared entries."""
    monkeypatch.setattr(cache, "shipped_path", lambda *parts: root.joinpath(*parts)
                        if parts[0] in ("demo", cache.PREPARED) else shipped_path(*parts))


def _move_shipped(tmp_path, monkeypatch, to):
    """The stand-in shipped folder moved to ``to`` (an installation elsewhere), the package pointed at it."""
    shutil.copytree(tmp_path / "shipped", to)
    shutil.rmtree(tmp_path / "shipped")
    _ship_from(monkeypatch, to)


def test_a_shipped_set_is_keyed_by_what_its_files_hold_not_where_or_when(copied_set, tmp_path):
    folder, _ = copied_set
    before = cache.key(folder)
    assert before.startswith("shipped-") and cache.key(folder / cache.SHIPPED_FILE) == before
    moved = tmp_path / "elsewhere" / "demo"
    shutil.copytree(folder, moved)
    assert not cache.key(moved).startswith("shipped-")                      # not a shipped set: by path
    matches = folder / "matches.csv"
    times = matches.stat()
    text = matches.read_bytes()
    matches.write_bytes(text.replace(b"1", b"2", 1))                        # same size and time, other content
    os.utime(matches, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert matches.stat().st_size == times.st_size
    assert cache.key(folder) != before
    matches.write_bytes(text)
    os.utime(matches, ns=(times.st_atime_ns, times.st_mtime_ns + 10**9))    # touched only: the same entry
    assert cache.key(folder) == before
    assert cache.key(folder, layout="shuttleset") != before


def test_entries_written_for_a_shipped_set_are_read_from_the_shipped_folder(copied_set, empty_cache, monkeypatch,
                                                                           tmp_path):
    folder, entries = copied_set
    elsewhere = tmp_path / "default" / "prepared"
    monkeypatch.setattr(prepared, "_folder", lambda: elsewhere)            # the default folder: not written
    fresh = load_rallies(folder)
    nested = tmp_path / "new" / "nested" / "prepared"
    names = prepared.write(nested)                                          # folders made on the way
    assert len(names) == 2 * len(cache.shipped_sets()) and sorted(p.name for p in nested.iterdir()) == names
    assert prepared.write(entries) == names and not elsewhere.exists()
    assert all(stat.S_IMODE((entries / n).stat().st_mode) == 0o644 for n in names)
    (entries / "shipped-0123-stale.arrow").write_bytes(b"old")
    (entries / "README.md").write_text("kept")
    assert prepared.write(entries) == names and not (entries / "shipped-0123-stale.arrow").exists()
    assert (entries / "README.md").read_text() == "kept"
    assert prepared.missing(entries) == [] and prepared.missing(elsewhere) == names
    monkeypatch.setattr(cache, "load_rallies", _refuse)
    _same_load(cache.cached_load(folder / cache.SHIPPED_FILE), fresh)
    assert not empty_cache.exists() or not any(empty_cache.iterdir())


def test_shipped_entries_are_compressed_harder_than_the_caches_own(copied_set, empty_cache):
    folder, entries = copied_set
    names = prepared.write(entries)
    loaded = load_rallies(folder)
    table_name = cache.key(folder, layout=None, strict=False, sport=None) + cache.SUFFIX
    cache._write(empty_cache / table_name, loaded, folder)                  # the cache's own level
    made = strokes(loaded.table, RallySettings(), loaded.sport)
    strokes_name = next(n for n in names if n.startswith(table_name[:-len(cache.SUFFIX)] + "-strokes-"))
    from strategist.rally.stored import write_strokes

    write_strokes(empty_cache / strokes_name, made)
    for name in (table_name, strokes_name):
        assert (entries / name).stat().st_size < 0.97 * (empty_cache / name).stat().st_size, name


def test_shipped_entries_follow_the_set_where_it_is_installed(copied_set, empty_cache, monkeypatch, tmp_path):
    """Entries are made in the source tree and read from an installation elsewhere: the paths they report are
    those of the files where they lie now."""
    folder, entries = copied_set
    prepared.write(entries)
    installed = tmp_path / "site" / "_shipped"
    _move_shipped(tmp_path, monkeypatch, installed)
    monkeypatch.setattr(cache, "load_rallies", _refuse)
    for given in (installed / "demo", installed / "demo" / cache.SHIPPED_FILE):
        got = cache.cached_load(given)
        assert [os.path.normpath(p) for p in got.paths] == [str(installed / "demo" / cache.SHIPPED_FILE)]
        assert all(e["path"] is None or e["path"].startswith(str(installed))
                   for items in got.rejections.to_dict()["examples"].values() for e in items)


def test_a_damaged_shipped_entry_is_loaded_again_into_the_cache(copied_set, empty_cache):
    folder, entries = copied_set
    fresh = load_rallies(folder)
    name = cache.key(folder, layout=None, strict=False, sport=None) + cache.SUFFIX
    (entries / name).write_bytes(b"not an arrow file")
    got = cache.cached_load(folder)
    _same_load(got, fresh)
    assert (empty_cache / name).is_file()                                   # kept in the cache's own folder
    assert (entries / name).read_bytes() == b"not an arrow file"            # the shipped folder is never written
    _same_load(cache.cached_load(folder), fresh)


def test_the_command_writes_checks_and_says_what_it_did(copied_set, capsys, monkeypatch):
    _, entries = copied_set
    monkeypatch.setattr(prepared, "_folder", lambda: entries)
    names = prepared.expected_names()
    assert prepared.main(["--check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"missing or stale: {entries / n}" for n in names] + ["run: python -m strategist.data.prepared"]
    assert prepared.main([]) == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {entries / n}" for n in names]
    assert prepared.main(["--check"]) == 0 and capsys.readouterr().out == ""
    with pytest.raises(SystemExit) as done:
        prepared.main(["--help"])
    assert done.value.code == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said.startswith("usage: python -m strategist.data.prepared [-h] [--check] "
                           "Write (or --check) the shipped data sets' cache entries. options:")
    assert "--check write nothing; exit 1 when an entry is missing" in said


def test_the_default_folder_lies_beside_the_shipped_sets():
    assert prepared._folder() == shipped_path("demo").parent / cache.PREPARED == shipped_path(cache.PREPARED)


def test_the_cache_turned_off_reads_no_shipped_entry(empty_cache, monkeypatch):
    name = cache.key(shipped_path("demo"), layout=None, strict=False, sport=None) + cache.SUFFIX
    assert cache.find_entry(name) == shipped_path(cache.PREPARED) / name
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", "off")
    assert cache.find_entry(name) is None
    calls = []
    real = cache.load_rallies
    monkeypatch.setattr(cache, "load_rallies", lambda *a, **k: calls.append(a) or real(*a, **k))
    cache.cached_load(shipped_path("demo"))
    assert calls


def test_rejection_examples_are_kept_by_their_names_in_the_set_and_follow_it(copied_set, empty_cache, monkeypatch,
                                                                            tmp_path):
    """A shipped set's rejection examples name their file within the set, written to the cache's own folder
    too (a damaged or missing shipped entry), and read back beside the set where it lies now."""
    import dataclasses

    from strategist.data.rejections import RejectionReport

    folder, entries = copied_set
    loaded = load_rallies(folder)
    report = loaded.rejections.to_dict()
    inside = str(folder / cache.SHIPPED_FILE)
    report["examples"] = {"a reason": [{"reason": "a reason", "path": inside, "row": 3, "field": "shot",
                                        "value": "x", "expected": "a shot", "rally": None},
                                       {"reason": "a reason", "path": None, "row": None, "field": None,
                                        "value": None, "expected": "a rally", "rally": "r1"}]}
    shown = dataclasses.replace(loaded, rejections=RejectionReport.from_dict(report))
    monkeypatch.setattr(cache, "load_rallies", lambda *a, **k: shown)
    got = cache.cached_load(folder)                                          # no shipped entry: kept in the cache
    assert got.rejections.to_dict()["examples"] == report["examples"]
    moved = tmp_path / "moved" / "_shipped"
    _move_shipped(tmp_path, monkeypatch, moved)
    monkeypatch.setattr(cache, "load_rallies", _refuse)
    back = cache.cached_load(moved / "demo").rejections.to_dict()["examples"]["a reason"]
    assert [e["path"] for e in back] == [str(moved / "demo" / cache.SHIPPED_FILE), None]
    assert [os.path.normpath(p) for p in cache.cached_load(moved / "demo").paths] == [
        str(moved / "demo" / cache.SHIPPED_FILE)]


def test_a_report_without_examples_or_paths_is_left_as_it_is():
    assert cache._with_paths({"notes": ["n"]}, str.upper) == {"notes": ["n"], "examples": {}}
    plain = {"examples": {"r": [{"path": None, "row": 1}, {"path": "a/b", "row": 2}]}}
    assert cache._with_paths(plain, str.upper) == {"examples": {"r": [{"path": None, "row": 1},
                                                                      {"path": "A/B", "row": 2}]}}


def test_options_of_any_kind_are_keyed_by_their_text(copied_set, tmp_path):
    folder, _ = copied_set
    for path in (folder, tmp_path):                     # a shipped set (by content) and any folder (by path)
        assert cache.key(path, sport=shipped_path("demo")) == cache.key(path, sport=str(shipped_path("demo")))


def test_a_missing_set_leaves_the_others_shipped(monkeypatch):
    from strategist.errors import DataFormatError

    real = cache.shipped_path

    def without_demo(*parts):
        if parts[0] == "demo":
            raise DataFormatError("shipped file not found", path="demo")
        return real(*parts)

    monkeypatch.setattr(cache, "shipped_path", without_demo)
    assert list(cache.shipped_sets()) == [n for n in cache.SHIPPED_SETS if n != "demo"]
    assert cache.shipped_set(shipped_path("shuttleset")) == shipped_path("shuttleset").resolve()
