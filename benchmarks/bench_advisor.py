"""Latency of one ``Advisor.advise`` call on CPU: p50 / p95 / p99 / max over rally histories from the demo.

    python benchmarks/bench_advisor.py [--calls 3000] [--models builtin,torch-mlp,neural]

Histories are the first k strokes of demo rallies (k = 0..8), margins 0..0.1, the risk-what-you-won cap on
every other call. Models: ``builtin`` (the Advisor's frequency prediction), ``torch-mlp`` (a stand-in neural
opponent model: embeddings of the last three shots and hitters, two hidden layers of 256, a softmax over the
vocabulary, one CPU thread — the cost of a network forward per prediction), and any kind ``strategist.opponent.fit_model`` offers (e.g. ``neural``), which is
skipped with a note when absent (the neural model is trained for at most 60 steps / 30 s here: the latency of
a prediction does not depend on how well it was trained). Writes ``benchmarks/results/advisor.json`` and ``advisor.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
P, O = "Astrid NORDVIK", "Dev MALHOTRA"


class TorchMLP:
    """A stand-in neural opponent model with the strategist.opponent interface (untrained weights)."""

    kind = "torch MLP stand-in (untrained)"

    def __init__(self, sport, players):
        import torch

        torch.set_num_threads(1)
        torch.manual_seed(0)
        self.torch = torch
        self.shots = list(sport.shots)
        self.index = {s: i + 1 for i, s in enumerate(self.shots)}
        self.players = {p: i + 1 for i, p in enumerate(players)}
        d = 32
        self.shot_emb = torch.nn.Embedding(len(self.shots) + 1, d)
        self.player_emb = torch.nn.Embedding(len(players) + 1, d)
        self.net = torch.nn.Sequential(torch.nn.Linear(4 * d, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                       torch.nn.ReLU(), torch.nn.Linear(256, len(self.shots)))
        self.series_index = pd.Index(self.shots, name="shot")

    def predict_proba(self, history=None, context=None):
        torch = self.torch
        shots = [] if history is None or len(history) == 0 else history["shot"].tolist()
        last = ([0, 0, 0] + [self.index[s] for s in shots])[-3:]
        who = self.players.get((context or {}).get("player"), 0)
        with torch.inference_mode():
            x = torch.cat([self.shot_emb(torch.tensor(last)).flatten(), self.player_emb(torch.tensor(who))])
            p = torch.softmax(self.net(x), dim=0).numpy()
        out = pd.Series(p, index=self.series_index, name="p")
        out.attrs.update(n=200, source="player", model=self.kind)
        return out


def histories(advisor, count: int, seed: int = 0):
    table = advisor.table.sort_values(["rally_id", "stroke"])
    rallies = [g[["shot", "hitter"]].itertuples(index=False, name=None)
               for _, g in table[table["match_id"].isin(
                   table.loc[(table["hitter"] == P) & (table["opponent"] == O), "match_id"])].groupby("rally_id")]
    rallies = [list(r) for r in rallies]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        r = rallies[rng.integers(len(rallies))]
        k = int(rng.integers(0, min(len(r), 9)))
        out.append((r[:k], r[0][1] if r else P))
    return out


def measure(advisor, calls: int) -> dict:
    cases = histories(advisor, calls)
    for h, server in cases[:50]:  # warm caches
        advisor.advise(h, {"server": server}, margin=0.05)
    times, cpu = [], []
    for k, (h, server) in enumerate(cases):
        start, start_cpu = time.perf_counter(), time.thread_time()
        advisor.advise(h, {"server": server}, margin=0.02 * (k % 6), gifts=0.01 if k % 2 else None)
        cpu.append(time.thread_time() - start_cpu)
        times.append(time.perf_counter() - start)
    ms, cpu_ms = np.array(times) * 1e3, np.array(cpu) * 1e3
    return {"calls": calls, "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max()), "mean_ms": float(ms.mean()),
            "cpu_p50_ms": float(np.percentile(cpu_ms, 50)), "cpu_p99_ms": float(np.percentile(cpu_ms, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--models", default="builtin,frequency,markov,neural,torch-mlp")
    args = parser.parse_args()
    try:  # small networks answer fastest on one thread, and a shared machine gives no more
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    from strategist.advice.advisor import Advisor

    base = Advisor(player=P, opponent=O, model="builtin")
    rows = {}
    for name in args.models.split(","):
        started = time.perf_counter()
        if name == "builtin":
            adv = base
        elif name == "torch-mlp":
            players = sorted(set(base.table["hitter"].astype(str)))
            adv = Advisor(base.table, player=P, opponent=O, model=TorchMLP(base.sport, players), cache_size=0)
        else:
            try:
                from strategist.opponent import fit_model

                # a short training: the latency of a prediction does not depend on how well it was trained
                kw = {"max_steps": 60, "time_budget": 30.0} if name == "neural" else {}
                model = fit_model(name, base.table, **kw)
                adv = Advisor(base.table, player=P, opponent=O, model=model, cache_size=0)
                if name == "neural":
                    one = Advisor(base.table, player=P, opponent=O, model=model, cache_size=0, reply_predictions=1)
                    rows["neural, one reply prediction"] = {"model": "neural, reply_predictions=1", "build_s": 0.0,
                                                            **measure(one, args.calls)}
            except Exception as exc:  # the kind is not installed here
                rows[name] = {"skipped": str(exc)}
                print(f"{name}: skipped ({exc})")
                continue
        build = time.perf_counter() - started
        rows[name] = {"model": adv.model_label, "build_s": build, **measure(adv, args.calls)}
        print(name, {k: round(v, 3) if isinstance(v, float) else v for k, v in rows[name].items()})
    import os

    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "player": P, "opponent": O, "data": "demo"}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "advisor.json").write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    lines = ["# Advisor.advise latency (CPU)", "",
             f"{meta['player']} v {meta['opponent']} on the demo; {args.calls} calls per model over rally "
             f"histories of 0-8 strokes, margins 0-0.1, predictions not cached; {meta['cpus']} CPUs shared, load "
             f"average {meta['load_average'][0]} at the end; torch on one thread. Wall time includes waiting for "
             "a core; CPU time is the call's own work (thread time).", "",
             "| model | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms | build s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in rows.items():
        if "skipped" in r:
            lines.append(f"| {name} | skipped: {r['skipped'][:80]} | | | | | | |")
        else:
            lines.append(f"| {r['model']} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} | "
                         f"{r['max_ms']:.2f} | {r['cpu_p50_ms']:.2f} | {r['cpu_p99_ms']:.2f} | {r['build_s']:.1f} |")
    (RESULTS / "advisor.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
