"""Paths a visitor names (the page's address ``?data=``, a text box, the Model page's folder) are opened only
inside the configured data roots, only as regular files or folders of them, and only below size limits.

The roots: the data the package ships (``data/``), the upload folder, and the folders the operator lists in
``STRATEGIST_DATA_ROOTS`` (separated by ``os.pathsep``) or in ``.streamlit/secrets.toml`` as
``data_roots = ["/srv/rallies", ...]``. A path is resolved (``..`` and symbolic links followed) before it is
compared with the roots, so ``roots/../etc/passwd`` and a link that points out of a root are outside.

Everything refused gets one message, :data:`REFUSAL`, the same whether the path exists or not, is outside a
root, a FIFO, a device, a socket or too large: a visitor learns nothing about the server's files from it.
"""

from __future__ import annotations

import gzip
import os
import stat
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from strategist.errors import StrategistError

ROOTS_ENV = "STRATEGIST_DATA_ROOTS"
UPLOADS_ENV = "STRATEGIST_UPLOAD_DIR"
DATA_SUFFIXES = (".csv", ".csv.gz")
MODEL_SUFFIXES = (".json", ".safetensors")

REFUSAL = ("This path cannot be opened: the app opens only existing files and folders inside the data folders "
           "this server is configured with (see 'Data folders' on the Data page).")


class PathRefused(StrategistError):
    """A path outside the roots, missing, not a regular file or folder, or too large (always :data:`REFUSAL`)."""

    def __init__(self):
        super().__init__(REFUSAL)


def _mb_env(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        value = default
    return max(value, 1)


@dataclass(frozen=True)
class Limits:
    """What one data set may be: bytes on disk per file, bytes once decompressed (all files together), rows,
    and files in a folder. Defaults below; each is set by an environment variable (MB for sizes)."""

    file_bytes: int
    decompressed_bytes: int
    rows: int
    files: int

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(file_bytes=_mb_env("STRATEGIST_MAX_FILE_MB", 100) << 20,
                   decompressed_bytes=_mb_env("STRATEGIST_MAX_DECOMPRESSED_MB", 200) << 20,
                   rows=_mb_env("STRATEGIST_MAX_ROWS", 1_000_000),
                   files=_mb_env("STRATEGIST_MAX_FILES", 200))


def upload_root() -> Path:
    """Where uploads are kept (``STRATEGIST_UPLOAD_DIR``, else ``<tmp>/strategist-uploads``)."""
    folder = Path(os.environ.get(UPLOADS_ENV) or Path(tempfile.gettempdir()) / "strategist-uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def shipped_root() -> Path:
    from strategist.data.demo import demo_dir

    return demo_dir().parent.resolve()


def _secret_roots() -> list[str]:
    try:
        import streamlit as st

        value = st.secrets.get("data_roots", [])
    except Exception:  # noqa: BLE001 - no secrets file, or a malformed one: no extra roots
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def data_roots() -> list[Path]:
    """Every folder a visitor's path may lie in (resolved; folders that do not exist are left out)."""
    listed = [p for p in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if p.strip()] + _secret_roots()
    roots = [shipped_root(), upload_root()]
    for text in listed:
        path = Path(text).expanduser().resolve()
        if path.is_dir() and path not in roots:
            roots.append(path)
    return roots


def _inside(path: Path, roots) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def confine(text: str, suffixes=DATA_SUFFIXES, limits: Limits | None = None) -> Path:
    """The resolved path of ``text`` when it is a regular file (with one of ``suffixes``) or a folder inside a
    data root, below the limits; else :class:`PathRefused`. Nothing is opened (a FIFO would block)."""
    limits = limits or Limits.from_env()
    text = str(text or "").strip()
    if not text or "\x00" in text:
        raise PathRefused()
    roots = data_roots()
    try:
        path = Path(text).expanduser().resolve()
        mode = path.stat().st_mode
    except (OSError, RuntimeError, ValueError):
        raise PathRefused() from None
    if not _inside(path, roots):
        raise PathRefused()
    if stat.S_ISDIR(mode):
        folder_files(path, roots, suffixes, limits)
        return path
    if not stat.S_ISREG(mode) or not path.name.lower().endswith(suffixes):
        raise PathRefused()
    if path.stat().st_size > limits.file_bytes:
        raise PathRefused()
    return path


def folder_files(folder: Path, roots, suffixes, limits: Limits) -> list[Path]:
    """The files with ``suffixes`` in ``folder`` and one level down (ShuttleSet's ``set/<match>/set<k>.csv``),
    each a regular file inside a root and below the size limit; refused otherwise or when there are too many."""
    found = []
    try:
        entries = [p for p in folder.iterdir()]
        entries += [q for p in entries if p.is_dir() and not p.is_symlink() for q in p.iterdir()]
    except OSError:
        raise PathRefused() from None
    for entry in entries:
        if not entry.name.lower().endswith(suffixes):
            continue
        real = entry.resolve()
        try:
            info = real.stat()
        except OSError:
            raise PathRefused() from None
        if not _inside(real, roots) or not stat.S_ISREG(info.st_mode) or info.st_size > limits.file_bytes:
            raise PathRefused()
        found.append(real)
    if len(found) > limits.files:
        raise PathRefused()
    return found


class TooLarge(StrategistError):
    """A data set above a decompressed-size or row limit (names the limit and how to raise it)."""


def check_volume(files, limits: Limits | None = None, label: str = "the data") -> tuple[int, int]:
    """Stream every file (gzip decompressed on the fly, constant memory) and count bytes and lines; raise
    :class:`TooLarge` as soon as the total passes ``limits`` (a small gzip that unpacks to gigabytes stops at the
    limit). Returns ``(bytes, lines)``."""
    limits = limits or Limits.from_env()
    total = lines = 0
    for file in files:
        opener = gzip.open if str(file).lower().endswith(".gz") else open
        try:
            with opener(file, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    total += len(chunk)
                    lines += chunk.count(b"\n")
                    if total > limits.decompressed_bytes:
                        raise TooLarge(f"{label}: more than {limits.decompressed_bytes >> 20} MB once decompressed "
                                       "(the limit is STRATEGIST_MAX_DECOMPRESSED_MB)")
                    if lines > limits.rows:
                        raise TooLarge(f"{label}: more than {limits.rows:,} rows (the limit is STRATEGIST_MAX_ROWS)")
        except (OSError, EOFError, zlib.error):
            continue  # unreadable: the loader names the file and what is wrong with it
    return total, lines


def data_files(path: Path) -> list[Path]:
    """The data files a load of ``path`` reads (the file itself, or the folder's data files)."""
    if path.is_dir():
        return folder_files(path, data_roots(), DATA_SUFFIXES, Limits.from_env())
    return [path]
