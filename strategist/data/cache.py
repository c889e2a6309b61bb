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

The data sets the package ships (the demo and ShuttleSet) are keyed by content instead (the files' names,
sizes and SHA-256, whether the set's folder or its strokes file is given), and their entries, with the
strokes of the default rally settings (:mod:`strategist.rally.stored`), ship in ``data/prepared``
(:mod:`strategist.data.prepared` writes them): a fresh installation reads its built-in data without parsing
them. A shipped entry is read only where the cache's own folder has none, and never written to at run time.
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
from strategist.resources import shipped_path
from strategist.sports import get_sport

#: Bumped when the canonical table or the load record change meaning: older entries are then never read.
FORMAT = 2
#: The entries' file suffix (Arrow IPC files).
SUFFIX = ".arrow"
#: A folder with more files than this is loaded without the cache (listing it would cost what the cache saves).
MAX_FILES = 5000
_META = b"strategist.load"
#: The data sets the package ships, whose entries are keyed by content and shipped in ``data/prepared``.
SHIPPED_SETS = ("demo", "shuttleset")
#: The strokes file of a shipped set: given instead of its folder, it loads the same and shares its entry.
SHIPPED_FILE = "strokes.csv.gz"
PREPARED = "prepared"


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


def prepared_dir() -> Path | None:
    """The folder of the shipped entries (``data/prepared``), or None when this installation has none."""
    try:
        return shipped_path(PREPARED)
    except StrategistError:
        return None


def shipped_sets() -> dict[str, Path]:
    """The folders of the shipped data sets this installation has, by name (resolved)."""
    found = {}
    for name in SHIPPED_SETS:
        try:
            found[name] = shipped_path(name).resolve()
        except StrategistError:
            continue
    return found


def shipped_set(path) -> Path | None:
    """The folder of the shipped data set ``path`` is (its folder or its strokes file), else None."""
    path = Path(path).resolve()
    for folder in shipped_sets().values():
        if path == folder or path == folder / SHIPPED_FILE:
            return folder
    return None


def _content_key(folder: Path, **options) -> str | None:
    """The entry's name for the shipped set in ``folder``: what its files hold, not where or when they lie."""
    import strategist

    parts = [f"format {FORMAT}", f"strategist {strategist.__version__}", f"shipped {folder.name}",
             json.dumps(options, default=str)]
    try:
        for file in _files(folder) or []:
            parts.append(f"{file.relative_to(folder)}\t{file.stat().st_size}\t"
                         f"{hashlib.sha256(file.read_bytes()).hexdigest()}")
    except OSError:
        return None
    return "shipped-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def find_entry(name: str) -> Path | None:
    """The file holding the entry ``name``: in the cache's folder, else in ``data/prepared`` (a shipped set's)."""
    folder = cache_dir()
    if folder is None:
        return None
    for place in (folder, prepared_dir()):             # the shipped folder holds shipped sets' names only
        if place is not None and (place / name).is_file():
            return place / name
    return None


def key(path, **options) -> str | None:
    """The entry's name for ``path`` loaded with ``options``, or None when the data cannot be keyed."""
    import strategist

    shipped = shipped_set(path)
    if shipped is not None:
        return _content_key(shipped, **options)
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


def _read(entry: Path, name: str, path) -> LoadResult:
    frame, record = read_frame(entry)
    if record.get("format") != FORMAT:
        raise ValueError(f"entry of format {record.get('format')!r}")
    rejections = record["rejections"]
    if record.get("shipped"):        # the files' names within the set, beside the strokes file as given
        base = Path(path) if Path(path).is_dir() else Path(path).parent
        paths = tuple(base / p for p in record["paths"])
        rejections = _with_paths(rejections, lambda p: str(base / p))
    else:
        paths = tuple(Path(p) for p in record["paths"])
    return LoadResult(table=frame, rejections=RejectionReport.from_dict(rejections),
                      sport=get_sport(record["sport"]), layout=record["layout"], paths=paths, cache_key=name)


def _with_paths(report: dict, change) -> dict:
    """A rejection report's dict with ``change`` applied to the path of every example."""
    examples = {reason: [{**e, "path": change(e["path"])} if e.get("path") else e for e in items]
                for reason, items in report.get("examples", {}).items()}
    return {**report, "examples": examples}


def _write(entry: Path, loaded: LoadResult, shipped: Path | None = None, compression_level: int | None = None
           ) -> None:
    """Keep ``loaded`` at ``entry``; the paths of a shipped set's files (in ``shipped``) by their names in it."""
    rejections = loaded.rejections.to_dict()
    if shipped is None:
        paths = [str(p) for p in loaded.paths]
    else:
        def inside(p):
            return str(Path(p).resolve().relative_to(shipped))
        paths = [inside(p) for p in loaded.paths]
        rejections = _with_paths(rejections, inside)
    record = {"format": FORMAT, "layout": loaded.layout, "sport": loaded.sport.name, "paths": paths,
              "rejections": rejections, "shipped": shipped is not None}
    write_frame(entry, loaded.table, record, compression_level=compression_level)


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
    found = find_entry(entry.name)
    if found is not None:
        try:
            loaded = _read(found, name, path)
        except (OSError, ValueError, KeyError, TypeError, StrategistError):   # damaged: loaded again, replaced
            loaded = None
        if loaded is not None:           # its key holds the sport asked for: the load that wrote it checked it
            return loaded
    loaded = load_rallies(path, sport=sport, layout=layout, strict=strict)
    try:
        _write(entry, loaded, shipped_set(path))
    except (OSError, ValueError, ImportError) as exc:
        warnings.warn(f"the loaded data could not be kept in the cache ({entry}): {exc}", RuntimeWarning,
                      stacklevel=2)
        return loaded
    return dataclasses.replace(loaded, cache_key=name)


def write_frame(entry: Path, frame: pd.DataFrame, record: dict, compression_level: int | None = None) -> None:
    """``frame`` as an Arrow IPC file (zstd, at ``compression_level``: None is zstd's default) at ``entry`` with
    ``record`` (JSON) in its schema metadata, written whole or not at all."""
    import pyarrow as pa
    import pyarrow.feather as feather

    table = pa.Table.from_pandas(frame, preserve_index=True)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META: json.dumps(record).encode()})
    entry.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".writing-", suffix=SUFFIX)
    os.close(handle)
    try:
        feather.write_feather(table, temporary, compression="zstd", compression_level=compression_level)
        os.replace(temporary, entry)                  # whole or not at all: a reader never sees half a file
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def read_frame(entry: Path) -> tuple[pd.DataFrame, dict]:
    """The frame and record :func:`write_frame` wrote."""
    import pyarrow.feather as feather

    table = feather.read_table(entry, memory_map=False)
    return table.to_pandas(), json.loads(table.schema.metadata[_META])
