"""Run the whole test suite several times in a row, as CI runs it, and count what passed each time.

    python benchmarks/repeat_suite.py              # 10 runs
    python benchmarks/repeat_suite.py --runs 3     # fewer

Each run is the README's test command (``python -m pytest -q``) in a fresh interpreter with the ``ci`` Hypothesis
profile (derandomised, a fixed budget: tests/conftest.py), so a test that fails in one run and passes in
another depends on something the suite does not fix: timing, the load of the machine, the order of work in
threads. Per run: passed / failed / skipped / errors, the failed tests' ids and the wall time (from pytest's
JUnit XML; the JSON keeps the end of each failure's report). The table is rewritten after every run (a long series leaves its partial result behind) in
benchmarks/results/repeat_suite.json and .md; exits 1 when any run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
#: The end of each failure's report kept in the JSON (the assertion and the lines above it).
MESSAGE_CHARS = 3000
COMMAND = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def outcomes(junit: Path) -> dict:
    """Counts and failed test ids of one pytest run, read from its JUnit XML report."""
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failed": 0, "errors": 0, "skipped": 0}
    failed, messages = [], {}
    for suite in suites:
        for case in suite.iter("testcase"):
            counts["tests"] += 1
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is not None:
                counts["failed" if problem.tag == "failure" else "errors"] += 1
                failed.append(name)
                text = (problem.get("message") or "") + "\n" + (problem.text or "")
                messages[name] = text.strip()[-MESSAGE_CHARS:]
            elif case.find("skipped") is not None:
                counts["skipped"] += 1
    counts["passed"] = counts["tests"] - counts["failed"] - counts["errors"] - counts["skipped"]
    return {**counts, "failed_tests": failed, "messages": messages}


def one_run(k: int) -> dict:
    env = {**os.environ, "HYPOTHESIS_PROFILE": "ci"}
    with tempfile.TemporaryDirectory() as folder:
        junit = Path(folder) / "junit.xml"
        started = time.perf_counter()
        done = subprocess.run([*COMMAND, f"--junitxml={junit}"], cwd=REPO, env=env, capture_output=True,
                              text=True)
        seconds = time.perf_counter() - started
        result = outcomes(junit) if junit.exists() else {"tests": 0, "passed": 0, "failed": 0, "errors": 1,
                                                         "skipped": 0, "failed_tests": ["(no report)"],
                                                         "messages": {"(no report)": done.stderr[-MESSAGE_CHARS:]}}
    tail = done.stdout.strip().splitlines()[-1:] if done.stdout.strip() else []
    return {"run": k, "exit_code": done.returncode, "seconds": round(seconds, 1), **result,
            "summary": tail[0] if tail else done.stderr.strip()[-300:]}


def write(runs: list[dict], asked: int) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    info = {"asked": asked, "done": len(runs), "passed_in_a_row": _streak(runs),
            "commit": commit.stdout.strip() or None, "command": " ".join(
        ["python", "-m", "pytest", "-q"]), "hypothesis_profile": "ci", "python": platform.python_version(),
        "cpus": os.cpu_count(), "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (RESULTS / "repeat_suite.json").write_text(json.dumps({"info": info, "runs": runs}, indent=1) + "\n")
    lines = ["# The whole suite, run again and again", "",
             f"`python benchmarks/repeat_suite.py --runs {asked}`: the README's test command "
             "(`python -m pytest -q`, Hypothesis profile `ci`) in a fresh interpreter each time, "
             f"{os.cpu_count()} CPUs shared, commit {info['commit'] or 'unknown'}, finished {info['finished']}. "
             f"{len(runs)} of {asked} runs done; {info['passed_in_a_row']} passed in a row (from the first).", "",
             "| run | exit | passed | failed | errors | skipped | wall s | failed tests |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in runs:
        lines.append(f"| {r['run']} | {r['exit_code']} | {r['passed']} | {r['failed']} | {r['errors']} | "
                     f"{r['skipped']} | {r['seconds']:.0f} | {', '.join(r['failed_tests']) or '-'} |")
    (RESULTS / "repeat_suite.md").write_text("\n".join(lines) + "\n")


def _streak(runs: list[dict]) -> int:
    n = 0
    for r in runs:
        if r["exit_code"] != 0:
            break
        n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="how many times to run the suite (default 10)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    runs = []
    for k in range(1, args.runs + 1):
        print(f"run {k}/{args.runs} ...", flush=True)
        r = one_run(k)
        runs.append(r)
        write(runs, args.runs)
        print(f"run {k}/{args.runs}: exit {r['exit_code']}, {r['passed']} passed, {r['failed']} failed, "
              f"{r['errors']} errors, {r['skipped']} skipped, {r['seconds']:.0f} s"
              + (f"; failed: {', '.join(r['failed_tests'])}" if r["failed_tests"] else ""), flush=True)
    return 0 if all(r["exit_code"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
