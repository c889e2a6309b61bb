"""Loaded data sets kept on disk, so that a command run again on the same files does not parse them again.

:func:`cached_load` returns what :func:`strategist.data.load.load_rallies` returns. The canonical table is kept
as an Arrow IPC file compressed with zstd, with the same dtypes coming back (ShuttleSet on one core,
``benchmarks/results/load.md``: written in 0.10 s and read in 0.05 s, where Parquet takes 0.13 s and 0.04 s and
the CSV about 0.8 s to load), its load record (layout, sport, files, rejection report) as JSON in the file's
schema metadata. The key hashes the package version, the load options and every file under the data's folder
(resolved path, size, modification time), so an edited, added or removed file makes a new entry. The folder
is ``$STRATEGIST_DATA_CACHE``, else ``~/.cache/strategist/tables``; ``STRATEGIST_DATA_CACHE=off`` turns the cache
off. An entry that cannot be read is loaded again and replaced; one that cannot be written is skipped with a
warning: the cache never stands in the way of a load, and what it returns equals a fresh load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from strategist.data.load import LoadResult, load_rallies
from strategist.data.rejections import RejectionReport
from strategist.errors import StrategistError
from strategist.sports import get_sport

#: Bumped when the canonical table or the load record change meaning: older entries are then never read.
FORMAT = 2
#: The entries' file suffix (Arrow IPC files).
SUFFIX = ".arrow"
#: A folder with more files than this is loaded without the cache (listing it would cost what the cache saves).
MAX_FILES = 5000
_META = b"strategist.load"


def cache_dir() -> Path | None:
    """The cache's folder, or None when ``STRATEGIST_DATA_CACHE=off``."""
    setting = os.environ.get("STRATEGIST_DATA_CACHE", "")
    if setting.strip().lower() == "off":
        return None
    return Path(setting) if setting else Path.home() / ".cache" / "strategist" / "tables"


def _files(path: Path) -> list[Path] | None:
    """Every regular file the load of ``path`` may read: a file and those beside it (match lists, court
    calibrations), or a folder's whole tree; None past :data:`MAX_FILES`."""
    if path.is_dir():
        walked = ((Path(root), names) for root, _, names in os.walk(path))
    else:
        walked = [(path.parent, [p.name for p in path.parent.iterdir() if p.is_file()])]
    found = []
    for root, names in walked:
        for name in names:
            found.append(root / name)
            if len(found) > MAX_FILES:
                return None
    return sorted(found)


def sport_key(sport) -> str | None:
    """The sport's whole definition as text that is the same in every process (a vocabulary file read again under
    the same name may say something else; ``repr`` would print its sets in a per-process order)."""
    if sport is None:
        return None

    def plain(value):
        if isinstance(value, (set, frozenset)):
            return sorted((plain(v) for v in value), key=repr)
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return value if isinstance(value, (str, int, float, bool)) or value is None else repr(value)

    return json.dumps(plain(sport), sort_keys=True)


def key(path, **options) -> str | None:
    """The entry's name for ``path`` loaded with ``options``, or None when the data cannot be keyed."""
    import strategist

    path = Path(path).resolve()
    try:
        files = _files(path)
    except OSError:
        return None
    if files is None:
        return None
    parts = [f"format {FORMAT}", f"strategist {strategist.__version__}", str(path), json.dumps(options, default=str)]
    for file in files:
        try:
            st = file.stat()
        except OSError:
            return None
        parts.append(f"{file}\t{st.st_size}\t{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _read(entry: Path, name: str) -> LoadResult:
    frame, record = read_frame(entry)
    if record.get("format") != FORMAT:
        raise ValueError(f"entry of format {record.get('format')!r}")
    return LoadResult(table=frame, rejections=RejectionReport.from_dict(record["rejections"]),
                      sport=get_sport(record["sport"]), layout=record["layout"],
                      paths=tuple(Path(p) for p in record["paths"]), cache_key=name)


def _write(entry: Path, loaded: LoadResult) -> None:
    record = {"format": FORMAT, "layout": loaded.layout, "sport": loaded.sport.name,
              "paths": [str(p) for p in loaded.paths], "rejections": loaded.rejections.to_dict()}
    write_frame(entry, loaded.table, record)


def cached_load(path, sport=None, layout: str | None = None, strict: bool = False) -> LoadResult:
    """:func:`~strategist.data.load.load_rallies` of ``path``, from the cache when these files were loaded with
    these options (the sport asked for included) before."""
    folder = cache_dir()
    wanted = get_sport(sport) if sport is not None else None
    # the sport's whole definition: a vocabulary file read under the same name may have changed
    name = key(path, layout=layout, strict=strict, sport=sport_key(wanted)) if folder is not None else None
    if name is None:
        return load_rallies(path, sport=sport, layout=layout, strict=strict)
    entry = folder / f"{name}{SUFFIX}"
    if entry.is_file():
        try:
            loaded = _read(entry, name)
        except (OSError, ValueError, KeyError, TypeError, StrategistError):   # damaged: loaded again, replaced
            loaded = None
        if loaded is not None:           # its key holds the sport asked for: the load that wrote it checked it
            return loaded
    loaded = load_rallies(path, sport=sport, layout=layout, strict=strict)
    try:
        _write(entry, loaded)
    except (OSError, ValueError, ImportError) as exc:
        warnings.warn(f"the loaded data could not be kept in the cache ({entry}): {exc}", RuntimeWarning,
                      stacklevel=2)
        return loaded
    return dataclasses.replace(loaded, cache_key=name)


def write_frame(entry: Path, frame: pd.DataFrame, record: dict) -> None:
    """``frame`` as an Arrow IPC file (zstd) at ``entry`` with ``record`` (JSON) in its schema metadata, written
    whole or not at all."""
    import pyarrow as pa
    import pyarrow.feather as feather

    table = pa.Table.from_pandas(frame, preserve_index=True)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META: json.dumps(record).encode()})
    entry.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".writing-", suffix=SUFFIX)
    os.close(handle)
    try:
        feather.write_feather(table, temporary, compression="zstd")
        os.replace(temporary, entry)                  # whole or not at all: a reader never sees half a file
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def read_frame(entry: Path) -> tuple[pd.DataFrame, dict]:
    """The frame and record :func:`write_frame` wrote."""
    import pyarrow.feather as feather

    table = feather.read_table(entry, memory_map=False)
    return table.to_pandas(), json.loads(table.schema.metadata[_META])
