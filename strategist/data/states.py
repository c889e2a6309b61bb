"""Decision states: the moment of a rally a stroke is chosen in, so that a matrix only holds real options.

A stroke's state is its **phase** and what it **faces**:

* ``serve``: the rally's first stroke (tennis: either serve of the point). Serve states are told apart by
  the sport's serve keys (tennis: court side and first or second serve; badminton: none).
* ``return``: the receiver's first stroke. It faces the serve's type (badminton: short or long service)
  or the serve's direction (tennis: wide, body, T).
* ``rally``: every later stroke. It faces the incoming shot's group (default ``tactic``: attack, neutral,
  defence) or the incoming shot itself, and optionally the zone it landed in (front, middle, back) and how
  high it was taken (``landing_height`` of the incoming stroke: high / low, above or below net height).

A **situation** is the finest of these: the incoming shot itself, how high and where it was taken
(``situation=True``, the sport's :attr:`~strategist.sports.definition.DecisionRule.situation`). It is what
the hitter physically faces, so that a shot only playable on a loose net shot (a rush) or a high lift (a
smash) is only a candidate where it can be played; the rally game's decision states are situations.

Serves never share a state with rally shots, and a tennis second serve is its own state, struck by the
same player after a fault — the **reply** to a stroke is the *opponent's* next stroke, never the
hitter's own second serve. The rules are configuration of each sport (:class:`~strategist.sports.
definition.DecisionRule`).
"""

from __future__ import annotations

from dataclasses import dataclass

import re

import numpy as np
import pandas as pd

from strategist.errors import ConfigurationError, DataFormatError
from strategist.sports import Sport, get_sport
from strategist.sports.definition import PHASES

#: Columns :func:`annotate_states` adds to a canonical table.
STATE_COLUMNS = ("phase", "incoming", "incoming_shot", "incoming_group", "incoming_zone", "incoming_height",
                 "serve_attempt", "reply_shot", "reply_area", "state")
#: Heights of the incoming shot at contact (canonical ``landing_height``), as they appear in a label.
HEIGHTS = ("high", "low")
UNKNOWN_HEIGHT, UNKNOWN_ZONE = "unknown height", "unknown zone"
#: A return whose serve's direction is not recorded (where the server's action is the direction).
UNKNOWN_DIRECTION = "unknown direction"
ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}


@dataclass(frozen=True)
class StateKey:
    """One decision state: phase, what the stroke faces, and (optionally) where and how high the incoming
    shot was taken."""

    phase: str
    incoming: str = ""
    zone: str = ""
    height: str = ""

    @property
    def label(self) -> str:
        return state_label(self.phase, self.incoming, self.zone, self.height)


def state_label(phase: str, incoming: str, zone: str = "", height: str = "") -> str:
    """Readable name of a state: ``serve``, ``serve (deuce, 2nd)``, ``return of short service``,
    ``rally after attack``, ``rally after smash to back``; with a height, a situation:
    ``rally after net shot (low, front)``, ``return of short service (unknown height, front)``."""
    if phase == "serve":
        text = "serve" + (f" ({incoming})" if incoming else "")
    elif phase == "return":
        text = "return" + (f" of {incoming}" if incoming else "")
    else:
        text = "rally" + (f" after {incoming}" if incoming else "")
    if height:
        return text + f" ({height}, {zone or UNKNOWN_ZONE})"
    return text + (f" to {zone}" if zone else "")


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


def describe_situation(label: str) -> str:
    """A state label as a coach reads it, with or without who hits (``player: ``): ``rally after net shot (low,
    front)`` -> ``after a net shot taken low at the front``; ``return of wide serve`` -> ``returning a wide
    serve``; ``rally after attack`` -> ``after an attacking shot``; an incoming shot, height or serve direction
    the data did not record is called so, never "unknown"; other labels read as they are."""
    label = str(label).split(": ", 1)[-1]
    text = _label_words(label)
    bare = _BARE.fullmatch(label)                                 # a situation without height and zone
    if bare:
        kind, shot = bare.groups()
        shot = _GROUPS.get(shot) or f"{'an' if shot[:1] in 'aeiou' else 'a'} {shot}"
        text = f"{'after' if kind == 'rally after' else 'returning'} {shot}"
    for pattern, words in _NOT_RECORDED:
        text = pattern.sub(words, text)
    return text


