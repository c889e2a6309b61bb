"""Real data the package ships: ShuttleSet's 94 elite badminton singles matches (MIT; see data/shuttleset/)."""

from __future__ import annotations

from pathlib import Path

from strategist.resources import shipped_path

SHUTTLESET_FILE = "strokes.csv.gz"


def shuttleset_dir() -> Path:
    """Folder of the shipped ShuttleSet copy (strokes, match lists, homographies, LICENSE)."""
    return shipped_path("shuttleset", SHUTTLESET_FILE).parent


def shuttleset_path() -> Path:
    """Path of the shipped ShuttleSet strokes file (``strokes.csv.gz``; the match lists lie beside it)."""
    return shipped_path("shuttleset", SHUTTLESET_FILE)
