"""Small games of the simulated pair for the fast tests of strategist.rally.game: two matches (about 760
strokes), built once per test process and shared by the test files that read them (none changes them)."""

from __future__ import annotations

from functools import lru_cache

from strategist.rally.game import rally_game

from .pair import O, P, pair_table


@lru_cache(maxsize=None)
def small_table():
    """Two simulated matches of P against O."""
    return pair_table(2, 3)


@lru_cache(maxsize=None)
def small_game(**settings):
    """The game of P against O on :func:`small_table` (default settings unless given)."""
    return rally_game(small_table(), P, O, **settings)
