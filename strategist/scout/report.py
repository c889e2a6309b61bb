"""The scouting report: :func:`scout` runs every section on a rally table; :class:`ScoutReport` holds them.

``to_dict()`` is JSON-ready: every rate is ``{"k", "n", "rate", "low", "high"}`` (Wilson 95 %), every
comparison carries its p and Benjamini–Hochberg q, every section a ``status`` ("assessed" or "not
available") and ``notes`` saying what the data could not fill. A page or a report renders a section from
its dict; the court maps draw with :func:`strategist.scout.figures.map_figure`.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from strategist.scout import maps, matchinfo, pressure, serve, stats, tempo, trends, weaknesses
from strategist.scout.rallies import RallyView, ScoutError, rally_view

SECTIONS = ("weaknesses", "court_maps", "serve_return", "pressure", "rally_length", "trends")
TITLES = {"weaknesses": "Weaknesses and strengths", "court_maps": "Court maps", "serve_return": "Serve and return",
          "pressure": "Pressure and momentum", "rally_length": "Rally length and tempo", "trends": "Trends"}
METHOD = {
    "interval": "Wilson score 95 % interval of each rate",
    "comparison": "Fisher's exact test, two-sided (rates); Pearson's chi-square (mixes); a permutation test over "
                  "whole matches (trends)",
    "correction": "Benjamini-Hochberg within each section: scouting screens many situations for a few leads, so it "
                  "bounds the share of false leads among those reported rather than the chance of any (Holm), "
                  "which with a hundred tests would leave almost nothing",
    "alpha": stats.ALPHA,
}


def _plain(value):
    """JSON-ready copy: numpy scalars to Python, NaN and NA to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if value is pd.NA or value is None:
        return None
    return value


@dataclass
class ScoutReport:
    """A scouting report of ``opponent`` for ``player``: ``meta``, the sentences and the sections."""

    meta: dict
    sections: dict = field(default_factory=dict)

    def section(self, name: str) -> dict:
        return self.sections[name]

    @property
    def weaknesses(self) -> list[str]:
        return list(self.sections["weaknesses"].get("weaknesses", []))

    @property
    def strengths(self) -> list[str]:
        return list(self.sections["weaknesses"].get("strengths", []))

    def to_dict(self) -> dict:
        return _plain({"meta": self.meta, "summary": {"weaknesses": self.weaknesses, "strengths": self.strengths},
                       "sections": self.sections})

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_text(self) -> str:
        """A short plain-text summary (what ``strategist scout`` prints)."""
        from strategist.scout.summary import summary_text

        return summary_text(self)


def _check_players(view, player: str | None, opponent: str) -> list[str]:
    players = sorted(map(str, view.strokes["hitter"].dropna().unique()))
    if opponent not in players:
        close = difflib.get_close_matches(opponent, players, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else \
            f"; {len(players)} players in the data, e.g. {', '.join(repr(p) for p in players[:3])}"
        raise ScoutError(f"opponent {opponent!r} is not a player of the data{hint}")
    if player is not None and player == opponent:
        raise ScoutError(f"the player and the opponent are both {opponent!r}")
    if player is not None and player not in players:
        return [f"{player!r} is not in the data: no head-to-head figures"]
    return []


def _meta(view, player, opponent, info, notes) -> dict:
    sides = view.sides
    own = sides[(sides["player"] == opponent).to_numpy(dtype=bool, na_value=False)]
    h2h = own[(own["rival"] == player).to_numpy(dtype=bool, na_value=False)] if player else own[:0]
    known = h2h[h2h["won"].notna().to_numpy()]
    years = info.reindex(sorted(set(own["match_id"].astype(str))))["year"].dropna()
    return {"sport": view.sport.name, "player": player, "opponent": opponent,
            "matches": int(view.rallies["match_id"].nunique()), "rallies": int(len(view.rallies)),
            "opponent_matches": int(own["match_id"].nunique()), "opponent_rallies": int(len(own)),
            "opponent_years": sorted({int(y) for y in years}),
            "head_to_head": {"matches": int(h2h["match_id"].nunique()),
                             "rallies_won_by_opponent": stats.rate(int(known["won"].sum()), len(known))},
            "rally_shots_recorded": view.complete, "positions_in_metres": view.has_positions,
            "method": METHOD, "notes": notes}


def scout(table: pd.DataFrame | RallyView, player: str | None, opponent: str, *,
          matches: pd.DataFrame | None = None, min_n: int = weaknesses.MIN_N, alpha: float = stats.ALPHA,
          seed: int = 0) -> ScoutReport:
    """Scout ``opponent`` in a canonical rally table, for ``player`` (who may be absent from the data, or None).

    ``table`` may also be its :class:`~strategist.scout.rallies.RallyView`, built once for many pairs.
    ``matches``: tournament and year per match id (:func:`strategist.scout.matchinfo.read_match_info`);
    without it the year is read from the match ids. Raises :class:`ScoutError` when the opponent is not a
    player of the table.
    """
    view = table if isinstance(table, RallyView) else rally_view(table)
    notes = _check_players(view, player, opponent)
    info, info_notes = matchinfo.match_info(view.rallies["match_id"].unique(), matches)
    name = opponent
    sections = {
        "weaknesses": weaknesses.assess(view, opponent, name, min_n=min_n, alpha=alpha),
        "court_maps": maps.build(view, opponent, player, name=name),
        "serve_return": serve.assess(view, opponent, name),
        "pressure": pressure.assess(view, opponent, name, alpha=alpha),
        "rally_length": tempo.assess(view, opponent, name),
        "trends": trends.assess(view, opponent, name, info, info_notes=info_notes, alpha=alpha, seed=seed),
    }
    for key, section in sections.items():
        section["title"] = TITLES[key]
    return ScoutReport(_meta(view, player, opponent, info, notes), sections)
