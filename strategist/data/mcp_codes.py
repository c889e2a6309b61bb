"""Match Charting Project shot codes (MatchChart 0.3.2 grammar) -> the strokes of one point and its winner.

Grammar (``tennis_mcp/README.md``)::

    cell    := "S" | "R" | "P" | "Q" | ["V"] "c"* serve        # V only in the 1st cell
    serve   := sdir ["+"] ( fault | "*" | "#" | "C" | rally | "" )
    sdir    := 4 wide | 5 body | 6 T | 0 unknown
    fault   := n | w | d | x | g | e | !
    rally   := shot+ [ending]
    shot    := stype {mod | dir | depth} [err]                   # depth only on the return
    ending  := "*" winner | "@" unforced error | "#" forced error | "C" stopped by an incorrect challenge

The server hits the serves; after the serve in play the players alternate (return = receiver). The point
goes to the last hitter on ``*`` and ``C``, to the other player on ``#`` / ``@`` after a rally shot, to the
server on an ace or unreturnable serve, to the receiver on a double fault, a missing ending, ``R`` or
``P``, and to the server on ``S`` or ``Q``. Anything else - a code after a fault or after the ending, an
unknown letter, a digit out of place - is malformed and raises :class:`ShotCodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from strategist.errors import DataFormatError
from strategist.sports import get_sport

_TENNIS = get_sport("tennis")
_LABELS = _TENNIS.labels["mcp"]
SHOTS: dict[str, str] = dict(_LABELS["shot"])
SERVE_AREAS: dict[str, str] = dict(_LABELS["serve_area"])
AREAS: dict[str, str] = dict(_LABELS["area"])
DEPTHS: dict[str, str] = dict(_LABELS["depth"])
ERRORS: dict[str, str] = dict(_LABELS["error"])
MODIFIERS: dict[str, str] = dict(_LABELS["modifier"])
SERVE_DIGITS = "0456"
SERVE_FAULTS = "nwdxge!"
RALLY_ERRORS = "nwdxe!"
SPECIAL = {"S": "server won (not seen)", "R": "receiver won (not seen)",
           "P": "penalty on server", "Q": "penalty on receiver"}


@dataclass
class Stroke:
    """One coded stroke: who hit it (``server``/``receiver``) and what the code says about it."""

    role: str
    shot: str
    serve_number: int
    area: str | None = None
    depth: str | None = None
    error: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Point:
    """A decoded point: its strokes, how it ended and who won it (``server`` / ``receiver``)."""

    strokes: list[Stroke]
    end: str
    winner: str


class ShotCodeError(DataFormatError):
    """A ``1st``/``2nd`` cell that does not follow the grammar; ``cell`` names it, ``detail`` says why."""

    def __init__(self, detail: str, cell: str):
        self.detail, self.cell = detail, cell
        super().__init__(detail, field=cell)


class _Cursor:
    def __init__(self, code: str, cell: str):
        self.code, self.cell, self.i = code, cell, 0

    def peek(self) -> str:
        return self.code[self.i] if self.i < len(self.code) else ""

    def take(self) -> str:
        char = self.peek()
        self.i += 1
        return char

    def done(self) -> bool:
        return self.i >= len(self.code)

    def fail(self, what: str) -> ShotCodeError:
        got = repr(self.peek()) if not self.done() else "the end of the code"
        return ShotCodeError(f"{what} at position {self.i + 1} of {self.code!r} (found {got})", self.cell)


def parse_point(first: str, second: str = "") -> Point:
    """Decode the ``1st`` and ``2nd`` cells of one charted point."""
    first, second = (first or "").strip(), (second or "").strip()
    if first in SPECIAL:
        if second:
            raise ShotCodeError(f"an empty 2nd cell after {first!r} (found {second!r})", "2nd")
        return Point([], SPECIAL[first], _TENNIS.winner_role(SPECIAL[first]))
    if not first:
        raise ShotCodeError("a code in the 1st cell (it is empty)", "1st")
    strokes: list[Stroke] = []
    if first == "V":
        tags = ["first serve lost to time violation"]
        faulted = True
    else:
        outcome = _cell(_Cursor(first, "1st"), serve_number=1, strokes=strokes)
        faulted = outcome is None
        tags = []
    if not faulted:
        if second:
            raise ShotCodeError(f"an empty 2nd cell: the first serve was in play in {first!r} "
                                f"(found {second!r})", "2nd")
        return outcome
    if not second:
        raise ShotCodeError(f"a second serve in 2nd after the fault {first!r} (2nd is empty)", "2nd")
    if second in SPECIAL:
        return Point(strokes, SPECIAL[second], _TENNIS.winner_role(SPECIAL[second]))
    start = len(strokes)
    outcome = _cell(_Cursor(second, "2nd"), serve_number=2, strokes=strokes)
    if tags and len(strokes) > start:
        strokes[start].tags[:0] = tags
    if outcome is None:
        strokes[-1].tags.append("double fault")
        return _finish(strokes, "double fault")
    return outcome


def _cell(cur: _Cursor, *, serve_number: int, strokes: list[Stroke]) -> Point | None:
    """Parse one cell from the serve on; ``None`` when the serve was a fault (the cell then ends)."""
    lets = 0
    while cur.peek() == "c":
        cur.take()
        lets += 1
    digit = cur.take()
    if digit not in SERVE_DIGITS:
        cur.i -= 1
        raise cur.fail("a serve direction 4, 5, 6 or 0 (after any lets c)")
    serve = Stroke("server", "serve", serve_number, area=SERVE_AREAS.get(digit), tags=["let"] * lets)
    strokes.append(serve)
    if cur.peek() == "+":
        cur.take()
        serve.tags.append("serve and volley")
    char = cur.peek()
    if char and char in SERVE_FAULTS:
        cur.take()
        serve.error = ERRORS[char]
        if not cur.done():
            raise cur.fail("nothing after a service fault")
        return None
    if char in ("*", "#", "C"):
        cur.take()
        _nothing_after_ending(cur)
        end = {"*": "ace", "#": "unreturnable", "C": "challenge stopped play"}[char]
        return _finish(strokes, end)
    if cur.done():
        return _finish(strokes, "no ending recorded")
    return _rally(cur, serve_number=serve_number, strokes=strokes)


def _rally(cur: _Cursor, *, serve_number: int, strokes: list[Stroke]) -> Point:
    k = 0
    while True:
        letter = cur.take()
        if letter not in SHOTS:
            cur.i -= 1
            raise cur.fail(f"a shot letter ({''.join(SHOTS)})")
        k += 1
        stroke = Stroke("receiver" if k % 2 == 1 else "server", SHOTS[letter], serve_number)
        strokes.append(stroke)
        direction = depth = None
        while True:
            char = cur.peek()
            if char and char in MODIFIERS:
                stroke.tags.append(MODIFIERS[cur.take()])
            elif char.isdigit():
                if direction is None and depth is None and char in "0123":
                    direction = cur.take()
                elif k == 1 and depth is None and char in "0789":
                    depth = cur.take()
                else:
                    what = "a return depth 7, 8, 9 or 0" if k == 1 and depth is None else "no more digits"
                    raise cur.fail(f"{what} after {letter}{direction or ''}{depth or ''}")
            else:
                break
        stroke.area = AREAS.get(direction) if direction else None
        stroke.depth = DEPTHS.get(depth) if depth else None
        char = cur.peek()
        if char and char in RALLY_ERRORS:
            stroke.error = ERRORS[cur.take()]
            char = cur.peek()
            if char not in ("@", "#", ""):
                raise cur.fail("an error ending @ or # after the error letter")
        if char in ("*", "@", "#", "C"):
            cur.take()
            _nothing_after_ending(cur)
            end = {"*": "winner", "@": "unforced error", "#": "forced error", "C": "challenge stopped play"}[char]
            return _finish(strokes, end)
        if cur.done():
            return _finish(strokes, "no ending recorded")


def _nothing_after_ending(cur: _Cursor) -> None:
    if not cur.done():
        raise cur.fail("nothing after the point's ending")


def _finish(strokes: list[Stroke], end: str) -> Point:
    role = _TENNIS.winner_role(end)
    last = strokes[-1].role
    if role == "hitter":
        role = last
    elif role == "opponent":
        role = "receiver" if last == "server" else "server"
    return Point(strokes, end, role)
