"""``build_report``: the numbers of a post-match report, kept apart from how they are rendered.

A :class:`Report` holds one dict per section (summary, decision review, opponent profile, minimax check,
win probability through each rally, scouting), each with a ``status`` (``assessed`` or ``not assessed``) and
``notes`` saying what could not be assessed and why; ``meta`` names the match, the players, the data and what
each model-based part used (``components``): the recommendation, the opponent model and the win probability
all come from one Advisor (:meth:`strategist.report.match.MatchData.advisor`), built without this match.
``to_dict()`` is JSON-ready.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from strategist._blas import one_blas_thread
from strategist.errors import ReportError, StrategistError
from strategist.report import decisions, minimax, opponent, scouting, summary, winprob
from strategist.report.match import MatchData, select_match

SECTIONS = ("summary", "decisions", "opponent", "minimax", "win_probability", "scouting")
TITLES = {"summary": "Summary", "decisions": "Decision review", "opponent": "Opponent profile",
          "minimax": "Minimax check", "win_probability": "Win probability through each rally",
          "scouting": "Scouting the opponent"}


def title(name: str, sport=None) -> str:
    """A section's heading in the sport's words (tennis: "Win probability through each point")."""
    from strategist.scout.text import rally_words

    return TITLES[name].replace("each rally", f"each {rally_words(sport)[0]}") if sport is not None else TITLES[name]


#: What ``recommendation=`` accepts: both name the one recommendation, the Advisor's.
RECOMMENDATIONS = ("auto", "advisor")


@dataclass
class Report:
    """The numbers of one match's report (see the module docstring)."""

    meta: dict
    summary: dict
    decisions: dict
    opponent: dict
    minimax: dict
    win_probability: dict
    scouting: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    def section(self, name: str) -> dict:
        return getattr(self, name)

    def to_dict(self) -> dict:
        return _plain({"meta": self.meta, **{name: getattr(self, name) for name in SECTIONS}})


def _plain(value):
    """JSON-ready copy: numpy scalars to Python, NaN and NA to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def build_report(table, match_id: str | None = None, player: str | None = None, *,
                 population: pd.DataFrame | None = None, data_label: str | None = None, seed: int = 0,
                 recommendation: str = "auto", matches: pd.DataFrame | None = None,
                 annotated: pd.DataFrame | None = None) -> Report:
    """The report of match ``match_id`` of ``table`` (default: its first match) for ``player`` (default:
    the match's first server). Estimates use ``population`` (default: ``table``) without this match; the
    scouting section reads every match, this one included. ``recommendation``: ``"auto"`` or ``"advisor"``
    (the same: decisions are compared with the Advisor's recommendation). ``matches``: tournament and year
    per match id for the scouting trends (:func:`strategist.scout.matchinfo.read_match_info`). ``annotated``:
    the table's situations (:func:`strategist.rally.model.situation_annotation`), made once per data set, for
    many reports of one table (:func:`strategist.report.match.select_match`)."""
    if recommendation not in RECOMMENDATIONS:
        raise ReportError(f"recommendation {recommendation!r}: expected one of {list(RECOMMENDATIONS)} (decisions "
                          "are compared with the Advisor's recommendation: the pessimistic equilibrium, or the "
                          "player's habit where the data do not support a change)")
    with one_blas_thread():
        return _build(table, match_id, player, population, data_label, seed, recommendation, matches, annotated)


def _build(table, match_id, player, population, data_label, seed, recommendation, matches, annotated) -> Report:
    """The sections of :func:`build_report`, each timed (wall and CPU)."""
    import time

    t0, c0 = time.perf_counter(), time.process_time()
    md = select_match(table, match_id, player, population=population, annotated=annotated)
    timings = {"select": time.perf_counter() - t0, "select_cpu": time.process_time() - c0}

    def timed(name, fn, *args, **kw):
        t, c = time.perf_counter(), time.process_time()
        out = fn(*args, **kw)
        timings[name], timings[f"{name}_cpu"] = time.perf_counter() - t, time.process_time() - c
        return out

    sections = {
        "summary": timed("summary", summary.summarize, md),
        "decisions": timed("decisions", decisions.review, md, seed=seed, recommendation=recommendation),
        "opponent": timed("opponent", opponent.profile, md, seed=seed),
        "minimax": timed("minimax", minimax.check, md),
        "win_probability": timed("win_probability", winprob.trajectories, md),
        "scouting": timed("scouting", scouting.section, md, table, population=population, matches=matches,
                          seed=seed),
    }
    timings["total"], timings["total_cpu"] = time.perf_counter() - t0, time.process_time() - c0
    meta = _meta(md, data_label)
    meta["components"] = components(md, sections)
    return Report(meta=meta, timings=timings, **sections)


def _meta(md: MatchData, data_label: str | None) -> dict:
    s = md.strokes
    pop_matches = int(md.population["match_id"].nunique())
    return {
        "sport": md.sport.name, "match_id": md.match_id, "title": md.match_id.replace("_", " "),
        "player": md.player, "opponent": md.opponent, "player_chosen": md.player_note,
        "data": data_label, "sets": int(s["set"].nunique()), "rallies": int(s["rally_id"].nunique()),
        "strokes": int(len(s)),
        "population": {"matches": pop_matches, "strokes": int(len(md.population)), "in_sample": md.in_sample},
        "notes": list(md.notes),
    }


def components(md: MatchData, sections: dict) -> list[dict]:
    """What each model-based part of the report used: all three read the one Advisor built without this match
    (``advisor``: its model and the time it took to build); ``fallback`` says what stood in where it could
    not answer (the win probability of a situation its game lacks), ``None`` where nothing did."""
    d, o, w = sections["decisions"], sections["opponent"], sections["win_probability"]
    try:
        adv = md.advisor()
        advisor = {"player": adv.player, "opponent": adv.opponent, "model": adv.model_label,
                   "build_seconds": float(adv.build_seconds), "states": int(len(adv.game.labels))}
    except StrategistError as exc:
        advisor = {"error": str(exc)}
    points = [pt for r in w.get("rallies", []) for pt in r["points"]]
    empirical = sum(pt["source"] != "rally game" for pt in points)
    return [
        {"component": "recommendation", "used": d["recommendation_source"], "advisor": advisor, "fallback": None},
        {"component": "opponent model", "used": o["model"], "advisor": advisor, "fallback": None},
        {"component": "win probability", "used": w["source"], "advisor": advisor,
         "fallback": (f"{empirical} of {len(points)} strokes in situations the rally game lacks: empirical "
                      "values from the data without this match" if empirical else None)},
    ]


def write_json(report: Report, path) -> Path:
    """Write the report's numbers as JSON; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
