"""Building an Advisor for a ShuttleSet pair, and one ``Advisor.advise`` call: p50 / p95 / p99 / max.

    python benchmarks/bench_advisor.py [--calls 2000] [--models markov2,neural] [--runs 3]

Build: ``Advisor(table, player, opponent, model=<fitted model>)`` from the loaded canonical table (the rally
game estimated and solved from scratch), median of ``--runs``; and with the table's strokes prepared once
(``strokes=prepare(table)``, as the app and the benchmarks reuse them across pairs). The opponent model is
fitted before the clock starts (the default neural model is fitted once per data set and kept: see
``strategist.opponent.cache``). Calls: histories of the first 0–8 strokes of the pair's rallies, with where
each stroke landed and how high, margins 0–0.1, the risk-what-you-won cap on every other call, predictions not
cached (the Advisor's cache off, and the neural model's kept hidden states forgotten before every call: each
call pays for its rally as if it had never been seen). CPU time is the call's own work (thread time); wall time
includes waiting for a core. The calls' CPU time is also given by how many situations the advice averaged over.
Writes ``benchmarks/results/advisor.json`` and ``advisor.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "badminton_shuttleset" / "strokes.csv.gz"
P, O = "Kento MOMOTA", "CHOU Tien Chen"
COLUMNS = ["shot", "hitter", "landing_area", "landing_height", "stroke"]


def histories(advisor, count: int, seed: int = 0):
    """``count`` (history, server) pairs: the first 0–8 strokes of the pair's rallies, drawn at random."""
    table = advisor.table.sort_values(["rally_id", "stroke"])
    pair = table[((table["hitter"] == advisor.player) & (table["opponent"] == advisor.opponent))
                 | ((table["hitter"] == advisor.opponent) & (table["opponent"] == advisor.player))]
    rallies = [g[COLUMNS].astype(object) for _, g in pair.groupby("rally_id")]
    rallies = [r for r in rallies if not (r["shot"].isna() | (r["shot"] == "unknown")).any()]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        r = rallies[rng.integers(len(rallies))]
        k = int(rng.integers(0, min(len(r), 9)))
        out.append((r.iloc[:k], str(r["hitter"].iat[0])))
    return out


def forget(model) -> None:
    """Drop what the opponent model keeps of the rallies it was asked about (the neural model's hidden states)."""
    forget_rallies = getattr(model, "forget_rallies", None)      # the neural model's; the others keep none
    if forget_rallies is not None:
        forget_rallies()


def measure(advisor, calls: int) -> dict:
    cases = histories(advisor, calls)
    for h, server in cases[:50]:                                    # warm the arrays of the states met
        advisor.advise(h, {"server": server}, margin=0.05)
    times, cpu, situations = [], [], []
    for k, (h, server) in enumerate(cases):
        forget(advisor.model)
        start, start_cpu = time.perf_counter(), time.thread_time()
        advice = advisor.advise(h, {"server": server}, margin=0.02 * (k % 6), gifts=0.01 if k % 2 else None)
        cpu.append(time.thread_time() - start_cpu)
        times.append(time.perf_counter() - start)
        situations.append(len(advice.averaged) or 1)
    ms, cpu_ms, situations = np.array(times) * 1e3, np.array(cpu) * 1e3, np.array(situations)
    # the calls by how many situations the advice averaged over (the history did not say where the last shot
    # was taken): where the slow calls come from
    by_situations = {int(n): {"calls": int((situations == n).sum()),
                              "cpu_p50_ms": float(np.percentile(cpu_ms[situations == n], 50)),
                              "cpu_p99_ms": float(np.percentile(cpu_ms[situations == n], 99))}
                     for n in np.unique(situations)}
    return {"calls": calls, "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max()),
            "cpu_p50_ms": float(np.percentile(cpu_ms, 50)), "cpu_p99_ms": float(np.percentile(cpu_ms, 99)),
            "by_situations": by_situations}


def builds(table, model, runs: int) -> dict:
    from strategist.advice.advisor import Advisor, prepare

    cold, warm = [], []
    strokes = prepare(table)
    for _ in range(runs):
        started = time.perf_counter()
        Advisor(table, P, O, model=model)
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        Advisor(table, P, O, model=model, strokes=strokes)
        warm.append(time.perf_counter() - started)
    return {"build_s": float(np.median(cold)), "build_max_s": float(np.max(cold)),
            "build_prepared_s": float(np.median(warm))}


def main(argv=None) -> None:
    import strategist
    from strategist.advice.advisor import Advisor
    from strategist.data.shipped import shuttleset_path
    from strategist.opponent.cache import cached_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--models", default="markov2,neural")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    try:                                   # small networks answer fastest on one thread
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    path = SHARED if SHARED.is_file() else shuttleset_path()
    table = strategist.load_rallies(path).table
    rows = {}
    for name in args.models.split(","):
        model, note = cached_model(name, table)
        print(note, flush=True)
        build = builds(table, model, args.runs)
        adv = Advisor(table, P, O, model=model, cache_size=0)
        rows[name] = {"model": adv.model_label, **build, **measure(adv, args.calls)}
        print(name, {k: round(v, 3) if isinstance(v, float) else v for k, v in rows[name].items()}, flush=True)
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "player": P, "opponent": O, "data": path.name, "command": "python benchmarks/bench_advisor.py " +
            " ".join(argv or [])}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "advisor.json").write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    lines = ["# Building an Advisor and one advise() call (CPU)", "",
             f"`{meta['command']}` — {P} v {O} on ShuttleSet; {args.calls} calls per model over the pair's rally "
             f"histories of 0–8 strokes (heights and landing areas included), margins 0–0.1, predictions not "
             f"cached (nor the neural model's hidden states); {meta['cpus']} CPUs shared, load average "
             f"{meta['load_average'][0]} at the end; torch on one thread. Build: from the loaded table (median of "
             "runs), and with the table's strokes prepared once. Targets: build <= 3 s; advise p99 <= 10 ms.", "",
             "| model | build s (max) | build, strokes prepared s | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms "
             "| CPU p99 ms |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in rows.items():
        lines.append(f"| {r['model']} | {r['build_s']:.2f} ({r['build_max_s']:.2f}) | {r['build_prepared_s']:.2f} | "
                     f"{r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | "
                     f"{r['cpu_p50_ms']:.2f} | {r['cpu_p99_ms']:.2f} |")
    lines += ["", "One call's CPU time by how many situations its advice averaged over (1: the history says how high "
              "and where the last shot was taken; more: it does not, e.g. after the opponent's predicted shot):", "",
              "| model | situations | calls | CPU p50 ms | CPU p99 ms |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, r in rows.items():
        for n, b in r["by_situations"].items():
            lines.append(f"| {r['model']} | {n} | {b['calls']} | {b['cpu_p50_ms']:.2f} | {b['cpu_p99_ms']:.2f} |")
    (RESULTS / "advisor.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
