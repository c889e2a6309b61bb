"""The data sets the app serves, each loaded once per server and shared by every page and session.

A data set is named by a key: ``("demo",)``, ``("shuttleset",)`` (the two built in) or ``("path", path,
mtime_ns, size)`` for a file or folder inside the data roots (a change on disk makes a new key). Its address
form (``?data=``) is ``demo``, ``shuttleset`` or the path.

:class:`DatasetCache` keeps loaded tables (and what is derived from them: the prepared strokes and the opponent
model of the data set, each pair's Advisor, Match prep tables and scouting) under a bound in **bytes**
(``STRATEGIST_CACHE_MB``, default 1,500): the table's deep memory size counts, and the least recently used data
sets go first when a new one would pass the bound.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from strategist.app import paths, uploads

DEMO = ("demo",)
SHUTTLESET = ("shuttleset",)
BUILT_IN = {"demo": DEMO, "shuttleset": SHUTTLESET}
LABELS = {DEMO: "built-in demo (20 simulated badminton matches)",
          SHUTTLESET: "ShuttleSet (94 elite badminton matches, built in)"}


#: What is computed per pair (Advisors, Match prep's tables, scouting) kept per data set, the oldest computed
#: first out; what the data set itself needs (named by a string: its prepared strokes, its opponent model, its
#: players) is kept as long as the data set.
MAX_DERIVED = 48


def key_of(text: str) -> tuple:
    """The key of an address form or a typed path; :class:`~strategist.app.paths.PathRefused` outside the roots."""
    text = str(text or "").strip()
    if text in BUILT_IN:
        return BUILT_IN[text]
    path = paths.confine(text)
    files = paths.data_files(path)          # a folder: its data files (its own time changes when it is used)
    infos = [f.stat() for f in files] or [path.stat()]
    return ("path", str(path), max(i.st_mtime_ns for i in infos), sum(i.st_size for i in infos))


def address_of(key: tuple) -> str:
    return key[0] if key in LABELS else key[1]


def label_of(key: tuple) -> str:
    """How the page names a data set: the built-in ones by name, an upload by its files' names, else the
    file or folder's name (never the server's full path)."""
    if key in LABELS:
        return LABELS[key]
    path = Path(key[1])
    if path.is_relative_to(paths.upload_root()):
        names = uploads.upload_names(path if path.is_dir() else path.parent)
        return "upload: " + " + ".join(names) if names else "an upload"
    return path.name


def source_path(key: tuple) -> Path:
    if key == DEMO:
        from strategist.data.demo import demo_path

        return demo_path()
    if key == SHUTTLESET:
        from strategist.data.shipped import shuttleset_dir

        return shuttleset_dir()
    return Path(key[1])


def load_key(key: tuple, limits: paths.Limits | None = None):
    """Load a data set: its volume checked first (decompressed bytes and rows of all its files together,
    streamed), then :func:`strategist.data.load.load_rallies` with the same caps per file. The built-in sets
    (trusted, of known size) come from :func:`strategist.data.cache.cached_load` (their entries ship)."""
    from strategist.data.load import load_rallies
    from strategist.data.readcsv import ReadLimits

    limits = limits or paths.Limits.from_env()
    path = source_path(key)
    if key in LABELS:                       # the package's own data: read from their shipped cache entries
        from strategist.data.cache import cached_load

        return cached_load(path)
    path = paths.confine(str(path))                         # checked again: the file may have changed
    paths.check_volume(paths.data_files(path), limits, label_of(key))
    if path.is_relative_to(paths.upload_root()):
        uploads.touch(path if path.is_dir() else path.parent)
    # the loaders cap each file again while they read it
    return load_rallies(path, limits=ReadLimits(max_bytes=limits.decompressed_bytes, max_rows=limits.rows))


def table_bytes(result) -> int:
    return int(result.table.memory_usage(deep=True).sum())


class DatasetCache:
    """Loaded data sets by key, least recently used first out, bounded in bytes; thread-safe. Each entry keeps
    a dict ``derived`` for what is computed from the data, dropped with it: names that are strings belong to the
    data set (kept with it), tuples to a pair (at most :data:`MAX_DERIVED`, the oldest first out)."""

    def __init__(self, max_bytes: int | None = None):
        self.max_bytes = max_bytes or int(os.environ.get("STRATEGIST_CACHE_MB", 1500)) << 20
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.RLock()
        self._loading: dict = {}

    def get(self, key: tuple, loader=load_key):
        """The LoadResult of ``key`` (loaded once even when several sessions ask at the same time)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]["result"]
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._entries:
                    return self._entries[key]["result"]
            result = loader(key)
            with self._lock:
                self._loading.pop(key, None)
                self._entries[key] = {"result": result, "bytes": table_bytes(result), "derived": {}}
                self._evict(keep=key)
            return result

    def derived(self, key: tuple, name, make):
        """``make()`` computed once per data set and ``name`` (e.g. an Advisor of a pair), kept with the data."""
        self.get(key)
        with self._lock:
            store = self._entries[key]["derived"]
            if name in store:
                return store[name]
        value = make()
        with self._lock:
            if key in self._entries:
                store = self._entries[key]["derived"]
                store[name] = value
                pairs = [n for n in store if isinstance(n, tuple)]
                for oldest in pairs[:max(len(pairs) - MAX_DERIVED, 0)]:
                    store.pop(oldest)
        return value

    def _evict(self, keep) -> None:
        while self.total_bytes() > self.max_bytes and len(self._entries) > 1:
            oldest = next(iter(self._entries))
            if oldest == keep:
                break
            self._entries.pop(oldest)

    def total_bytes(self) -> int:
        return sum(entry["bytes"] for entry in self._entries.values())

    def keys(self) -> list:
        with self._lock:
            return list(self._entries)
