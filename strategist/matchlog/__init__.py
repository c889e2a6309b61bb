"""The live match log: every stroke of a match recorded at once in an embedded SQLite database."""

from strategist.matchlog.store import MatchLog, default_path

__all__ = ["MatchLog", "default_path"]
