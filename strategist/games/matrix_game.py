"""A two-player matrix game with labelled actions.

Rows are the actions of the player we advise (the hitter), columns those of the opponent. ``payoffs[i, j]``
is the row player's payoff — for a rally, the hitter's probability of winning it — when row action ``i``
meets column action ``j``. Win-probability matrices are constant-sum (the opponent receives ``1 - A``);
every zero-sum routine treats them as the zero-sum game ``A`` versus ``-A``, which has the same equilibria.
"""

from __future__ import annotations

import csv
import math
import numbers
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from strategist.errors import DataFormatError, InvalidGameError, InvalidStrategyError


def _labels(labels: Iterable[Any] | None, size: int, prefix: str, what: str) -> tuple[str, ...]:
    if labels is None:
        return tuple(f"{prefix}{i + 1}" for i in range(size))
    out = tuple(str(label) for label in labels)
    if len(out) != size:
        raise InvalidGameError(f"{what}: got {len(out)} labels for {size} actions; expected one label per action")
    seen: set[str] = set()
    for label in out:
        if label in seen:
            raise InvalidGameError(f"{what}: duplicate label {label!r}; expected unique action labels")
        seen.add(label)
    return out


def _numeric_matrix(data: Any, what: str = "payoffs") -> np.ndarray:
    """Convert nested lists / arrays to a finite 2-D float64 array, naming the first bad cell."""
    if isinstance(data, np.ndarray) and data.dtype.kind == "b":
        # the same rule as a nested list of Python booleans: True/False are not payoffs
        raise InvalidGameError(f"{what}: got an array of booleans; expected numbers (convert with "
                               ".astype(float) if 0/1 payoffs are meant)")
    if isinstance(data, np.ndarray) and data.dtype.kind in "iuf":
        arr = np.array(data, dtype=np.float64)
    else:
        rows = data.tolist() if isinstance(data, np.ndarray) else data
        if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
            raise InvalidGameError(f"{what}: expected a 2-D matrix (rows of numbers), got {type(data).__name__}")
        if len(rows) == 0:
            raise InvalidGameError(f"{what}: the matrix is empty; expected at least one row and one column")
        width = None
        for i, row in enumerate(rows):
            if isinstance(row, (str, bytes)) or not isinstance(row, (Sequence, np.ndarray)):
                raise InvalidGameError(f"{what}: row {i} is {row!r}, not a row of numbers; expected a 2-D matrix")
            if width is None:
                width = len(row)
            elif len(row) != width:
                raise InvalidGameError(
                    f"{what}: row {i} has {len(row)} entries but row 0 has {width}; expected a rectangular matrix")
            for j, cell in enumerate(row):
                if isinstance(cell, (bool, np.bool_)) or not isinstance(cell, (numbers.Real, np.number)):
                    raise InvalidGameError(f"{what}: cell ({i}, {j}) is {cell!r}; expected a finite number")
        arr = np.array(rows, dtype=np.float64)
    if arr.ndim != 2:
        raise InvalidGameError(f"{what}: expected a 2-D matrix, got an array with {arr.ndim} dimension(s)")
    if arr.size == 0:
        raise InvalidGameError(f"{what}: the matrix is empty (shape {arr.shape}); expected at least one row "
                               "and one column")
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise InvalidGameError(f"{what}: cell ({i}, {j}) is {arr[i, j]}; expected a finite number")
    return arr


def check_player(player: Any) -> str:
    """``player`` itself if it is 'row' or 'column'; :class:`InvalidGameError` otherwise."""
    if not isinstance(player, str) or player not in ("row", "column"):
        raise InvalidGameError(f"player must be 'row' or 'column', got {player!r}")
    return player


def check_tolerance(tol: Any, name: str = "tol", *, zero: bool = False) -> float:
    """``tol`` as a float if it is a finite number in (0, 1) (a fraction of the payoff range; 0 too when
    ``zero``); :class:`InvalidGameError` otherwise (NaN would switch a check off, 1 or more would accept anything)."""
    low_ok = (lambda t: t >= 0.0) if zero else (lambda t: t > 0.0)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not (low_ok(float(tol)) and float(tol) < 1.0):
        interval = "[0, 1)" if zero else "(0, 1)"
        raise InvalidGameError(f"{name}: got {tol!r}; expected a number in {interval}, a fraction of the payoff "
                               "range")
    return float(tol)


