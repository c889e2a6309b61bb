"""The match log's SQLite file: opening and checking it, upgrading its schema, one transaction per write,
and SQLite's failures said as what they are.

* **Opening.** An existing file is checked before anything is written (SQLite's magic bytes, ``PRAGMA
  integrity_check``, the tables, ``meta.schema_version``): a damaged file, a file that is not a match log or
  a schema newer than this code raises :class:`~strategist.errors.MatchLogError` naming the file, which is
  left exactly as it was. An older schema is upgraded in one transaction (version 1 → 2: the strokes'
  ``landing_height``, ``hitter_area`` and ``wing`` and the matches' ``seq``, their order of last change).
* **Read-only.** When the file or its folder cannot be written the log opens for reading (a write-ahead
  log that cannot be read without writing excepted) and every write raises
  :class:`~strategist.matchlog.errors.ReadOnlyLogError`; an old schema is then read as it is.
* **Writes.** ``BEGIN IMMEDIATE`` ... ``COMMIT``; on any failure ``ROLLBACK`` (when SQLite has not already
  rolled back) and the first failure is what is raised: a full disk as
  :class:`~strategist.matchlog.errors.DiskFullError`, a write refused by the file system as
  ``ReadOnlyLogError``, a writer holding the log too long, a damaged file or an I/O error each with its
  own message; all say that nothing was written.
* ``synchronous=FULL`` and the write-ahead log (WAL) make a committed write survive a killed process;
  ``busy_timeout`` lets one writer wait for another (two processes may record at once).
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from strategist.errors import MatchLogError
from strategist.matchlog import order
from strategist.matchlog.errors import DiskFullError, ReadOnlyLogError
from strategist.matchlog.rows import STROKE_COLUMNS

SCHEMA_VERSION = 2
MAGIC = b"SQLite format 3\x00"
MOVE_AWAY = "the file was left as it is: move it away or set STRATEGIST_MATCHLOG to another path"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS matches (
    match_id TEXT PRIMARY KEY, sport TEXT NOT NULL, player TEXT NOT NULL, opponent TEXT NOT NULL,
    first_server TEXT NOT NULL, data TEXT, created TEXT NOT NULL, updated TEXT NOT NULL, seq INTEGER);
CREATE TABLE IF NOT EXISTS rallies (
    match_id TEXT NOT NULL REFERENCES matches(match_id), rally INTEGER NOT NULL, set_no INTEGER NOT NULL,
    server TEXT NOT NULL, winner TEXT, PRIMARY KEY (match_id, rally));
CREATE TABLE IF NOT EXISTS strokes (
    match_id TEXT NOT NULL, rally INTEGER NOT NULL, stroke INTEGER NOT NULL, hitter TEXT NOT NULL,
    opponent TEXT NOT NULL, shot TEXT NOT NULL, landing_area TEXT, recorded TEXT NOT NULL,
    landing_height TEXT, hitter_area TEXT, wing TEXT,
    PRIMARY KEY (match_id, rally, stroke), FOREIGN KEY (match_id, rally) REFERENCES rallies(match_id, rally));
"""

#: Version 1 -> 2, in one transaction (the version is bumped in the same transaction).
_UPGRADE_1 = (
    "ALTER TABLE strokes ADD COLUMN landing_height TEXT",
    "ALTER TABLE strokes ADD COLUMN hitter_area TEXT",
    "ALTER TABLE strokes ADD COLUMN wing TEXT",
    "ALTER TABLE matches ADD COLUMN seq INTEGER",
    "UPDATE matches SET seq = (SELECT COUNT(*) FROM matches AS m WHERE m.updated < matches.updated "
    "OR (m.updated = matches.updated AND m.rowid <= matches.rowid))",
)

# SQLite's primary result codes (https://sqlite.org/rescode.html)
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


def _unwritable(path: Path) -> str | None:
    """Why ``path`` (or, for a new file, its folder) cannot be written by this process, or None."""
    folder = path.parent if str(path.parent) else Path(".")
    ids = os.access in os.supports_effective_ids
    if path.exists() and not os.access(path, os.W_OK, effective_ids=ids):
        return f"the file {path} is read-only"
    if not os.access(folder, os.W_OK, effective_ids=ids):
        return f"the folder {folder} is read-only (SQLite writes its journal beside the log)"
    return None


