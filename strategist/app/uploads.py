"""Uploads: one or several files (strokes beside their match list) or a zip of a folder, kept together in one
folder of the upload root so that they load exactly as the folder would by path.

Bounded: each file's size (the page's upload limit), a zip's members (count, and bytes as they are unpacked),
the data's decompressed size and rows (:func:`strategist.app.paths.check_volume`). A rejected upload's folder
is deleted at once; the others are deleted once unused for :data:`KEEP_HOURS` (``STRATEGIST_UPLOAD_KEEP_HOURS``),
checked at every upload and every hour (:func:`clean_every`, started with the server's data cache).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import zipfile
from pathlib import Path, PurePosixPath

from strategist.app.paths import DATA_SUFFIXES, Limits, upload_root
from strategist.sports.sportfile import SUFFIXES as SPORT_SUFFIXES
from strategist.errors import StrategistError

MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB << 20
MAX_ZIP_MEMBERS = 200
MAX_FILES = 10             # uploaded together (each at most MAX_UPLOAD_MB): what one session may hold at once
KEEP_HOURS = float(os.environ.get("STRATEGIST_UPLOAD_KEEP_HOURS", 24))
LABEL_FILE = ".names"


class UploadError(StrategistError):
    """An upload refused, in one line naming the file."""


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120].lstrip(".") or "upload.csv"


def _member_path(name: str) -> PurePosixPath | None:
    """A zip member's place in the upload folder (at most two folders deep, each part made safe), or None for a
    folder, a hidden file or a file that is not CSV data."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
    if not parts or name.endswith("/") or any(p.startswith(("__MACOSX", ".")) for p in parts):
        return None
    if not parts[-1].lower().endswith(DATA_SUFFIXES + SPORT_SUFFIXES):
        return None
    return PurePosixPath(*[_safe(p) for p in parts[-3:]])


def _unzip(name: str, data: bytes, folder: Path, limits: Limits) -> list[str]:
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UploadError(f"{name}: not a readable zip file ({exc})") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise UploadError(f"{name}: {len(members)} files; a zip may hold at most {MAX_ZIP_MEMBERS}")
    written, total = [], 0
    for member in members:
        target = _member_path(member.filename)
        if target is None:
            continue
        out = folder / target
        if len(target.parts) > 1:
            # ShuttleSet's set/<match>/set<k>.csv keep their folders; a single top folder (the zipped folder) goes
            if len(target.parts) == 2:
                out = folder / target.name
            out.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, open(out, "wb") as sink:
            while chunk := source.read(1 << 20):
                total += len(chunk)
                if total > limits.decompressed_bytes:
                    raise UploadError(f"{name}: more than {limits.decompressed_bytes >> 20} MB once unzipped "
                                      "(the limit is STRATEGIST_MAX_DECOMPRESSED_MB)")
                sink.write(chunk)
        written.append(str(target))
    if not written:
        raise UploadError(f"{name}: no CSV or CSV.GZ file in the zip")
    return written


def save_uploads(files, limits: Limits | None = None) -> Path:
    """Keep ``files`` (``(name, bytes)`` pairs) in one folder of the upload root, named by their content, and
    return it. A zip is unpacked there. Raises :class:`UploadError` (and leaves nothing behind) when a file is
    empty, too large or a broken zip."""
    limits = limits or Limits.from_env()
    files = list(files)
    if not files:
        raise UploadError("no file uploaded")
    for name, data in files:
        if len(data) > MAX_UPLOAD_BYTES:
            raise UploadError(f"{name}: {len(data) / 1e6:.1f} MB is more than the {MAX_UPLOAD_MB} MB an upload may be")
        if not data:
            raise UploadError(f"{name}: the file is empty")
    digest = hashlib.sha256()
    for name, data in sorted(files):
        digest.update(_safe(name).encode() + b"\0" + hashlib.sha256(data).digest())
    folder = upload_root() / digest.hexdigest()[:20]
    if folder.is_dir() and (folder / LABEL_FILE).is_file():
        os.utime(folder)
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        for name, data in files:
            if name.lower().endswith(".zip"):
                _unzip(name, data, folder, limits)
            else:
                (folder / _safe(name)).write_bytes(data)
    except BaseException:
        discard(folder)
        raise
    (folder / LABEL_FILE).write_text("\n".join(name for name, _ in files), encoding="utf-8")
    clean_uploads()
    return folder


def upload_names(folder: Path) -> list[str]:
    """The names the files of an upload folder had on the visitor's machine."""
    try:
        return (Path(folder) / LABEL_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def discard(folder: Path) -> None:
    """Delete an upload folder (a rejected upload), never anything outside the upload root."""
    folder = Path(folder).resolve()
    root = upload_root()
    if folder != root and folder.is_relative_to(root):
        shutil.rmtree(folder, ignore_errors=True)


def touch(folder: Path) -> None:
    """Mark an upload folder as used now (its data were loaded)."""
    try:
        os.utime(folder)
    except OSError:
        pass


def clean_every(hours: float = 1.0) -> threading.Thread:
    """Clean the upload folder now and every ``hours`` in a background thread (one per server)."""
    def loop():
        while True:
            try:
                clean_uploads()
            except OSError:
                pass
            time.sleep(hours * 3600)

    thread = threading.Thread(target=loop, name="strategist-upload-cleaner", daemon=True)
    thread.start()
    return thread


def clean_uploads(keep_hours: float | None = None, now: float | None = None) -> int:
    """Delete upload folders unused for ``keep_hours``; returns how many were deleted."""
    keep = (KEEP_HOURS if keep_hours is None else keep_hours) * 3600
    now = time.time() if now is None else now
    deleted = 0
    for folder in upload_root().iterdir():
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > keep:
                discard(folder)
                deleted += 1
        except OSError:
            continue
    return deleted
