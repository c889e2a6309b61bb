"""Read a CSV (plain or gzip) as strings, turning every way a file can be unreadable into one clear error.

Cells are stripped of surrounding white space. Each row keeps in ``_row`` the file line it starts on as an
editor shows it (header = line 1; blank lines are counted, not kept), so a problem can be pointed at. Rows
with too many or too few fields are returned apart, with their line number and raw fields, for the caller
to reject.
"""

from __future__ import annotations

import csv
import gzip
import io
import stat
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.errors import DataFormatError

_SNIFF_BYTES = 1 << 16


def _open_bytes(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


_SPECIAL = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_path(path: Path) -> bool:
    """True for a folder, False for a regular file; raises :class:`DataFormatError` for a missing path and
    for anything else (a FIFO, a device such as ``/dev/null``, a socket), told from ``stat`` alone so that
    nothing is opened (reading a FIFO would block)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DataFormatError("no such file or folder", path=path) from None
    except OSError as exc:
        raise DataFormatError(f"cannot inspect the path ({exc.strerror or exc})", path=path) from None
    if stat.S_ISDIR(mode):
        return True
    if stat.S_ISREG(mode):
        return False
    kind = next((name for test, name in _SPECIAL if test(mode)), "not a regular file")
    raise DataFormatError(f"is {kind}, not a file or folder; expected a CSV file or a folder of them",
                          path=path)


def sniff(path: str | Path) -> bytes:
    """The first bytes of the (decompressed) file; raises :class:`DataFormatError` if it cannot be read,
    is empty, is binary or is not UTF-8 text."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError("no such file", path=path)
    if check_path(path):
        raise DataFormatError("is a folder; expected a CSV file", path=path)
    try:
        with _open_bytes(path) as handle:
            head = handle.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataFormatError(f"cannot read the file ({exc}); expected a CSV or gzip-compressed CSV", path=path) \
            from None
    if not head.strip():
        raise DataFormatError("file is empty; expected a CSV with a header row", path=path)
    if b"\x00" in head:
        raise DataFormatError("binary file; expected a CSV text file", path=path)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the sniff boundary
            raise DataFormatError(f"not UTF-8 text (byte {exc.start}); expected a UTF-8 CSV file",
                                  path=path) from None
    return head


def header(path: str | Path) -> list[str]:
    """The column names in the file's first row."""
    head = sniff(path)
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0]
    return [name.strip() for name in next(csv.reader([first]))]


def read_strings(path: str | Path, columns=None) -> tuple[pd.DataFrame, list[tuple[int, dict[str, str]]]]:
    """Cells as stripped strings (empty cell = ``""``), plus ``[(line, fields)]`` of rows whose number of
    fields differs from the header's.

    ``_row`` of each kept row is the file line it starts on, as an editor shows it (header = line 1; blank
    lines and quoted line breaks are counted). ``columns`` (optional) keeps only those column names. A bad
    row's ``fields`` maps each header name to the row's stripped field at that position, plus ``"_count"``
    (how many fields it has), ``"_expected"`` (how many the header has) and ``"_extra"`` (fields past the
    header's end, joined by commas).
    """
    path = Path(path)
    sniff(path)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=False,
                                on_bad_lines="skip", encoding="utf-8", encoding_errors="strict")
        except UnicodeDecodeError as exc:
            raise DataFormatError(f"not UTF-8 text ({exc.reason}); expected a UTF-8 CSV file", path=path) from None
        except pd.errors.EmptyDataError:
            raise DataFormatError("file is empty; expected a CSV with a header row", path=path) from None
        except (pd.errors.ParserError, OSError, EOFError, zlib.error, ValueError) as exc:
            raise DataFormatError(f"not a readable CSV ({str(exc).strip()})", path=path) from None
    names = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame.columns = names
    lines, counts = _record_layout(path)
    width = len(names)
    fits = counts <= width  # pandas keeps these records (short ones padded with blanks) and skips the others
    if int(fits.sum()) != len(frame):  # pandas and the csv module disagree on where records start
        lines, counts = np.arange(len(frame), dtype=np.int64) + 2, np.full(len(frame), width)
        fits = np.ones(len(frame), bool)
    rows = lines[fits]
    frame = frame.fillna("")
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    blank = (frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.zeros(len(frame), bool)
    short = (counts[fits] < width) & ~blank
    bad = [(int(line), {**dict(zip(names, values)), "_count": int(n), "_expected": width, "_extra": ""})
           for line, n, values in zip(rows[short], counts[fits][short],
                                      frame.loc[short].itertuples(index=False, name=None))]
    for line, fields in bad:  # cells past a short row's end are absent, not blank
        for name in names[fields["_count"]:]:
            fields.pop(name, None)
    if columns is not None:  # (pandas' usecols would hide rows with too many fields)
        wanted = set(columns)
        frame = frame[[c for c in frame.columns if c in wanted]]
    frame.insert(0, "_row", rows)
    frame = frame.loc[~blank & ~short].reset_index(drop=True)
    long_lines = lines[~fits].tolist()
    bad += [(line, {**fields, "_count": int(n), "_expected": width})
            for (line, fields), n in zip(_raw_lines(path, long_lines), counts[~fits])]
    return frame, sorted(bad, key=lambda item: item[0])


def _read_all(path: Path) -> bytes:
    with _open_bytes(path) as handle:
        return handle.read()


def _record_layout(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per data record (after the header): the line it starts on and its number of fields (0 = blank line).

    Without quotes or carriage returns a record is a line and its fields are its commas + 1, counted on the
    raw bytes; otherwise the csv module reads the records.
    """
    data = _read_all(path)
    if b'"' not in data and b"\r" not in data:
        buf = np.frombuffer(data, dtype=np.uint8)
        breaks = np.flatnonzero(buf == 10)
        starts = np.r_[0, breaks + 1]
        ends = np.r_[breaks, len(buf)]
        if starts[-1] == len(buf):  # the file ends with a line break
            starts, ends = starts[:-1], ends[:-1]
        commas = np.flatnonzero(buf == 44)
        counts = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
        counts[ends == starts] = 0
        return np.arange(2, len(starts) + 1, dtype=np.int64), counts[1:].astype(np.int64)
    text = io.StringIO(data.decode("utf-8", errors="replace"), newline="")
    reader = csv.reader(text)
    next(reader, None)
    lines, counts, previous = [], [], reader.line_num
    for record in reader:
        lines.append(previous + 1)
        counts.append(len(record))
        previous = reader.line_num
    return np.asarray(lines, dtype=np.int64), np.asarray(counts, dtype=np.int64)


def _raw_lines(path: Path, lines: list[int]) -> list[tuple[int, dict[str, str]]]:
    if not lines:
        return []
    names = header(path)
    wanted, out = set(lines), []
    with _open_bytes(path) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text)
        previous = 0
        for fields in reader:
            number, previous = previous + 1, reader.line_num
            if number in wanted:
                fields = [f.strip() for f in fields]
                row = dict(zip(names, fields))
                row["_extra"] = ",".join(fields[len(names):])
                out.append((number, row))
                if len(out) == len(wanted):
                    break
    return out
