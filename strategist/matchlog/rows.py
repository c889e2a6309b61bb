"""Reading a match back from the log's tables, row by row, each row checked before it is trusted.

A row that cannot be what the log writes (a number that is not one, a player who is not in the match, a
shot outside the sport's vocabulary, a field too long) is a :class:`~strategist.matchlog.state.DamagedRow`:
it is reported in ``MatchState.damaged`` and the rest of the match stays readable. A damaged rally row
leaves that rally (and its strokes) out; a damaged stroke row leaves that stroke out and flags its rally.
Only a damaged ``matches`` row (unknown sport, bad players) makes the match unreadable
(:class:`~strategist.errors.MatchLogError` naming the row).
"""

from __future__ import annotations

from strategist.errors import ConfigurationError, MatchLogError
from strategist.matchlog.state import DamagedRow, MatchState, Rally, Stroke
from strategist.sports import get_sport

#: The longest text a stored name or field may hold (what the log writes is far shorter).
TEXT_MAX = 200
MATCH_COLUMNS = ("match_id", "sport", "player", "opponent", "first_server", "data", "created", "updated")
#: The strokes' columns as read, the rally's number then the fields of :class:`Stroke` in its order.
STROKE_COLUMNS = ("rally", "stroke", "hitter", "opponent", "shot", "landing_area", "landing_height", "hitter_area",
                  "wing")


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _text(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= TEXT_MAX


def _match_row(con, match_id: str, path) -> tuple:
    row = con.execute(f"SELECT {', '.join(MATCH_COLUMNS)} FROM matches WHERE match_id = ?", (match_id,)).fetchone()
    if row is None:
        raise MatchLogError(f"{path}: no match {match_id!r}")
    _, sport, player, opponent, first_server, *_ = row
    where = f"{path}: match {match_id!r}"
    try:                     # a BLOB is no name at all, not even one a user's sport could take
        known = isinstance(sport, str) and get_sport(sport) is not None
    except ConfigurationError:
        known = False
    if not known:
        raise MatchLogError(f"{where}: its row is damaged (sport {sport!r} is not one strategist knows); the "
                            "match cannot be read, the other matches can")
    if not (_text(player) and _text(opponent) and player != opponent and first_server in (player, opponent)):
        raise MatchLogError(f"{where}: its row is damaged (players {player!r} v {opponent!r}, first server "
                            f"{first_server!r}); the match cannot be read, the other matches can")
    return row


def _rally_rows(con, match_id: str, players: tuple, damaged: list) -> tuple[dict, int, set]:
    """Readable rallies by number, the highest whole rally number stored (damaged rows included) and the
    numbers of the rallies left out for a damaged row."""
    rallies, last, dropped = {}, 0, set()
    for number, set_no, server, winner in con.execute(
            "SELECT rally, set_no, server, winner FROM rallies WHERE match_id = ? ORDER BY rowid", (match_id,)):
        if _whole(number):
            last = max(last, number)
        good = (_whole(number), _whole(set_no), server in players, winner is None or winner in players)
        if not all(good):
            expected = ("a whole number from 1", "a whole number from 1", f"one of {list(players)}",
                        f"empty or one of {list(players)}")
            bad = [DamagedRow("rallies", f"(rally {number!r})", name, value, want) for name, value, ok, want
                   in zip(("rally", "set_no", "server", "winner"), (number, set_no, server, winner), good, expected)
                   if not ok]
            damaged.extend(bad)
            dropped.add(number)
            continue
        rallies[number] = Rally(number, set_no, server, winner)
    return rallies, last, dropped


def _stroke_problem(row: tuple, sport, shots: frozenset, players: tuple) -> tuple | None:
    """The first (field, value, expected) that makes a strokes row unreadable, or None."""
    rally, number, hitter, opponent, shot, *optional = row
    if not _whole(number):
        return "stroke", number, "a whole number from 1"
    if hitter not in players:
        return "hitter", hitter, f"one of {list(players)}"
    if opponent != (players[1] if hitter == players[0] else players[0]):
        return "opponent", opponent, "the other player of the match"
    if shot not in shots:
        return "shot", shot, f"a {sport.name} shot"
    for name, value in zip(STROKE_COLUMNS[5:], optional):
        if value is not None and not _text(value):
            return name, value, f"empty or a text of at most {TEXT_MAX} characters"
    return None


def _stroke_rows(con, match_id: str, sport, players: tuple, rallies: dict, dropped: set, damaged: list,
                 columns: tuple) -> dict:
    """Readable strokes by rally number; damaged rows reported in ``damaged`` and by rally."""
    strokes: dict = {}
    flagged: dict = {}
    shots = frozenset(sport.shots)
    for row in con.execute(f"SELECT {', '.join(columns)} FROM strokes WHERE match_id = ? ORDER BY rowid",
                           (match_id,)):
        rally = row[0]
        if rally in dropped:
            continue                           # its rally is left out, reported for its own row
        problem = _stroke_problem(row, sport, shots, players)
        if problem is None and rally not in rallies:
            problem = ("rally", rally, "the number of a rally of the match")
        if problem is not None:
            item = DamagedRow("strokes", f"(rally {rally!r}, stroke {row[1]!r})", *problem)
            damaged.append(item)
            flagged.setdefault(rally, []).append(item)
            continue
        strokes.setdefault(rally, []).append(Stroke(*row[1:]))
    for rally in strokes.values():
        rally.sort(key=lambda s: s.number)
    return {"strokes": strokes, "flagged": flagged}


def read_match(con, match_id: str, path, stroke_columns: tuple = STROKE_COLUMNS) -> MatchState:
    """The match ``match_id`` as stored (see the module docstring). ``stroke_columns``: the select list of the
    strokes table (an older schema reads a missing optional field as ``NULL AS <field>``)."""
    row = _match_row(con, match_id, path)
    players = (row[2], row[3])
    sport = get_sport(row[1])
    damaged: list = []
    rallies, last, dropped = _rally_rows(con, match_id, players, damaged)
    found = _stroke_rows(con, match_id, sport, players, rallies, dropped, damaged, stroke_columns)
    built = tuple(Rally(r.number, r.set_no, r.server, r.winner, tuple(found["strokes"].get(n, ())),
                        tuple(found["flagged"].get(n, ()))) for n, r in sorted(rallies.items()))
    return MatchState(row[0], row[1], row[2], row[3], row[4], row[5], built, row[6], row[7], tuple(damaged), last)
