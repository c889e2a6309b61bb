"""Run every fuzz target in tests/fuzz under the ``long`` Hypothesis profile for a time budget, and count.

    python benchmarks/fuzz.py                  # 10 minutes in all, shared evenly between the targets
    python benchmarks/fuzz.py --minutes 2      # a shorter run
    python benchmarks/fuzz.py --only loaders   # the targets whose node id contains "loaders"

A target is one test function of tests/fuzz (any file there: new ones are picked up). Each runs in batches, a
fresh interpreter per batch (``python -m pytest NODE --hypothesis-seed=S`` with HYPOTHESIS_PROFILE=long and
HYPOTHESIS_MAX_EXAMPLES sized from the previous batch's speed), each with a new seed, until its share of the
budget is spent. A batch that fails is a crash: an exception outside strategist's error classes, or a broken
promise the target checks; its falsifying example is kept. Cases are counted through Hypothesis's
observability callbacks (test cases generated, shrinking included). Writes benchmarks/results/fuzz.json and
fuzz.md; exits 1 when any target crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
FUZZ_DIR = "tests/fuzz"
FIRST_BATCH = 10
MAX_BATCH = 20_000


# ------------------------------------------------------------------------------------------------ one batch
class _Reporter:
    """A pytest plugin that keeps each failed test's report text."""

    def __init__(self):
        self.failures: list[str] = []

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failures.append(str(report.longrepr)[-3000:])


def worker(node: str, out: Path) -> int:
    """Run one batch of ``node`` (the environment sets the profile, budget and seed) and write its counts."""
    import pytest

    counts = {"passed": 0, "failed": 0, "gave_up": 0}
    partial = out.with_suffix(".counts")
    written = [0.0]
    try:
        from hypothesis.internal.observability import add_observability_callback

        def count(observation):
            if getattr(observation, "type", None) == "test_case":
                counts[observation.status] = counts.get(observation.status, 0) + 1
                if time.monotonic() - written[0] > 1.0:  # what a batch stopped at its time limit had done
                    partial.write_text(json.dumps(counts))
                    written[0] = time.monotonic()

        add_observability_callback(count)
        counted = True
    except ImportError:  # an older Hypothesis without observability callbacks: report batches only
        counted = False
    reporter = _Reporter()
    code = pytest.main([node, "-q", "-p", "no:cacheprovider", "-x", f"--hypothesis-seed={os.environ['FUZZ_SEED']}"],
                       plugins=[reporter])
    out.write_text(json.dumps({"exit": int(code), "counts": counts if counted else None,
                               "failures": reporter.failures}))
    return 0


def run_batch(node: str, examples: int, seed: int, timeout: float, scratch: Path) -> dict:
    out = scratch / f"batch-{seed}.json"
    env = {**os.environ, "HYPOTHESIS_PROFILE": "long", "HYPOTHESIS_MAX_EXAMPLES": str(examples),
           "FUZZ_SEED": str(seed), "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    try:
        subprocess.run([sys.executable, __file__, "--worker", node, "--out", str(out)], cwd=REPO, env=env,
                       timeout=max(timeout, 30.0), capture_output=True, text=True)
        result = json.loads(out.read_text()) if out.exists() else {"exit": -1, "counts": None,
                                                                      "failures": ["the batch wrote no result"]}
    except subprocess.TimeoutExpired:  # a slow target: what it did until then counts, no crash was seen
        partial = out.with_suffix(".counts")
        result = {"exit": "timeout", "counts": json.loads(partial.read_text()) if partial.exists() else None,
                  "failures": []}
    result["seconds"] = time.perf_counter() - start
    result["examples"], result["seed"] = examples, seed
    return result


# ------------------------------------------------------------------------------------------------ the run
def collect(only: str | None) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           FUZZ_DIR], cwd=REPO, capture_output=True, text=True)
    nodes = [line.strip() for line in done.stdout.splitlines() if "::" in line and not line.startswith(" ")]
    return [n for n in nodes if only is None or only in n]


