"""The command line and the solvers' entry points run numpy's and scipy's BLAS on one thread."""

import os
import subprocess
import sys

import pytest
from threadpoolctl import threadpool_info

from strategist._blas import THREADS_VARIABLE, one_blas_thread

PROBE = ("import sys; sys.argv = ['strategist', '--version']\n"
         "from strategist.cli import main as m\n"
         "try:\n    m.main()\nexcept SystemExit:\n    pass\n"
         "import numpy, scipy.linalg\n"
         "from threadpoolctl import threadpool_info\n"
         "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))")


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_the_context_limits_numpy_and_scipy_and_restores_the_limit():
    """Inside one_blas_thread every BLAS library (numpy's and scipy's) has one thread; after it, what it had."""
    import scipy.linalg  # noqa: F401  (both libraries loaded, as the context would load them)

    before = _blas_threads()
    with one_blas_thread():
        assert _blas_threads() == {1}
        assert {i["prefix"] for i in threadpool_info() if i["user_api"] == "blas"}   # at least one library seen
    assert _blas_threads() == before


def _probe(extra_env: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k != THREADS_VARIABLE} | extra_env
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_command_line_starts_openblas_with_one_thread():
    """A process that enters through the command line loads OpenBLAS with one thread."""
    assert _probe({}) == "[1]"


def test_a_users_own_thread_count_is_kept():
    """OPENBLAS_NUM_THREADS set by the user wins over the command line's default."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: OpenBLAS caps its threads at the cores it sees")
    assert _probe({THREADS_VARIABLE: "2"}) == "[2]"
