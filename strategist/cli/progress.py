"""Progress of long work on stderr: one updating line on a terminal, a line every tenth otherwise."""

from __future__ import annotations

import sys
import time


def progress_printer(label: str, unit: str, stream=None):
    """A ``report(done, total)`` callable that prints ``label: done/total unit, elapsed, time left``.

    On a terminal the line is rewritten in place; when stderr is a file or a pipe a full line is written
    each time another tenth of the work is done (and at the end), so logs show progress too.
    """
    stream = stream or sys.stderr
    start = time.monotonic()
    interactive = getattr(stream, "isatty", lambda: False)()
    last = [-1]

    def report(done: int, total: int) -> None:
        elapsed = time.monotonic() - start
        eta = elapsed / done * (total - done) if done else float("nan")
        text = f"{label}: {done}/{total} {unit}, {elapsed:.1f} s elapsed, ~{eta:.1f} s left"
        if interactive:
            print(text, end="\n" if done >= total else "\r", file=stream, flush=True)
            return
        tenth = int(10 * done / total) if total else 10
        if tenth > last[0] or done >= total:
            last[0] = tenth
            print(text, file=stream, flush=True)

    return report
