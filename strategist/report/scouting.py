"""Scouting the opponent for the next match (:func:`strategist.scout.scout`), as a section of the report.

Unlike the other sections, which judge this match and so are estimated without it, scouting prepares the next
match: it reads **every match of the data, this one included** (a coach wants all of them), and says so. The
section keeps the scouting report's numbers as they are (``scout``: ``ScoutReport.to_dict()``) and adds, for
the document, the rows it shows: each rate with its Wilson 95 % interval and its n, each comparison with its
p and Benjamini–Hochberg q; a part the data cannot fill is ``not available`` with the reason.
"""

from __future__ import annotations

import warnings

import pandas as pd

from strategist.errors import StrategistError

#: The scouting report's parts, in the order the report shows them.
PARTS = ("weaknesses", "court_maps", "serve_return", "pressure", "rally_length", "trends")
#: How many of the weakness comparisons the report lists beside the significant ones (smallest q first).
LEADS = 6
SCOPE = ("every match of the data, this one included: scouting prepares the next match, so it reads all of "
         "them (the other sections judge this match and are estimated without it)")


def scout_table(table: pd.DataFrame, population: pd.DataFrame | None, match_id: str) -> pd.DataFrame:
    """The rallies scouted: ``population`` (default ``table``) with this match's strokes from ``table``."""
    if population is None:
        return table
    others = population[(population["match_id"] != match_id).to_numpy(dtype=bool, na_value=True)]
    match = table[(table["match_id"] == match_id).to_numpy(dtype=bool, na_value=False)]
    return pd.concat([others, match], ignore_index=True)


def section(md, table: pd.DataFrame, *, population: pd.DataFrame | None = None,
            matches: pd.DataFrame | None = None, seed: int = 0) -> dict:
    """The scouting section of ``md.opponent`` for ``md.player`` (numbers only; see the module docstring).
    ``matches``: tournament and year per match id (:func:`strategist.scout.matchinfo.read_match_info`)."""
    from strategist.scout import scout

    data = scout_table(table, population, md.match_id)
    base = {"player": md.player, "opponent": md.opponent, "scope": SCOPE, "includes_match": True,
            "matches": int(data["match_id"].nunique())}
    try:
        with warnings.catch_warnings(record=True) as caught:     # said in the notes below, not on the console
            warnings.simplefilter("always")
            report = scout(data, md.player, md.opponent, matches=matches, seed=seed).to_dict()
    except StrategistError as exc:
        return {**base, "status": "not assessed", "notes": [f"the opponent could not be scouted: {exc}"],
                "scout": None, "parts": {}}
    parts = {name: part(report, name) for name in PARTS}
    said = {n for p in parts.values() for n in p["notes"]} | set(report["meta"]["notes"])
    notes = list(report["meta"]["notes"]) + list(dict.fromkeys(str(w.message) for w in caught
                                                               if str(w.message) not in said))
    assessed = any(p["status"] == "assessed" for p in parts.values())
    return {**base, "status": "assessed" if assessed else "not assessed", "notes": notes, "scout": report,
            "parts": parts}


def part(report: dict, name: str) -> dict:
    """One part of the scouting report as the document shows it: status, notes and the rows of its tables."""
    sec = report["sections"][name]
    out = {"title": sec["title"], "status": sec["status"], "notes": list(sec.get("notes", []))}
    if sec["status"] != "assessed":
        return out
    return {**out, **ROWS[name](sec)}


def _weaknesses(sec: dict) -> dict:
    rows = sec["rows"]
    chosen = set(sec.get("weakness_rows", [])) | set(sec.get("strength_rows", []))
    leads = sorted(range(len(rows)), key=lambda i: (rows[i]["q"], rows[i]["p"]))
    picked = [i for i in leads if i in chosen] + [i for i in leads if i not in chosen][:LEADS]
    return {"weaknesses": list(sec.get("weaknesses", [])), "strengths": list(sec.get("strengths", [])),
            "tests": sec["tests"], "min_n": sec["min_n"], "alpha": sec["alpha"],
            "leads": [{"sentence": rows[i]["sentence"], "opponent": rows[i]["opponent"], "others": rows[i]["others"],
                       "p": rows[i]["p"], "q": rows[i]["q"], "significant": rows[i]["significant"]} for i in picked]}


def _court_maps(sec: dict) -> dict:
    return {"maps": [{"key": m["key"], "title": m["title"], "n": m["n"]} for m in sec["maps"]]}


def _serve_return(sec: dict) -> dict:
    mixes = []
    for by, mix in sec.get("serve_mix", {}).items():
        for group, g in mix["groups"].items():
            mixes.append({"by": by, "group": group, "n": g["n"],
                          "shares": {c: g["shares"][c] for c in mix["categories"] if c in g["shares"]}})
    tests = {by: mix.get("test") for by, mix in sec.get("serve_mix", {}).items()}
    return {"serve_outcomes": sec.get("serve_outcomes", []), "return_outcomes": sec.get("return_outcomes", []),
            "serve_mix": mixes, "serve_mix_tests": tests, "first_three": sec.get("first_three", [])}


#: What the report keeps of a pressure row.
PRESSURE_KEYS = ("situation", "named", "in", "rest", "p", "q", "significant", "sentence")


def _pressure(sec: dict) -> dict:
    return {"rows": [{k: r[k] for k in PRESSURE_KEYS} for r in sec["rows"]]}


def _rally_length(sec: dict) -> dict:
    by = sec["by_length"]
    return {"rows": by["rows"], "test": by.get("test"), "mean_length": by.get("mean_length"),
            "mix_test": (sec.get("by_phase") or {}).get("groups", {}).get("test"),
            "sentences": list(sec.get("sentences", []))}


def _trends(sec: dict) -> dict:
    return {"groupings": {name: {"order": g["order"], "rows": g["rows"]} for name, g in sec["groupings"].items()},
            "test": sec.get("test"), "sentences": list(sec.get("sentences", []))}


ROWS = {"weaknesses": _weaknesses, "court_maps": _court_maps, "serve_return": _serve_return,
        "pressure": _pressure, "rally_length": _rally_length, "trends": _trends}


def court_maps(scouting: dict) -> list[dict]:
    """The court maps of the scouting report (the dicts :func:`strategist.scout.figures.map_figure` draws)."""
    report = scouting.get("scout") or {}
    sec = (report.get("sections") or {}).get("court_maps") or {}
    return list(sec.get("maps", [])) if sec.get("status") == "assessed" else []
