"""The cache entries of the data sets the package ships (``data/prepared``), written ahead of time, so that a
fresh installation reads its built-in data without parsing them.

    python -m strategist.data.prepared            # write them again (after the loader or the strokes change)
    python -m strategist.data.prepared --check    # write nothing; fail when one is missing or stale

For each shipped set (:func:`strategist.data.cache.shipped_sets`): the loaded table as
:func:`~strategist.data.cache.cached_load` keeps it, and the usable strokes of the default rally settings as
:func:`~strategist.rally.stored.stored_strokes` keeps them, both under the set's content key
(:func:`strategist.data.cache.key`), recompressed at zstd level 19. Files of any other name are removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from strategist.data.cache import PREPARED, SUFFIX
from strategist.resources import shipped_path

#: The zstd level of the shipped entries: written once, read often, carried by every installation.
LEVEL = 19


def made() -> dict:
    """Every entry the shipped sets need, made afresh (the files parsed, the strokes made): file name -> a
    function that writes the entry at the path it is given."""
    from strategist.data.cache import _write, key, shipped_sets
    from strategist.data.load import load_rallies
    from strategist.rally.model import RallySettings, strokes
    from strategist.rally.stored import entry_name, write_strokes

    entries = {}
    for folder in shipped_sets().values():
        loaded = load_rallies(folder)
        data_key = key(folder, layout=None, strict=False, sport=None)     # the options of a plain cached_load
        entries[data_key + SUFFIX] = (lambda path, loaded=loaded, folder=folder:
                                      _write(path, loaded, folder, compression_level=LEVEL))
        st = strokes(loaded.table, RallySettings(), loaded.sport)
        entries[entry_name(data_key, RallySettings(), loaded.sport)] = (
            lambda path, st=st: write_strokes(path, st, compression_level=LEVEL))
    return entries


def write(folder: Path | None = None) -> list[str]:
    """Write the shipped entries into ``folder`` (default ``data/prepared``) and remove the rest; their names."""
    folder = Path(folder) if folder is not None else _folder()
    folder.mkdir(parents=True, exist_ok=True)
    wanted = made()
    for name, writer in wanted.items():
        writer(folder / name)
        (folder / name).chmod(0o644)                      # shipped: readable by everyone who installs it
    for old in folder.iterdir():
        if old.suffix == SUFFIX and old.name not in wanted:
            old.unlink()
    return sorted(wanted)


def expected_names() -> list[str]:
    """The file names of the entries the shipped sets need."""
    return sorted(made())


def missing(folder: Path | None = None) -> list[str]:
    """The entries the shipped sets need that ``folder`` lacks (a stale entry has another name: it is lacked)."""
    folder = Path(folder) if folder is not None else _folder()
    return [name for name in expected_names() if not (folder / name).is_file()]


def _folder() -> Path:
    """``data/prepared`` (``strategist/_shipped/prepared`` once installed), beside the demo."""
    return shipped_path("demo").parent / PREPARED


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m strategist.data.prepared",
                                     description="Write (or --check) the shipped data sets' cache entries.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when an entry is missing")
    args = parser.parse_args(argv)
    if args.check:
        lacking = missing()
        for name in lacking:
            print(f"missing or stale: {_folder() / name}")
        if lacking:
            print("run: python -m strategist.data.prepared")
        return 1 if lacking else 0
    for name in write():
        print(f"wrote {_folder() / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
