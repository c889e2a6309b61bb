"""What the user typed, checked where it is read: argument types that refuse a bad value while the command line
is parsed (argparse then names the flag), and :func:`said_of`, which makes an error raised while a flag's value
is used begin with that flag."""

from __future__ import annotations

import argparse
import math
from contextlib import contextmanager

from strategist.errors import ConfigurationError, StrategistError


def whole_number(low: int, high: int):
    """An argparse type: a whole number in [``low``, ``high``]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low:,} to {high:,}, got {value:,}")
        return value
    return parse


#: A random seed: a whole number numpy and torch both take.
seed = whole_number(0, 2**32 - 1)


def fraction(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text}")
    return value


def positive(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text}")
    return value


def level(text: str) -> float:
    """An argparse type: an interval's level, strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text}")
    return value


@contextmanager
def said_of(flag: str):
    """Errors raised inside begin with ``flag`` (``--policy: policy 'bogus' is not understood; ...``), unless
    they already name it; the error keeps its class where it can be made from the message alone."""
    try:
        yield
    except StrategistError as exc:
        if flag in str(exc):
            raise
        message = f"{flag}: {exc}"
        try:
            error = type(exc)(message)
        except TypeError:                                    # a class that needs more than a message
            error = ConfigurationError(message)
        raise error from exc
