"""Read a CSV (plain or gzip) as strings, turning every way a file can be unreadable into one clear error.

Cells are stripped of surrounding white space. Each row keeps in ``_row`` the file line it starts on as an
editor shows it (header = line 1; blank lines are counted, not kept), so a problem can be pointed at. Rows
with too many or too few fields are returned apart, with their line number and raw fields, for the caller
to reject.

A file is read once, in chunks, before anything parses it: its decompressed size and its number of lines
are capped *while it streams* (:class:`ReadLimits`; by default :data:`MAX_BYTES` = 300 MB and
:data:`MAX_ROWS` = 2,000,000 data lines per file), so a small ``.csv.gz`` that unpacks to gigabytes is
refused after reading at most the cap, holding at most :data:`KEEP_BYTES` of it in memory. Only regular
files are opened (checked on the open descriptor: a FIFO, a device or ``/proc`` entry is refused).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import stat
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

try:  # Arrow's CSV reader reads a plain file several times faster than pandas; pandas reads any other
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
except ImportError:  # pragma: no cover - pandas without pyarrow
    pa = pc = pcsv = None

from strategist.errors import DataFormatError

_SNIFF_BYTES = 1 << 16
_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"

#: Most decompressed bytes one data file may hold (300 MB).
MAX_BYTES = 300_000_000
#: Most data lines (rows after the header, a quoted line break counting as a line) one data file may hold.
MAX_ROWS = 2_000_000
#: Files that decompress to at most this many bytes are parsed from memory; larger ones are read again.
KEEP_BYTES = 64_000_000


@dataclass(frozen=True)
class ReadLimits:
    """Caps on one data file, checked while it is read: ``max_bytes`` decompressed, ``max_rows`` data lines."""

    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS

    def __post_init__(self):
        for name in ("max_bytes", "max_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DataFormatError(f"{name} must be a positive whole number, got {value!r}")


def limits_or_default(limits: ReadLimits | None) -> ReadLimits:
    """``limits``, or the module's caps as they are now (:data:`MAX_BYTES`, :data:`MAX_ROWS`)."""
    return limits if limits is not None else ReadLimits(MAX_BYTES, MAX_ROWS)


_SPECIAL = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _SPECIAL if test(mode)), "not a regular file")


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
    raise DataFormatError(f"is {_kind(mode)}, not a file or folder; expected a CSV file or a folder of them",
                          path=path)