class LogFile:
    """The match log's file at ``path`` (see the module docstring). ``max_bytes``: a size the log may not
    grow beyond (a write that would is refused like one on a full disk); ``timeout_ms``: how long a writer
    waits for another."""

    def __init__(self, path: Path, *, timeout_ms: int, max_bytes: int | None = None):
        self.path = path
        self.timeout_ms = int(timeout_ms)
        self.max_bytes = None if max_bytes is None else int(max_bytes)
        self.read_only: str | None = None      # why the log cannot be written, or None
        self.version = SCHEMA_VERSION
        if path.is_dir():
            raise MatchLogError(f"{path}: is a folder; the match log is a file")
        if path.exists() and not path.is_file() or path.is_symlink() and not path.resolve().is_file():
            raise MatchLogError(f"{path}: not a regular file (a device, a pipe or a broken link); the match log is "
                                "a file: set STRATEGIST_MATCHLOG to another path")
        if path.is_file() and path.stat().st_size > 0:
            self.read_only = _unwritable(path)
            self._check_existing()
            if self.version < SCHEMA_VERSION and self.read_only is None:
                self._upgrade()
        else:
            self._create()

    # -- opening -------------------------------------------------------------------------------------------
    def _create(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise MatchLogError(f"{self.path}: cannot make the match log: a file is in the way of its folder "
                                f"{folder} (a part of the path is a file, not a folder)") from None
        except OSError as exc:
            raise ReadOnlyLogError(f"{self.path}: cannot make the folder of the match log ({exc.strerror or exc}); "
                                   "set STRATEGIST_MATCHLOG to a writable path") from None
        why = _unwritable(self.path)
        if why is not None:
            raise ReadOnlyLogError(f"{self.path}: cannot make the match log: {why}; set STRATEGIST_MATCHLOG to a "
                                   "writable path")
        with self._connection("rwc") as con:
            try:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                con.execute("INSERT OR IGNORE INTO meta VALUES ('application', 'strategist match log')")
            except sqlite3.Error as exc:
                raise self.failure(exc, "making the match log") from None

    def _check_existing(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                magic = handle.read(16)
        except OSError as exc:
            raise MatchLogError(f"{self.path}: cannot read the match log ({exc.strerror or exc})") from None
        if magic != MAGIC:
            raise MatchLogError(f"{self.path}: not a SQLite database (corrupted, or another kind of file); "
                                f"{MOVE_AWAY}")
        with self.read() as con:
            result = [row[0] for row in con.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            version = None
            if "meta" in tables:
                row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                version = row[0] if row else None
            self.stroke_columns = self._columns(con, "strokes", tables)
            self.match_order = self._match_order(con, tables)
        if result != ["ok"]:
            raise MatchLogError(f"{self.path}: the match log is corrupted (integrity check: "
                                f"{'; '.join(result[:3])}); {MOVE_AWAY}")
        if not {"meta", "matches", "rallies", "strokes"} <= tables or version is None:
            raise MatchLogError(f"{self.path}: a SQLite database but not a strategist match log (tables "
                                f"{sorted(tables)}); the file was left as it is")
        self.version = self._parse_version(version)

    def _parse_version(self, version) -> int:
        text = str(version).strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise MatchLogError(f"{self.path}: meta.schema_version is {version!r}, expected a whole number from 1 "
                                f"to {SCHEMA_VERSION}; the match log is damaged or not strategist's; {MOVE_AWAY}")
        if int(text) > SCHEMA_VERSION:
            raise MatchLogError(f"{self.path}: match log schema {text} is newer than this strategist knows "
                                f"({SCHEMA_VERSION}); upgrade strategist")
        return int(text)

    @staticmethod
    def _columns(con, table: str, tables: set) -> tuple:
        """The strokes' select list: a field an older schema lacks is read as NULL."""
        have = {row[1] for row in con.execute(f"PRAGMA table_info({table})")} if table in tables else set()
        return tuple(c if c in have or c not in order.OPTIONAL else f"NULL AS {c}" for c in STROKE_COLUMNS)

    @staticmethod
    def _match_order(con, tables: set) -> str:
        have = {row[1] for row in con.execute("PRAGMA table_info(matches)")} if "matches" in tables else set()
        return "m.seq DESC, m.rowid DESC" if "seq" in have else "m.updated DESC, m.rowid DESC"

    def _upgrade(self) -> None:
        with self.write() as con:
            row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if self._parse_version(row[0]) == 1:          # not upgraded meanwhile by another process
                for statement in _UPGRADE_1:
                    con.execute(statement)
                con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        self.version = SCHEMA_VERSION
        with self.read() as con:
            self.stroke_columns = self._columns(con, "strokes", {"strokes"})
            self.match_order = self._match_order(con, {"matches"})

    # -- connections ---------------------------------------------------------------------------------------
    stroke_columns: tuple = STROKE_COLUMNS             # the strokes' select list (see _columns)
    match_order: str = "m.seq DESC, m.rowid DESC"      # most recently changed match first

    @contextmanager
    def _connection(self, mode: str, extra: str = ""):
        try:
            con = sqlite3.connect(f"file:{self.path}?mode={mode}{extra}", uri=True, timeout=self.timeout_ms / 1000,
                                  isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self.failure(exc, "opening the match log") from None
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def read(self):
        """A connection for reading: read-write when the log can be written (the last connection to close
        then folds the write-ahead log back into the file), else read-only (opened immutable when SQLite
        cannot open it otherwise and no write-ahead log holds writes)."""
        mode, extra = "rw", ""
        if self.read_only is not None:
            mode = "ro"
            extra = "" if self._readable_shared() else "&immutable=1"
        with self._connection(mode, extra) as con:
            try:
                yield con
            except sqlite3.Error as exc:
                raise self.failure(exc, "reading the match log") from None

    def _readable_shared(self) -> bool:
        """Whether SQLite can read the read-only log normally (its shared-memory file exists), else it must be
        opened immutable; a non-empty write-ahead log that cannot be read that way is refused."""
        wal = Path(f"{self.path}-wal")
        if Path(f"{self.path}-shm").exists():
            return True
        if wal.exists() and wal.stat().st_size > 0:
            raise ReadOnlyLogError(f"{self.path}: {self.read_only}, and its last writes are in {wal.name}, which "
                                   "SQLite cannot read without writing; copy the log and its -wal file to a "
                                   "writable folder to read it")
        return False

    @contextmanager
    def write(self):
        """One write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT``; on a failure ``ROLLBACK`` and the
        failure raised as the right :class:`MatchLogError` (nothing written)."""
        if self.read_only is not None:
            raise ReadOnlyLogError(f"{self.path}: the match log is read-only ({self.read_only}): nothing was "
                                   "written; it can be read and exported; to record, make it writable or set "
                                   "STRATEGIST_MATCHLOG to a writable path")
        with self._connection("rw") as con:
            try:
                self._configure(con)
                self._begin(con)
            except sqlite3.Error as exc:
                raise self.failure(exc, "starting a write") from None
            try:
                yield con
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(con)
                raise self.failure(exc, "writing") from None
            except BaseException:
                self._rollback(con)
                raise

    def _configure(self, con) -> None:
        con.execute(f"PRAGMA busy_timeout={self.timeout_ms}")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("PRAGMA foreign_keys=ON")
        if self.max_bytes is not None:
            page = con.execute("PRAGMA page_size").fetchone()[0]
            con.execute(f"PRAGMA max_page_count={max(self.max_bytes // page, 1)}")

    @staticmethod
    def _begin(con) -> None:
        for attempt in range(50):
            try:
                con.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:  # locked beyond busy_timeout: try again briefly
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.05)

    @staticmethod
    def _rollback(con) -> None:
        """Roll back unless SQLite already did (it does after a full disk, for one)."""
        if con.in_transaction:
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass        # the first failure is the one to report; the connection is closed next

    # -- failures ------------------------------------------------------------------------------------------
    def failure(self, exc: sqlite3.Error, doing: str) -> MatchLogError:
        """``exc`` (raised while ``doing``) as the :class:`MatchLogError` that says what happened."""
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        where = f"{self.path}: {doing}"
        if code == _FULL:
            limit = f" (or the log reached its size limit of {self.max_bytes:,} bytes)" if self.max_bytes else ""
            return DiskFullError(f"{where}: the disk is full{limit}; nothing was written: free some space, then "
                                 "record it again")
        if code == _READONLY or (code == _CANTOPEN and _unwritable(self.path)):
            why = _unwritable(self.path) or "the file system refuses writes"
            return ReadOnlyLogError(f"{where}: the match log is read-only ({why}); nothing was written")
        if code in (_BUSY, _LOCKED):
            return MatchLogError(f"{where}: another writer held the match log for over {self.timeout_ms / 1000:g} s "
                                 "(locked); nothing was written: try again")
        if code in (_CORRUPT, _NOTADB):
            return MatchLogError(f"{where}: the match log is corrupted ({exc}); {MOVE_AWAY}")
        if code == _IOERR:
            return MatchLogError(f"{where}: the disk reported an error ({exc}); nothing was written")
        return MatchLogError(f"{where}: the match log cannot be used ({exc}); the file was left as it is")
