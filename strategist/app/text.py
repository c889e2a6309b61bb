"""Text the pages show: names escaped for Markdown and HTML, and numbers said the way a coach reads them.

Streamlit renders Markdown in ``st.markdown``, captions, alerts, metric and button labels, so a player named
``[x](http://...)`` or ``![](http://...)`` would become a link or load an outside image: :func:`md` escapes
every ASCII punctuation character with a backslash (CommonMark's escape), turns ``<``, ``>`` and ``&`` into
entities, and breaks bare links with an invisible word joiner.
"""

from __future__ import annotations

import math
import string

from strategist.advice.bases import KEPT_HABIT, KEPT_RECOMMENDATION

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
    """``1 match``, ``2 matches`` (:func:`strategist.scout.text.counted`)."""
    from strategist.scout.text import counted

    return counted(n, word, words)


def to_play(where: str) -> str:
    """What a player is about to do in a situation said in words (:func:`situation`): ``to serve (ad, 1st
    serve)``, ``to play after a lob taken high at the back``."""
    if where.startswith("serve"):
        return f"to {where}"
    return f"to play {where}" if where.startswith("after") else where


def situation(label, capital: bool = False) -> str:
    """A situation of the rally game as a coach reads it (:func:`strategist.data.states.describe_situation`),
    with a capital letter when it starts a sentence."""
    from strategist.data.states import describe_situation

    text = describe_situation(label)
    return text[:1].upper() + text[1:] if capital else text


#: Why a best response or a safe exploitation plays what the recommendation plays, by its basis.
SAME_WORDS = {
    KEPT_HABIT: "against the prediction, no advised shot gains enough for the data to support a change",
    KEPT_RECOMMENDATION: "no exploitation within the margin that the data support",
}
#: What each recommendation's basis (:data:`strategist.advice.bases.BASES`) means, as the live page says it.
BASIS_WORDS = {
    "pessimistic equilibrium": "the mix that wins most at the lower bound of every shot's estimate",
    "habit": "the player's habit: the data do not support a change",
    "averaged": "averaged over where the last shot is usually taken",
    "best response": "the advised shot that wins most at the lower bound against the prediction",
    "safe exploitation": "departs from the recommendation only as far as the margin allows",
    KEPT_HABIT: f"the player's habit: {SAME_WORDS[KEPT_HABIT]}",
    KEPT_RECOMMENDATION: f"the recommendation: {SAME_WORDS[KEPT_RECOMMENDATION]}",
}


def basis_words(basis: str) -> str:
    """A recommendation's basis in words (:data:`BASIS_WORDS`); a basis without words is shown as it is."""
    return BASIS_WORDS.get(basis, basis)


def same_as_recommended(basis: str, margin: float | None = None) -> str:
    """What a card says when its mix is the recommendation's: the same, and why (:data:`SAME_WORDS`; a safe
    exploitation at ``margin`` 0 may give up nothing; a mix chosen on its own merits is also the best at the
    lower bound)."""
    if basis == "safe exploitation" and margin == 0:
        return "the same as recommended: a margin of 0 points allows no exploitation"
    why = SAME_WORDS.get(basis, "no shot beats it at the lower bound here")
    return f"the same as recommended: {why}"
