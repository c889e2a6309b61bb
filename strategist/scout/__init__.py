"""Scouting: the opponent's weaknesses stated plainly, court maps, serve and return, pressure, rally length,
trends. ``scout(table, player, opponent)`` returns a :class:`ScoutReport`; its ``to_dict()`` is JSON-ready and
:mod:`strategist.scout.figures` draws its court maps."""

from strategist.scout.rallies import ScoutError
from strategist.scout.report import SECTIONS, ScoutReport, scout

__all__ = ["SECTIONS", "ScoutError", "ScoutReport", "scout"]
