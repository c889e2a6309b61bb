"""``MatchLog``: a match recorded stroke by stroke in SQLite, so that a reload, a crash or a second window
loses nothing.

* **One transaction per stroke.** ``add_stroke`` opens ``BEGIN IMMEDIATE``, numbers the stroke from what is
  already stored, inserts it and commits before it returns; a stroke is either stored whole or not at all.
  ``synchronous=FULL`` and the write-ahead log (WAL) make a committed stroke survive a killed process.
* **Several writers.** Every operation takes its own short connection; ``BEGIN IMMEDIATE`` serialises the
  writers and ``busy_timeout`` lets one wait for another (two processes may record at once).
* **Versioned schema.** ``meta.schema_version``; a newer version than this code knows is refused.
* **Corruption.** Opening an existing file runs ``PRAGMA integrity_check`` (and reads the schema) before
  anything is written: a damaged file, or a file that is not a match log, raises :class:`MatchLogError`
  naming the file, and the file is left exactly as it was — never repaired, truncated or replaced.

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
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from strategist.errors import MatchLogError

SCHEMA_VERSION = 1
ENV = "STRATEGIST_MATCHLOG"
BUSY_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS matches (
    match_id TEXT PRIMARY KEY, sport TEXT NOT NULL, player TEXT NOT NULL, opponent TEXT NOT NULL,
    first_server TEXT NOT NULL, data TEXT, created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rallies (
    match_id TEXT NOT NULL REFERENCES matches(match_id), rally INTEGER NOT NULL, set_no INTEGER NOT NULL,
    server TEXT NOT NULL, winner TEXT, PRIMARY KEY (match_id, rally));
CREATE TABLE IF NOT EXISTS strokes (
    match_id TEXT NOT NULL, rally INTEGER NOT NULL, stroke INTEGER NOT NULL, hitter TEXT NOT NULL,
    opponent TEXT NOT NULL, shot TEXT NOT NULL, landing_area TEXT, recorded TEXT NOT NULL,
    PRIMARY KEY (match_id, rally, stroke), FOREIGN KEY (match_id, rally) REFERENCES rallies(match_id, rally));
"""


def _stored_points(score, tennis: bool) -> tuple:
    """Points as the canonical table stores them: tennis game points 0-3 and 4 for advantage (deuce 3-3);
    tiebreak and badminton points as counted."""
    a, b = score.points
    if not tennis or score.tiebreak or max(a, b) <= 3:
        return a, b
    if a == b:
        return 3, 3
    return (4, 3) if a > b else (3, 4)


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


@dataclass(frozen=True)
class Stroke:
    number: int
    hitter: str
    opponent: str
    shot: str
    landing_area: str | None


@dataclass(frozen=True)
class Rally:
    number: int
    set_no: int
    server: str
    winner: str | None
    strokes: tuple = ()

    @property
    def finished(self) -> bool:
        return self.winner is not None


@dataclass(frozen=True)
class MatchState:
    """A match as stored: its players and every rally with its strokes."""

    match_id: str
    sport: str
    player: str
    opponent: str
    first_server: str
    data: str | None
    rallies: tuple = ()
    created: str = ""
    updated: str = ""

    @property
    def current(self) -> Rally | None:
        """The rally in play (the last one, when not finished)."""
        return self.rallies[-1] if self.rallies and not self.rallies[-1].finished else None

    def scores(self) -> list:
        """The :class:`~strategist.matchlog.scoring.Score` before every rally and after the last finished one
        (the sport's scoring: :mod:`strategist.matchlog.scoring`), replayed once per state."""
        return self._scores

    @cached_property
    def _scores(self) -> list:
        from strategist.matchlog.scoring import replay

        winners = [r.winner for r in self.rallies if r.finished]
        return replay(self.sport, winners, self.first_server, self.player, self.opponent)

    @property
    def set_no(self) -> int:
        return self.scores()[-1].set_no

    def score(self) -> dict:
        """The score now: set, points (tennis: in the game), games (tennis), sets won, rallies finished;
        ``player_call`` / ``opponent_call``: the points as the sport says them (tennis ``"15"``, ``"AD"``)."""
        from strategist.matchlog.scoring import points_label

        now = self.scores()[-1]
        return {"set": now.set_no, "player": now.points[0], "opponent": now.points[1],
                "player_games": now.games[0], "opponent_games": now.games[1], "game": now.game_no,
                "tiebreak": now.tiebreak, "player_call": points_label(self.sport, now, 0),
                "opponent_call": points_label(self.sport, now, 1), "player_sets": now.sets[0],
                "opponent_sets": now.sets[1], "rallies": sum(r.finished for r in self.rallies)}

    def next_hitter(self, shot: str | None = None) -> str:
        """Who hits the next stroke: the server first; then the players alternate, except that a serve after
        the server's own faulted serve (tennis' second serve) is the server's again."""
        rally = self.current
        if rally is None:
            return self.next_server()
        if not rally.strokes:
            return rally.server
        last = rally.strokes[-1].hitter
        if shot is not None and self._second_serve(rally, shot):
            return rally.server
        return self.opponent if last == self.player else self.player

    def _second_serve(self, rally: Rally, shot: str) -> bool:
        from strategist.sports import get_sport

        sport = get_sport(self.sport)
        serves = [st for st in rally.strokes if st.hitter == rally.server and st.shot in sport.serves]
        return (shot in sport.serves and len(serves) == len(rally.strokes)
                and len(rally.strokes) < sport.serves_per_point)

    def next_server(self) -> str:
        return self.scores()[-1].server


