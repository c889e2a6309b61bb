"""One BLAS thread for the package's linear algebra.

The games are small (tens to a few hundred states, stage matrices of a few rows): a BLAS thread pool costs
more to wake than it saves, and on a busy machine its threads wait for cores, many times the work itself.
The command line and the app run on one BLAS thread; so do the entry points that run many solves (a rally
game's estimate, a play-out, a report) when called from Python. Torch keeps its own threads (its OpenMP pool
is not BLAS)."""

from __future__ import annotations

import os

#: The variable OpenBLAS (numpy's and scipy's) reads for its number of threads when it is loaded.
THREADS_VARIABLE = "OPENBLAS_NUM_THREADS"


def one_blas_thread_from_start() -> None:
    """For a process about to load numpy: OpenBLAS starts with one thread, unless the user set
    :data:`THREADS_VARIABLE` (theirs is kept). Without effect once numpy is loaded."""
    os.environ.setdefault(THREADS_VARIABLE, "1")


def one_blas_thread():
    """numpy's and scipy's BLAS limited to one thread: a context manager (the previous limits come back on
    exit), or, called alone, a limit for the rest of the process. Both libraries are loaded first: a limit
    holds only for the libraries loaded when it is set."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
