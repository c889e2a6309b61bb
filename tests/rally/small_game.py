"""Small games of the simulated pair for the fast tests of strategist.rally.game: two matches (about 760
strokes). The table and its prepared strokes are made once per test process; every game is estimated anew
from them (a game kept across tests would hide a change of the game's code from all but the first test)."""

from __future__ import annotations

from functools import lru_cache

from strategist.rally.game import rally_game
from strategist.rally.model import RallySettings, strokes

from .pair import O, P, pair_table


@lru_cache(maxsize=None)
def small_table():
    """Two simulated matches of P against O."""
    return pair_table(2, 3)


@lru_cache(maxsize=None)
def small_strokes():
    """The strokes of :func:`small_table` with the default settings (what rally_game makes of the table)."""
    return strokes(small_table(), RallySettings())


def small_game(player=P, opponent=O, **settings):
    """The game of ``player`` against ``opponent`` on :func:`small_table`, estimated now (default settings
    unless given)."""
    return rally_game(small_strokes(), player, opponent, **settings)
