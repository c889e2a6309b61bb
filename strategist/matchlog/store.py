"""``MatchLog``: a match recorded stroke by stroke in SQLite, so that a reload, a crash or a second window
loses nothing, stores nothing twice and stores nothing impossible.

* **One transaction per write.** ``add_stroke`` opens ``BEGIN IMMEDIATE``, reads the match, checks the
  stroke, inserts it and commits before it returns; a stroke is stored whole or not at all. The file,
  its checks, schema upgrades and how SQLite's failures are said: :mod:`strategist.matchlog.database`.
* **Stale writes refused.** Every write may carry ``expect=``, the ``(rally, stroke)`` position the caller
  saw as next (:attr:`MatchState.position <strategist.matchlog.state.MatchState.position>`); when the log
  has moved on (another window, a double click) the write is refused with
  :class:`~strategist.matchlog.errors.StaleWriteError` and nothing is written: re-read and show the match.
  The live page passes it on every click; scripts may leave it out (then the write goes to whatever comes
  next, as before).
* **Impossible strokes refused**: the order of play (:mod:`strategist.matchlog.order`), the sport's shots,
  areas, heights and wings, a rally's length (``max_strokes``); names and ids bounded in length.
* **Damaged rows** are reported, the rest of the match stays readable and exportable
  (:mod:`strategist.matchlog.rows`, :mod:`strategist.matchlog.export`).
* **Several writers.** Every operation takes its own short connection; ``BEGIN IMMEDIATE`` serialises
  the writers and ``busy_timeout`` lets one wait for another.

The path: ``path=``, else the environment variable ``STRATEGIST_MATCHLOG``, else
``$XDG_DATA_HOME/strategist/matches.sqlite`` (``~/.local/share/...``) when that folder can be made, else
``./strategist-matches.sqlite``.

Scores and who serves follow the sport (:mod:`strategist.matchlog.scoring`): rally-point scoring in
badminton (the rally's winner serves next; a set at 21 by two, or 30), points, games, sets and tiebreaks in
tennis (the server serves a whole game; a faulted first serve is followed by the server's second serve).
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import pandas as pd

from strategist.errors import ConfigurationError, MatchLogError
from strategist.matchlog import export, order
from strategist.matchlog.database import SCHEMA_VERSION, LogFile
from strategist.matchlog.errors import StaleWriteError
from strategist.matchlog.rows import TEXT_MAX, read_match
from strategist.matchlog.state import MatchState, Rally, Stroke
from strategist.sports import get_sport

__all__ = ["BUSY_MS", "ENV", "SCHEMA_VERSION", "MatchLog", "MatchState", "Rally", "Stroke", "default_path"]

ENV = "STRATEGIST_MATCHLOG"
BUSY_MS = 10_000
#: The longest data label a match may carry (a path or a data set's name).
DATA_MAX = 4096
_UNCHECKED = object()        # new_match(expect_latest=...) left out


def default_path() -> Path:
    """Where the match log lives when no path is given (see the module docstring)."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "strategist"
    try:
        base.mkdir(parents=True, exist_ok=True)
        if os.access(base, os.W_OK):
            return base / "matches.sqlite"
    except OSError:
        pass
    return Path("strategist-matches.sqlite")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _name(value, what: str, limit: int = TEXT_MAX) -> str:
    """``value`` as a stored name: a text of 1 to ``limit`` characters, no control characters."""
    if not isinstance(value, str) or not 0 < len(value) <= limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        shown = value if not isinstance(value, str) else value[:60]
        raise MatchLogError(f"{what} {shown!r}: expected a text of 1 to {limit} characters, none a control character")
    return value


