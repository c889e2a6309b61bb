"""Time loading every ShuttleSet stroke into the canonical table against pandas reading the same file as text.

    python benchmarks/bench_load.py            # 7 timed rounds after one warm-up
    python benchmarks/bench_load.py --runs 15

Target: ``load_rallies(strokes.csv.gz)`` (reading, checking, converting, validating) takes at most 3 times what
``pd.read_csv(path, dtype=str)`` takes on the same file. Each round times both, in alternating order, in the
same process pinned to one CPU (BLAS/Arrow pools limited to one thread), so the ratio is measured in one run on
one machine; the figure is the ratio of the median wall times (the median of the per-round ratios and the
ratio of the median CPU times beside it: on a shared machine CPU time is the steadier measure). Then the loaded
table as the data cache keeps it (:mod:`strategist.data.cache`: an Arrow IPC file, zstd), written and read back
``runs`` times, beside Parquet of the same table (what the cache kept before). Uses
``../shared/data/badminton_shuttleset/strokes.csv.gz`` or, when that is absent, the copy the package ships
(the same file). Writes benchmarks/results/load.json and load.md.
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

SHARED = REPO / ".." / "shared" / "data" / "badminton_shuttleset" / "strokes.csv.gz"
RESULTS = REPO / "benchmarks" / "results"
TARGET_RATIO = 3.0
EXPECTED_ROWS = 81_939


def pin_one_core() -> str:
    """Pin this process to one CPU; returns a note of what was done."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def _timed(fn) -> tuple[float, float, object]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall0, time.process_time() - cpu0, out


def measure(path: Path, runs: int) -> dict:
    """``runs`` rounds of (pandas read, load) in alternating order; wall and CPU times of each."""
    import pandas as pd

    from strategist.data.load import load_rallies

    read = lambda: pd.read_csv(path, dtype=str)  # noqa: E731
    load = lambda: load_rallies(path)  # noqa: E731
    read(), load()  # warm-up: imports, file cache
    times = {"pandas": [], "load": [], "pandas_cpu": [], "load_cpu": []}
    result = None
    for run in range(runs):
        order = ("pandas", "load") if run % 2 == 0 else ("load", "pandas")
        for name in order:
            wall, cpu, out = _timed(read if name == "pandas" else load)
            times[name].append(wall)
            times[f"{name}_cpu"].append(cpu)
            result = out if name == "load" else result
        print(f"round {run + 1}/{runs}: pandas {times['pandas'][-1]:.3f} s, load {times['load'][-1]:.3f} s "
              f"({times['load'][-1] / times['pandas'][-1]:.2f}x)", flush=True)
    return {"times": times, "result": result}


def cache_times(table, runs: int, folder: Path) -> dict:
    """Median seconds to write and to read back ``table`` as the cache's entry and as Parquet, with sizes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from strategist.data.cache import SUFFIX, read_frame, write_frame

    entry, parquet = folder / f"entry{SUFFIX}", folder / "entry.parquet"
    ways = {"cache": (lambda: write_frame(entry, table, {"format": 0}), lambda: read_frame(entry), entry),
            "parquet": (lambda: pq.write_table(pa.Table.from_pandas(table, preserve_index=True), parquet),
                        lambda: pq.read_table(parquet).to_pandas(), parquet)}
    out = {}
    for name, (write, read, path) in ways.items():
        write(), read()                                  # warm-up
        out[f"{name}_write_s"] = statistics.median(_timed(write)[0] for _ in range(runs))
        out[f"{name}_read_s"] = statistics.median(_timed(read)[0] for _ in range(runs))
        out[f"{name}_bytes"] = path.stat().st_size
    return out


def write_markdown(out: dict, path: Path) -> None:
    lines = ["# Loading ShuttleSet: `load_rallies` against `pd.read_csv(path, dtype=str)`", "",
             f"Command: `python benchmarks/bench_load.py --runs {out['runs']}` ({out['cpu']}, python "
             f"{out['python']}, pandas {out['pandas']}).", "",
             "| measure | value |", "| --- | ---: |",
             f"| rows read / strokes kept / rallies kept | {out['rows_read']:,} / {out['strokes']:,} / "
             f"{out['rallies']:,} |",
             f"| median `pd.read_csv(dtype=str)` | {out['median_pandas_s']:.3f} s (CPU {out['median_pandas_cpu_s']:.3f} s) |",
             f"| median `load_rallies` | {out['median_load_s']:.3f} s (CPU {out['median_load_cpu_s']:.3f} s) |",
             f"| ratio of the medians | {out['ratio']:.2f} |",
             f"| median of the per-round ratios | {out['median_round_ratio']:.2f} |",
             f"| ratio of the median CPU times | {out['cpu_ratio']:.2f} |",
             f"| target | at most {TARGET_RATIO:.0f}x: {'met' if out['meets_target'] else 'NOT met'} |",
             f"| the table as the cache keeps it (Arrow IPC, zstd): median write / read / size | "
             f"{out['cache_write_s']:.3f} s / {out['cache_read_s']:.3f} s / {out['cache_bytes'] / 1e6:.1f} MB |",
             f"| the same table as Parquet: median write / read / size | {out['parquet_write_s']:.3f} s / "
             f"{out['parquet_read_s']:.3f} s / {out['parquet_bytes'] / 1e6:.1f} MB |", ""]
    path.write_text("\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    from strategist.data.shipped import shuttleset_path

    path = SHARED if SHARED.exists() else shuttleset_path()
    pinning = pin_one_core()
    try:
        import pyarrow

        pyarrow.set_cpu_count(1)
        pyarrow.set_io_thread_count(1)
    except ImportError:
        pass
    measured = measure(path, max(args.runs, 1))
    times, result = measured["times"], measured["result"]
    report = result.rejections
    pandas_s, load_s = statistics.median(times["pandas"]), statistics.median(times["load"])
    out = {
        "file": "../shared/data/badminton_shuttleset/strokes.csv.gz" if SHARED.exists() else "data/shuttleset/strokes.csv.gz",
        "rows_read": report.rows_read, "strokes": len(result.table),
        "rallies": int(result.table["rally_id"].nunique()), "rallies_rejected": report.rallies_rejected,
        "runs": args.runs, "pandas_s": times["pandas"], "load_s": times["load"],
        "pandas_cpu_s": times["pandas_cpu"], "load_cpu_s": times["load_cpu"],
        "median_pandas_s": pandas_s, "median_load_s": load_s,
        "median_load_cpu_s": statistics.median(times["load_cpu"]),
        "median_pandas_cpu_s": statistics.median(times["pandas_cpu"]),
        "cpu_ratio": statistics.median(times["load_cpu"]) / statistics.median(times["pandas_cpu"]),
        "ratio": load_s / pandas_s,
        "median_round_ratio": statistics.median(l / p for l, p in zip(times["load"], times["pandas"])),
        "target_ratio": TARGET_RATIO, "meets_target": load_s / pandas_s <= TARGET_RATIO,
        "cpu": pinning, "python": platform.python_version(), "pandas": __import__("pandas").__version__,
        "machine": platform.machine(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out.update(cache_times(result.table, max(args.runs, 1), Path(folder)))
    if report.rows_read != EXPECTED_ROWS:
        print(f"warning: read {report.rows_read} rows, the README says {EXPECTED_ROWS}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(out, indent=2) + "\n")
    write_markdown(out, RESULTS / "load.md")
    print()
    print((RESULTS / "load.md").read_text())
    print(f"wrote {(RESULTS / 'load.json').relative_to(REPO)} and load.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