def payoff_range(payoffs: np.ndarray) -> tuple[float, float]:
    """``(low, span)`` of a finite matrix; ``span`` is 1 for a constant matrix and may be ``inf`` when
    max − min overflows (payoffs near ±1e308)."""
    low, high = float(payoffs.min()), float(payoffs.max())
    with np.errstate(over="ignore"):
        span = high - low
    return low, (span if span > 0 else 1.0)


@dataclass(frozen=True)
class UnitScale:
    """Payoffs rescaled to [0, 1] without overflow: ``unit = (payoffs − low) / span``.

    Every step divides by ``size`` = max|payoffs| first, so matrices with entries near ±1e308 (whose range
    max − min overflows) are rescaled as exactly as any other; :meth:`to_units` maps back.
    """

    unit: np.ndarray
    size: float         # max |payoffs| (1 for the zero matrix)
    low: float          # min(payoffs) / size
    span: float         # (max − min) / size, in (0, 2]; 1 for a constant matrix
    constant: bool

    @classmethod
    def of(cls, payoffs: np.ndarray) -> "UnitScale":
        size = float(np.abs(payoffs).max())
        size = size if size > 0 else 1.0
        shrunk = payoffs / size
        low = float(shrunk.min())
        span = float(shrunk.max()) - low
        constant = not span > 0
        span = span if span > 0 else 1.0
        return cls((shrunk - low) / span, size, low, span, constant)

    def to_units(self, t):
        """Payoffs in the original units of values ``t`` on the [0, 1] scale: min + t·(max − min), inside
        [min, max] for t in [0, 1] (a constant matrix c, whose unit values are all 0, maps t to c + t·|c|)."""
        return (self.low + self.span * np.asarray(t, dtype=np.float64)) * self.size

    def width(self, t):
        """A difference ``t`` on the [0, 1] scale in the original units, t·(max − min): inf where that exceeds
        the largest float (t beyond 1, or t near 1 for payoffs near ±1e308)."""
        with np.errstate(over="ignore"):
            return self.span * np.asarray(t, dtype=np.float64) * self.size


class CsvNote(UserWarning):
    """Something the reader of a CSV file assumed (e.g. no labels): worth telling the user, not an error."""


