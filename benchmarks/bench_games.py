"""Benchmark: strategist's zero-sum solvers against nashpy and a plain HiGHS loop.

One run, one table, one machine. Single games (2x2, 10x10, 50x50, 200x200) and batches (100,000 3x3 and
10,000 5x5 games). Loops over very many games are timed on a sample and scaled to the batch size (the table
says so). Medians of repeated runs; methods interleaved. Peak memory of the batch solver (tracemalloc,
excluding the input array) at several batch sizes shows it stays flat.

    python benchmarks/bench_games.py            # writes benchmarks/results/games.json and games.md
    python benchmarks/bench_games.py --quick    # smaller samples, for a smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import linprog

import nashpy
import strategist
from strategist.games.batch import CHUNK

RESULTS = Path(__file__).resolve().parent / "results"


def highs_direct(a: np.ndarray):
    """What a user would write: the row player's LP, one linprog call with scipy's defaults."""
    m, n = a.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-a.T, np.ones((n, 1))])
    a_eq = np.zeros((1, m + 1))
    a_eq[0, :m] = 1.0
    return linprog(c, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=[1.0],
                   bounds=[(0, None)] * m + [(None, None)], method="highs")


def nashpy_lp(a: np.ndarray):
    return nashpy.Game(a, -a).linear_program()


def nashpy_support(a: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(nashpy.Game(a, -a).support_enumeration())


def timed(fn, *args, repeats: int = 5) -> float:
    """Median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def loop_time(fn, games: np.ndarray, sample: int) -> tuple[float, int]:
    """Time ``fn`` over the first ``sample`` games; return (median per-game seconds × len(games), sample)."""
    per_game = []
    for a in games[:sample]:
        t0 = time.perf_counter()
        fn(a)
        per_game.append(time.perf_counter() - t0)
    return statistics.median(per_game) * len(games), min(sample, len(games))


def support_with_timeout(size: int, seed: int, limit: float) -> float | None:
    """Wall time of nashpy's support_enumeration on a random size×size game, None if over ``limit`` s."""
    import subprocess

    code = ("import time, warnings, numpy as np, nashpy; warnings.simplefilter('ignore'); "
            f"a = np.random.default_rng({seed}).random(({size}, {size})); t = time.perf_counter(); "
            "list(nashpy.Game(a, -a).support_enumeration()); print(time.perf_counter() - t)")
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.strip())


def single_games(rng, quick: bool) -> list[dict]:
    rows = []
    for size in (2, 10, 50, 200):
        games = [rng.random((size, size)) for _ in range(3 if quick else 7)]
        t_ours, t_highs, t_nlp, t_support = [], [], [], []
        for a in games:  # interleaved
            for store, fn in ((t_ours, strategist.solve_zero_sum), (t_highs, highs_direct), (t_nlp, nashpy_lp)):
                t0 = time.perf_counter()
                fn(a)
                store.append(time.perf_counter() - t0)
            if size <= 10:
                t0 = time.perf_counter()
                if size == 2:
                    nashpy_support(a)
                    t_support.append(time.perf_counter() - t0)
        support = statistics.median(t_support) if t_support else None
        note = "" if size == 2 else "nashpy support_enumeration not run (exponential in the size)"
        if size == 10:
            limit = 10.0 if quick else 60.0
            support = support_with_timeout(10, 0, limit)
            note = (f"nashpy support_enumeration: over {limit:.0f} s, stopped" if support is None else
                    "nashpy support_enumeration: one game")
        rows.append({"case": f"single {size}x{size}", "games": 1,
                     "strategist_s": statistics.median(t_ours), "highs_loop_s": statistics.median(t_highs),
                     "nashpy_lp_s": statistics.median(t_nlp), "nashpy_support_s": support, "note": note})
    return rows


