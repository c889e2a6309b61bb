"""Files the package ships (``data/`` in the source tree, ``strategist/_shipped`` once installed)."""

from __future__ import annotations

from pathlib import Path

import strategist
from strategist.errors import DataFormatError

_PACKAGE = Path(strategist.__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "_shipped", _PACKAGE.parent / "data")


def shipped_path(*parts: str) -> Path:
    """Path of a shipped file, e.g. ``shipped_path("examples", "evert_navratilova.csv")``."""
    for root in _CANDIDATES:
        path = root.joinpath(*parts)
        if path.exists():
            return path
    raise DataFormatError("shipped file not found; the installation may be incomplete",
                          path="/".join(parts))


def default_game_path() -> Path:
    """The example game ``strategist solve`` uses when no file is given."""
    return shipped_path("examples", "evert_navratilova.csv")
