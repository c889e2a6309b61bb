"""The words a coach should never read on a page or in a report: nats, a heading 'assessed' with nothing under
it, raw area codes, 'his'/'her' for a player, 'return of unknown'. Shared by the page walk
(``tests/app/test_language.py``) and the report walk (``tests/report/test_report_language.py``)."""

from __future__ import annotations

import re

JARGON = {
    "nats": re.compile(r"\bnats?\b", re.I),
    "assessed with nothing under it": re.compile(r"(^|—\s*)assessed\W*$", re.I),
    "raw area code": re.compile(r"\barea \d+\b", re.I),
    "his/her for a player": re.compile(r"\b(his|her|him|hers|himself|herself)\b", re.I),
    "return of unknown": re.compile(r"return of unknown", re.I),
}


def jargon_lines(texts, patterns: dict = JARGON) -> list[str]:
    """Each text (a visible line or element) that matches a pattern, named: empty when all read plainly."""
    return [f"{name}: {text[:160]!r}" for text in texts for name, pattern in patterns.items()
            if pattern.search(text)]


#: In tennis a point is not called a rally; "rally game" (the model), "rally length", the rally phase ("ended in the
#: rally") and the data's own shot descriptions ("rally shot: ...") are tennis words too.
TENNIS_RALLY_WORDS = re.compile(r"rally game|rally length|rally's length|ended in the rally|strategist\.rally|rally shot:|"
                                r"^live rally$", re.I)


def rally_talk(texts) -> list[str]:
    """The texts that call a tennis point a rally."""
    return [t for t in texts if re.search(r"\brall(y|ies)\b", TENNIS_RALLY_WORDS.sub("", str(t)), re.I)]
