"""Time ``strategist scout`` on the shipped ShuttleSet (target: an answer within 2 s on the CPU).

    python benchmarks/bench_scout.py              # 7 runs of each measure
    python benchmarks/bench_scout.py --runs 5

Two measures, each the median of ``--runs`` runs on one CPU (BLAS/Arrow pools limited to one thread):

* **command** — ``python -m strategist scout --player "Kento MOMOTA" --opponent "CHOU Tien Chen" --json`` as a
  fresh process, from start to the JSON on stdout: wall time, and the child's CPU time (user + system);
* **in-process** — ``load_rallies`` + the match list + ``scout`` + ``to_json`` in this process after a
  warm-up, with the split into load, scout and JSON.

Wall time on a shared machine also holds the waits for the other processes; the CPU time is what the
command itself costs, so both are reported, with the load average. Writes benchmarks/results/scout.json
and scout.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ARROW_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RESULTS = REPO / "benchmarks" / "results"
TARGET_S = 2.0
PLAYER, OPPONENT = "Kento MOMOTA", "CHOU Tien Chen"
COMMAND = [sys.executable, "-m", "strategist", "scout", "--player", PLAYER, "--opponent", OPPONENT, "--json"]


def pin_one_core() -> str:
    """Pin this process (and the commands it starts) to one CPU; returns a note of what was done."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def command_runs(runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` fresh ``strategist scout`` processes."""
    walls, cpus = [], []
    for run in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(COMMAND, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"strategist scout failed: {done.stderr.strip()}")
        json.loads(done.stdout)
        print(f"command run {run + 1}/{runs}: wall {walls[-1]:.3f} s, cpu {cpus[-1]:.3f} s", flush=True)
    return walls, cpus


def in_process_runs(runs: int) -> dict[str, list[float]]:
    """Per run: wall and CPU of the whole answer, and the CPU of its parts."""
    from strategist.data.load import load_rallies
    from strategist.data.shipped import shuttleset_path
    from strategist.scout import scout
    from strategist.scout.matchinfo import read_match_info

    path = shuttleset_path()
    scout(load_rallies(path).table, PLAYER, OPPONENT, matches=read_match_info(path)).to_json()  # warm-up
    out: dict[str, list[float]] = {"wall": [], "cpu": [], "load_cpu": [], "scout_cpu": [], "json_cpu": []}
    for run in range(runs):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        table = load_rallies(path).table
        cpu1 = time.process_time()
        report = scout(table, PLAYER, OPPONENT, matches=read_match_info(path))
        cpu2 = time.process_time()
        report.to_json()
        cpu3 = time.process_time()
        out["wall"].append(time.perf_counter() - wall0)
        out["cpu"].append(cpu3 - cpu0)
        out["load_cpu"].append(cpu1 - cpu0)
        out["scout_cpu"].append(cpu2 - cpu1)
        out["json_cpu"].append(cpu3 - cpu2)
        print(f"in-process run {run + 1}/{runs}: wall {out['wall'][-1]:.3f} s, cpu {out['cpu'][-1]:.3f} s "
              f"(load {out['load_cpu'][-1]:.3f}, scout {out['scout_cpu'][-1]:.3f})", flush=True)
    return out


def python_startup(runs: int) -> float:
    """Median wall time of a bare ``python -c 'import pandas'`` (the floor of any command that reads data)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pandas"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs: at least 5 (the figures are medians)")
    pinning = pin_one_core()
    load_before = os.getloadavg()
    pandas_s = python_startup(args.runs)
    walls, cpus = command_runs(args.runs)
    inside = in_process_runs(args.runs)
    med = {key: statistics.median(values) for key, values in inside.items()}
    doc = {
        "command": " ".join(["strategist"] + COMMAND[3:]), "data": "shipped ShuttleSet (data/shuttleset)",
        "runs": args.runs, "target_s": TARGET_S,
        "command_wall_s": walls, "command_cpu_s": cpus,
        "command_median_wall_s": statistics.median(walls), "command_median_cpu_s": statistics.median(cpus),
        "command_min_wall_s": min(walls),
        "in_process": inside, "in_process_median": med, "import_pandas_wall_s": pandas_s,
        "meets_target_wall": statistics.median(walls) <= TARGET_S,
        "meets_target_cpu": statistics.median(cpus) <= TARGET_S,
        "cpu": pinning, "python": platform.python_version(), "pandas": __import__("pandas").__version__,
        "machine": platform.machine(), "load_average_before": load_before, "load_average_after": os.getloadavg(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scout.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        "# `strategist scout` on the shipped ShuttleSet (median of "
        f"{args.runs} runs, {pinning})", "",
        f"Command: `{doc['command']}`. Target: an answer within {TARGET_S:.0f} s on the CPU.", "",
        "| measure | wall s | CPU s |", "| --- | ---: | ---: |",
        f"| the command, a fresh process (start-up, imports, load, scout, JSON) | {doc['command_median_wall_s']:.3f} | "
        f"{doc['command_median_cpu_s']:.3f} |",
        f"| in-process: load + scout + JSON | {med['wall']:.3f} | {med['cpu']:.3f} |",
        f"| of which loading ShuttleSet (`load_rallies`) | | {med['load_cpu']:.3f} |",
        f"| of which `scout` (all six sections) | | {med['scout_cpu']:.3f} |",
        f"| of which `to_json` | | {med['json_cpu']:.3f} |",
        f"| `python -c 'import pandas'` (floor of a data command) | {pandas_s:.3f} | |", "",
        f"Target {TARGET_S:.0f} s: wall {'met' if doc['meets_target_wall'] else 'NOT met'} "
        f"({doc['command_median_wall_s']:.2f} s, fastest {doc['command_min_wall_s']:.2f} s), "
        f"CPU {'met' if doc['meets_target_cpu'] else 'NOT met'} ({doc['command_median_cpu_s']:.2f} s). "
        f"Load average {load_before[0]:.1f} before, {doc['load_average_after'][0]:.1f} after "
        f"(on a shared machine the wall time also holds the waits for other processes).",
    ]
    (RESULTS / "scout.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