_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _read_regular_file(path: Path) -> str:
    """The text of a regular file; anything else (directory, FIFO, device) is refused before it is opened."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DataFormatError("file not found; expected a CSV payoff matrix", path=path) from None
    except OSError as exc:
        raise DataFormatError(f"cannot read ({exc.strerror or exc.__class__.__name__}); expected a CSV payoff "
                              "matrix", path=path) from None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO (named pipe)" if
                stat.S_ISFIFO(info.st_mode) else "a character device" if stat.S_ISCHR(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "a block device" if stat.S_ISBLK(info.st_mode)
                else "not a regular file")
        raise DataFormatError(f"is {kind}; expected a regular CSV file holding a payoff matrix", path=path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise DataFormatError(f"cannot read as UTF-8 text ({exc.__class__.__name__}); expected a CSV "
                              "payoff matrix", path=path) from None


def _delimiter(text: str) -> str:
    """Comma, semicolon or tab: the first that splits every non-blank line into the same number (> 1) of
    fields; else the one that splits the first line most; comma when nothing splits."""
    lines = [line for line in text.splitlines() if line.strip()][:200]
    if not lines:
        return ","
    counts = {d: [len(row) for row in csv.reader(lines, delimiter=d)] for d in _DELIMITER_NAMES}
    for d, widths in counts.items():
        if min(widths) > 1 and len(set(widths)) == 1:
            return d
    best = max(_DELIMITER_NAMES, key=lambda d: counts[d][0])
    return best if counts[best][0] > 1 else ","


def _finite(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_cells(path: Path, line: int, cells: list[str], names: list[str]) -> list[float]:
    parsed = []
    for name, cell in zip(names, cells):
        value = _finite(cell)
        if value is None:
            hint = " (decimal commas are not read: write 0.5, not 0,5)" if \
                re.fullmatch(r"\s*[-+]?\d*,\d+\s*", cell) else ""
            raise DataFormatError(f"column {name} holds {cell.strip()!r}; expected a finite number{hint}",
                                  path=path, row=line)
        parsed.append(value)
    return parsed


@dataclass(frozen=True, eq=False)
class MatrixGame:
    """A matrix game: ``payoffs`` (m × n, row player's payoff) with row and column action labels.

    Build it from an array or nested list (labels default to ``r1..rm`` / ``c1..cn``), a pandas DataFrame
    (:meth:`from_frame`: labels from index and columns) or a CSV file (:meth:`from_csv`).
    """

    payoffs: np.ndarray
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]

    def __init__(self, payoffs: Any, row_labels: Iterable[Any] | None = None,
                 column_labels: Iterable[Any] | None = None):
        arr = _numeric_matrix(payoffs)
        arr.setflags(write=False)
        object.__setattr__(self, "payoffs", arr)
        object.__setattr__(self, "row_labels", _labels(row_labels, arr.shape[0], "r", "row labels"))
        object.__setattr__(self, "column_labels", _labels(column_labels, arr.shape[1], "c", "column labels"))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frame(cls, frame) -> "MatrixGame":
        """Labels from the DataFrame's index (rows) and columns; every cell must be a finite number."""
        _labels(frame.index, len(frame.index), "r", "row labels")
        _labels(frame.columns, len(frame.columns), "c", "column labels")
        for j, column in enumerate(frame.columns):
            for i, cell in enumerate(frame.iloc[:, j].tolist()):
                if isinstance(cell, bool) or not isinstance(cell, (numbers.Real, np.number)):
                    raise InvalidGameError(
                        f"payoffs: cell at row {frame.index[i]!r}, column {column!r} is {cell!r}; "
                        "expected a finite number")
        return cls(frame.to_numpy(dtype=np.float64) if frame.size else [], frame.index, frame.columns)

    @classmethod
    def from_csv(cls, path: str | Path) -> "MatrixGame":
        """Read a CSV whose first row holds the column labels and first column the row labels.

        A file whose first row is all numbers is an unlabelled matrix: every row and column is payoffs, the
        actions are named ``r1..rm`` / ``c1..cn``, and a :class:`CsvNote` warning says so. Commas,
        semicolons and tabs are recognised as separators. Only regular files are read (a FIFO or device is
        refused without being opened). Errors name the file, the line and the column of the first bad cell.
        """
        path = Path(path)
        text = _read_regular_file(path)
        delimiter = _delimiter(text)
        lines = [row for row in csv.reader(text.splitlines(), delimiter=delimiter)]
        numbered = [(k + 1, row) for k, row in enumerate(lines) if any(cell.strip() for cell in row)]
        if not numbered:
            raise DataFormatError("file is empty; expected a header row of column labels and at least one "
                                  "row of payoffs", path=path)
        if all(_finite(cell) is not None for cell in numbered[0][1]):
            return cls._from_unlabelled(path, numbered, delimiter)
        header_line, header = numbered[0]
        columns = [cell.strip() for cell in header[1:]]
        if not columns:
            raise DataFormatError("header has no column labels; expected 'label,col1,col2,...'",
                                  path=path, row=header_line)
        for j, label in enumerate(columns):
            if not label:
                raise DataFormatError(f"column {j + 2} has an empty label; expected a column label",
                                      path=path, row=header_line)
            if columns.index(label) != j:
                raise DataFormatError(f"duplicate column label {label!r}; expected unique labels",
                                      path=path, row=header_line)
        if len(numbered) == 1:
            raise DataFormatError("no payoff rows after the header; expected at least one row",
                                  path=path, row=header_line)
        row_labels: list[str] = []
        values: list[list[float]] = []
        for line, row in numbered[1:]:
            label = row[0].strip()
            if not label:
                raise DataFormatError("empty row label; expected a label in the first column", path=path, row=line)
            if label in row_labels:
                raise DataFormatError(f"duplicate row label {label!r}; expected unique labels", path=path, row=line)
            cells = row[1:]
            if len(cells) != len(columns):
                raise DataFormatError(f"row {label!r} has {len(cells)} payoffs but the header has "
                                      f"{len(columns)} columns; expected a rectangular matrix", path=path, row=line)
            values.append(_parse_cells(path, line, cells, [repr(c) for c in columns]))
            row_labels.append(label)
        return cls(values, row_labels, columns)

    @classmethod
    def _from_unlabelled(cls, path: Path, numbered: list, delimiter: str) -> "MatrixGame":
        width = len(numbered[0][1])
        names = [str(j + 1) for j in range(width)]
        values = []
        for line, row in numbered:
            if len(row) != width:
                raise DataFormatError(f"row has {len(row)} payoffs but the first row has {width}; expected a "
                                      "rectangular matrix (the first row is numbers, so the file is read as an "
                                      "unlabelled matrix)", path=path, row=line)
            values.append(_parse_cells(path, line, row, names))
        game = cls(values)
        warnings.warn(CsvNote(
            f"{path.name}: first row is numbers: read as an unlabelled {game.shape[0]}x{game.shape[1]} matrix "
            f"(rows r1..r{game.shape[0]}, columns c1..c{game.shape[1]})"
            f"{'' if delimiter == ',' else f', {_DELIMITER_NAMES[delimiter]}-separated'}"), stacklevel=3)
        return game

    # ------------------------------------------------------------------ views
    @property
    def shape(self) -> tuple[int, int]:
        return self.payoffs.shape  # type: ignore[return-value]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.payoffs, index=list(self.row_labels), columns=list(self.column_labels))

    def scale(self) -> tuple[float, float]:
        """``(low, span)`` with ``(payoffs - low) / span`` in [0, 1]; ``span`` is 1 for a constant matrix.

        ``span`` is capped at the largest float (payoffs near ±1e308 have a range that overflows); use
        :meth:`unit` for the rescaled matrix itself.
        """
        low, span = payoff_range(self.payoffs)
        return low, min(span, float(np.finfo(np.float64).max))

    def unit(self) -> "UnitScale":
        """The payoffs rescaled to [0, 1] without overflow, and the map back to the payoffs' units."""
        return UnitScale.of(self.payoffs)

    def mix(self, strategy: np.ndarray, player: str = "row") -> dict[str, float]:
        """A strategy vector as a mapping from action label to probability."""
        check_player(player)
        labels = self.row_labels if player == "row" else self.column_labels
        return {label: float(p) for label, p in zip(labels, strategy)}

    def __repr__(self) -> str:
        return f"MatrixGame({self.shape[0]}x{self.shape[1]}, rows={list(self.row_labels)}, " \
               f"columns={list(self.column_labels)})"


class StrategyMixes:
    """``row_mix`` / ``column_mix`` of a solution that holds ``game``, ``row_strategy`` and ``column_strategy``:
    each strategy as action label -> probability (:meth:`MatrixGame.mix`)."""

    @property
    def row_mix(self) -> dict[str, float]:
        return self.game.mix(self.row_strategy, "row")

    @property
    def column_mix(self) -> dict[str, float]:
        return self.game.mix(self.column_strategy, "column")


def as_game(game: Any) -> MatrixGame:
    """Coerce a MatrixGame, DataFrame, array or nested list to a :class:`MatrixGame`."""
    if isinstance(game, MatrixGame):
        return game
    if hasattr(game, "to_numpy") and hasattr(game, "columns") and hasattr(game, "index"):
        return MatrixGame.from_frame(game)
    if isinstance(game, (str, Path)):
        return MatrixGame.from_csv(game)
    return MatrixGame(game)


def as_strategy(game: MatrixGame, strategy: Any, player: str, what: str = "strategy",
                tol: float = 1e-6) -> np.ndarray:
    """Validate a mixed strategy for ``player`` ('row' or 'column') of ``game``.

    Accepts a vector in action order or a mapping label -> probability (missing labels get 0).
    Must be finite, non-negative and sum to 1 within ``tol``; it is renormalised exactly.
    """
    check_player(player)
    labels = game.row_labels if player == "row" else game.column_labels
    if isinstance(strategy, dict):
        unknown = [k for k in strategy if str(k) not in labels]
        if unknown:
            raise InvalidStrategyError(f"{what}: unknown {player} action(s) {unknown}; expected labels from "
                                       f"{list(labels)}")
        lookup = {str(k): v for k, v in strategy.items()}
        strategy = [lookup.get(label, 0.0) for label in labels]
    try:
        vec = np.asarray(strategy, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidStrategyError(f"{what}: {strategy!r} is not a vector of probabilities") from None
    if vec.shape != (len(labels),):
        raise InvalidStrategyError(f"{what}: expected {len(labels)} probabilities for the {player} player's "
                                   f"actions {list(labels)}, got shape {vec.shape}")
    if not np.isfinite(vec).all():
        raise InvalidStrategyError(f"{what}: contains a non-finite probability; expected finite numbers")
    if (vec < -tol).any():
        raise InvalidStrategyError(f"{what}: negative probability {vec.min():g}; expected probabilities >= 0")
    total = vec.sum()
    if abs(total - 1.0) > tol:
        raise InvalidStrategyError(f"{what}: probabilities sum to {total:.6g}; expected 1")
    vec = np.clip(vec, 0.0, None)
    return vec / vec.sum()