class MatchLog:
    """The match log at ``path`` (see the module docstring).

    ``timeout_ms``: how long a write waits for another writer; ``max_bytes``: a size the log may not grow
    beyond (a write past it raises :class:`~strategist.matchlog.errors.DiskFullError`); ``max_strokes``:
    the longest rally accepted. ``read_only``: why the log cannot be written (None when it can); a
    read-only log can be read and exported, every write raises
    :class:`~strategist.matchlog.errors.ReadOnlyLogError`.
    """

    def __init__(self, path=None, *, timeout_ms: int = BUSY_MS, max_bytes: int | None = None,
                 max_strokes: int = order.MAX_STROKES):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.timeout_ms = int(timeout_ms)
        self.max_strokes = int(max_strokes)
        self._file = LogFile(self.path, timeout_ms=self.timeout_ms, max_bytes=max_bytes)

    @property
    def read_only(self) -> str | None:
        return self._file.read_only

    # -- matches -------------------------------------------------------------------------------------------
    def new_match(self, sport: str, player: str, opponent: str, server: str | None = None,
                  data: str | None = None, match_id: str | None = None, *, expect_latest=_UNCHECKED) -> str:
        """Start a match; returns its id (``live <date> <player> v <opponent> #k`` unless given). The new
        match is the most recent one: :meth:`latest` returns it until another match is written to.
        ``expect_latest``: what ``latest(player, opponent)`` returned when the caller drew its "New match"
        button (None: no match yet); when a match of the pair was started or written since (a double click,
        another window) the call raises :class:`StaleWriteError` and starts nothing. Left out: no check."""
        try:
            get_sport(sport)
        except ConfigurationError as exc:
            raise MatchLogError(str(exc)) from None
        player, opponent = _name(player, "player"), _name(opponent, "opponent")
        server = server or player
        if server not in (player, opponent):
            raise MatchLogError(f"the server {server!r} is neither {player!r} nor {opponent!r}")
        if player == opponent:
            raise MatchLogError(f"player and opponent are both {player!r}")
        if data is not None:
            _name(data, "data label", DATA_MAX)
        with self._file.write() as con:
            if expect_latest is not _UNCHECKED:
                self._check_latest(con, player, opponent, expect_latest)
            if match_id is None:
                match_id = self._free_id(con, f"live {_dt.date.today().isoformat()} {player} v {opponent}")
            _name(match_id, "match id", 2 * TEXT_MAX + 40)
            if con.execute("SELECT 1 FROM matches WHERE match_id = ?", (match_id,)).fetchone():
                raise MatchLogError(f"{self.path}: a match {match_id!r} is already recorded")
            now = _now()
            con.execute("INSERT INTO matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM matches))",
                        (match_id, sport, player, opponent, server, data, now, now))
        return match_id

    def _check_latest(self, con, player: str, opponent: str, expected) -> None:
        row = con.execute(f"SELECT m.match_id FROM matches m WHERE m.player = ? AND m.opponent = ? "
                          f"ORDER BY {self._file.match_order} LIMIT 1", (player, opponent)).fetchone()
        found = None if row is None else row[0]
        if found != expected:
            raise StaleWriteError(f"{player} v {opponent}: the latest match is now {found!r}, not {expected!r} (a "
                                  "second click or another window started or recorded one); no match was started",
                                  (expected,), (found,))

    @staticmethod
    def _free_id(con, stem: str) -> str:
        """``stem #k`` with ``k`` one more than the highest number that stem has."""
        prefix = stem + " #"
        taken = [row[0][len(prefix):] for row in con.execute(
            "SELECT match_id FROM matches WHERE substr(match_id, 1, ?) = ?", (len(prefix), prefix))]
        numbers = [int(t) for t in taken if t.isascii() and t.isdigit()]
        return f"{prefix}{max(numbers, default=0) + 1}"

    def matches(self) -> pd.DataFrame:
        """Every match, the most recently written to first (a new match counts as written), with the strokes
        and finished rallies recorded."""
        with self._file.read() as con:
            rows = con.execute(
                "SELECT m.match_id, m.sport, m.player, m.opponent, m.created, m.updated, "
                "(SELECT COUNT(*) FROM strokes s WHERE s.match_id = m.match_id), "
                "(SELECT COUNT(*) FROM rallies r WHERE r.match_id = m.match_id AND r.winner IS NOT NULL) "
                f"FROM matches m ORDER BY {self._file.match_order}").fetchall()
        return pd.DataFrame(rows, columns=["match_id", "sport", "player", "opponent", "created", "updated",
                                           "strokes", "rallies"])

    def latest(self, player: str | None = None, opponent: str | None = None) -> str | None:
        """The most recently written match of ``player`` against ``opponent`` (either left out: any), or
        None. A pairing is ordered: ``latest(a, b)`` is a match started as ``a`` v ``b``."""
        frame = self.matches()
        if player is not None:
            frame = frame[frame["player"] == player]
        if opponent is not None:
            frame = frame[frame["opponent"] == opponent]
        return None if frame.empty else str(frame["match_id"].iloc[0])

    def state(self, match_id: str) -> MatchState:
        """The match as stored now (damaged rows reported in ``damaged``, see :mod:`strategist.matchlog.rows`)."""
        with self._file.read() as con:
            return self._state(con, match_id)

    def _state(self, con, match_id: str) -> MatchState:
        return read_match(con, match_id, self.path, self._file.stroke_columns)

    @staticmethod
    def _touch(con, match_id: str) -> None:
        con.execute("UPDATE matches SET updated = ?, seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM matches) "
                    "WHERE match_id = ?", (_now(), match_id))

    @staticmethod
    def _check_expect(state: MatchState, expect, doing: str) -> None:
        """Refuse a write whose caller saw another next position than the log holds."""
        if expect is None:
            return
        if not (isinstance(expect, (tuple, list)) and len(expect) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in expect)):
            raise MatchLogError(f"expect={expect!r}: expected (rally, stroke), as MatchState.position gives")
        if tuple(expect) != state.position:
            raise StaleWriteError(
                f"match {state.match_id!r} moved on: {doing} was for rally {expect[0]}, stroke {expect[1]}, but the "
                f"log is at rally {state.position[0]}, stroke {state.position[1]} (another window or a second "
                "click recorded it first); nothing was written: here is the match as it is now",
                tuple(expect), state.position)

    # -- recording: one transaction each -------------------------------------------------------------------
    def add_stroke(self, match_id: str, shot: str, hitter: str | None = None, landing_area: str | None = None, *,
                   landing_height: str | None = None, hitter_area: str | None = None, wing: str | None = None,
                   expect: tuple | None = None) -> Stroke:
        """Record the next stroke of the rally in play (a new rally is opened when none is); committed on
        return. ``hitter`` None: whoever's turn it is. ``expect``: the ``(rally, stroke)`` the caller saw as
        next (``state.position``); raises :class:`StaleWriteError` when the log has moved on,
        :class:`OrderOfPlayError` for a stroke that cannot come next, :class:`MatchLogError` for a value
        outside the sport's (every raise writes nothing)."""
        with self._file.write() as con:
            state = self._state(con, match_id)
            self._check_expect(state, expect, f"{shot!r}")
            fields = order.check_fields(state.rules, shot, {"landing_area": landing_area, "wing": wing,
                                                            "landing_height": landing_height,
                                                            "hitter_area": hitter_area})
            if hitter is not None and hitter not in (state.player, state.opponent):
                raise MatchLogError(f"{hitter!r} does not play in match {match_id!r}")
            rally = state.current
            if rally is not None and rally.damaged:
                raise MatchLogError(f"rally {rally.number} holds damaged rows ({rally.damaged[0]}): no stroke can "
                                    "be added to it; record its result to go on")
            fresh = rally is None
            if fresh:
                now = state.scores()[-1]
                rally = Rally(state.position[0], now.set_no, now.server, None)
            hitter = order.check_stroke(state.rules, rally, shot, hitter, state.other(rally.server),
                                        max_strokes=self.max_strokes)
            if fresh:
                self._insert_rally(con, match_id, rally)
            stroke = Stroke(state.position[1], hitter, state.other(hitter), shot, fields["landing_area"],
                            fields["landing_height"], fields["hitter_area"], fields["wing"])
            con.execute("INSERT INTO strokes (match_id, rally, stroke, hitter, opponent, shot, landing_area, recorded,"
                        " landing_height, hitter_area, wing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (match_id, rally.number, stroke.number, hitter, stroke.opponent, shot, stroke.landing_area,
                         _now(), stroke.landing_height, stroke.hitter_area, stroke.wing))
            self._touch(con, match_id)
        return stroke

    @staticmethod
    def _insert_rally(con, match_id: str, rally: Rally) -> None:
        con.execute("INSERT INTO rallies VALUES (?, ?, ?, ?, NULL)",
                    (match_id, rally.number, rally.set_no, rally.server))

    def finish_rally(self, match_id: str, winner: str, *, expect: tuple | None = None) -> None:
        """Record who won the rally in play (it must have at least one stroke). ``expect``: as for
        :meth:`add_stroke` (a second click on a point button is refused as stale)."""
        with self._file.write() as con:
            state = self._state(con, match_id)
            self._check_expect(state, expect, f"the point to {winner}")
            if winner not in (state.player, state.opponent):
                raise MatchLogError(f"{winner!r} does not play in match {match_id!r}")
            rally = state.current
            if rally is None or not rally.strokes:
                raise MatchLogError("no rally in play: record a stroke first")
            con.execute("UPDATE rallies SET winner = ? WHERE match_id = ? AND rally = ?",
                        (winner, match_id, rally.number))
            self._touch(con, match_id)

    def next_rally(self, match_id: str) -> int:
        """Open the next rally (when the last is finished); returns the number of the rally in play."""
        with self._file.write() as con:
            state = self._state(con, match_id)
            if state.current is not None:
                return state.current.number
            now = state.scores()[-1]
            rally = Rally(state.position[0], now.set_no, now.server, None)
            self._insert_rally(con, match_id, rally)
            return rally.number

    def undo(self, match_id: str, *, expect: tuple | None = None) -> str:
        """Take back the last thing recorded: a stroke, a rally's result, or an empty rally together with the
        result before it. Says what. ``expect``: as for :meth:`add_stroke` (a second click is refused)."""
        with self._file.write() as con:
            state = self._state(con, match_id)
            self._check_expect(state, expect, "undo")
            if not state.rallies:
                return "nothing to undo"
            last = state.rallies[-1]
            if last.finished:
                return self._reopen(con, match_id, last)
            if last.strokes:
                con.execute("DELETE FROM strokes WHERE match_id = ? AND rally = ? AND stroke = ?",
                            (match_id, last.number, last.strokes[-1].number))
                self._touch(con, match_id)
                return f"rally {last.number}: stroke {last.strokes[-1].number} ({last.strokes[-1].shot}) taken back"
            if last.damaged:
                raise MatchLogError(f"rally {last.number} holds damaged rows ({last.damaged[0]}): undo stops there")
            con.execute("DELETE FROM rallies WHERE match_id = ? AND rally = ?", (match_id, last.number))
            before = state.rallies[-2] if len(state.rallies) > 1 else None
            if before is not None and before.finished:
                return self._reopen(con, match_id, before)
            self._touch(con, match_id)
            return "empty rally removed"

    def _reopen(self, con, match_id: str, rally: Rally) -> str:
        con.execute("UPDATE rallies SET winner = NULL WHERE match_id = ? AND rally = ?", (match_id, rally.number))
        self._touch(con, match_id)
        return f"rally {rally.number}: result taken back"

    # -- export --------------------------------------------------------------------------------------------
    def export_table(self, match_id: str) -> pd.DataFrame:
        """The match in the canonical layout (:mod:`strategist.data.schema`), one row per stroke; rallies with
        a damaged row left out with a :class:`~strategist.matchlog.errors.DamagedRowWarning`
        (:mod:`strategist.matchlog.export`)."""
        return export.export_table(self.state(match_id))

    def export_csv(self, match_id: str, target=None) -> str | None:
        """The canonical table as CSV, formula-like text cells neutralised (:func:`export.to_csv`): written to
        ``target`` (a path or a file object), or returned as text."""
        return export.to_csv(self.export_table(match_id), target)