def _label_words(label: str) -> str:
    """The label's phase, incoming shot, height and zone in words (see :func:`describe_situation`)."""
    m = re.fullmatch(r"(rally after|return of) (.+) \((high|low|unknown height), (front|middle|back|other|"
                     r"unknown zone)\)", label)
    if not m:
        bare = re.fullmatch(r"(rally after|return of) (.+)", label)
        if not bare or bare.group(2).startswith("unknown") and bare.group(2) != UNKNOWN_DIRECTION:
            return label
        kind, shot = bare.groups()
        if shot == UNKNOWN_DIRECTION:
            return "returning a serve whose direction was not recorded"
        article = "an" if shot[:1] in "aeiou" else "a"
        return f"after {article} {shot}" if kind == "rally after" else f"returning {article} {shot}"
    kind, shot, height, zone = m.groups()
    article = "an" if shot[:1] in "aeiou" else "a"
    lead = f"after {article} {shot}" if kind == "rally after" else f"returning {article} {shot}"
    how = "" if height == UNKNOWN_HEIGHT else f" taken {height}"
    where = {"front": " at the front", "middle": " in the middle", "back": " at the back"}.get(zone, "")
    return lead + how + where


def _sport_of(table: pd.DataFrame, sport) -> Sport:
    if sport is not None:
        return get_sport(sport)
    sports = table["sport"].dropna().unique() if "sport" in table else []
    if len(sports) != 1:
        raise DataFormatError(f"cannot tell the sport of the table (sports {sorted(map(str, sports))}); pass sport=",
                              field="sport")
    return get_sport(str(sports[0]))


def _next_by_other(values: np.ndarray, rally: np.ndarray, hitter: np.ndarray, horizon: int) -> np.ndarray:
    """Each stroke's ``values`` at the next stroke of the same rally hit by the *other* player (None if none),
    strokes sorted by rally and stroke; ``rally``, ``hitter``: their codes (:func:`_codes`)."""
    n = len(values)
    out = np.full(n, None, dtype=object)
    found = np.zeros(n, dtype=bool)
    for k in range(1, min(horizon, n - 1) + 1):
        later = slice(k, None)
        take = (rally[later] == rally[:-k]) & (rally[:-k] >= 0) & (hitter[later] != hitter[:-k]) \
            & (hitter[later] >= 0) & (hitter[:-k] >= 0) & ~found[:-k]
        out[:-k][take] = values[later][take]
        found[:-k] |= take
    return out


def _texts(series: pd.Series) -> np.ndarray:
    """``series`` as text (as ``astype("string")`` writes it) in an object array, None where missing."""
    return series.astype("string").to_numpy(dtype=object, na_value=None)


def _per_value(values: np.ndarray, function, dtype=object) -> np.ndarray:
    """``function`` of each of ``values`` (None where missing), called once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [function(u) for u in np.asarray(uniques, dtype=object).tolist()] + [function(None)]
    return np.array(results, dtype=dtype)[codes]         # code -1 (missing) takes the last


def _member(values: np.ndarray, allowed) -> np.ndarray:
    """Whether each of ``values`` (text or None) is one of ``allowed``."""
    allowed = frozenset(allowed)
    return _per_value(values, allowed.__contains__, dtype=bool)


def _codes(series: pd.Series) -> np.ndarray:
    """Integer codes of ``series``' values (equal values, equal codes), -1 where missing."""
    return pd.factorize(series, use_na_sentinel=True)[0]


def _previous(values: np.ndarray, same_prev: np.ndarray) -> np.ndarray:
    """Each stroke's previous stroke's value in the same rally (None for a rally's first stroke)."""
    out = np.full(len(values), None, dtype=object)
    out[1:] = values[:-1]
    out[~same_prev] = None
    return out


