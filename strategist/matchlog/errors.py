"""What can go wrong when the match log is written or read, one class per thing a page does about it.

Every class derives from :class:`strategist.errors.MatchLogError`; a write that raises any of them wrote
nothing (its transaction was rolled back, or never begun).

* :class:`StaleWriteError`: the caller's view of the match is out of date (another window, or a double
  click, already recorded that stroke): re-read the match and show it; ask again for the click.
* :class:`OrderOfPlayError`: the stroke cannot be the next one of the rally (a serve mid-rally, a rally
  opened by a non-serve, a third serve, a hitter out of turn, a rally beyond the length bound).
* :class:`ReadOnlyLogError`: the file or its folder cannot be written; the log can still be read.
* :class:`DiskFullError`: the disk is full (or the log reached its size limit).

:class:`DamagedRowWarning` is warned (never raised) when an export leaves out a rally with a damaged row.
"""

from __future__ import annotations

from strategist.errors import MatchLogError


class StaleWriteError(MatchLogError):
    """The match moved on since the caller read it: ``expected`` is not ``found`` (both ``(rally, stroke)``;
    for ``new_match``, ``(latest match id,)``)."""

    def __init__(self, message: str, expected: tuple, found: tuple):
        super().__init__(message)
        self.expected = expected
        self.found = found


class OrderOfPlayError(MatchLogError):
    """The stroke breaks the order of play of the rally it would join."""


class ReadOnlyLogError(MatchLogError):
    """The match log (or its folder) cannot be written; reading it still works."""


class DiskFullError(MatchLogError):
    """The disk is full, or the log reached its ``max_bytes``; nothing of the write was kept."""


class DamagedRowWarning(UserWarning):
    """Rows of a match could not be read back; their rallies were left out of an export."""
