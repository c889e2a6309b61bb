"""Vectorised field checks that either raise (strict) or mark whole rallies to skip (lenient).

A loader parses every column of the raw string table at once, hands each failing mask to
:meth:`RallyChecks.fail`, and finally drops the rows of every marked rally with :meth:`RallyChecks.keep`
(which, in strict mode, raises the problem found nearest the start of the file instead).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from strategist.data.cells import blank
from strategist.data.rejections import Rejection, RejectionReport
from strategist.errors import DataFormatError


class RallyChecks:
    """Collects failing rows of a raw table whose rows belong to rallies named by ``rally_key``.

    ``raw`` holds the file's cells as strings, a ``_row`` column of file row numbers and optionally a
    ``_path`` column (rows from several files); ``rally_key`` names each row's rally (rows with an empty
    key stand alone).
    """

    def __init__(self, raw: pd.DataFrame, rally_key: pd.Series, *, path, strict: bool, report: RejectionReport):
        self.raw = raw
        self.path = str(path)
        self.strict = strict
        self.report = report
        self.key = rally_key.to_numpy(dtype=object)
        self.rows = raw["_row"].to_numpy()
        self.paths = raw["_path"].to_numpy(dtype=object) if "_path" in raw else None
        self.bad = np.zeros(len(raw), dtype=bool)
        self._rally_bad: set = set()
        self._lone_rows = 0  # rejected rows outside ``raw`` with no rally key
        self.copies = np.zeros(len(raw), dtype=bool)  # rows dropped without rejecting their rally
        self._earliest: DataFormatError | None = None  # strict mode: the problem nearest the file's start
        self._earliest_across: DataFormatError | None = None  # ... among problems seen across a rally's rows

    def fail(self, mask, reason: str, field, expected, *, value=None, across: bool = False) -> None:
        """Rows where ``mask`` is true break ``reason``: their rallies are marked, and in strict mode the
        earliest of them becomes the error :meth:`keep` raises (unless an earlier problem is found).

        ``across=True`` marks a check across a rally's rows (gaps, duplicates, a changing score): in strict
        mode such a problem is raised only when no single value is bad, since it is often the consequence
        of one (a row whose bad ``set`` cannot be tied to its rally leaves a gap in that rally).

        ``field`` and ``expected`` are strings or per-row arrays; ``value`` (array-like, optional) is what to
        show as the offending value and defaults to ``raw[field]``.
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        fields = np.full(len(mask), field, dtype=object) if field is None or isinstance(field, str) \
            else np.asarray(field, dtype=object)
        expects = np.full(len(mask), expected, dtype=object) if isinstance(expected, str) \
            else np.asarray(expected, dtype=object)
        if value is None:
            values = self.raw[field].to_numpy(dtype=object) if isinstance(field, str) and field in self.raw \
                else np.full(len(mask), None)
        else:
            values = np.asarray(value, dtype=object)
        first = idx[np.argmin(self.rows[idx])]
        if self.strict:
            shown = "" if values[first] is None else f"got {values[first]!r}; "
            self.offer(DataFormatError(f"{reason}: {shown}expected {expects[first]}", path=self._path(first),
                                       line=int(self.rows[first]), field=fields[first]), across=across)
        keys = self.key[idx]
        rallies = len({k for k in keys if k != ""}) + int(np.sum(keys == ""))
        examples = [Rejection(reason, self._path(i), int(self.rows[i]), fields[i],
                              None if values[i] is None else str(values[i]), str(expects[i]),
                              None if self.key[i] == "" else str(self.key[i]))
                    for i in idx[: self.report.max_examples]]
        self.report.add(reason, rallies, examples)
        self.bad |= mask
        self._rally_bad.update(k for k in keys if k != "")

    def offer(self, error: DataFormatError, *, across: bool = False) -> None:
        """Strict mode: remember ``error`` if it lies earlier in the file than the earliest one so far (of
        its kind: single values, or checks ``across`` a rally's rows)."""
        earliest = self._earliest_across if across else self._earliest
        if earliest is None or (error.row or 0) < (earliest.row or 0):
            if across:
                self._earliest_across = error
            else:
                self._earliest = error

    def _path(self, i: int) -> str:
        return self.path if self.paths is None else str(self.paths[i])

    def fail_rows(self, rows: list[int], keys: list[str], reason: str, expected: str, values=None, *,
                  path=None, messages=None) -> None:
        """Rows that never made it into ``raw`` (e.g. a wrong number of fields): reject their rallies by key.

        ``messages`` (optional) gives each row's strict-mode message instead of ``reason: expected ...``.
        """
        if not rows:
            return
        path = self.path if path is None else str(path)
        if self.strict:
            text = messages[0] if messages else f"{reason}: expected {expected}"
            self.offer(DataFormatError(text, path=path, line=int(rows[0])))
        values = values or [None] * len(rows)
        examples = [Rejection(reason, path, int(r), None, v, expected, k or None)
                    for r, k, v in list(zip(rows, keys, values))[: self.report.max_examples]]
        self.report.add(reason, len({k for k in keys if k}) + sum(1 for k in keys if not k), examples)
        self._rally_bad.update(k for k in keys if k)
        self._lone_rows += sum(1 for k in keys if not k)
        self.report.rows_rejected += len(rows)
        self.report.rows_read += len(rows)

    def fail_field_counts(self, bad_rows, *, path=None) -> None:
        """Rows with too many or too few fields: ``[(line, fields, rally key)]`` as
        :func:`~strategist.data.readcsv.read_strings` describes them (with the key added)."""
        for line, fields, key in bad_rows:
            count, expected = fields["_count"], fields["_expected"]
            self.fail_rows([line], [key], "wrong number of fields", f"{expected} fields, as in the header",
                           [f"{count} fields"], path=path,
                           messages=[f"wrong number of fields: line {line} has {count} fields, expected "
                                     f"{expected} (as many as the header)"])

    def unmarked(self) -> np.ndarray:
        """Mask of rows whose rally has no problem so far (checks across a rally's rows look only at these)."""
        return ~self.rejected()

    def rejected(self) -> np.ndarray:
        """Mask of rows to drop: bad rows and every row of a rally with a bad row."""
        in_bad_rally = pd.Series(self.key).isin(self._rally_bad).to_numpy() if self._rally_bad else \
            np.zeros(len(self.key), dtype=bool)
        return self.bad | in_bad_rally

    def keep(self) -> np.ndarray:
        """Mask of rows to keep; records the totals in the report. Strict mode raises the earliest problem."""
        if self._earliest is not None:
            raise self._earliest
        if self._earliest_across is not None:
            raise self._earliest_across
        drop = self.rejected()
        self.report.rows_read += len(drop)
        self.report.rows_rejected += int((drop | self.copies).sum())
        keys = self.key[drop]
        self.report.rallies_rejected += (len({k for k in keys if k != ""}) + int(np.sum(keys == ""))
                                         + len(self._rally_bad - set(self.key.tolist())) + self._lone_rows)
        return ~(drop | self.copies)