def _open_bytes(path: Path):
    """The file's (decompressed) bytes as a binary stream; opened without blocking and checked to be a
    regular file on the open descriptor, so a path swapped for a FIFO or device after a check is refused."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise DataFormatError("no such file", path=path) from None
    except IsADirectoryError:
        raise DataFormatError("is a folder; expected a CSV file", path=path) from None
    except OSError as exc:
        raise DataFormatError(f"cannot open the file ({exc.strerror or exc})", path=path) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise DataFormatError(f"is {_kind(mode)}; expected a CSV file", path=path)
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return _Gzip(handle) if path.suffix == ".gz" else handle


class _Gzip(gzip.GzipFile):
    """A gzip stream over an open file that closes the file with it."""

    def __init__(self, handle):
        super().__init__(fileobj=handle, mode="rb")
        self._handle = handle

    def close(self):
        try:
            super().close()
        finally:
            self._handle.close()


_UNREADABLE = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError


def _unreadable(path: Path, exc: Exception) -> DataFormatError:
    return DataFormatError(f"cannot read the file ({exc}); expected a CSV or gzip-compressed CSV", path=path)


def sniff(path: str | Path) -> bytes:
    """The first bytes of the (decompressed) file; raises :class:`DataFormatError` if it cannot be read,
    is empty (a byte-order mark and white space count as empty), is binary or is not UTF-8 text."""
    path = Path(path)
    if check_path(path):
        raise DataFormatError("is a folder; expected a CSV file", path=path)
    try:
        with _open_bytes(path) as handle:
            head = handle.read(_SNIFF_BYTES)
    except _UNREADABLE as exc:
        raise _unreadable(path, exc) from None
    body = head[len(_BOM):] if head.startswith(_BOM) else head
    if not body.strip():
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
    lines = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()
    if not lines or not lines[0].strip():
        raise DataFormatError("the first line is blank; expected a header row of column names", path=path)
    try:
        first = next(csv.reader([lines[0]]), [])
    except csv.Error as exc:
        raise DataFormatError(f"cannot read the header row ({exc})", path=path) from None
    return [name.strip() for name in first]


# -- reading the whole file once, capped -------------------------------------------------------------------
@dataclass
class _Scan:
    """What one capped pass over a file found: its bytes (when small enough to keep), whether it has quotes
    or carriage returns, and per line its end offset and the commas before that end."""

    data: bytes | None
    quoted: bool
    ends: np.ndarray
    commas: np.ndarray
    size: int


def _scan(path: Path, limits: ReadLimits) -> _Scan:
    """Read the file once in chunks, refusing it as soon as it passes a cap; see the module docstring."""
    kept: list[bytes] | None = []
    ends, commas = [], []
    size = lines = comma_total = 0
    quoted = False
    try:
        with _open_bytes(path) as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                buf = np.frombuffer(chunk, dtype=np.uint8)
                breaks = np.flatnonzero(buf == 10)
                lines += len(breaks)
                if lines > limits.max_rows + 1:
                    raise DataFormatError(f"has more than {limits.max_rows:,} data lines, the limit for one data "
                                          "file; split it or raise the row limit", path=path)
                comma_at = np.flatnonzero(buf == 44)
                ends.append(breaks + size)
                commas.append(np.searchsorted(comma_at, breaks) + comma_total)
                comma_total += len(comma_at)
                quoted = quoted or b'"' in chunk or b"\r" in chunk
                size += len(chunk)
                if size > limits.max_bytes:
                    raise DataFormatError(f"holds more than {limits.max_bytes / 1e6:,.0f} MB of text "
                                          f"(decompressed), the limit for one data file; refused after reading "
                                          f"{size / 1e6:,.0f} MB", path=path)
                if kept is not None:
                    kept.append(chunk)
                    if size > KEEP_BYTES:
                        kept = None
    except _UNREADABLE as exc:
        raise _unreadable(path, exc) from None
    ends.append(np.array([size], dtype=np.int64))
    commas.append(np.array([comma_total], dtype=np.int64))
    return _Scan(None if kept is None else b"".join(kept), quoted, np.concatenate(ends).astype(np.int64),
                 np.concatenate(commas).astype(np.int64), size)


def _record_layout(scan: _Scan, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per data record (after the header): the line it starts on and its number of fields (0 = blank line).

    Without quotes or carriage returns a record is a line and its fields are its commas + 1, counted on the
    raw bytes while the file was read; otherwise the csv module reads the records.
    """
    if not scan.quoted:
        ends, commas = scan.ends, scan.commas
        if len(ends) > 1 and ends[-2] == scan.size - 1:  # the file ends with a line break
            ends, commas = ends[:-1], commas[:-1]
        starts = np.r_[0, ends[:-1] + 1]
        counts = np.diff(np.r_[0, commas]) + 1  # commas before each line's end, differenced, + 1
        counts[ends == starts] = 0
        return np.arange(2, len(starts) + 1, dtype=np.int64), counts[1:].astype(np.int64)
    lines, counts = [], []
    with _text(scan, path) as text:
        reader = csv.reader(text)
        try:
            next(reader, None)
            previous = reader.line_num
            for record in reader:
                lines.append(previous + 1)
                counts.append(len(record))
                previous = reader.line_num
        except csv.Error as exc:
            raise DataFormatError(f"not a readable CSV ({exc}) near line {reader.line_num}", path=path) from None
    return np.asarray(lines, dtype=np.int64), np.asarray(counts, dtype=np.int64)


def _text(scan: _Scan, path: Path):
    """The file as text, from the kept bytes or read again (undecodable bytes replaced)."""
    if scan.data is not None:
        return io.StringIO(scan.data.decode("utf-8", errors="replace"), newline="")
    return io.TextIOWrapper(_open_bytes(path), encoding="utf-8", errors="replace", newline="")


def _plain_names(scan: _Scan, counts: np.ndarray) -> list[str] | None:
    """The header's names when Arrow's CSV reader reads the file exactly as pandas does: the file is in memory,
    has no quotes, carriage returns or NUL bytes, every data line has the header's number of fields (so no
    blank, short or long line) and the names are distinct and non-empty; otherwise None."""
    if pcsv is None or scan.data is None or scan.quoted or b"\x00" in scan.data:
        return None
    first = scan.data[: int(scan.ends[0])].decode("utf-8", errors="replace").split(",")
    names = [name.strip().lstrip("\ufeff").strip() for name in first]
    if len(set(names)) != len(names) or "" in names or not (counts == len(names)).all():
        return None
    return first


