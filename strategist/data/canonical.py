"""The canonical layout as a file: a CSV (plain or gzip) with the columns of :mod:`strategist.data.schema`.

What :class:`strategist.matchlog.MatchLog` exports, and what ``load_rallies`` reads back. Values are the
canonical ones (English shot labels of the sport's vocabulary, real names, scores before the rally). In
the default mode a rally with a bad row (a required field empty, a shot outside the vocabulary, a number
that is not one, a duplicate stroke, a rally_id that is not ``match_id|set|rally``, a winner who is not
one of the rally's players, a break in the order of play: :mod:`strategist.data.order`) is skipped whole and
reported; ``strict=True`` raises on the first.
Any sport strategist knows: the sport is read from the ``sport`` column, one per load (a file, or files
that mix sports, is refused with a clear message), and the shots are checked against its vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from strategist.data.cells import MAX_INT, int_range, to_float, to_int
from strategist.data import order
from strategist.data.readcsv import ReadLimits, read_strings
from strategist.data.rejections import Rejection, RejectionReport
from strategist.data.schema import COLUMNS, REQUIRED, conform
from strategist.errors import ConfigurationError, DataFormatError
from strategist.sports import get_sport

LAYOUT = "canonical"
SPORT = "any"                   # read from the file's sport column (see load_rallies)
SIGNATURE = frozenset({"sport", "source", "rally_id", "stroke", "hitter", "opponent", "shot", "server",
                       "hitter_won"})
DESCRIPTION = "canonical rally table (strategist's own CSV layout, e.g. a match log export)"
#: Smallest value of the whole-number columns that have one (all are at most cells.MAX_INT).
_LOWEST = {"set": 1, "game": 1, "rally": 1, "stroke": 1, "serve_number": 1, "hitter_score": 0, "opponent_score": 0,
           "hitter_games": 0, "opponent_games": 0}


def layout_entry(layout_class):
    """The :class:`~strategist.data.detect.Layout` of this layout (built by detect.py's own class)."""
    return layout_class(LAYOUT, SPORT, SIGNATURE, DESCRIPTION)


def _bad(frame: pd.DataFrame, mask: np.ndarray, reason: str, column: str, expected: str, path, strict, rejected,
         report: RejectionReport) -> None:
    mask = np.asarray(mask, dtype=bool) & ~rejected
    if not mask.any():
        return
    first = int(np.flatnonzero(mask)[0])
    line = int(frame["_row"].iat[first])
    value = str(frame[column].iat[first]) if column in frame else None
    if strict:
        raise DataFormatError(f"got {value!r}, expected {expected}", path=path, line=line, field=column)
    rallies = frame.loc[mask, "rally_id"].unique()
    examples = [Rejection(reason, str(path), int(frame["_row"].iat[i]), column,
                          str(frame[column].iat[i]) if column in frame else None, expected,
                          str(frame["rally_id"].iat[i])) for i in np.flatnonzero(mask)[:3]]
    report.add(reason, len(rallies), examples)
    rejected |= frame["rally_id"].isin(rallies).to_numpy()


def _order_of_play(raw: pd.DataFrame, valid: np.ndarray, stroke: pd.Series, sport, path, strict: bool,
                   rejected: np.ndarray, report: RejectionReport) -> None:
    """Reject rallies that break the order of play (:mod:`strategist.data.order`); strict mode raises the
    offending row nearest the start of the file, naming the rule."""
    problems = order.order_problems(valid, raw["rally_id"], stroke.fillna(0), raw["hitter"], raw["shot"], sport)
    if strict and problems:
        line, reason = min((int(raw["_row"].to_numpy()[mask].min()), reason) for reason, mask in problems)
        column = order.FIELD[reason]
        value = raw.loc[raw["_row"] == line, column].iat[0]
        raise DataFormatError(f"{reason}: got {value!r}, expected {order.expected(reason, sport)}", path=path,
                              line=line, field=column)
    for reason, mask in problems:
        _bad(raw, mask, reason, order.FIELD[reason], order.expected(reason, sport), path, strict, rejected, report)


def load_canonical(paths, *, strict: bool = False, limits: ReadLimits | None = None
                   ) -> tuple[pd.DataFrame, RejectionReport]:
    """Load canonical CSV files; see the module docstring. ``limits`` caps each file."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    report = RejectionReport()
    tables = []
    seen: set = set()
    for path in paths:
        raw, misshapen = read_strings(path, limits=limits)
        missing = [c for c in REQUIRED if c not in raw.columns]
        if missing:
            raise DataFormatError(f"missing required canonical columns {missing}", path=path)
        report.rows_read += len(raw) + len(misshapen)
        _count_misshapen(misshapen, path, strict, report)
        sport = _file_sport(raw, seen, path)
        seen.add(sport.name)
        rejected, numbers = _check_values(raw, sport, path, strict, report)
        report.rows_rejected += int(rejected.sum())
        report.rallies_rejected += int(raw.loc[rejected, "rally_id"].nunique())
        table = conform(_typed(raw, rejected, numbers), where=str(path))
        table["source"] = pd.Series(LAYOUT, index=table.index, dtype="string")
        tables.append(table.sort_values(["rally_id", "stroke"], kind="stable").reset_index(drop=True))
    table = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    return table, report


def _count_misshapen(misshapen, path, strict: bool, report: RejectionReport) -> None:
    """Rows with another number of fields than the header: an error when ``strict``, else counted."""
    if not misshapen:
        return
    line, fields = misshapen[0]
    if strict:
        raise DataFormatError(f"row has {fields['_count']} fields, the header {fields['_expected']}",
                              path=path, line=line)
    report.add("wrong number of fields", len(misshapen),
               [Rejection("wrong number of fields", str(path), ln, None, None,
                          f"{f['_expected']} fields") for ln, f in misshapen[:3]])
    report.rows_rejected += len(misshapen)


def _file_sport(raw: pd.DataFrame, seen: set, path):
    """The one sport of a file's rows (and of the files read before it, ``seen``)."""
    sports = (set(raw["sport"].unique()) - {""}) | seen
    if len(sports) > 1:
        raise DataFormatError(f"holds rallies of {sorted(sports)}; load one sport at a time", path=path,
                              field="sport")
    if not sports:
        raise DataFormatError("no row names its sport", path=path, field="sport")
    try:
        return get_sport(next(iter(sports)))
    except ConfigurationError as exc:
        raise DataFormatError(str(exc), path=path, field="sport") from None


def _check_values(raw: pd.DataFrame, sport, path, strict: bool, report: RejectionReport):
    """(rows rejected, parsed numeric columns): every row checked for missing and unknown values, numbers,
    duplicates, rally ids, winners and the order of play; a rejected row's rally goes with it."""
    rejected = np.zeros(len(raw), dtype=bool)
    for column in REQUIRED:
        _bad(raw, (raw[column] == "").to_numpy(), f"{column} missing", column, "a value", path, strict,
             rejected, report)
    _bad(raw, ~raw["shot"].isin(set(sport.shots)).to_numpy(), "shot not in the vocabulary", "shot",
         f"one of the {sport.name} shots", path, strict, rejected, report)
    numbers = {}
    for column, dtype in COLUMNS.items():
        if column not in raw.columns or dtype not in ("Int64", "float64"):
            continue
        if dtype == "Int64":
            low = _LOWEST.get(column)
            numbers[column], bad = to_int(raw[column], minimum=low)
            expected = int_range(low) if low is not None else f"a whole number of at most {MAX_INT:,}"
        else:
            numbers[column], bad = to_float(raw[column])
            expected = "a finite number"
        _bad(raw, bad, f"{column} not a number", column, expected, path, strict, rejected, report)
    _bad(raw, raw.duplicated(["rally_id", "stroke"]).to_numpy(), "duplicate stroke", "stroke",
         "one row per (rally_id, stroke)", path, strict, rejected, report)
    _bad(raw, (raw["match_id"] + "|" + raw["set"] + "|" + raw["rally"] != raw["rally_id"]).to_numpy(),
         "rally_id is not match_id|set|rally", "rally_id", "match_id|set|rally", path, strict, rejected, report)
    if "winner" in raw.columns:
        known = raw["winner"] != ""
        _bad(raw, (known & (raw["winner"] != raw["hitter"]) & (raw["winner"] != raw["opponent"])).to_numpy(),
             "winner not a player of the rally", "winner", "the hitter or the opponent", path, strict, rejected,
             report)
    valid = ~rejected & ~pd.isna(numbers["stroke"]).to_numpy()
    _order_of_play(raw, valid, numbers["stroke"], sport, path, strict, rejected, report)
    return rejected, numbers


def _typed(raw: pd.DataFrame, rejected: np.ndarray, numbers: dict) -> pd.DataFrame:
    """The kept rows with their columns' types (numbers parsed, booleans read; ``hitter_won`` follows the
    winner, whatever the file says)."""
    kept = raw.loc[~rejected].drop(columns="_row").replace("", pd.NA)
    for column, dtype in COLUMNS.items():
        if column in numbers:
            kept[column] = pd.Series(numbers[column], index=raw.index)[~rejected]
        elif column in kept and dtype == "boolean":
            kept[column] = kept[column].map({"True": True, "False": False, "true": True, "false": False,
                                             "1": True, "0": False}).astype("boolean")
    if "winner" in kept:
        kept["hitter_won"] = pd.Series(np.where(kept["winner"].isna(), pd.NA, kept["winner"] == kept["hitter"]),
                                       index=kept.index, dtype="object").astype("boolean")
    return kept
