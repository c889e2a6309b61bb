"""The order of play inside one rally, as the match log enforces it before a stroke is written.

A rally opens with a serve by its server. The server may serve again only while every stroke so far is
one of the server's serves and fewer than the sport's ``serves_per_point`` were hit (tennis' second serve
after a fault); a serve anywhere else is refused. After the ``s`` leading serves (``f = s - 1`` faults)
the hitters alternate by the sport's turn rule, :meth:`strategist.sports.definition.Sport.stroke_role`:
stroke ``k`` is the server's when ``k - f`` is odd. A rally holds at most ``max_strokes`` strokes.

Also what a stroke's optional fields may hold: landing and hitter areas from the sport's areas, a landing
height ``high`` / ``low``, a wing ``forehand`` / ``backhand``.
"""

from __future__ import annotations

from strategist.errors import MatchLogError
from strategist.matchlog.errors import OrderOfPlayError

#: The longest rally the log accepts (the longest rallies on record, in tennis, are a few hundred strokes).
MAX_STROKES = 1000
HEIGHTS = ("high", "low")
WINGS = ("forehand", "backhand")
#: A stroke's optional fields, in the order of the canonical table.
OPTIONAL = ("wing", "landing_area", "landing_height", "hitter_area")


def leading_serves(sport, rally) -> int:
    """How many strokes at the start of ``rally`` are its server's serves."""
    count = 0
    for stroke in rally.strokes:
        if stroke.hitter != rally.server or stroke.shot not in sport.serves:
            break
        count += 1
    return count


def serve_again_allowed(sport, rally) -> bool:
    """Whether the next stroke may be another serve by the server (a second serve after a fault)."""
    lead = leading_serves(sport, rally)
    return lead == len(rally.strokes) and 0 < lead < sport.serves_per_point


def allowed_shots(sport, rally) -> tuple:
    """The shots the next stroke of ``rally`` may be (``rally`` None or empty: a new rally, the serves)."""
    serves = tuple(s for s in sport.shots if s in sport.serves)
    others = tuple(s for s in sport.shots if s not in sport.serves)
    if rally is None or not rally.strokes:
        return serves
    return serves + others if serve_again_allowed(sport, rally) else others


def turn(sport, rally, shot: str | None, receiver: str) -> str:
    """Who hits the next stroke of ``rally`` when it is ``shot``: the server for a first serve or an allowed
    second serve, else the turn rule after the leading serves (``shot`` None: the next stroke as a return)."""
    if not rally.strokes or (shot in sport.serves and serve_again_allowed(sport, rally)):
        return rally.server
    faults = max(leading_serves(sport, rally) - 1, 0)
    role = sport.stroke_role(len(rally.strokes) + 1, faults)
    return rally.server if role == "server" else receiver


def check_stroke(sport, rally, shot: str, hitter: str | None, receiver: str, *,
                 max_strokes: int = MAX_STROKES) -> str:
    """The hitter of ``shot`` as the next stroke of ``rally``; :class:`OrderOfPlayError` when it cannot be."""
    number = len(rally.strokes) + 1
    where = f"rally {rally.number}, stroke {number}"
    if number > max_strokes:
        raise OrderOfPlayError(f"{where}: a rally holds at most {max_strokes} strokes; record its result first")
    is_serve = shot in sport.serves
    if not rally.strokes and not is_serve:
        raise OrderOfPlayError(f"{where}: a rally opens with a serve ({', '.join(sorted(sport.serves))}), "
                               f"not {shot!r}")
    if rally.strokes and is_serve and not serve_again_allowed(sport, rally):
        limit = sport.serves_per_point
        why = (f"{sport.name} allows {limit} serve{'s' if limit > 1 else ''} per point"
               if leading_serves(sport, rally) == len(rally.strokes) else "a serve only opens a rally")
        raise OrderOfPlayError(f"{where}: {shot!r} refused: {why}")
    due = turn(sport, rally, shot, receiver)
    if hitter is not None and hitter != due:
        raise OrderOfPlayError(f"{where} is {due}'s to hit, not {hitter}'s (the serve, then the players "
                               "alternate)")
    return due


def check_fields(sport, shot: str, fields: dict) -> dict:
    """``fields`` (the optional ones, ``""`` read as not recorded) checked against the sport; raises
    :class:`MatchLogError` naming the field and what it may hold."""
    if shot not in sport.shots:
        raise MatchLogError(f"shot {shot!r} is not a {sport.name} shot; expected one of {list(sport.shots)}")
    allowed = {"landing_area": tuple(sport.areas), "hitter_area": tuple(sport.areas), "landing_height": HEIGHTS,
               "wing": WINGS}
    out = {}
    for name in OPTIONAL:
        value = fields.get(name)
        value = None if value is None or value == "" else value
        if value is not None and value not in allowed[name]:
            raise MatchLogError(f"{name} {value!r} is not one of the {sport.name} values {list(allowed[name])}")
        out[name] = value
    return out

