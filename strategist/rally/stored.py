"""The usable strokes of a data set (:class:`~strategist.rally.model.Strokes`) kept on disk beside its loaded
table (:mod:`strategist.data.cache`), so that a command run again on the same data estimates only its game.

An entry is keyed by the table's cache entry (a shipped data set's, by content: the default settings' entries
ship in ``data/prepared``), the settings that shape the strokes (actions, receiver's columns,
the situation rule, zones, heights) and the sport's whole definition. The integer-coded frame is kept as
an Arrow IPC file; what its codes name, the left-out counts and the settings as JSON in its metadata. What is fitted
once per table (the players' ratings and the spread of their match results) is kept with them.
"""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np

from strategist.data.cache import FORMAT, SUFFIX, cache_dir, find_entry, read_frame, sport_key, write_frame
from strategist.errors import StrategistError
from strategist.rally.model import RallySettings, Strokes, match_spread, ratings, strokes
from strategist.rally.strength import Ratings
from strategist.sports import get_sport

#: The settings a Strokes depends on (the rest shape the game built from it).
SHAPING = ("actions", "columns", "states", "zones", "heights")


def _names_record(names: dict) -> dict:
    import pandas as pd

    return {k: [None if pd.isna(v) else str(v) for v in values] for k, values in names.items()}


def entry_name(data_key: str, settings: RallySettings, sport) -> str:
    """The file name of the strokes made with ``settings`` (and ``sport``) of the table kept as ``data_key``."""
    shaping = {k: getattr(settings, k) for k in SHAPING}
    text = json.dumps([FORMAT, data_key, shaping, sport_key(sport)], default=str)
    return f"{data_key}-strokes-{hashlib.sha256(text.encode()).hexdigest()[:16]}{SUFFIX}"


def _entry(data_key: str, settings: RallySettings, sport):
    folder = cache_dir()
    if folder is None or data_key is None:
        return None
    return folder / entry_name(data_key, settings, sport)


def write_strokes(entry, st: Strokes, compression_level: int | None = None) -> None:
    """Keep ``st`` at ``entry`` with what is fitted once per table (the ratings, the match spread)."""
    fitted = ratings(st)
    record = {"format": FORMAT, "kind": "strokes", "dropped": st.dropped, "sport": st.sport.name,
              "rally_rule": st.rally_rule, "zones": st.zones, "heights": st.heights, "columns": st.columns,
              "names": _names_record(st.names), "match_sd": match_spread(st),
              "ratings": {"theta": fitted.theta.tolist(), "rallies": fitted.rallies.tolist(),
                          "precision": fitted.precision}}
    write_frame(entry, st.frame, record, compression_level=compression_level)


def _read(entry) -> Strokes:
    frame, record = read_frame(entry)
    if record.get("format") != FORMAT or record.get("kind") != "strokes":
        raise ValueError("not a strokes entry of this format")
    names = {k: np.asarray(v, dtype=object) for k, v in record["names"].items()}
    st = Strokes(frame, {str(k): int(v) for k, v in record["dropped"].items()}, get_sport(record["sport"]),
                 record["rally_rule"], bool(record["zones"]), bool(record["heights"]), record["columns"], names)
    fitted = record["ratings"]
    st.cache["ratings"] = Ratings(np.asarray(fitted["theta"], dtype=float), np.asarray(fitted["rallies"]),
                                  float(fitted["precision"]))
    st.cache["match_sd"] = float(record["match_sd"])
    return st


def stored_strokes(table, data_key: str | None, settings: RallySettings | None = None, sport=None) -> Strokes:
    """:func:`~strategist.rally.model.strokes` of ``table`` (loaded as the cache entry ``data_key``; None: not
    kept) with ``settings``, from disk when made before with the same settings."""
    settings = settings or RallySettings()
    made_sport = get_sport(sport) if sport is not None else None
    entry = _entry(data_key, settings, made_sport)
    found = find_entry(entry.name) if entry is not None else None      # a shipped set's: in data/prepared
    if found is not None:
        try:
            return _read(found)
        except (OSError, ValueError, KeyError, TypeError, StrategistError):
            pass                                             # damaged: made again and replaced
    st = strokes(table, settings, sport)
    if entry is not None:
        try:
            write_strokes(entry, st)
        except (OSError, ValueError, ImportError) as exc:
            warnings.warn(f"the prepared strokes could not be kept in the cache ({entry}): {exc}", RuntimeWarning,
                          stacklevel=2)
    return st
