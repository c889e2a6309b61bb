"""A match as the log holds it: its strokes, rallies and players, the score, and what may come next.

``MatchState.position`` is the (rally, stroke) number the next stroke will be stored under; a page passes
it back with each write (``expect=``) so that a write from an out-of-date view is refused
(:class:`~strategist.matchlog.errors.StaleWriteError`) instead of being stored twice or in the wrong place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from strategist.matchlog import order
from strategist.matchlog.scoring import points_label, replay
from strategist.sports import get_sport


@dataclass(frozen=True)
class Stroke:
    """One recorded stroke; the optional fields are None when not recorded."""

    number: int
    hitter: str
    opponent: str
    shot: str
    landing_area: str | None
    landing_height: str | None = None      # "high" / "low": where the shuttle (ball) was when it landed or was taken
    hitter_area: str | None = None         # the hitter's court area at contact (the sport's area codes)
    wing: str | None = None                # "forehand" / "backhand"


@dataclass(frozen=True)
class DamagedRow:
    """A stored row that cannot be read back as it should be: which, which field, what it held, what it may."""

    table: str
    key: str
    field: str
    value: object
    expected: str

    def __str__(self) -> str:
        return f"{self.table} row {self.key}: {self.field} is {self.value!r}, expected {self.expected}"


@dataclass(frozen=True)
class Rally:
    """A rally: its number in the match, set, server, winner (None while in play) and strokes. ``damaged``:
    rows of its strokes that could not be read (those strokes are missing from ``strokes``)."""

    number: int
    set_no: int
    server: str
    winner: str | None
    strokes: tuple = ()
    damaged: tuple = ()

    @property
    def finished(self) -> bool:
        return self.winner is not None


@dataclass(frozen=True)
class MatchState:
    """A match as stored: its players and every readable rally with its strokes.

    ``damaged``: every :class:`DamagedRow` of the match (a rally whose own row is damaged is left out of
    ``rallies`` and of the score; a damaged stroke row leaves its rally in, flagged). ``last_rally``: the
    highest rally number stored, damaged rows included (the next rally gets a higher one)."""

    match_id: str
    sport: str
    player: str
    opponent: str
    first_server: str
    data: str | None
    rallies: tuple = ()
    created: str = ""
    updated: str = ""
    damaged: tuple = ()
    last_rally: int = 0

    @property
    def current(self) -> Rally | None:
        """The rally in play (the last one, when not finished)."""
        return self.rallies[-1] if self.rallies and not self.rallies[-1].finished else None

    @property
    def position(self) -> tuple:
        """``(rally, stroke)``: the numbers the next stroke will be stored under (a new rally when none is in
        play). Pass it as ``expect=`` to the log's writes."""
        rally = self.current
        if rally is None:
            return (max(self.last_rally, self.rallies[-1].number if self.rallies else 0) + 1, 1)
        return (rally.number, (rally.strokes[-1].number if rally.strokes else 0) + 1)

    @cached_property
    def rules(self):
        """The sport (:class:`strategist.sports.definition.Sport`)."""
        return get_sport(self.sport)

    def scores(self) -> list:
        """The :class:`~strategist.matchlog.scoring.Score` before every rally and after the last finished one
        (the sport's scoring: :mod:`strategist.matchlog.scoring`), replayed once per state."""
        return self._scores

    @cached_property
    def _scores(self) -> list:
        winners = [r.winner for r in self.rallies if r.finished]
        return replay(self.sport, winners, self.first_server, self.player, self.opponent)

    @property
    def set_no(self) -> int:
        return self.scores()[-1].set_no

    def score(self) -> dict:
        """The score now: set, points (tennis: in the game), games (tennis), sets won, rallies finished;
        ``player_call`` / ``opponent_call``: the points as the sport says them (tennis ``"15"``, ``"AD"``)."""
        now = self.scores()[-1]
        return {"set": now.set_no, "player": now.points[0], "opponent": now.points[1],
                "player_games": now.games[0], "opponent_games": now.games[1], "game": now.game_no,
                "tiebreak": now.tiebreak, "player_call": points_label(self.sport, now, 0),
                "opponent_call": points_label(self.sport, now, 1), "player_sets": now.sets[0],
                "opponent_sets": now.sets[1], "rallies": sum(r.finished for r in self.rallies)}

    def other(self, name: str) -> str:
        """The other player of the match."""
        return self.opponent if name == self.player else self.player

    def next_hitter(self, shot: str | None = None) -> str:
        """Who hits the next stroke (as ``shot`` when given): the server first; a second serve after a fault
        is the server's again; otherwise the players alternate (:mod:`strategist.matchlog.order`)."""
        rally = self.current
        if rally is None:
            return self.next_server()
        return order.turn(self.rules, rally, shot, self.other(rally.server))

    def allowed_shots(self) -> tuple:
        """The shots the next stroke may be, in the sport's order: the serves when a rally is to open, then
        the serves and the rest while a second serve is allowed, else every shot but the serves
        (``"unknown"`` included: a page may leave it out of its buttons)."""
        return order.allowed_shots(self.rules, self.current)

    def next_server(self) -> str:
        return self.scores()[-1].server
