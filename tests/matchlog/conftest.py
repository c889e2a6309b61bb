"""Helpers of the match log's tests: a folder another user can reach, and making it read-only."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

NOBODY = 65534


@pytest.fixture()
def shared_dir():
    """A folder another user can reach (pytest's own tmp folders are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="matchlog-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path)


@contextlib.contextmanager
def as_another_user():
    """Run as user ``nobody`` meanwhile when this process is root (who may write whatever the modes say); else
    as it is (the modes then bind this user already)."""
    root = os.geteuid() == 0
    if root:
        os.setegid(NOBODY)
        os.seteuid(NOBODY)
    try:
        yield
    finally:
        if root:
            os.seteuid(0)
            os.setegid(0)


@contextlib.contextmanager
def _read_only(folder: Path, file: Path | None):
    """``folder`` (and ``file``) made read-only for this process: by their modes, and as root by acting as user
    ``nobody`` meanwhile (:func:`as_another_user`)."""
    folder.chmod(0o555)
    if file is not None:
        file.chmod(0o444)
    try:
        with as_another_user():
            yield
    finally:
        folder.chmod(0o755)


@pytest.fixture()
def read_only():
    """``read_only(folder, file)``: a context in which they cannot be written (see ``_read_only``)."""
    return _read_only
