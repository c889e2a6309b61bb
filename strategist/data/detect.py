"""Which layout a file or folder holds, told from the column names in the files' header rows.

A file's layout is the one whose signature columns it shares most (all but two of them, and at least
three; the loader then names any required column still missing). A folder's layout is that of the data files directly in it
(metadata files such as match lists match no layout), or of ``set<k>.csv`` files one level down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from strategist.data import canonical, mcp, shuttleset, tennis_pbp
from strategist.data.readcsv import check_path, header
from strategist.errors import DataFormatError


@dataclass(frozen=True)
class Layout:
    """A source layout: its sport, the columns that identify it and a one-line description."""

    name: str
    sport: str
    signature: frozenset[str]
    description: str


LAYOUTS: dict[str, Layout] = {
    shuttleset.LAYOUT: Layout(shuttleset.LAYOUT, "badminton",
                              frozenset({"match_id", "set", "rally", "ball_round", "player", "type"}),
                              "ShuttleSet strokes.csv(.gz): one row per stroke, with match_id and set"),
    shuttleset.LAYOUT_SETS: Layout(shuttleset.LAYOUT_SETS, "badminton",
                                   frozenset({"rally", "ball_round", "player", "type", "roundscore_A"}),
                                   "ShuttleSet upstream set/<match>/set<k>.csv files with set/match.csv"),
    tennis_pbp.LAYOUT: Layout(tennis_pbp.LAYOUT, "tennis",
                              frozenset({"PointNumber", "PointServer", "PointWinner", "Serve_Direction",
                                         "P1FirstSrvIn"}),
                              "Grand Slam point-by-point <event>-points.csv(.gz) with <event>-matches.csv"),
    mcp.LAYOUT: Layout(mcp.LAYOUT, "tennis", frozenset({"1st", "2nd", "PtWinner", "Svr", "Pt"}),
                       "Match Charting Project points files (1st/2nd shot codes)"),
}

LAYOUTS[canonical.LAYOUT] = canonical.layout_entry(Layout)

_DATA_SUFFIXES = (".csv", ".csv.gz")


def _is_data_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(_DATA_SUFFIXES)


def layout_of_file(path: Path) -> str | None:
    """Best-matching layout of one CSV file by its header (ties go to the first listed), or None."""
    columns = set(header(path))
    scores = {name: len(layout.signature & columns) for name, layout in LAYOUTS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= max(3, len(LAYOUTS[best].signature) - 2) else None


def detect(path, layout: str | None = None) -> tuple[str, list[Path]]:
    """``(layout, files)`` of a file or folder; ``layout`` forces the layout (files are still found)."""
    path = Path(path)
    if layout is not None and layout not in LAYOUTS:
        raise DataFormatError(f"unknown layout {layout!r}; expected one of {sorted(LAYOUTS)}", path=path)
    if not check_path(path):  # a regular file (FIFOs, devices and sockets raise here, unopened)
        if layout is None:
            layout = layout_of_file(path)
        if layout is None and shuttleset.track2_hint([path]):
            raise DataFormatError(f"unrecognised layout: {shuttleset.track2_hint([path])}", path=path)
        if layout is None:
            raise DataFormatError(f"unrecognised layout (columns {header(path)[:8]}...); expected one of: "
                                  + "; ".join(l.description for l in LAYOUTS.values()), path=path)
        return layout, [path]
    found: dict[str, list[Path]] = {}
    try:
        entries = sorted(p for p in path.iterdir() if _is_data_file(p))
    except OSError as exc:
        raise DataFormatError(f"cannot list the folder ({exc.strerror or exc})", path=path) from None
    for file in entries:
        try:
            name = layout_of_file(file)
        except DataFormatError:
            continue  # an unreadable file in a folder is not the folder's data
        if name is not None:
            found.setdefault(name, []).append(file)
    try:
        if not found and shuttleset.set_files(path):
            found[shuttleset.LAYOUT_SETS] = [path]
    except OSError as exc:
        raise DataFormatError(f"cannot list the folder ({exc.strerror or exc})", path=path) from None
    if layout is not None:
        if layout not in found:
            raise DataFormatError(f"holds no {layout} files ({LAYOUTS[layout].description})", path=path)
        return layout, found[layout]
    if not found:
        raise DataFormatError("no data files of a known layout in this folder; expected one of: "
                              + "; ".join(l.description for l in LAYOUTS.values()), path=path)
    if len(found) > 1:
        raise DataFormatError(f"holds files of several layouts {sorted(found)}; pass layout= or one file",
                              path=path)
    return next(iter(found.items()))
