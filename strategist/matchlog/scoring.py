"""How a recorded match is scored, sport by sport: the score before every rally and who serves it.

* **Rally-point** (badminton): every rally scores a point for its winner; a game (set) ends at 21 with a
  lead of two, or at 30; the rally's winner serves the next rally.
* **Tennis**: a game is won at four points with a lead of two (0, 15, 30, 40, advantage); a set at six
  games with a lead of two, or 7–6 by a tiebreak at 6–6 (first to seven points with a lead of two). One
  player serves a whole game and the serve passes to the other for the next game. In a tiebreak the
  player whose turn it was serves the first point, then the serve changes after every odd point; the
  next set starts with the player who received the tiebreak's first point serving.

``replay`` walks the finished rallies' winners and returns a :class:`Score` before each rally and after the
last; ``count`` (points played in the game in tennis, the server's points in badminton) is what the
sport's court-side rule looks at (:meth:`strategist.sports.Sport.court_side`).
"""

from __future__ import annotations

from dataclasses import dataclass

RALLY_POINT_GAME, RALLY_POINT_CAP = 21, 30
TENNIS_POINTS = ("0", "15", "30", "40")


@dataclass(frozen=True)
class Score:
    """The score before a rally, player first in every pair."""

    set_no: int
    points: tuple          # points in the current game (tennis) or in the set (rally-point)
    games: tuple           # games in the current set (tennis; (0, 0) for rally-point scoring)
    sets: tuple            # sets won
    server: str            # who serves this rally
    tiebreak: bool
    count: int             # what the court-side rule looks at (see the module docstring)
    game_no: int           # the game within the set (tennis; 1 for rally-point scoring)


def _rally_point(winners, first_server, player, opponent) -> list[Score]:
    set_no, pts, sets = 1, [0, 0], [0, 0]
    server = first_server
    out = []
    for w in list(winners) + [None]:
        out.append(Score(set_no, tuple(pts), (0, 0), tuple(sets), server, False,
                         pts[0 if server == player else 1], 1))
        if w is None:
            break
        pts[0 if w == player else 1] += 1
        server = w
        if (max(pts) >= RALLY_POINT_GAME and abs(pts[0] - pts[1]) >= 2) or max(pts) >= RALLY_POINT_CAP:
            sets[0 if pts[0] > pts[1] else 1] += 1
            set_no, pts = set_no + 1, [0, 0]
    return out


def _tennis(winners, first_server, player, opponent) -> list[Score]:
    def other(name):
        return opponent if name == player else player

    set_no, game_no = 1, 1
    pts, games, sets = [0, 0], [0, 0], [0, 0]
    game_server = first_server          # who serves the current game (the tiebreak's first point)
    out = []
    for w in list(winners) + [None]:
        tiebreak = games == [6, 6]
        played = pts[0] + pts[1]
        if tiebreak:   # the first point by game_server, then two each: points 1-2 by the other, 3-4 back, ...
            server = game_server if ((played + 1) // 2) % 2 == 0 else other(game_server)
        else:
            server = game_server
        out.append(Score(set_no, tuple(pts), tuple(games), tuple(sets), server, tiebreak, played, game_no))
        if w is None:
            break
        pts[0 if w == player else 1] += 1
        target = 7 if tiebreak else 4
        if max(pts) >= target and abs(pts[0] - pts[1]) >= 2:
            games[0 if pts[0] > pts[1] else 1] += 1
            pts = [0, 0]
            game_no += 1
            game_server = other(game_server)   # after a tiebreak too: its first receiver serves next
            if tiebreak or (max(games) >= 6 and abs(games[0] - games[1]) >= 2):
                sets[0 if games[0] > games[1] else 1] += 1
                set_no, game_no, games = set_no + 1, 1, [0, 0]
    return out


def replay(sport: str, winners, first_server: str, player: str, opponent: str) -> list[Score]:
    """The score before each rally with these ``winners`` (in order) and after the last (one more entry)."""
    if sport == "tennis":
        return _tennis(winners, first_server, player, opponent)
    return _rally_point(winners, first_server, player, opponent)


def points_label(sport: str, score: Score, who: int) -> str:
    """One side's points as the sport says them: ``"15"``, ``"AD"``, a tiebreak's count; badminton's count."""
    a = score.points[who]
    if sport != "tennis" or score.tiebreak:
        return str(a)
    return tennis_call(a, score.points[1 - who])


def tennis_call(a: int, b: int) -> str:
    """A game's points ``a`` (against ``b``) as tennis calls them: 0, 15, 30, 40, or AD past deuce."""
    if a >= 3 and b >= 3:
        return "AD" if a > b else "40"
    return TENNIS_POINTS[min(a, 3)]