def batches(rng, quick: bool) -> list[dict]:
    rows = []
    for bsz, size in ((100_000, 3), (10_000, 5)):
        games = rng.random((bsz, size, size))
        repeats = 3
        ours = timed(strategist.solve_zero_sum_batch, games, repeats=repeats)
        sample = 300 if quick else 2000
        highs, n_h = loop_time(highs_direct, games, sample)
        nlp, _ = loop_time(nashpy_lp, games, sample // 2)
        sup, _ = loop_time(nashpy_support, games, sample // 4)
        rows.append({"case": f"batch {bsz:,} x {size}x{size}", "games": bsz, "strategist_s": ours,
                     "highs_loop_s": highs, "nashpy_lp_s": nlp, "nashpy_support_s": sup,
                     "note": f"loops timed on {n_h} games (nashpy: fewer) and scaled to {bsz:,}"})
    return rows


def memory_profile(rng, quick: bool) -> list[dict]:
    out = []
    sizes = (CHUNK, 4 * CHUNK, 16 * CHUNK) if not quick else (CHUNK, 4 * CHUNK)
    for bsz in sizes:
        games = rng.random((bsz, 3, 3))
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        strategist.solve_zero_sum_batch(games)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        out_bytes = bsz * (3 + 3 + 4) * 8  # the returned arrays themselves
        out.append({"batch": bsz, "peak_bytes": peak, "output_bytes": out_bytes,
                    "working_bytes": peak - out_bytes})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print("single games ...", file=sys.stderr)
    rows = single_games(rng, args.quick)
    print("batches ...", file=sys.stderr)
    rows += batches(rng, args.quick)
    print("memory ...", file=sys.stderr)
    memory = memory_profile(rng, args.quick)
    for r in rows:
        r["speedup_vs_highs"] = r["highs_loop_s"] / r["strategist_s"]
        r["speedup_vs_nashpy_lp"] = r["nashpy_lp_s"] / r["strategist_s"]

    def fmt(s):
        return "—" if s is None else f"{s * 1e3:,.2f} ms" if s < 1 else f"{s:,.2f} s"

    lines = ["| case | strategist | HiGHS loop | nashpy linear_program | nashpy support_enumeration | "
             "× vs HiGHS | × vs nashpy LP | note |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {fmt(r['strategist_s'])} | {fmt(r['highs_loop_s'])} | "
                     f"{fmt(r['nashpy_lp_s'])} | {fmt(r['nashpy_support_s'])} | {r['speedup_vs_highs']:.1f} | "
                     f"{r['speedup_vs_nashpy_lp']:.1f} | {r['note']} |")
    lines += ["", "| batch (3x3 games) | peak working memory (excl. input and output) |", "|---:|---:|"]
    lines += [f"| {m['batch']:,} | {m['working_bytes'] / 2**20:.1f} MiB |" for m in memory]
    big = next(r for r in rows if r["case"].startswith("batch 100,000"))
    single200 = next(r for r in rows if r["case"] == "single 200x200")
    targets = {
        "batch_3x3_speedup_vs_highs >= 100": big["speedup_vs_highs"],
        "batch_3x3_met": big["speedup_vs_highs"] >= 100,
        "single_200_ratio_vs_highs (<= 1 means no slower)": single200["strategist_s"] / single200["highs_loop_s"],
        "single_200_met": single200["strategist_s"] <= single200["highs_loop_s"] * 1.05,
        "memory_flat_met": max(m["working_bytes"] for m in memory) <= 1.5 * min(m["working_bytes"] for m in memory),
    }
    lines += ["", "Targets: " + "; ".join(f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}"
                                         for k, v in targets.items())]
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"python": sys.version.split()[0], "numpy": np.__version__, "nashpy": nashpy.__version__,
            "machine": platform.machine(), "processor": platform.processor(), "quick": args.quick,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (RESULTS / "games.json").write_text(json.dumps({"meta": meta, "rows": rows, "memory": memory,
                                                     "targets": targets}, indent=2))
    (RESULTS / "games.md").write_text("# Zero-sum solver benchmark\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
