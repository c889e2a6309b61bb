"""The live match log: every stroke of a match recorded at once in an embedded SQLite database, checked
against the order of play, refused when stale, and exported in the canonical layout."""

from strategist.matchlog.errors import (DamagedRowWarning, DiskFullError, OrderOfPlayError, ReadOnlyLogError,
                                        StaleWriteError)
from strategist.matchlog.state import DamagedRow, MatchState, Rally, Stroke
from strategist.matchlog.store import MatchLog, default_path

__all__ = ["DamagedRow", "DamagedRowWarning", "DiskFullError", "MatchLog", "MatchState", "OrderOfPlayError",
           "Rally", "ReadOnlyLogError", "StaleWriteError", "Stroke", "default_path"]
