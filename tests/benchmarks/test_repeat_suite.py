"""The repeated-suite runner reads a run's outcome from pytest's own JUnit report: counts of a small suite with
a known mix of passing, failing, erroring and skipped tests, and the run of passes counted from the first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import repeat_suite  # noqa: E402

SUITE = '''
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture fails")

def test_one(): assert 1 + 1 == 2
def test_two(): assert True
def test_three(): assert 2 * 2 == 4
def test_wrong(): assert 1 == 2
def test_setup_error(broken): pass
@pytest.mark.skip(reason="not here")
def test_skipped(): pass
'''


def test_counts_of_a_known_suite(tmp_path):
    (tmp_path / "test_mix.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")       # this folder's own, empty configuration
    junit = tmp_path / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={tmp_path}",
                    "-c", str(tmp_path / "pytest.ini"), f"--junitxml={junit}", str(tmp_path / "test_mix.py")],
                   cwd=tmp_path, capture_output=True, text=True)
    got = repeat_suite.outcomes(junit)
    assert {k: got[k] for k in ("tests", "passed", "failed", "errors", "skipped")} == \
        {"tests": 6, "passed": 3, "failed": 1, "errors": 1, "skipped": 1}
    assert sorted(name.split("::")[-1] for name in got["failed_tests"]) == ["test_setup_error", "test_wrong"]
    kept = {name.split("::")[-1]: text for name, text in got["messages"].items()}
    assert "assert 1 == 2" in kept["test_wrong"] and "fixture fails" in kept["test_setup_error"]


def test_passes_in_a_row_stop_at_the_first_failure():
    runs = [{"exit_code": c} for c in (0, 0, 1, 0)]
    assert repeat_suite._streak(runs) == 2
    assert repeat_suite._streak([{"exit_code": 0}] * 3) == 3
    assert repeat_suite._streak([{"exit_code": 1}, {"exit_code": 0}]) == 0
