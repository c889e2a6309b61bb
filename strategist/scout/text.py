"""The plain-English wording of scouting figures: shot names in the plural, percentages, sentences.

Players are named, or called "they"; a sentence never guesses a gender. Percentages are whole numbers
("31 %"), counts carry thousands separators ("n = 1,240").
"""

from __future__ import annotations


def no_rally_shots(sport, section: bool = False) -> str:
    """Why a part needs the shots after the serve, in the sport's words; ``section``: the whole section is
    left empty for it."""
    return (f"the data record serves only, not the shots after them (fewer than half the {rally_words(sport)[1]} "
            "have their ending recorded)" + (", so this section cannot be filled" if section else ""))


NO_POSITIONS = "the data hold no positions in metres (no landing points or player positions), so no court map"

_ERROR_PHRASES = {
    "net": "into the net", "out": "out", "not over net": "that does not cross the net", "foul": "by a fault",
    "wide": "wide", "deep": "long", "wide and deep": "wide and long", "foot fault": "by a foot fault",
    "shank": "off the frame", "unknown": "of an unrecorded kind", "time violation": "by a time violation",
}
_ENDINGS = {
    "their error": ("loses", "by their own error"),
    "rival's winner": ("loses", "to the rival's winner"),
    "their winner": ("wins", "with their own winner"),
    "rival's error": ("wins", "on the rival's error"),
}


#: What a sentence calls a rally, by sport: (one, several).
RALLY_WORDS = {"badminton": ("rally", "rallies"), "tennis": ("point", "points")}


def rally_words(sport) -> tuple[str, str]:
    """``("rally", "rallies")``, or ``("point", "points")`` in tennis. ``sport``: a name, or a
    :class:`~strategist.sports.Sport` (a user's own vocabulary speaks as the sport it extends)."""
    if not isinstance(sport, str):
        sport = getattr(sport, "family", "")
    return RALLY_WORDS.get(sport, RALLY_WORDS["badminton"])


def percent(value) -> str:
    """``0.314`` -> ``"31 %"`` (``"–"`` when unknown)."""
    return "–" if value is None else f"{100 * value:.0f} %"


def pval(p) -> str:
    """A p-value as read: ``0.208``, ``< 0.001``; ``–`` when there is none."""
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_is(p) -> str:
    """``p = 0.208`` or ``p < 0.001``."""
    text = pval(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def counted(n: int, word: str, words: str | None = None) -> str:
    """``1 match``, ``2 matches``, ``1,204 points``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def year_span(years) -> str:
    """The years a player's matches come from: ``2011``, ``2018–2019``, or ``""`` for none."""
    years = list(years or [])
    if not years:
        return ""
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


def plural(noun: str) -> str:
    """English plural of a shot name: ``smash`` -> ``smashes``, ``net shot`` -> ``net shots``."""
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    if noun.endswith("y") and not noun.endswith(("ay", "ey", "oy", "uy")):
        return noun[:-1] + "ies"
    return noun + "s"


def article(noun: str) -> str:
    """``a smash``, ``an overhead``."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def situation_phrase(kind: str, key: str) -> str:
    """The opponent's strokes of a situation, in the plural: ``backhands from the rear left``."""
    if kind == "shot":
        return plural(key)
    if kind == "wing":
        return plural(key)
    if kind == "zone":
        return f"shots from the {key}"
    if kind == "wing_zone":
        wing, zone = key.split("|", 1)
        return f"{plural(wing)} from the {zone}"
    if kind == "incoming":
        return f"replies to {article(key)}"
    raise ValueError(f"unknown situation kind {kind!r}")


def ending_phrase(kind: str, key: str) -> tuple[str, str]:
    """(verb, how) of a rally-ending row: ``("loses", "by an error into the net")``."""
    if kind == "ending":
        return _ENDINGS[key]
    if kind == "error_kind":
        return "loses", f"by an error {_ERROR_PHRASES.get(key, key)}"
    if kind == "error_zone":
        return "loses", f"by an error from the {key}"
    raise ValueError(f"unknown ending kind {kind!r}")


def situation_sentence(name: str, row: dict, sport: str = "badminton") -> str:
    """One comparison row of :mod:`strategist.scout.weaknesses` as a sentence."""
    one, many = rally_words(sport)
    mine, others = row["opponent"], row["others"]
    unit = many if row["unit"] == "rallies" else row["unit"]
    tail = f"against {percent(others['rate'])} for the other players (n = {mine['n']:,} {unit})"
    if row["unit"] == "strokes":
        phrase = situation_phrase(row["kind"], row["key"])
        if row["outcome"] == "lost":
            return (f"{name} loses the {one} on {percent(mine['rate'])} of their {phrase} (their error or the "
                    f"reply's winner), {tail}.")
        return (f"{name} wins the {one} on {percent(mine['rate'])} of their {phrase} (a winner or the reply's "
                f"error), {tail}.")
    verb, how = ending_phrase(row["kind"], row["key"])
    return f"{name} {verb} {percent(mine['rate'])} of their {many} {how}, {tail}."