def fuzz_target(node: str, budget: float, rng: random.Random, scratch: Path) -> dict:
    """Batches of ``node`` until ``budget`` seconds are spent; the first batch sizes the others."""
    start = time.perf_counter()
    stats = {"target": node, "cases": 0, "batches": 0, "crashes": 0, "timeouts": 0, "seconds": 0.0,
             "examples_asked": 0, "failures": [], "counted": True}
    examples = FIRST_BATCH
    while True:
        left = budget - (time.perf_counter() - start)
        if left <= 0 or (stats["batches"] and left < 5):
            break
        result = run_batch(node, examples, rng.randrange(2 ** 32), left + 20, scratch)
        stats["batches"] += 1
        stats["examples_asked"] += examples
        counts = result["counts"]
        if counts is None:
            stats["counted"] = False
        else:
            stats["cases"] += sum(counts.values())
        if result["exit"] == "timeout":
            stats["timeouts"] += 1
        elif result["exit"] not in (0, 5):  # 5: no test collected (a target that vanished)
            stats["crashes"] += 1
            stats["failures"].append({"seed": result["seed"], "report": (result["failures"] or ["?"])[0]})
        done = sum(counts.values()) if counts else examples
        per_example = result["seconds"] / max(done, 1)
        left = budget - (time.perf_counter() - start)
        examples = int(min(max(0.8 * left / max(per_example, 1e-4), FIRST_BATCH), MAX_BATCH))
        print(f"  {node}: batch {stats['batches']}, {counts and sum(counts.values())} cases in "
              f"{result['seconds']:.1f} s, exit {result['exit']}", flush=True)
    stats["seconds"] = time.perf_counter() - start
    return stats


def write_results(rows: list[dict], args, total_s: float) -> None:
    out = {"command": f"python benchmarks/fuzz.py --minutes {args.minutes:g}" + (f" --only {args.only}" if args.only
                                                                               else ""),
           "profile": "long (derandomize=False, no deadline; HYPOTHESIS_MAX_EXAMPLES per batch)",
           "minutes": args.minutes, "seconds": total_s, "targets": rows,
           "cases": sum(r["cases"] for r in rows), "crashes": sum(r["crashes"] for r in rows),
           "python": platform.python_version(), "hypothesis": __import__("hypothesis").__version__}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fuzz.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = ["# Fuzzing: every target of tests/fuzz under the long Hypothesis profile", "",
             f"Command: `{out['command']}` ({total_s / 60:.1f} minutes, Hypothesis {out['hypothesis']}, "
             f"python {out['python']}). A crash is a failing batch: an exception outside strategist's error "
             "classes or a broken promise the target checks.", "",
             "| target | cases | batches | crashes | seconds |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        cases = f"{r['cases']:,}" if r["counted"] else f"≥ {r['examples_asked']:,} asked"
        batches = f"{r['batches']}" + (f" ({r['timeouts']} stopped at the time limit)" if r["timeouts"] else "")
        lines.append(f"| `{r['target']}` | {cases} | {batches} | {r['crashes']} | {r['seconds']:.0f} |")
    lines += [f"| **all** | **{out['cases']:,}** | | **{out['crashes']}** | {total_s:.0f} |", ""]
    for r in rows:
        for failure in r["failures"][:2]:
            lines += [f"## `{r['target']}` (seed {failure['seed']})", "", "```", failure["report"][-1500:], "```", ""]
    (RESULTS / "fuzz.md").write_text("\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="total budget (default 10)")
    parser.add_argument("--only", help="run only the targets whose node id contains this text")
    parser.add_argument("--seed", type=int, default=None, help="seed of the batches' seeds (default: random)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, Path(args.out))
    nodes = collect(args.only)
    if not nodes:
        print(f"no fuzz targets under {FUZZ_DIR}" + (f" matching {args.only!r}" if args.only else ""))
        return 1
    rng = random.Random(args.seed)
    start = time.perf_counter()
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"strategist-fuzz-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, node in enumerate(nodes):
        share = (args.minutes * 60 - (time.perf_counter() - start)) / (len(nodes) - k)
        print(f"[{k + 1}/{len(nodes)}] {node}: {share:.0f} s", flush=True)
        rows.append(fuzz_target(node, share, rng, scratch))
    total = time.perf_counter() - start
    write_results(rows, args, total)
    print((RESULTS / "fuzz.md").read_text())
    return 1 if any(r["crashes"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
