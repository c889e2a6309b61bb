"""What a sport is to strategist: its vocabulary, court, turn order and how a rally is won.

A :class:`Sport` is pure configuration. Loaders translate a source's labels through ``labels``; the
estimation code groups shots through ``groupings``; the turn rule says who hits stroke k: the server
hits every serve (up to ``serves_per_point``), then the players alternate, so with ``f`` faulted serves
stroke ``k > f`` is the server's when ``k - f`` is odd.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from strategist.errors import ConfigurationError

#: Who wins a rally that ended a given way, relative to the last stroke or to the serve.
WINNER_ROLES = ("hitter", "opponent", "server", "receiver")


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType({k: (_frozen(v) if isinstance(v, Mapping) else v) for k, v in mapping.items()})


#: What a serve state can be told apart by: the side served from, and which serve of the point it is.
SERVE_KEYS = ("court_side", "serve")
PHASES = ("serve", "return", "rally")


@dataclass(frozen=True)
class DecisionRule:
    """How a sport's decision states are told apart (see :mod:`strategist.data.states`).

    Attributes:
        serve: what tells serve states apart: any of ``"court_side"`` and ``"serve"`` (first or second).
        return_of: what the returner faces: the serve's ``"shot"`` type or the ``"area"`` it was aimed at.
        rally: what a rally stroke faces: the incoming ``"shot"`` or its group (``"group:<grouping>"``).
        zones: landing area -> zone (e.g. front / middle / back), for states that also say where the
            incoming shot landed; areas without a zone count as ``"other"``.
        default_payoff: the payoff matrix a command shows when none is asked for: ``phase``, ``rows``,
            ``columns`` (e.g. tennis: the serve game, direction by side and serve).
        situation: what the hitter physically faces, the rally game's decision state: (rally rule, zones,
            heights) — by default the incoming shot itself, the zone it was taken in and how high
            (zones and heights only where the data record them).
        serve_action: what a server chooses in the rally game: the serve's ``"shot"`` type (badminton) or the
            ``"area"`` it is aimed at (tennis: wide, body, T).
    """

    serve: tuple[str, ...] = ()
    return_of: str = "shot"
    rally: str = "group:tactic"
    zones: Mapping[str, str] = field(default_factory=dict)
    default_payoff: Mapping[str, str] = field(default_factory=dict)
    situation: tuple = ("shot", True, True)
    serve_action: str = "shot"

    def __post_init__(self):
        object.__setattr__(self, "serve", tuple(self.serve))
        object.__setattr__(self, "situation", tuple(self.situation))
        object.__setattr__(self, "zones", _frozen(self.zones))
        object.__setattr__(self, "default_payoff", _frozen(self.default_payoff))


@dataclass(frozen=True)
class Sport:
    """A racket sport as configuration.

    Attributes:
        name: registry key, e.g. ``"badminton"``.
        shots: the shot vocabulary (English labels); ``"unknown"`` is the label for an unrecorded type.
        serves: the shots that start a rally.
        groupings: grouping name -> {shot: group}; every grouping covers every shot (a shot that belongs
            to no group maps to ``None``).
        areas: court-area code -> description (landing areas and player positions).
        court_sides: the two sides a serve is struck from; the first is used when the count the sport's
            side rule looks at is even (badminton: server's score; tennis: points played in the game).
        serves_per_point: how many serves a server may hit before losing the point (badminton 1, tennis 2).
        endings: how a rally can end (``end`` column) -> who won: one of :data:`WINNER_ROLES`.
        errors: the kinds of failed stroke (``error`` column).
        labels: source -> field -> source label -> English label (how each source spells the vocabulary).
        scoring: one line on how points, games and sets are counted.
        decisions: how decision states are told apart (:class:`DecisionRule`).
        extends: for a sport defined by a user's file (:mod:`strategist.sports.sportfile`), the built-in
            sport whose rules of play it takes; None for a built-in sport.
    """

    name: str
    shots: tuple[str, ...]
    serves: frozenset[str]
    groupings: Mapping[str, Mapping[str, str | None]]
    areas: Mapping[str, str]
    court_sides: tuple[str, str]
    serves_per_point: int
    endings: Mapping[str, str]
    errors: tuple[str, ...]
    labels: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    scoring: str = ""
    decisions: "DecisionRule" = None
    extends: str | None = None

    def __post_init__(self):
        for name in ("groupings", "areas", "endings", "labels"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "shots", tuple(self.shots))
        object.__setattr__(self, "serves", frozenset(self.serves))
        if self.decisions is None:
            object.__setattr__(self, "decisions", DecisionRule())
        self.check()

    @property
    def family(self) -> str:
        """The built-in sport this one plays and speaks as: its own name, or the one a user's file extends."""
        return self.extends or self.name

    # -- consistency -------------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`ConfigurationError` if the definition contradicts itself."""
        where = f"sport {self.name!r}"
        if len(set(self.shots)) != len(self.shots):
            raise ConfigurationError(f"{where}: duplicate shot labels")
        if not self.serves <= set(self.shots):
            raise ConfigurationError(f"{where}: serves {sorted(self.serves - set(self.shots))} are not shots")
        for grouping, table in self.groupings.items():
            if set(table) != set(self.shots):
                missing = sorted(set(self.shots) - set(table))
                extra = sorted(set(table) - set(self.shots))
                raise ConfigurationError(f"{where}: grouping {grouping!r} must cover exactly the shots "
                                         f"(missing {missing}, unknown {extra})")
        for end, role in self.endings.items():
            if role not in WINNER_ROLES:
                raise ConfigurationError(f"{where}: ending {end!r} -> {role!r}; expected one of {WINNER_ROLES}")
        if len(self.court_sides) != 2 or self.serves_per_point < 1:
            raise ConfigurationError(f"{where}: needs two court sides and at least one serve per point")
        rule = self.decisions
        if not isinstance(rule, DecisionRule):
            raise ConfigurationError(f"{where}: decisions must be a DecisionRule, got {type(rule).__name__}")
        for key in rule.serve:
            if key not in SERVE_KEYS:
                raise ConfigurationError(f"{where}: serve state key {key!r}; expected one of {SERVE_KEYS}")
        if rule.return_of not in ("shot", "area"):
            raise ConfigurationError(f"{where}: return_of {rule.return_of!r}; expected 'shot' or 'area'")
        base, _, grouping = rule.rally.partition(":")
        if base not in ("shot", "group") or (base == "group" and grouping not in self.groupings):
            raise ConfigurationError(f"{where}: rally incoming {rule.rally!r}; expected 'shot' or 'group:<grouping>'"
                                     f" with a grouping of {sorted(self.groupings)}")
        if rule.serve_action not in ("shot", "area"):
            raise ConfigurationError(f"{where}: serve_action {rule.serve_action!r}; expected 'shot' or 'area'")
        base, _, grouping = str(rule.situation[0]).partition(":") if rule.situation else ("", "", "")
        if len(rule.situation) != 3 or base not in ("shot", "group") or (base == "group" and grouping not in
                                                                          self.groupings):
            raise ConfigurationError(f"{where}: situation {rule.situation!r}; expected (rally rule, zones, heights)")
        unknown = sorted(set(rule.zones) - set(self.areas))
        if unknown:
            raise ConfigurationError(f"{where}: zones name unknown areas {unknown}")

    # -- vocabulary ------------------------------------------------------------------------------------------
    def group(self, shots: pd.Series | Iterable[str], grouping: str) -> pd.Series:
        """Map shot labels to their group under ``grouping``; labels outside the vocabulary give NA."""
        try:
            table = self.groupings[grouping]
        except KeyError:
            raise ConfigurationError(f"sport {self.name!r} has no grouping {grouping!r}; "
                                     f"expected one of {sorted(self.groupings)}") from None
        series = shots if isinstance(shots, pd.Series) else pd.Series(list(shots), dtype="string")
        return series.map(dict(table)).astype("string")

    def groups(self, grouping: str) -> tuple[str, ...]:
        """The distinct groups of ``grouping``, in first-appearance order of the shot vocabulary."""
        seen = dict.fromkeys(g for g in (self.groupings[grouping][s] for s in self.shots) if g is not None)
        return tuple(seen)

    def translate(self, source: str, field_name: str) -> dict[str, str]:
        """Source label -> English label for one field; English labels of the vocabulary map to themselves."""
        table = dict(self.labels.get(source, {}).get(field_name, {}))
        if field_name == "shot":
            table.update({s: s for s in self.shots})
        return table

    # -- turn order and outcome ---------------------------------------------------------------------------
    def stroke_role(self, stroke: int, faults: int = 0) -> str:
        """``"server"`` or ``"receiver"``: who hits ``stroke`` (from 1) when ``faults`` serves were faults."""
        if stroke < 1 or faults < 0 or faults >= self.serves_per_point + 1:
            raise ConfigurationError(f"stroke {stroke} with {faults} faults is impossible in {self.name}")
        if stroke <= faults + 1:
            return "server"
        return "server" if (stroke - faults) % 2 == 1 else "receiver"

    def court_side(self, count: int) -> str:
        """The side a serve is struck from, given the count the sport's side rule looks at."""
        return self.court_sides[count % 2]

    def winner_role(self, end: str) -> str:
        """Who won a rally that ended with ``end``: ``hitter`` / ``opponent`` of the last stroke, or
        ``server`` / ``receiver``."""
        try:
            return self.endings[end]
        except KeyError:
            raise ConfigurationError(f"{self.name} has no ending {end!r}; expected one of "
                                     f"{sorted(self.endings)}") from None
