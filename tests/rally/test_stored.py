"""Prepared strokes kept on disk (strategist.rally.stored): read back, they are the strokes made from the table,
and the game estimated from them is the game estimated from the table."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from strategist.data.cache import cached_load
from strategist.data.demo import demo_path
from strategist.rally import stored
from strategist.rally.game import rally_game
from strategist.rally.model import RallySettings, match_spread, ratings, strokes


@pytest.fixture
def loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_DATA_CACHE", str(tmp_path / "tables"))
    return cached_load(demo_path())


def _refuse(*args, **kwargs):
    raise AssertionError("strokes made again: the entry was not read")


def test_stored_strokes_are_the_strokes_of_the_table(loaded, monkeypatch):
    fresh = strokes(loaded.table, RallySettings())
    stored.stored_strokes(loaded.table, loaded.cache_key)
    monkeypatch.setattr(stored, "strokes", _refuse)
    back = stored.stored_strokes(loaded.table, loaded.cache_key)
    pd.testing.assert_frame_equal(back.frame, fresh.frame)
    assert back.names.keys() == fresh.names.keys()
    for key in fresh.names:
        assert list(back.names[key]) == list(fresh.names[key]), key
    assert (back.dropped, back.sport, back.rally_rule, back.zones, back.heights, back.columns) == \
        (fresh.dropped, fresh.sport, fresh.rally_rule, fresh.zones, fresh.heights, fresh.columns)
    np.testing.assert_array_equal(ratings(back).theta, ratings(fresh).theta)
    np.testing.assert_array_equal(ratings(back).rallies, ratings(fresh).rallies)
    assert match_spread(back) == match_spread(fresh)


def test_the_game_of_stored_strokes_is_the_game_of_the_table(loaded):
    player, opponent = "Astrid NORDVIK", "Dev MALHOTRA"
    stored.stored_strokes(loaded.table, loaded.cache_key)
    from_disk = rally_game(stored.stored_strokes(loaded.table, loaded.cache_key), player, opponent)
    from_table = rally_game(loaded.table, player, opponent)
    pd.testing.assert_frame_equal(from_disk.states, from_table.states)


def test_settings_that_shape_the_strokes_make_their_own_entries(loaded, tmp_path):
    coarse = RallySettings(states="group:tactic", zones=False, heights=False)
    stored.stored_strokes(loaded.table, loaded.cache_key)
    back = stored.stored_strokes(loaded.table, loaded.cache_key, coarse)
    again = stored.stored_strokes(loaded.table, loaded.cache_key, coarse)
    assert back.rally_rule == again.rally_rule == "group:tactic" and not back.zones
    assert len(list((tmp_path / "tables").glob("*-strokes-*.arrow"))) == 2
    # settings that shape only the game (the player, the level) share the entry
    stored.stored_strokes(loaded.table, loaded.cache_key, RallySettings(player="Astrid NORDVIK", level=0.8))
    assert len(list((tmp_path / "tables").glob("*-strokes-*.arrow"))) == 2


def test_a_damaged_entry_is_made_again(loaded, tmp_path):
    first = stored.stored_strokes(loaded.table, loaded.cache_key)
    [entry] = (tmp_path / "tables").glob("*-strokes-*.arrow")
    entry.write_bytes(b"damaged")
    again = stored.stored_strokes(loaded.table, loaded.cache_key)
    pd.testing.assert_frame_equal(again.frame, first.frame)
    assert entry.stat().st_size > 1000


def test_without_a_cache_entry_nothing_is_written(loaded, tmp_path):
    stored.stored_strokes(loaded.table, None)
    assert not list((tmp_path / "tables").glob("*-strokes-*.arrow"))


def test_an_entry_has_the_same_name_in_every_process(loaded):
    """The key holds the sport's definition; its sets must not print in a per-process order (hash seed)."""
    code = ("import sys\nfrom strategist.rally.stored import _entry\nfrom strategist.rally.model import RallySettings\n"
            "from strategist.sports import get_sport\n"
            "print(_entry(sys.argv[1], RallySettings(), get_sport('badminton')).name)")
    names = {subprocess.run([sys.executable, "-c", code, loaded.cache_key], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
             for seed in (1, 2, 3, 4)}
    assert len(names) == 1
