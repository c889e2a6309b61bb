"""Reading a small file a visitor may have chosen: regular files only, and never more than a limit.

A path can name a FIFO (opening it for reading blocks until a writer comes), a device (``/dev/zero`` reads
for ever) or a file far larger than any the caller expects. :func:`read_regular_file` opens without
blocking, checks on the opened descriptor that it is a regular file (so a path swapped between a check and
the open cannot slip through) and reads at most ``limit`` bytes, refusing a larger file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class FileRefused(Exception):
    """Why a file was not read (the caller turns it into its own error class, naming the file)."""


def read_regular_file(path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file (a symlink to one counts) of at most ``limit`` bytes;
    :class:`FileRefused` otherwise (missing, a directory, FIFO, device or socket, too large, unreadable)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise FileRefused("no such file") from None
    except IsADirectoryError:
        raise FileRefused("a folder, not a file") from None
    except OSError as exc:
        raise FileRefused(f"cannot open ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise FileRefused(f"{info.st_size:,} bytes, more than the limit of {limit:,}")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileRefused(f"more than the limit of {limit:,} bytes (the file grew while read)")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(f"cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"
