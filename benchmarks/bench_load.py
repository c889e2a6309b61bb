"""Time loading every ShuttleSet stroke into the canonical table (target: under 3 s on one core).

    python benchmarks/bench_load.py            # 7 timed runs after one warm-up
    python benchmarks/bench_load.py --runs 15

The process is pinned to one CPU (where the OS allows) and BLAS/Arrow pools are limited to one thread.
Each run is ``strategist.load_rallies(strokes.csv.gz)`` from reading the file to the validated table;
the figure is the median wall time, with the median CPU time beside it (CPU time is what the load itself
costs; wall time also holds the waits of a shared machine). Writes benchmarks/results/load.json.
Skips (exit 0, nothing written) when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ARROW_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

STROKES = REPO / ".." / "shared" / "data" / "badminton_shuttleset" / "strokes.csv.gz"
RESULT = REPO / "benchmarks" / "results" / "load.json"
TARGET_S = 3.0
EXPECTED_ROWS = 81_939


def pin_one_core() -> str:
    """Pin this process to one CPU; returns a note of what was done."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    if not STROKES.exists():
        print(f"skipped: {STROKES.resolve()} is absent")
        return 0
    pinning = pin_one_core()
    try:
        import pyarrow

        pyarrow.set_cpu_count(1)
        pyarrow.set_io_thread_count(1)
    except ImportError:
        pass
    from strategist.data.load import load_rallies

    load_rallies(STROKES)  # warm-up: imports, file cache
    walls, cpus = [], []
    for run in range(args.runs):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = load_rallies(STROKES)
        cpus.append(time.process_time() - cpu0)
        walls.append(time.perf_counter() - wall0)
        print(f"run {run + 1}/{args.runs}: wall {walls[-1]:.3f} s, cpu {cpus[-1]:.3f} s", flush=True)
    report = result.rejections
    out = {
        "file": "../shared/data/badminton_shuttleset/strokes.csv.gz",
        "rows_read": report.rows_read, "strokes": len(result.table),
        "rallies": int(result.table["rally_id"].nunique()), "rallies_rejected": report.rallies_rejected,
        "runs": args.runs, "wall_s": walls, "cpu_s": cpus,
        "median_wall_s": statistics.median(walls), "median_cpu_s": statistics.median(cpus),
        "min_wall_s": min(walls), "target_s": TARGET_S,
        "meets_target": statistics.median(walls) < TARGET_S,
        "cpu": pinning, "python": platform.python_version(),
        "pandas": __import__("pandas").__version__, "machine": platform.machine(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    if report.rows_read != EXPECTED_ROWS:
        print(f"warning: read {report.rows_read} rows, the README says {EXPECTED_ROWS}")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(out, indent=2) + "\n")
    print()
    print("| measure | value |")
    print("| --- | ---: |")
    print(f"| rows read / strokes kept | {report.rows_read:,} / {len(result.table):,} |")
    print(f"| median wall time ({args.runs} runs, {pinning}) | {out['median_wall_s']:.3f} s |")
    print(f"| median CPU time | {out['median_cpu_s']:.3f} s |")
    print(f"| fastest wall time | {out['min_wall_s']:.3f} s |")
    print(f"| target | < {TARGET_S:.1f} s: {'met' if out['meets_target'] else 'NOT met'} |")
    print(f"\nwrote {RESULT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