def _string_series(values: np.ndarray, index) -> pd.Series:
    """An object array of text (None: missing) as a ``string`` Series, built from its distinct values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return pd.Series(pd.array(np.asarray(uniques, dtype=object), dtype="string").take(codes, allow_fill=True),
                     index=index)


def check_rally_rule(rally_rule: str, sport) -> None:
    """Raise :class:`ConfigurationError` unless ``rally_rule`` is ``"shot"`` or ``"group:<grouping>"`` of
    ``sport`` (a setting, not a field of the data)."""
    base, _, grouping = str(rally_rule).partition(":")
    if base not in ("shot", "group") or (base == "group" and grouping not in sport.groupings):
        raise ConfigurationError(f"rally states by {rally_rule!r}: expected 'shot' or 'group:<grouping>' with a "
                                 f"grouping of {sorted(sport.groupings)}")


def annotate_states(table: pd.DataFrame, sport=None, *, rally: str | None = None, zones: bool = False,
                    heights: bool = False, situation: bool = False) -> pd.DataFrame:
    """The canonical ``table`` sorted by rally and stroke, with the decision state of every stroke.

    Added columns: ``phase``; ``incoming`` (what the stroke faces at the state's level: serve keys, the
    serve's type or direction, the incoming shot's group or shot); ``incoming_shot`` (the previous
    stroke's shot) and ``incoming_group`` (its tactical group); ``incoming_zone`` (where that shot landed,
    when ``zones``) and ``incoming_height`` (how high it was taken, when ``heights``); ``serve_attempt``
    (1, 2 for serves, NA otherwise); ``reply_shot`` and ``reply_area`` (the opponent's next stroke); ``state``
    (the label). ``rally`` overrides the sport's rally rule (``"shot"`` or ``"group:<grouping>"``).
    ``situation=True``: the situation the hitter faces (:func:`situation_rule`: the incoming shot, and its
    zone and height wherever the table records them), whatever ``rally``, ``zones`` and ``heights`` say.
    """
    sport = _sport_of(table, sport)
    rule = sport.decisions
    if situation:
        rally, zones, heights = situation_rule(table, sport)
    rally_rule = rally or rule.rally
    check_rally_rule(rally_rule, sport)
    base, _, grouping = rally_rule.partition(":")
    frame = table.sort_values(["rally_id", "stroke"], kind="stable").reset_index(drop=True)
    rally, hitter = _codes(frame["rally_id"]), _codes(frame["hitter"])
    same_prev = _same_rally_as_previous(rally)
    shot, area = _texts(frame["shot"]), _texts(frame["landing_area"])
    # the rally's first stroke is its serve whatever the source calls the shot (e.g. an unrecorded type)
    is_serve = _member(shot, sport.serves) | ~same_prev
    prev_shot = _previous(shot, same_prev)
    prev_serve = np.r_[False, is_serve[:-1]] & same_prev
    prev_other = np.r_[True, (hitter[1:] != hitter[:-1]) | (hitter[1:] < 0) | (hitter[:-1] < 0)][:len(hitter)]

    phase = np.where(is_serve, "serve", np.where(prev_serve & prev_other, "return", "rally")).astype(object)
    # a serve hit after the same player's serve (a second serve) is a serve; the first stroke of the
    # other player after a serve is the return
    attempt = _serve_attempts(rally, is_serve, same_prev)
    prev_area = _previous(area, same_prev)
    incoming = _incoming(frame, sport, phase, attempt, prev_shot, prev_area, base, grouping)
    zone = _zones(prev_area, rule, is_serve) if zones else _no_zones(frame)
    height = _heights(frame, same_prev, is_serve) if heights else _no_zones(frame)

    out = frame.copy()
    index = frame.index
    out["phase"] = _string_series(phase, index)
    out["incoming"] = _string_series(incoming, index)
    out["incoming_shot"] = _string_series(prev_shot, index)
    groups = sport.groupings.get("tactic")
    out["incoming_group"] = _string_series(prev_shot if groups is None else _mapped(prev_shot, groups), index)
    out["incoming_zone"] = _string_series(zone, index)
    out["incoming_height"] = _string_series(height, index)
    out["serve_attempt"] = pd.Series(pd.array(attempt, dtype="Int64"), index=index).where(is_serve & (attempt > 0))
    horizon = sport.serves_per_point + 1
    out["reply_shot"] = _string_series(_next_by_other(shot, rally, hitter, horizon), index)
    out["reply_area"] = _string_series(_next_by_other(area, rally, hitter, horizon), index)
    out["state"] = _labels(phase, incoming, zone, height, index)
    return out


def situation_rule(table: pd.DataFrame, sport) -> tuple[str, bool, bool]:
    """(rally rule, zones, heights) of the situation in ``table``: the sport's
    :attr:`~strategist.sports.definition.DecisionRule.situation`, with zones and heights only where the
    table records them for at least half of its strokes (a table without heights gets no height part)."""
    sport = get_sport(sport)
    rally, zones, heights = sport.decisions.situation

    def recorded(column):
        return column in table.columns and len(table) > 0 and float(table[column].notna().mean()) >= 0.5

    zones = bool(zones) and bool(sport.decisions.zones) and recorded("landing_area")
    heights = bool(heights) and recorded("landing_height")
    return rally, zones, heights


def _serve_attempts(rally: np.ndarray, is_serve: np.ndarray, same_prev: np.ndarray) -> np.ndarray:
    """The number of serves in the rally so far, this stroke included (0 where the rally is not recorded)."""
    count = np.cumsum(is_serve)
    start = np.flatnonzero(~same_prev)
    before = (count - is_serve)[start]                          # serves before each rally's first stroke
    attempts = count - np.repeat(before, np.diff(np.r_[start, len(count)])) if len(start) else count
    return np.where(rally >= 0, attempts, 0)


def _mapped(values: np.ndarray, table) -> np.ndarray:
    """``values`` through the mapping ``table`` (None where missing or not in it)."""
    table = dict(table)
    return _per_value(values, lambda v: None if v is None else table.get(v))


def _incoming(frame, sport, phase, attempt, prev_shot, prev_area, base, grouping) -> np.ndarray:
    """What each stroke faces at the state's level (serve keys, the serve, the incoming shot or group)."""
    rule = sport.decisions
    incoming = np.full(len(frame), "", dtype=object)
    serve_rows = phase == "serve"
    if rule.serve and serve_rows.any():
        parts = []
        if "court_side" in rule.serve:
            side = _texts(frame["court_side"])
            parts.append(np.where(pd.isna(side), "side unknown", side))
        if "serve" in rule.serve:
            parts.append(_per_value(attempt, lambda a: "serve" if a is None or a <= 0 else
                                    f"{ORDINAL.get(int(a), a)} serve"))
        joined = parts[0]
        for extra in parts[1:]:
            joined = joined + ", " + extra
        incoming[serve_rows] = joined[serve_rows]
    ret = phase == "return"
    if ret.any():
        if rule.return_of == "area":
            faced = _per_value(prev_area, lambda a: UNKNOWN_DIRECTION if a is None else (f"{a} serve" if a else a))
        else:
            faced = np.where(pd.isna(prev_shot), "unknown serve", prev_shot)
        incoming[ret] = faced[ret]
    rall = phase == "rally"
    if rall.any():
        faced = prev_shot if base == "shot" else _mapped(prev_shot, sport.groupings[grouping])
        incoming[rall] = np.where(pd.isna(faced), "unknown", faced)[rall]
    return incoming


def _same_rally_as_previous(rally: np.ndarray) -> np.ndarray:
    """Whether each stroke's rally (codes, -1 missing) is the previous stroke's."""
    return np.r_[False, (rally[1:] == rally[:-1]) & (rally[1:] >= 0)][:len(rally)]


def _no_zones(frame: pd.DataFrame) -> np.ndarray:
    return np.full(len(frame), "", dtype=object)


def _zones(landed: np.ndarray, rule, serve_rows: np.ndarray) -> np.ndarray:
    """The zone the incoming shot landed in (the sport's zones of its areas; ``other`` for an area outside
    them, e.g. out of court; ``unknown zone`` where not recorded), empty for serves."""
    zones = dict(rule.zones)
    zone = _per_value(landed, lambda a: UNKNOWN_ZONE if a is None else zones.get(a, "other"))
    zone[serve_rows] = ""
    return zone


def _heights(frame: pd.DataFrame, same_prev: np.ndarray, serve_rows: np.ndarray) -> np.ndarray:
    """How high the incoming shot was taken (its ``landing_height``: high, low; ``unknown height``), empty for
    serves."""
    taken = _previous(_texts(frame["landing_height"]), same_prev)
    height = np.where(_member(taken, HEIGHTS), taken, UNKNOWN_HEIGHT).astype(object)
    height[serve_rows] = ""
    return height


def _labels(phase, incoming, zone, height, index) -> pd.Series:
    """The state label of every stroke (:func:`state_label`, computed once per distinct state)."""
    keys = [pd.factorize(np.asarray(part, dtype=object)) for part in (phase, incoming, zone, height)]
    combined = np.zeros(len(index), dtype=np.int64)
    for codes, uniques in keys:
        combined = combined * (len(uniques) + 1) + codes
    first, inverse = np.unique(combined, return_index=True, return_inverse=True)[1:]
    labels = [state_label(*(str(uniques[codes[k]]) for codes, uniques in keys)) for k in first.tolist()]
    return pd.Series(pd.array(labels, dtype="string").take(inverse.ravel()), index=index)


def state_before(sport, shots, hitters, next_hitter, *, areas=(), court_side=None, heights=(),
                 rally: str | None = None, zones: bool = False, with_heights: bool = False) -> str:
    """The decision state of the stroke ``next_hitter`` plays after ``shots`` (hit by ``hitters``), as known
    before it is played.

    The rule of :func:`annotate_states`, except that the phase comes from the rally so far (the next
    stroke's own shot is unknown): no stroke yet -> ``serve``; only serves so far, and the same player to
    hit again (a fault) -> the next ``serve``; only serves, the other player to hit -> ``return``;
    otherwise ``rally`` facing the incoming shot's group (or shot). ``areas`` and ``heights``: where the
    strokes landed and how high (None where unknown); ``rally``, ``zones``, ``with_heights``: the rule, as in
    :func:`annotate_states` (``zones``/``with_heights`` add where and how high the last stroke was taken).
    """
    sport = get_sport(sport)
    rule = sport.decisions
    shots = list(shots)
    n_serves = 0
    for shot in shots:
        if shot not in sport.serves:
            break
        n_serves += 1
    last = shots[-1] if shots else None
    if last is None or (n_serves == len(shots) and next_hitter is not None and next_hitter == list(hitters)[-1]):
        parts = []
        if "court_side" in rule.serve:
            parts.append(court_side or "side unknown")
        if "serve" in rule.serve:
            parts.append(f"{ORDINAL.get(n_serves + 1, n_serves + 1)} serve")
        return state_label("serve", ", ".join(parts))
    areas, heights = list(areas), list(heights)
    zone = height = ""
    if zones:
        area = areas[-1] if len(areas) == len(shots) else None
        zone = (UNKNOWN_ZONE if area is None or (isinstance(area, float) and np.isnan(area))
                else dict(rule.zones).get(str(area), "other"))
    if with_heights:
        taken = heights[-1] if len(heights) == len(shots) else None
        height = taken if taken in HEIGHTS else UNKNOWN_HEIGHT
    if n_serves == len(shots):
        if rule.return_of == "area":
            area = areas[-1] if areas else None
            return state_label("return", f"{area} serve" if area else UNKNOWN_DIRECTION, zone, height)
        return state_label("return", last, zone, height)
    base, _, grouping = (rally or rule.rally).partition(":")
    incoming = last if base == "shot" else sport.groupings[grouping].get(last)
    return state_label("rally", incoming or "unknown", zone, height)


def state_counts(annotated: pd.DataFrame, *, by=("state",)) -> pd.DataFrame:
    """Strokes per state (and per ``by`` columns), most frequent first, with the phase."""
    by = list(by)
    counts = annotated.groupby(by + ["phase"], sort=False, observed=True).size().rename("strokes").reset_index()
    order = {p: k for k, p in enumerate(PHASES)}
    return (counts.assign(_p=counts["phase"].map(order)).sort_values(["_p", "strokes"], ascending=[True, False])
            .drop(columns="_p").reset_index(drop=True))
