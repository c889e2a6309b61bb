"""Start-up and run time of the command line: median wall time of fresh processes.

    python benchmarks/bench_cli.py [--repeats 7]

Writes ``benchmarks/results/cli.json`` and ``cli.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
COMMANDS = [
    ["--help"],
    ["--version"],
    ["solve"],
    ["solve", "--help"],
    ["payoff", "--help"],
    ["data", "summary"],
    ["payoff"],
]


def wall(argv: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "strategist", *argv], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    baseline = statistics.median(wall_python(args.repeats))
    rows = []
    for argv in COMMANDS:
        times = wall(argv, args.repeats)
        rows.append({"command": "strategist " + " ".join(argv), "median_s": statistics.median(times),
                     "min_s": min(times), "max_s": max(times), "repeats": args.repeats})
    RESULTS.mkdir(exist_ok=True)
    doc = {"python_startup_s": baseline, "rows": rows}
    (RESULTS / "cli.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = ["# Command-line start-up (median wall time of fresh processes)", "",
             f"Python alone (`python -c pass`): {baseline:.3f} s; {args.repeats} runs each.", "",
             "| command | median s | min s | max s |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| `{r['command']}` | {r['median_s']:.3f} | {r['min_s']:.3f} | {r['max_s']:.3f} |" for r in rows]
    (RESULTS / "cli.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def wall_python(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    main()
