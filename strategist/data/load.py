"""``load_rallies``: any supported file or folder -> the canonical stroke table and a rejection report.

The layout is detected from the files' columns (or given); the sport follows from the layout (the
canonical layout names it in its ``sport`` column). In the default mode a bad rally is skipped whole and
reported; with ``strict=True`` the first bad value raises :class:`DataFormatError` naming file, line and
field. A missing file, an unreadable or empty file, an
unknown layout and a missing required column raise in both modes, and so does a load that would keep no
rally at all (header only, or every rally rejected): :class:`NoUsableDataError`, with the rejection counts.
Each file is capped while it is read (:class:`~strategist.data.readcsv.ReadLimits`: 300 MB decompressed and
2,000,000 data lines by default), and so is a rally's length (:data:`strategist.data.order.MAX_STROKES`).

A folder may hold the shot vocabulary its data are tagged with: one sport file (a ``.toml``, or a ``.json``
with an ``extends`` field; :mod:`strategist.sports.sportfile`) beside the data files is read and used as
``sport`` when none is given (:func:`folder_sport_file`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from strategist.data import canonical, mcp, shuttleset, tennis_pbp
from strategist.data.detect import LAYOUTS, detect
from strategist.data.readcsv import ReadLimits
from strategist.data.rejections import RejectionReport
from strategist.data.schema import validate
from strategist.errors import ConfigurationError, DataFormatError, NoUsableDataError
from strategist.sports import Sport, get_sport

_LOADERS = {
    shuttleset.LAYOUT: shuttleset.load_strokes,
    shuttleset.LAYOUT_SETS: shuttleset.load_sets,
    tennis_pbp.LAYOUT: tennis_pbp.load_points,
    mcp.LAYOUT: mcp.load_points,
    canonical.LAYOUT: canonical.load_canonical,
}


@dataclass(frozen=True)
class LoadResult:
    """A loaded table with its rejection report; unpacks as ``table, rejections = load_rallies(...)``."""

    table: pd.DataFrame
    rejections: RejectionReport
    sport: Sport
    layout: str
    paths: tuple[Path, ...] = ()
    cache_key: str | None = None     # the entry of :mod:`strategist.data.cache` that holds it, if any

    def __iter__(self):
        yield self.table
        yield self.rejections


def load_rallies(path, sport: str | Sport | None = None, layout: str | None = None,
                 strict: bool = False, *, limits: ReadLimits | None = None) -> LoadResult:
    """Load rally data from ``path`` (a file or a folder) into the canonical table.

    ``sport`` (name or :class:`Sport`) checks that the data are of that sport; ``layout`` (one of
    :data:`strategist.data.detect.LAYOUTS`) skips detection. ``limits`` caps each file while it is read
    (default: 300 MB decompressed and 2,000,000 data lines, :mod:`strategist.data.readcsv`). Returns a
    :class:`LoadResult`.
    """
    if sport is None and Path(path).is_dir():
        sport = folder_sport_file(path)
    wanted = get_sport(sport) if sport is not None else None
    name, files = detect(path, layout)
    any_sport = LAYOUTS[name].sport == canonical.SPORT          # the canonical layout: the file says
    found = None if any_sport else get_sport(LAYOUTS[name].sport)
    if found is not None and wanted is not None and wanted.name != found.name:
        raise ConfigurationError(f"{path}: holds {found.name} data ({name} layout), not {wanted.name}")
    table, report = _LOADERS[name](files, strict=strict, limits=limits)
    if table.empty:
        raise NoUsableDataError(_nothing_usable(report, name, files), path=path)
    if found is None:
        found = get_sport(str(table["sport"].iat[0]))
        if wanted is not None and wanted.name != found.name:
            raise ConfigurationError(f"{path}: holds {found.name} data ({name} layout), not {wanted.name}")
    validate(table, where=str(path))
    return LoadResult(table=table, rejections=report, sport=found, layout=name, paths=tuple(files))


def folder_sport_file(folder) -> Path | None:
    """The sport file among a folder's files (not its subfolders): a ``.toml`` file, or a ``.json`` file whose
    object has an ``extends`` field (other JSON files, such as a simulator's parameters, are not sport files);
    None without one. Two or more are refused: which vocabulary the data use would be a guess."""
    import json

    from strategist.sports.sportfile import MAX_FILE_BYTES

    found = []
    for file in sorted(Path(folder).iterdir()):
        suffix = file.suffix.lower()
        if not file.is_file() or file.name.startswith(".") or suffix not in (".toml", ".json"):
            continue
        if suffix == ".json":
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    continue
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            if not isinstance(data, dict) or "extends" not in data:
                continue
        found.append(file)
    if len(found) > 1:
        raise DataFormatError(f"{len(found)} sport files ({', '.join(f.name for f in found)}); keep the one the "
                              "data are tagged with", path=folder)
    return found[0] if found else None


def _nothing_usable(report: RejectionReport, layout: str, files) -> str:
    """Why a load kept no rally: no data rows, or every row rejected (with the commonest reasons)."""
    if report.rows_read == 0:
        text = "no usable rally: the file has a header row but no data rows" if len(files) == 1 else \
            "no usable rally: the files have header rows but no data rows"
    else:
        reasons = sorted(report.counts.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{reason}: {n:,}" for reason, n in reasons[:4]) + (", ..." if len(reasons) > 4 else "")
        every = "all " if report.rows_rejected == report.rows_read else ""
        text = (f"no usable rally: {every}{report.rows_rejected:,} of {report.rows_read:,} rows rejected "
                f"({report.rallies_rejected:,} rallies; {shown})")
    hint = shuttleset.track2_hint(files) if layout in (shuttleset.LAYOUT, shuttleset.LAYOUT_SETS) else None
    return f"{text}; {hint}" if hint else text
