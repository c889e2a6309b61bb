"""When and where each match was played: tournament and year, from the match lists beside the data.

Read from the folder of the data file: ShuttleSet's ``matches*.csv`` / ``match.csv`` (``video``,
``tournament``, ``year``, ``month``, ``day``), the Slam files' ``<event>-matches.csv`` (``match_id``,
``slam``, ``year``) and the MCP's ``charting-*-matches.csv(.gz)`` (``match_id``, ``Tournament``, ``Date``
as YYYYMMDD). A match missing from them takes its year from a 4-digit year (19xx or 20xx) in its id, and
no tournament; :func:`match_info` says how many did.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from strategist.data.readcsv import read_strings
from strategist.errors import DataFormatError

COLUMNS = ["match_id", "tournament", "year", "date"]
_PATTERNS = ("matches*.csv", "matches*.csv.gz", "match.csv", "*-matches.csv", "*-matches.csv.gz",
             "charting-*-matches.csv", "charting-*-matches.csv.gz")
_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")


def _whole(values: pd.Series, width: int) -> pd.Series:
    """Whole numbers however a file writes them ("3", "3.0", " 03") as text zero-padded to ``width``; "" where a
    value is blank or not a whole number."""
    number = pd.to_numeric(values.str.strip(), errors="coerce")
    whole = number.notna() & (number == number.round())
    text = number.where(whole).astype("Int64").astype(str).str.zfill(width)
    return text.where(whole, "")


def _iso_date(year: pd.Series, month: pd.Series | None, day: pd.Series | None) -> pd.Series:
    """YYYY-MM-DD from the parts (ShuttleSet's 2022 list writes them as 2022.0, 3.0, 12.0), YYYY-MM or YYYY where
    the later parts are missing: text that sorts in time."""
    none = pd.Series("", index=year.index)
    y = _whole(year, 4)
    m = none if month is None else _whole(month, 2)
    d = none if day is None else _whole(day, 2)
    with_month = y.where((y == "") | (m == ""), y + "-" + m)
    return with_month.where((y == "") | (m == "") | (d == ""), with_month + "-" + d)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame | None:
    cols = set(frame.columns)
    if {"video", "tournament", "year"} <= cols:
        return pd.DataFrame({"match_id": frame["video"], "tournament": frame["tournament"],
                             "year": _whole(frame["year"], 4),
                             "date": _iso_date(frame["year"], frame.get("month"), frame.get("day"))})
    if {"match_id", "slam", "year"} <= cols:
        tournament = frame["slam"].str.title() + " " + frame["year"]
        return pd.DataFrame({"match_id": frame["match_id"], "tournament": tournament, "year": frame["year"],
                             "date": frame["year"]})
    if {"match_id", "Tournament", "Date"} <= cols:
        date = frame["Date"].str.slice(0, 4) + "-" + frame["Date"].str.slice(4, 6) + "-" + frame["Date"].str.slice(6, 8)
        return pd.DataFrame({"match_id": frame["match_id"], "tournament": frame["Tournament"],
                             "year": frame["Date"].str.slice(0, 4), "date": date})
    return None


def read_match_info(path) -> pd.DataFrame:
    """Match id -> tournament, year, date from the match lists in the data's folder (empty when none)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    found = []
    for pattern in _PATTERNS:
        for file in sorted(folder.glob(pattern)):
            try:
                frame, _ = read_strings(file)
            except DataFormatError:
                continue
            normal = _normalise(frame)
            if normal is not None:
                found.append(normal)
    if not found:
        return pd.DataFrame(columns=COLUMNS)
    info = pd.concat(found, ignore_index=True)
    info = info[info["match_id"].str.strip() != ""].drop_duplicates("match_id")
    info["year"] = pd.to_numeric(info["year"], errors="coerce").astype("Int64")
    return info.reset_index(drop=True)[COLUMNS]


def match_info(match_ids, known: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Tournament, year and date of each of ``match_ids``: from ``known`` (see :func:`read_match_info`), else
    the year in the match id. Returns ``(frame indexed by match id, notes)``."""
    ids = pd.Index(sorted(set(map(str, match_ids))), name="match_id")
    known = known if known is not None and len(known) else pd.DataFrame(columns=COLUMNS)
    frame = known.drop_duplicates("match_id").set_index("match_id").reindex(ids)
    missing = frame["year"].isna().to_numpy()
    notes = []
    if missing.any():
        years = [(_YEAR.search(m) or [None, None])[1] for m in ids[missing]]
        frame.loc[missing, "year"] = pd.array([int(y) if y else pd.NA for y in years], dtype="Int64")
        frame.loc[missing, "date"] = [y for y in years]
        got = sum(1 for y in years if y)
        notes.append(f"{int(missing.sum())} match(es) not in a match list beside the data: year read from the match id "
                     f"for {got}, no tournament")
        warnings.warn(notes[-1], stacklevel=2)
    frame["year"] = frame["year"].astype("Int64")
    return frame, notes
