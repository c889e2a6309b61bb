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


def number(accepts, expected: str):
    """An argparse type: a number for which ``accepts(value)`` holds (a NaN never does); the error says
    ``expected``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not (math.isfinite(value) and accepts(value)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    return parse


#: A share or a decay: a number in [0, 1].
fraction = number(lambda v: 0.0 <= v <= 1.0, "a number from 0 to 1")
#: A learning rate, a time budget: a finite number above 0.
positive = number(lambda v: v > 0.0, "a number above 0")
#: An interval's level: strictly between 0 and 1.
level = number(lambda v: 0.0 < v < 1.0, "a number strictly between 0 and 1")


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
