"""Text the pages show: names escaped for Markdown and HTML, and numbers said the way a coach reads them.

Streamlit renders Markdown in ``st.markdown``, captions, alerts, metric and button labels, so a player named
``[x](http://...)`` or ``![](http://...)`` would become a link or load an outside image: :func:`md` escapes
every ASCII punctuation character with a backslash (CommonMark's escape), turns ``<``, ``>`` and ``&`` into
entities, and breaks bare links with an invisible word joiner.
"""

from __future__ import annotations

import math
import re
import string

_ESCAPED = {c: "\\" + c for c in string.punctuation if c not in "<>&"}
_ESCAPED.update({"<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "})
_TABLE = str.maketrans(_ESCAPED)
_JOINER = "\u2060"   # a word joiner: invisible, but it breaks the renderer's bare-link detection
_BARE_LINKS = (("://", ":" + _JOINER + "//"), ("www.", "www" + _JOINER + "."), ("@", _JOINER + "@"))


def md(text) -> str:
    """``text`` as literal text inside Markdown (no link, image, emphasis, HTML or heading can come of it).

    Escapes alone do not stop GitHub-style bare links (``http://...``, ``www....``, ``a@b.c``), which the
    renderer finds in the text after escapes are read: an invisible word joiner breaks each of them."""
    text = str(text)
    for bare, broken in _BARE_LINKS:
        text = text.replace(bare, broken)
    return text.translate(_TABLE)


def pct(p, digits: int = 0) -> str:
    """A probability as a percentage: ``0.523`` -> ``52 %``; nothing known -> ``–``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"{100 * float(p):.{digits}f} %"


def points(p, digits: int = 1, sign: bool = False) -> str:
    """A difference of probabilities in percentage points: ``0.043`` -> ``4.3 points``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    value = 100 * float(p)
    return (f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}") + " points"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 match``, ``2 matches``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


#: What a situation's label leaves unrecorded, said so.
_NOT_RECORDED = ((re.compile(r"\breturn of unknown direction\b"), "return of a serve whose direction was not "
                                                                   "recorded"),
                 (re.compile(r"\bunknown direction\b"), "a direction not recorded"),
                 (re.compile(r"\b(?:a|an) unknown\b"), "a shot not recorded"),
                 (re.compile(r"\b(return of|after) unknown\b"), r"\1 a shot not recorded"))
#: Situations named by the incoming shot's tactical group (tennis rallies).
_GROUPS = {"attack": "an attacking shot", "neutral": "a neutral shot", "defence": "a defensive shot"}
#: A situation without its height and zone (the Advisor's label when it averages over them).
_BARE = re.compile(r"(rally after|return of) (?!unknown direction)([a-z][a-z -]*)")


def situation(label, capital: bool = False) -> str:
    """A situation of the rally game (``player: rally after net shot (low, front)``, with or without who hits) as
    a coach reads it (:func:`strategist.data.states.describe_situation`: ``after a net shot taken low at the
    front``); an incoming shot the data did not record is called so, never "unknown"."""
    from strategist.data.states import describe_situation

    label = str(label).split(": ", 1)[-1]
    text = describe_situation(label)
    bare = _BARE.fullmatch(label)                                 # a situation without height and zone
    if bare:
        kind, shot = bare.groups()
        shot = _GROUPS.get(shot) or f"{'an' if shot[:1] in 'aeiou' else 'a'} {shot}"
        text = f"{'after' if kind == 'rally after' else 'returning'} {shot}"
    for pattern, words in _NOT_RECORDED:
        text = pattern.sub(words, text)
    return text[:1].upper() + text[1:] if capital else text