#: The characters Python's ``str.strip`` removes (every ``c`` with ``c.isspace()``), as code points.
SPACE_CODES = (0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
               0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
_SPACE = "".join(map(chr, SPACE_CODES))


def _parse_arrow(scan: _Scan, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The plain file (see :func:`_plain_names`) read by Arrow, every column as text stripped as ``str.strip``
    strips it, and which rows are blank; None if Arrow refuses it (e.g. text that is not UTF-8), for pandas to
    read instead."""
    try:
        table = pcsv.read_csv(io.BytesIO(scan.data),
                              read_options=pcsv.ReadOptions(column_names=columns, skip_rows=1, use_threads=False,
                                                            block_size=max(1 << 20, min(scan.size + 1, 1 << 26))),
                              convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                                  strings_can_be_null=False,
                                                                  quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    stripped = [pc.utf8_trim(column, characters=_SPACE) for column in table.columns]
    blank = np.ones(table.num_rows, dtype=bool)
    for column in stripped:
        blank &= pc.equal(column, "").to_numpy(zero_copy_only=False)
    return pa.Table.from_arrays(stripped, names=table.column_names).to_pandas(), blank


def _parse(scan: _Scan, path: Path) -> pd.DataFrame:
    source = io.BytesIO(scan.data) if scan.data is not None else path
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            return pd.read_csv(source, dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=False,
                               on_bad_lines="skip", encoding="utf-8", encoding_errors="strict",
                               compression=None if scan.data is not None else "infer", engine="c")
        except UnicodeDecodeError as exc:
            raise DataFormatError(f"not UTF-8 text ({exc.reason}); expected a UTF-8 CSV file", path=path) from None
        except pd.errors.EmptyDataError:
            raise DataFormatError("file is empty; expected a CSV with a header row", path=path) from None
        except (pd.errors.ParserError, *_UNREADABLE, ValueError, OverflowError, MemoryError) as exc:
            raise DataFormatError(f"not a readable CSV ({str(exc).strip()})", path=path) from None


def read_strings(path: str | Path, columns=None, *, limits: ReadLimits | None = None
                 ) -> tuple[pd.DataFrame, list[tuple[int, dict[str, str]]]]:
    """Cells as stripped strings (empty cell = ``""``), plus ``[(line, fields)]`` of rows whose number of
    fields differs from the header's.

    ``_row`` of each kept row is the file line it starts on, as an editor shows it (header = line 1; blank
    lines and quoted line breaks are counted). ``columns`` (optional) keeps only those column names. A bad
    row's ``fields`` maps each header name to the row's stripped field at that position, plus ``"_count"``
    (how many fields it has), ``"_expected"`` (how many the header has) and ``"_extra"`` (fields past the
    header's end, joined by commas). ``limits`` caps the file (default: :data:`MAX_BYTES`, :data:`MAX_ROWS`).
    """
    path = Path(path)
    sniff(path)
    scan = _scan(path, limits_or_default(limits))
    lines, counts = _record_layout(scan, path)
    plain = _plain_names(scan, counts)
    parsed = _parse_arrow(scan, plain) if plain is not None else None
    frame, blank = parsed if parsed is not None else (_parse(scan, path), None)
    names = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame.columns = names
    width = len(names)
    fits = counts <= width  # pandas keeps these records (short ones padded with blanks) and skips the others
    if int(fits.sum()) != len(frame):  # pandas and the csv module disagree on where records start
        lines, counts = np.arange(len(frame), dtype=np.int64) + 2, np.full(len(frame), width)
        fits = np.ones(len(frame), bool)
    rows = lines[fits]
    if blank is None:                     # read by pandas: every cell stripped here
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
            for (line, fields), n in zip(_raw_lines(scan, path, names, long_lines), counts[~fits])]
    return frame, sorted(bad, key=lambda item: item[0])


def _raw_lines(scan: _Scan, path: Path, names: list[str], lines: list[int]) -> list[tuple[int, dict[str, str]]]:
    if not lines:
        return []
    wanted, out = set(lines), []
    with _text(scan, path) as text:
        reader = csv.reader(text)
        previous = 0
        try:
            for fields in reader:
                number, previous = previous + 1, reader.line_num
                if number in wanted:
                    fields = [f.strip() for f in fields]
                    row = dict(zip(names, fields))
                    row["_extra"] = ",".join(fields[len(names):])
                    out.append((number, row))
                    if len(out) == len(wanted):
                        break
        except csv.Error as exc:
            raise DataFormatError(f"not a readable CSV ({exc}) near line {reader.line_num}", path=path) from None
    return out
