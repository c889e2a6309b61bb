"""Decision points of rallies and the win counts of a (hitter's choice × receiver's choice) matrix.

A decision point is one stroke ``t`` of a rally with a known winner, in its decision state
(:mod:`strategist.data.states`: serve, return or rally, and what it faces). The hitter's choice is the
stroke's shot, its group under one of the sport's groupings, or its landing area. The receiver's choice
is their court position when the shot is struck (``opponent_area``), their reply (the shot or group of the
*opponent's* next stroke — never the hitter's own second serve; strokes that end the rally have no reply
and are left out), or ``none`` (one column: the receiver's answer is not recorded, as in the tennis serve
game). The outcome is whether the hitter won the rally. A context keeps the decision points of a phase,
after a given shot or group, at given stroke numbers, courts sides or serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from strategist.errors import ConfigurationError, EstimationError
from strategist.data.states import annotate_states
from strategist.sports import Sport, get_sport
from strategist.sports.definition import PHASES

ROW_KINDS = ("shot", "group", "area")
COLUMN_KINDS = ("position", "reply", "none")
#: The single column of a ``columns="none"`` matrix.
ANY_REPLY = "any reply"
DEFAULT_GROUPING = "tactic"


@dataclass(frozen=True)
class Context:
    """Which decision points count: in ``phase``; after shot (or group) ``previous``; at strokes
    ``first``..``last``; served from court ``side``; on ``serve`` 1 or 2."""

    previous: str | None = None
    first: int | None = None
    last: int | None = None
    phase: str | None = None
    side: str | None = None
    serve: int | None = None

    def describe(self) -> str:
        parts = []
        if self.phase is not None:
            parts.append(f"phase {self.phase}")
        if self.side is not None:
            parts.append(f"{self.side} court")
        if self.serve is not None:
            parts.append(f"serve {self.serve}")
        if self.previous is not None:
            parts.append(f"after {self.previous}")
        if self.first is not None or self.last is not None:
            if self.first == self.last:
                parts.append(f"stroke {self.first}")
            elif self.last is None:
                parts.append(f"stroke >= {self.first}")
            else:
                parts.append(f"strokes {self.first or 1}-{self.last}")
        return ", ".join(parts) if parts else "all strokes"


CONTEXT_KEYS = ("phase", "previous", "stroke", "side", "serve")
_STROKES = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d+)?|(\+))?\s*$")


def parse_context(spec=None) -> Context:
    """Read a context: a :class:`Context`, a mapping, or text like ``"previous=smash, stroke=3-6"``.

    Keys: ``previous`` (a shot or group label of the stroke before), ``stroke`` (``4``, ``2-5``, ``3+``),
    ``phase`` (serve, return, rally), ``side`` (the court side served from), ``serve`` (1 or 2).
    """
    if spec is None or isinstance(spec, Context):
        return spec or Context()
    if isinstance(spec, str):
        items = {}
        for part in filter(None, (p.strip() for p in re.split(r"[;,]", spec))):
            if "=" not in part:
                raise EstimationError(f"context item {part!r} is not key=value (keys: {', '.join(CONTEXT_KEYS)})")
            key, value = (s.strip() for s in part.split("=", 1))
            items[key] = value
        spec = items
    if not isinstance(spec, dict):
        raise EstimationError(f"context {spec!r} is not understood; expected e.g. 'previous=smash,stroke=2-5'")
    unknown = sorted(set(spec) - set(CONTEXT_KEYS))
    if unknown:
        raise EstimationError(f"unknown context keys {unknown}; expected {', '.join(CONTEXT_KEYS)}")
    phase = spec.get("phase")
    if phase is not None:
        phase = str(phase).strip().lower()
        if phase not in PHASES:
            raise EstimationError(f"context phase {spec['phase']!r} is not one of {PHASES}")
    serve = spec.get("serve")
    if serve is not None:
        try:
            serve = int(str(serve).strip())
        except ValueError:
            raise EstimationError(f"context serve {spec['serve']!r} is not a serve number (1 or 2)") from None
        if serve < 1:
            raise EstimationError(f"context serve {spec['serve']!r} is not a serve number (1 or 2)")
    side = spec.get("side")
    side = None if side in (None, "") else str(side).strip().lower()
    first = last = None
    if spec.get("stroke") is not None:
        stroke = spec["stroke"]
        if isinstance(stroke, (int, np.integer)) and not isinstance(stroke, bool):
            first = last = int(stroke)
        elif isinstance(stroke, (tuple, list)) and len(stroke) == 2:
            first, last = int(stroke[0]), (None if stroke[1] is None else int(stroke[1]))
        else:
            match = _STROKES.match(str(stroke))
            if not match:
                raise EstimationError(f"context stroke {stroke!r} is not understood; expected 4, 2-5 or 3+")
            first = int(match.group(1))
            if match.group(4) or (match.group(2) and match.group(3) is None):
                last = None
            else:
                last = int(match.group(3)) if match.group(3) else first
        if first < 1 or (last is not None and last < first):
            raise EstimationError(f"context stroke range {stroke!r} is empty; strokes count from 1")
    previous = spec.get("previous")
    return Context(previous=None if previous in (None, "") else str(previous).strip(), first=first, last=last,
                   phase=phase, side=side, serve=serve)


def split_kind(kind: str, allowed: tuple[str, ...], what: str) -> tuple[str, str | None]:
    """``"group:track2"`` -> ``("group", "track2")``; checks the kind."""
    base, _, detail = str(kind).partition(":")
    base = base.strip().lower()
    if base not in allowed:
        raise EstimationError(f"{what} {kind!r} is not one of {allowed} (a grouping may follow, e.g. 'group:tactic')")
    return base, (detail.strip() or None)


@dataclass(frozen=True)
class DecisionPoints:
    """Decision points in a context: one row per stroke with ``row``/``column`` labels and ``won``."""

    frame: pd.DataFrame
    row_kind: str
    column_kind: str
    context: Context
    sport: Sport
    dropped: dict = field(default_factory=dict)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def selection(self, hitter=None, opponent=None) -> np.ndarray:
        """Mask of the points hit by ``hitter`` and received by ``opponent`` (None: anyone); kept per pair."""
        key = ("selection", hitter, opponent)
        if key not in self._memo:
            mask = np.ones(len(self.frame), dtype=bool)
            if hitter is not None:
                mask &= (self.frame["hitter"] == hitter).to_numpy(dtype=bool, na_value=False)
            if opponent is not None:
                mask &= (self.frame["opponent"] == opponent).to_numpy(dtype=bool, na_value=False)
            mask.flags.writeable = False
            self._memo[key] = mask
        return self._memo[key]

    def state_codes(self) -> tuple[np.ndarray, list[str]]:
        """(code of every point's state, -1 where missing; the state labels), computed once."""
        if "states" not in self._memo:
            codes, labels = pd.factorize(self.frame["state"].astype("string"))
            self._memo["states"] = (np.asarray(codes, dtype=np.int64), [str(x) for x in labels])
        return self._memo["states"]


def table_sport(table: pd.DataFrame, sport=None) -> Sport:
    """The sport of a canonical table (its single ``sport`` value), or the one given."""
    if sport is not None:
        try:
            return get_sport(sport)
        except ConfigurationError as exc:
            raise EstimationError(str(exc)) from None
    if "sport" not in table or table["sport"].isna().all():
        raise EstimationError("the table has no sport column; pass sport=")
    sports = table["sport"].dropna().unique()
    if len(sports) != 1:
        raise EstimationError(f"the table mixes sports {sorted(map(str, sports))}; estimate one sport at a time")
    return get_sport(str(sports[0]))


def _choice_labels(table: pd.DataFrame, kind: str, detail: str | None, sport: Sport, offset: int) -> pd.Series:
    """Labels of a choice at the stroke itself (``offset`` 0) or of the opponent's reply (``offset`` 1)."""
    shots = table["shot"] if offset == 0 else table["reply_shot"]
    shots = shots.astype("string")
    shots = shots.where((shots != "unknown").fillna(False).astype(bool))
    if kind == "none":
        return pd.Series(ANY_REPLY, index=table.index, dtype="string")
    if kind == "area":
        return table["landing_area"].astype("string")
    if kind == "position":
        return table["opponent_area"].astype("string")
    if kind == "shot" or (kind == "reply" and detail == "shot"):
        return shots.astype("string")
    try:
        return sport.group(shots.astype("string"), detail or DEFAULT_GROUPING)
    except ConfigurationError as exc:
        raise EstimationError(str(exc)) from None


def _needed(table: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise EstimationError(f"the rally table lacks columns {missing}; expected a canonical table "
                              "(strategist.data.schema)")


def decision_points(table: pd.DataFrame, *, rows: str = "shot", columns: str = "position", context=None,
                    sport=None) -> DecisionPoints:
    """Decision points of ``table`` (canonical rally table) in ``context``, with their decision states.

    ``rows``: ``"shot"``, ``"group"`` / ``"group:<grouping>"`` or ``"area"`` (landing area).
    ``columns``: ``"position"`` (receiver's area at the stroke), ``"reply"`` / ``"reply:<grouping>"`` /
    ``"reply:shot"`` (the opponent's next stroke) or ``"none"`` (one column). ``dropped`` counts the
    strokes left out, by reason. The frame has ``phase``, ``incoming``, ``incoming_shot`` and ``state``
    (:func:`strategist.data.states.annotate_states`); it may span several states — a payoff matrix takes
    one (:func:`strategist.estimation.payoff.estimate_payoff`).
    """
    row_kind, row_detail = split_kind(rows, ROW_KINDS, "rows")
    column_kind, column_detail = split_kind(columns, COLUMN_KINDS, "columns")
    ctx = parse_context(context)
    _needed(table, ["match_id", "rally_id", "stroke", "hitter", "opponent", "shot", "landing_area",
                    "opponent_area", "hitter_won"])
    sport = table_sport(table, sport)
    frame = annotate_states(table, sport)

    keep = np.ones(len(frame), dtype=bool)
    if ctx.first is not None:
        keep &= _holds(frame["stroke"] >= ctx.first)
    if ctx.last is not None:
        keep &= _holds(frame["stroke"] <= ctx.last)
    if ctx.phase is not None:
        keep &= _holds(frame["phase"] == ctx.phase)
    if ctx.side is not None:
        sides = {s.lower(): s for s in sport.court_sides}
        if ctx.side not in sides:
            raise EstimationError(f"context side {ctx.side!r} is not a {sport.name} court side; expected one of "
                                  f"{list(sport.court_sides)}")
        keep &= _holds(frame["court_side"] == sides[ctx.side])
    if ctx.serve is not None:
        if ctx.serve > sport.serves_per_point:
            raise EstimationError(f"context serve {ctx.serve}: {sport.name} has {sport.serves_per_point} "
                                  f"serve{'s' if sport.serves_per_point > 1 else ''} per point")
        keep &= _holds(frame["phase"] == "serve") & _holds(frame["serve_attempt"] == ctx.serve)
    if ctx.previous is not None:
        keep &= _holds(_matches_previous(frame["incoming_shot"], ctx.previous, sport))
    frame = frame[keep]
    if frame.empty:
        raise EstimationError(f"no strokes in context '{ctx.describe()}'")

    row = _choice_labels(frame, row_kind, row_detail, sport, 0)
    column = _choice_labels(frame, column_kind, column_detail, sport, 1)
    won = frame["hitter_won"].astype("boolean")
    dropped = {}
    no_column = {"reply": "no reply: the stroke ended the rally", "position": "receiver's position unknown",
                 "none": "receiver's position unknown"}[column_kind]
    reasons = [
        ("rally winner unknown", won.isna()),
        (f"hitter's {row_kind} unknown", row.isna()),
        (no_column, column.isna()),
    ]
    bad = pd.Series(False, index=frame.index)
    for reason, mask in reasons:
        mask = mask.fillna(True).astype(bool) & ~bad
        if mask.any():
            dropped[reason] = int(mask.sum())
        bad |= mask
    good = ~bad.to_numpy()
    out = pd.DataFrame({
        "match_id": frame["match_id"].astype("string").to_numpy()[good],
        "rally_id": frame["rally_id"].astype("string").to_numpy()[good],
        "stroke": frame["stroke"].to_numpy()[good],
        "hitter": frame["hitter"].astype("string").to_numpy()[good],
        "opponent": frame["opponent"].astype("string").to_numpy()[good],
        "phase": frame["phase"].astype("string").to_numpy()[good],
        "incoming": frame["incoming"].astype("string").to_numpy()[good],
        "incoming_shot": frame["incoming_shot"].astype("string").to_numpy()[good],
        "state": frame["state"].astype("string").to_numpy()[good],
        "row": row.to_numpy()[good],
        "column": column.to_numpy()[good],
        "won": won.to_numpy(dtype=bool, na_value=False)[good],
    })
    return DecisionPoints(out, row_kind, column_kind, ctx, sport, dropped)


def _holds(condition: pd.Series) -> np.ndarray:
    """Where a condition holds, as plain booleans (unknown: it does not). Conditions on nullable and Arrow-backed
    columns are combined only after this: their ``&`` refuses a missing value on one side."""
    return condition.fillna(False).to_numpy(dtype=bool)


def _matches_previous(previous: pd.Series, label: str, sport: Sport) -> pd.Series:
    """Strokes whose previous shot is ``label`` or falls in the group ``label`` (any of the sport's groupings)."""
    key = label.strip().lower()
    shots = {s.lower(): s for s in sport.shots}
    if key in shots:
        return previous == shots[key]
    for grouping in sorted(sport.groupings, key=lambda g: g != DEFAULT_GROUPING):
        groups = {g.lower(): g for g in sport.groups(grouping)}
        if key in groups:
            return sport.group(previous.astype("string"), grouping) == groups[key]
    raise EstimationError(f"context previous={label!r} is neither a {sport.name} shot nor a group; "
                          f"shots: {', '.join(sport.shots)}")


def _natural(label: str):
    return (0, int(label), "") if str(label).isdigit() else (1, 0, str(label))


def ordered_labels(values, kind: str, detail: str | None, sport: Sport) -> list[str]:
    """Labels present in ``values`` in the sport's order (vocabulary, groups or areas), others after."""
    present = set(pd.Series(values).dropna().astype(str).unique())
    if kind == "none":
        return [ANY_REPLY]
    if kind in ("area", "position"):
        order = list(sport.areas)
    elif kind == "shot" or detail == "shot":
        order = list(sport.shots)
    else:
        order = list(sport.groups(detail or DEFAULT_GROUPING))
    known = [x for x in order if x in present]
    return known + sorted(present - set(known), key=_natural)


def cell_counts(rows: np.ndarray, columns: np.ndarray, won: np.ndarray, shape: tuple[int, int],
                weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(wins, counts) matrices from integer row/column indices of decision points."""
    flat = np.asarray(rows) * shape[1] + np.asarray(columns)
    w = np.ones(len(flat)) if weights is None else np.asarray(weights, dtype=float)
    counts = np.bincount(flat, weights=w, minlength=shape[0] * shape[1]).reshape(shape)
    wins = np.bincount(flat, weights=w * np.asarray(won, dtype=float), minlength=shape[0] * shape[1]).reshape(shape)
    return wins, counts
