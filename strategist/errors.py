"""Every error strategist raises derives from :class:`StrategistError`.

Messages say what was wrong, where (file, row, column, field) and what was expected.
"""

from __future__ import annotations


class StrategistError(Exception):
    """Base class of every error raised by strategist."""


class InvalidGameError(StrategistError, ValueError):
    """A payoff matrix, label set or strategy is malformed."""


class InvalidStrategyError(InvalidGameError):
    """A mixed strategy is not a probability vector of the right length."""


class SolverError(StrategistError, RuntimeError):
    """A solver failed, or its certificate did not verify."""


class ComputationLimitError(SolverError):
    """A requested computation would exceed the configured work limit."""


class DataFormatError(StrategistError, ValueError):
    """An input file or table does not have the expected layout or values."""

    def __init__(self, message: str, *, path=None, row=None, field=None, line=None):
        # ``line`` (a line number of the file as an editor shows it, header = line 1) is shown as
        # "line N" and also kept as ``row``; ``row`` alone is shown as "row N"
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
            row = line
        elif row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        self.path, self.row, self.field, self.line = path, row, field, line
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class NoUsableDataError(DataFormatError):
    """A data file was read but holds no rally that can be used (header only, or every rally rejected)."""


class ConfigurationError(StrategistError, ValueError):
    """A sport definition or option is inconsistent."""


class ReportError(StrategistError, ValueError):
    """A match report cannot be made: no such match or player, or a table that is not a rally table."""


class EstimationError(StrategistError, ValueError):
    """A payoff estimate cannot be formed: unknown player, no data in the context, an invalid prior."""


class OpponentModelError(StrategistError, ValueError):
    """An opponent model cannot be fitted or asked: a shot outside the vocabulary, no training data, a
    model used before it is fitted."""


class CheckpointError(StrategistError, ValueError):
    """A saved model or training state cannot be loaded: a damaged or missing file, another vocabulary,
    another kind of model."""


class MatchLogError(StrategistError, RuntimeError):
    """The match log database cannot be used: corrupted, not a match log, of a newer schema, or locked."""