def point_checks(raw: pd.DataFrame, too_long, id_columns: tuple[str, str], required, *, path, what: str,
                 strict: bool, report: RejectionReport) -> RallyChecks:
    """Checks for a one-row-per-point file: required columns present, rally key from ``id_columns``.

    A missing required column is an error in both modes (nothing to skip); rows with too many fields
    or too few fields (``too_long`` from :func:`~strategist.data.readcsv.read_strings`) reject their point.
    """
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise DataFormatError(f"missing required column(s) {missing}; {what} needs {list(required)}",
                              path=path, field=missing[0])
    first, second = id_columns
    key = (raw[first].str.strip() + "|" + raw[second].str.strip()).astype(object)
    key[blank(raw[first]) | blank(raw[second])] = ""
    checks = RallyChecks(raw, key, path=path, strict=strict, report=report)
    checks.fail_field_counts([(row, fields, "|".join(fields.get(c, "") for c in id_columns)
                               if all(fields.get(c, "") for c in id_columns) else "") for row, fields in too_long])
    return checks


def drop_rows(raw: pd.DataFrame, mask, report: RejectionReport, note: str) -> pd.DataFrame:
    """Remove rows that carry no point (reported as a note, counted as read)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return raw
    report.note(note.format(count=int(mask.sum())))
    report.rows_read += int(mask.sum())
    return raw.loc[~mask].reset_index(drop=True)
