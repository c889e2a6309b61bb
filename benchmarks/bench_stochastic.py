"""Benchmark: strategy iteration against Shapley value iteration on a rally-shaped stochastic game.

The game: 300 states with 3–8 actions per player (drawn independently per state), stage payoffs in [0, 0.15]
(the chance of winning the rally on this shot), and from each action pair a continuation of 0.75–0.95 spread
over the next four states (mod 300, so rallies can cycle), γ = 1. Both methods solve it to ‖V − T(V)‖∞ ≤ 1e-10;
the table gives medians of 5 runs (methods interleaved) of wall time, and the sweeps, linear solves and final
residual, which do not vary between runs.

    python benchmarks/bench_stochastic.py           # writes benchmarks/results/stochastic.json and .md
    python benchmarks/bench_stochastic.py --quick   # 60 states, 2 runs, for a smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import strategist

RESULTS = Path(__file__).resolve().parent / "results"


def rally_game(states: int, seed: int = 0, ahead: int = 4):
    rng = np.random.default_rng(seed)
    rewards, transitions = [], []
    for s in range(states):
        m, n = (int(k) for k in rng.integers(3, 9, size=2))
        rewards.append(rng.uniform(0, 0.15, size=(m, n)))
        p = np.zeros((m, n, states))
        nxt = (s + 1 + np.arange(ahead)) % states
        p[:, :, nxt] = rng.dirichlet(np.ones(ahead), size=(m, n)) * rng.uniform(0.75, 0.95, size=(m, n, 1))
        transitions.append(p)
    return rewards, transitions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    states, runs = (60, 2) if args.quick else (300, 5)
    rewards, transitions = rally_game(states)
    times: dict[str, list[float]] = {"strategy": [], "value": []}
    last = {}
    for _ in range(runs):
        for method in times:
            t0 = time.perf_counter()
            last[method] = strategist.solve_stochastic_game(rewards, transitions, method=method)
            times[method].append(time.perf_counter() - t0)
    gap = float(np.abs(last["strategy"].values - last["value"].values).max())
    rows = []
    for method, sol in last.items():
        rows.append({"method": sol.method, "states": states, "iterations": sol.iterations,
                     "linear_solves": sol.linear_solves, "value_sweeps": sol.value_sweeps,
                     "time_s": statistics.median(times[method]), "times_s": times[method],
                     "residual": sol.residual})
    shapes = sorted({r.shape for r in rewards})
    table = ["| method | states | sweeps | linear solves | time (s, median of %d) | residual ‖V − T(V)‖∞ |" % runs,
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        table.append(f"| {r['method']} | {r['states']} | {r['iterations']} | {r['linear_solves']} | "
                     f"{r['time_s']:.2f} | {r['residual']:.2g} |")
    table = "\n".join(table)
    print(table)
    print(f"max |V_strategy − V_value| = {gap:.2g}; {len(shapes)} state shapes")
    if args.quick:
        return 0
    meta = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "processor": platform.processor(), "states": states, "runs": runs, "shape_groups": len(shapes),
            "discount": 1.0, "tol": 1e-10, "max_value_difference": gap}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stochastic.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    (RESULTS / "stochastic.md").write_text(
        "# Stochastic game solver benchmark\n\n"
        f"Rally-shaped game: {states} states, 3–8 actions per player ({len(shapes)} state shapes, one batched "
        "solve per shape per sweep), continuation 0.75–0.95 over the next four states (cyclic), γ = 1, "
        f"tol 1e-10. One machine ({platform.machine()}, 2 CPU cores), medians of {runs} runs.\n\n" + table +
        f"\n\nThe two methods' values differ by at most {gap:.2g}.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
