"""``build_report``: the numbers of a post-match report, kept apart from how they are rendered.

A :class:`Report` holds one dict per section (summary, decision review, opponent profile, minimax check,
win probability through each rally), each with a ``status`` (``assessed`` or ``not assessed``) and
``notes`` saying what could not be assessed and why; ``meta`` names the match, the players, the data and
every stand-in used for a component that is not available (``fallbacks``). ``to_dict()`` is JSON-ready.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.report import decisions, minimax, opponent, summary, winprob
from strategist.report.match import MatchData, select_match

SECTIONS = ("summary", "decisions", "opponent", "minimax", "win_probability")
TITLES = {"summary": "Summary", "decisions": "Decision review", "opponent": "Opponent profile",
          "minimax": "Minimax check", "win_probability": "Win probability through each rally"}


@dataclass
class Report:
    """The numbers of one match's report (see the module docstring)."""

    meta: dict
    summary: dict
    decisions: dict
    opponent: dict
    minimax: dict
    win_probability: dict
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
                 recommendation: str = "auto") -> Report:
    """The report of match ``match_id`` of ``table`` (default: its first match) for ``player`` (default:
    the match's first server). Estimates use ``population`` (default: ``table``) without this match.
    ``recommendation``: what decisions are compared with — ``"auto"`` (the Advisor when installed, else the
    equilibrium of each state's matrix), ``"advisor"`` or ``"equilibrium"``."""
    import time

    t0, c0 = time.perf_counter(), time.process_time()
    md = select_match(table, match_id, player, population=population)
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
    }
    timings["total"], timings["total_cpu"] = time.perf_counter() - t0, time.process_time() - c0
    meta = _meta(md, data_label)
    meta["components"] = components(sections)
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


def components(sections: dict) -> list[dict]:
    """What each model-based part of the report used, and whether it is a stand-in for a missing package."""
    d, o, w = sections["decisions"], sections["opponent"], sections["win_probability"]
    return [
        {"component": "recommendation", "used": d["recommendation_source"], "stand_in": d["recommender"] != "advisor"},
        {"component": "opponent model", "used": o["model"], "stand_in": o["model_source"] != "package"},
        {"component": "win probability", "used": w["source"], "stand_in": w["values"] != "rally game"},
    ]


def write_json(report: Report, path) -> Path:
    """Write the report's numbers as JSON; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
