"""The demo dataset the package ships: simulated matches in ShuttleSet's layout (see data/demo/README.md)."""

from __future__ import annotations

from pathlib import Path

import strategist
from strategist.errors import DataFormatError

DEMO_FILE = "strokes.csv.gz"


def demo_dir() -> Path:
    """Folder of the shipped demo: inside the installed package, else ``data/demo`` of a source checkout."""
    package = Path(strategist.__file__).resolve().parent
    for folder in (package / "_shipped" / "demo", package.parent / "data" / "demo"):
        if (folder / DEMO_FILE).is_file():
            return folder
    raise DataFormatError("the demo dataset is missing; regenerate it with "
                          "`python -m strategist.simulate --seed 0 --matches 20 --out data/demo`",
                          path=package / "_shipped" / "demo")


def demo_path() -> Path:
    """Path of the demo's strokes file (``strokes.csv.gz``; ``matches.csv`` lies beside it)."""
    return demo_dir() / DEMO_FILE