class MatchLog:
    """The match log at ``path`` (see the module docstring)."""

    def __init__(self, path=None, *, timeout_ms: int = BUSY_MS):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.timeout_ms = int(timeout_ms)
        if self.path.exists() and self.path.is_dir():
            raise MatchLogError(f"{self.path}: is a folder; the match log is a file")
        if self.path.exists() and self.path.stat().st_size > 0:
            self._check_existing()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect(create=True) as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                con.execute("INSERT OR IGNORE INTO meta VALUES ('application', 'strategist match log')")

    # -- connections ---------------------------------------------------------------------------------------
    @contextmanager
    def _connect(self, create: bool = False):
        mode = "rwc" if create else "rw"
        try:
            con = sqlite3.connect(f"file:{self.path}?mode={mode}", uri=True, timeout=self.timeout_ms / 1000,
                                  isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise MatchLogError(f"{self.path}: cannot open the match log ({exc})") from None
        try:
            con.execute(f"PRAGMA busy_timeout={self.timeout_ms}")
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
            yield con
        except sqlite3.DatabaseError as exc:
            raise MatchLogError(f"{self.path}: the match log cannot be used ({exc}); the file was left as it is")\
                from None
        finally:
            con.close()

    @contextmanager
    def _write(self):
        """One transaction: BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error)."""
        with self._connect() as con:
            for attempt in range(50):
                try:
                    con.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:  # locked beyond busy_timeout: try again briefly
                    if "locked" not in str(exc) or attempt == 49:
                        raise
                    time.sleep(0.05)
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def _check_existing(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                magic = handle.read(16)
        except OSError as exc:
            raise MatchLogError(f"{self.path}: cannot read the match log ({exc.strerror or exc})") from None
        if magic != b"SQLite format 3\x00":
            raise MatchLogError(f"{self.path}: not a SQLite database (corrupted, or another kind of file); the "
                                "file was left as it is: move it away or set STRATEGIST_MATCHLOG to another path")
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=self.timeout_ms / 1000)
            try:
                result = [row[0] for row in con.execute("PRAGMA integrity_check")]
                tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                version = None
                if "meta" in tables:
                    row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                    version = row[0] if row else None
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise MatchLogError(f"{self.path}: the match log is corrupted ({exc}); the file was left as it is: "
                                "move it away or set STRATEGIST_MATCHLOG to another path") from None
        if result != ["ok"]:
            raise MatchLogError(f"{self.path}: the match log is corrupted (integrity check: {'; '.join(result[:3])})"
                                "; the file was left as it is: move it away or set STRATEGIST_MATCHLOG to another path")
        if not {"meta", "matches", "rallies", "strokes"} <= tables or version is None:
            raise MatchLogError(f"{self.path}: a SQLite database but not a strategist match log (tables "
                                f"{sorted(tables)}); the file was left as it is")
        if int(version) > SCHEMA_VERSION:
            raise MatchLogError(f"{self.path}: match log schema {version} is newer than this strategist knows "
                                f"({SCHEMA_VERSION}); upgrade strategist")

    # -- matches -------------------------------------------------------------------------------------------
    def new_match(self, sport: str, player: str, opponent: str, server: str | None = None,
                  data: str | None = None, match_id: str | None = None) -> str:
        """Start a match; returns its id (``live <date> <player> v <opponent> #k`` unless given)."""
        server = server or player
        if server not in (player, opponent):
            raise MatchLogError(f"the server {server!r} is neither {player!r} nor {opponent!r}")
        if player == opponent:
            raise MatchLogError(f"player and opponent are both {player!r}")
        with self._write() as con:
            if match_id is None:
                day = _dt.date.today().isoformat()
                stem = f"live {day} {player} v {opponent}"
                k = con.execute("SELECT COUNT(*) FROM matches WHERE match_id LIKE ?", (stem + " #%",)).fetchone()[0]
                match_id = f"{stem} #{k + 1}"
            now = _now()
            con.execute("INSERT INTO matches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (match_id, sport, player, opponent, server, data, now, now))
        return match_id

    def matches(self) -> pd.DataFrame:
        """Every match, most recently updated first, with strokes and rallies recorded."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT m.match_id, m.sport, m.player, m.opponent, m.created, m.updated, "
                "(SELECT COUNT(*) FROM strokes s WHERE s.match_id = m.match_id), "
                "(SELECT COUNT(*) FROM rallies r WHERE r.match_id = m.match_id AND r.winner IS NOT NULL) "
                "FROM matches m ORDER BY m.updated DESC, m.match_id").fetchall()
        return pd.DataFrame(rows, columns=["match_id", "sport", "player", "opponent", "created", "updated",
                                           "strokes", "rallies"])

    def latest(self, player: str | None = None, opponent: str | None = None) -> str | None:
        """The most recently updated match (of this pairing when given), or None."""
        frame = self.matches()
        if player is not None:
            frame = frame[(frame["player"] == player) & (frame["opponent"] == opponent)]
        return None if frame.empty else str(frame["match_id"].iloc[0])

    def state(self, match_id: str) -> MatchState:
        """The match as stored now."""
        with self._connect() as con:
            return self._state(con, match_id)

    def _state(self, con, match_id: str) -> MatchState:
        row = con.execute("SELECT match_id, sport, player, opponent, first_server, data, created, updated "
                          "FROM matches WHERE match_id = ?", (match_id,)).fetchone()
        if row is None:
            raise MatchLogError(f"{self.path}: no match {match_id!r}")
        strokes: dict[int, list] = {}
        for r, n, hitter, opp, shot, area in con.execute(
                "SELECT rally, stroke, hitter, opponent, shot, landing_area FROM strokes WHERE match_id = ? "
                "ORDER BY rally, stroke", (match_id,)):
            strokes.setdefault(r, []).append(Stroke(n, hitter, opp, shot, area))
        rallies = tuple(Rally(r, s, server, winner, tuple(strokes.get(r, ())))
                        for r, s, server, winner in con.execute(
                            "SELECT rally, set_no, server, winner FROM rallies WHERE match_id = ? ORDER BY rally",
                            (match_id,)))
        return MatchState(row[0], row[1], row[2], row[3], row[4], row[5], rallies, row[6], row[7])

    # -- recording: one transaction each -------------------------------------------------------------------
    def add_stroke(self, match_id: str, shot: str, hitter: str | None = None,
                   landing_area: str | None = None) -> Stroke:
        """Record the next stroke of the rally in play (a new rally is opened when none is); committed on return."""
        with self._write() as con:
            state = self._state(con, match_id)
            rally = state.current
            if rally is None:
                rally = self._open_rally(con, state)
                state = self._state(con, match_id)
            nxt = state.next_hitter(shot)
            hitter = hitter or nxt
            if hitter not in (state.player, state.opponent):
                raise MatchLogError(f"{hitter!r} does not play in match {match_id!r}")
            opponent = state.opponent if hitter == state.player else state.player
            number = (rally.strokes[-1].number if rally.strokes else 0) + 1
            con.execute("INSERT INTO strokes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (match_id, rally.number, number, hitter, opponent, shot, landing_area, _now()))
            con.execute("UPDATE matches SET updated = ? WHERE match_id = ?", (_now(), match_id))
        return Stroke(number, hitter, opponent, shot, landing_area)

    def _open_rally(self, con, state: MatchState) -> Rally:
        number = (state.rallies[-1].number if state.rallies else 0) + 1
        now = state.scores()[-1]
        con.execute("INSERT INTO rallies VALUES (?, ?, ?, ?, NULL)", (state.match_id, number, now.set_no, now.server))
        return Rally(number, now.set_no, now.server, None, ())

    def finish_rally(self, match_id: str, winner: str) -> None:
        """Record who won the rally in play (it must have at least one stroke)."""
        with self._write() as con:
            state = self._state(con, match_id)
            if winner not in (state.player, state.opponent):
                raise MatchLogError(f"{winner!r} does not play in match {match_id!r}")
            rally = state.current
            if rally is None or not rally.strokes:
                raise MatchLogError("no rally in play: record a stroke first")
            con.execute("UPDATE rallies SET winner = ? WHERE match_id = ? AND rally = ?",
                        (winner, match_id, rally.number))
            con.execute("UPDATE matches SET updated = ? WHERE match_id = ?", (_now(), match_id))

    def next_rally(self, match_id: str) -> int:
        """Open the next rally (the last rally must be finished); returns its number."""
        with self._write() as con:
            state = self._state(con, match_id)
            if state.current is not None:
                return state.current.number
            return self._open_rally(con, state).number

    def undo(self, match_id: str) -> str:
        """Take back the last thing recorded: a stroke, a rally's result or an empty rally. Says what."""
        with self._write() as con:
            state = self._state(con, match_id)
            if not state.rallies:
                return "nothing to undo"
            last = state.rallies[-1]
            if last.finished:
                con.execute("UPDATE rallies SET winner = NULL WHERE match_id = ? AND rally = ?",
                            (match_id, last.number))
                return f"rally {last.number}: result taken back"
            if last.strokes:
                con.execute("DELETE FROM strokes WHERE match_id = ? AND rally = ? AND stroke = ?",
                            (match_id, last.number, last.strokes[-1].number))
                return f"rally {last.number}: stroke {last.strokes[-1].number} ({last.strokes[-1].shot}) taken back"
            con.execute("DELETE FROM rallies WHERE match_id = ? AND rally = ?", (match_id, last.number))
            return self.undo_after_empty(con, match_id)

    def undo_after_empty(self, con, match_id) -> str:
        state = self._state(con, match_id)
        if state.rallies and state.rallies[-1].finished:
            last = state.rallies[-1]
            con.execute("UPDATE rallies SET winner = NULL WHERE match_id = ? AND rally = ?", (match_id, last.number))
            return f"rally {last.number}: result taken back"
        return "empty rally removed"

    # -- export --------------------------------------------------------------------------------------------
    def export_table(self, match_id: str) -> pd.DataFrame:
        """The match in the canonical layout (:mod:`strategist.data.schema`), one row per stroke."""
        from strategist.data.schema import conform, empty_table
        from strategist.sports import get_sport

        state = self.state(match_id)
        sport = get_sport(state.sport)
        scores = state.scores()
        tennis = state.sport == "tennis"
        rows = []
        in_set: dict[int, int] = {}
        for k, rally in enumerate(state.rallies):
            before = scores[min(k, len(scores) - 1)]
            in_set[rally.set_no] = in_set.get(rally.set_no, 0) + 1
            number = in_set[rally.set_no]
            side = sport.court_side(before.count)
            points = dict(zip((state.player, state.opponent), _stored_points(before, tennis)))
            games = dict(zip((state.player, state.opponent), before.games))
            lead = 0
            while lead < len(rally.strokes) and rally.strokes[lead].hitter == rally.server \
                    and rally.strokes[lead].shot in sport.serves:
                lead += 1
            for i, s in enumerate(rally.strokes):
                rows.append({
                    "sport": state.sport, "source": "canonical", "match_id": state.match_id, "set": rally.set_no,
                    "game": before.game_no if tennis else None,
                    "rally": number, "rally_id": f"{state.match_id}|{rally.set_no}|{number}", "stroke": s.number,
                    "hitter": s.hitter, "opponent": s.opponent, "shot": s.shot, "landing_area": s.landing_area,
                    "server": rally.server, "serve_number": 1 if i == 0 or lead < 2 else 2, "court_side": side,
                    "hitter_score": points[s.hitter], "opponent_score": points[s.opponent],
                    "hitter_games": games[s.hitter] if tennis else None,
                    "opponent_games": games[s.opponent] if tennis else None,
                    "winner": rally.winner,
                    "hitter_won": None if rally.winner is None else rally.winner == s.hitter,
                })
        if not rows:
            return empty_table()
        frame = pd.DataFrame(rows)
        frame["hitter_won"] = frame["hitter_won"].astype("boolean")
        return conform(frame, where=f"match {match_id}")

    def export_csv(self, match_id: str, target=None) -> str | None:
        """The canonical table as CSV: written to ``target`` (a path or a file object), or returned as text."""
        table = self.export_table(match_id)
        return table.to_csv(target, index=False)
