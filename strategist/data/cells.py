"""Parse columns of string cells into typed values, reporting which cells did not parse.

Cells arrive stripped (see :mod:`strategist.data.readcsv`); the empty string is a blank cell. Every
function returns ``(values, bad)`` where ``bad`` marks non-blank cells that are not of the expected kind
(blank cells are never bad here; required fields check blanks themselves).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

try:  # pandas' Arrow-backed strings convert to numbers far faster through Arrow's own kernels
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - pandas without pyarrow
    pa = pc = None


def blank(cells: pd.Series) -> np.ndarray:
    """Mask of empty cells."""
    return (cells == "").to_numpy(dtype=bool, na_value=True)


def _arrow_floats(cells: pd.Series) -> np.ndarray | None:
    """Floats through Arrow (blank -> NaN), or None when the cells are not Arrow strings or do not all parse."""
    to_arrow = getattr(cells.array, "__arrow_array__", None)
    if pc is None or to_arrow is None:
        return None
    arr = to_arrow()
    try:
        nulled = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        return pc.cast(nulled, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        return None


def to_float(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Floats (NaN for blanks); bad = non-blank cells that are not finite numbers."""
    empty = blank(cells)
    values = _arrow_floats(cells)
    if values is None:
        values = pd.to_numeric(cells.where(~empty), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = np.asarray(values, dtype=float)
    bad = (np.isnan(values) & ~empty) | np.isinf(values)
    return np.where(bad, np.nan, values), bad


#: Largest whole number a cell may hold (a set, rally, stroke, score or count beyond it is not a value: a
#: larger one would not fit the table's 64-bit integers, or would be absurd, e.g. a score of 1e308).
MAX_INT = 1_000_000_000


def int_range(minimum: int, maximum: int = MAX_INT) -> str:
    """What :func:`to_int` accepts, in words: ``an integer from 1 to 1,000,000,000``."""
    return f"an integer from {minimum} to {maximum:,}"


def to_int(cells: pd.Series, *, minimum: int | None = None, maximum: int = MAX_INT) -> tuple[pd.Series, np.ndarray]:
    """Nullable integers; ``"3"`` and ``"3.0"`` both read 3. Bad = non-integral, below ``minimum`` or above
    ``maximum`` (default :data:`MAX_INT`)."""
    floats, bad = to_float(cells)
    with np.errstate(invalid="ignore"):
        ok = np.isnan(floats) | ((np.floor(floats) == floats) & (np.abs(floats) <= maximum))
        if minimum is not None:
            ok &= np.isnan(floats) | (floats >= minimum)
    bad = bad | ~ok
    floats = np.where(bad, np.nan, floats)
    return pd.Series(pd.array(floats, dtype="Float64").astype("Int64"), index=cells.index), bad


def to_label(cells: pd.Series, table: dict[str, str]) -> tuple[pd.Series, np.ndarray]:
    """Map cells through ``table``; bad = non-blank cells not in the table."""
    values = cells.map(table)
    bad = values.isna().to_numpy() & ~blank(cells)
    return values.astype("string"), bad


def to_code(cells: pd.Series, codes) -> tuple[pd.Series, np.ndarray]:
    """Area-like codes kept as strings: ``"3.0"`` reads ``"3"``; bad = non-blank cells not in ``codes``."""
    codes = list(codes)
    empty = blank(cells)
    ok = cells.isin(codes).to_numpy() | empty
    if not ok.all():  # only then look for the "3.0" spelling
        cells = cells.where(ok, cells.str.replace(r"^(\d+)\.0+$", r"\1", regex=True))
        ok = cells.isin(codes).to_numpy() | empty
    return cells.where(ok & ~empty).astype("string"), ~ok


def to_flag(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """0/1 flags (``"1"``, ``"1.0"``, blank = 0); bad = anything else."""
    values, bad = to_float(cells)
    ok = np.isnan(values) | (values == 0) | (values == 1)
    return np.nan_to_num(values) == 1, bad | ~ok
