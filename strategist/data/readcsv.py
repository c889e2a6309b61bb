"""Read a CSV (plain or gzip) as strings, turning every way a file can be unreadable into one clear error.

Cells are stripped of surrounding white space. Each row keeps its file row number in ``_row`` (header =
row 1; blank lines are counted, not kept), so a problem can be pointed at in an editor. Rows with too many fields are returned apart, with their row
number and raw fields, for the caller to reject.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import stat
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.errors import DataFormatError

_SNIFF_BYTES = 1 << 16
_BAD_LINE = re.compile(r"line (\d+)")


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
    """Cells as stripped strings (empty cell = ``""``), plus ``[(row, fields)]`` of rows with too many fields.

    ``columns`` (optional) keeps only those column names. A bad row's ``fields`` maps each header
    name to the row's stripped field at that position (``""`` past the header's end is dropped: the extra
    fields are under ``"_extra"``, joined by commas).
    """
    path = Path(path)
    sniff(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=False,
                                on_bad_lines="warn", encoding="utf-8", encoding_errors="strict")
        except UnicodeDecodeError as exc:
            raise DataFormatError(f"not UTF-8 text ({exc.reason}); expected a UTF-8 CSV file", path=path) from None
        except pd.errors.EmptyDataError:
            raise DataFormatError("file is empty; expected a CSV with a header row", path=path) from None
        except (pd.errors.ParserError, OSError, EOFError, zlib.error, ValueError) as exc:
            raise DataFormatError(f"not a readable CSV ({str(exc).strip()})", path=path) from None
    bad_lines = sorted(int(m.group(1)) for w in caught for m in _BAD_LINE.finditer(str(w.message))
                       if issubclass(w.category, pd.errors.ParserWarning))
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if columns is not None:  # (pandas' usecols would hide rows with too many fields)
        wanted = set(columns)
        frame = frame[[c for c in frame.columns if c in wanted]]
    # file row of each kept data row: data row i sits on line i + 2, shifted past every skipped line
    rows = np.arange(len(frame), dtype=np.int64) + 2
    for line in bad_lines:
        rows[rows >= line] += 1
    frame = frame.fillna("")
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    blank = (frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.zeros(len(frame), bool)
    frame.insert(0, "_row", rows)
    frame = frame.loc[~blank].reset_index(drop=True)
    return frame, _raw_lines(path, bad_lines)


def _raw_lines(path: Path, lines: list[int]) -> list[tuple[int, dict[str, str]]]:
    if not lines:
        return []
    names = header(path)
    wanted, out = set(lines), []
    with _open_bytes(path) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
        for number, line in enumerate(text, start=1):
            if number in wanted:
                fields = [f.strip() for f in next(csv.reader([line]), [])]
                row = dict(zip(names, fields))
                row["_extra"] = ",".join(fields[len(names):])
                out.append((number, row))
                if len(out) == len(wanted):
                    break
    return out
