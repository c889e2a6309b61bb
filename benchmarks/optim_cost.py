"""Whole-step cost of every optimizer against AdamW: forward + backward + optimizer step, CPU, one thread.

Sizes: the opponent model (embedding of ~20 shot types, dim 32 -> GRU(128) over 32 strokes -> 20 classes,
batch 256, and batch 64 as strategist.opponent trains it) and a 2-layer MLP of width 512 (batch 256, 128 inputs, 20 classes). Methods are interleaved round
by round in one process (benchmarks/optim_harness/runner.py: step_cost); the table gives the median
per-step time and the median of the per-round ratios to AdamW. Preconditioners are refreshed inside the
timed window (Shampoo and SOAP every 10 steps, K-FAC at its defaults), so their cost is amortised, not
skipped. Target: Shampoo, SOAP and Muon within 1.5× of AdamW's whole step at the opponent model's size.

    python benchmarks/optim_cost.py           # about 3 minutes
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from optim_harness import Method, markdown_table, step_cost, write_json  # noqa: E402
from optim_harness.t2 import sequence_classifier  # noqa: E402

RESULTS = HERE / "results"


def methods() -> list[Method]:
    from strategist.optim import KFAC, SOAP, Shampoo, build_muon_optimizer
    return [
        Method("AdamW", lambda m, lr, p: torch.optim.AdamW(m.parameters(), lr=lr)),
        Method("Shampoo", lambda m, lr, p: Shampoo(m.parameters(), lr=lr, precondition_frequency=10,
                                                   start_preconditioning_step=1)),
        Method("SOAP", lambda m, lr, p: SOAP(m.parameters(), lr=lr)),
        Method("Muon", lambda m, lr, p: build_muon_optimizer(m, lr=lr)),
        Method("K-FAC", lambda m, lr, p: KFAC(m, lr=lr, loss_type=p.loss_type), kfac=True),
    ]


LRS = {"AdamW": 1e-3, "Shampoo": 1e-3, "SOAP": 1e-3, "Muon": 0.02, "K-FAC": 0.1}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=11)
    p.add_argument("--block", type=int, default=5)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    problems = [("opponent model: GRU(128), T=32, batch 256", sequence_classifier()),
                ("opponent model as trained: GRU(128), T=32, batch 64", sequence_classifier(batch=64)),
                ("MLP width 512, batch 256", sequence_classifier(width=512))]
    results, rows = {}, []
    for label, problem in problems:
        res = step_cost(problem, methods(), LRS, rounds=args.rounds, block=args.block, warmup_steps=10)
        results[label] = res
        for name, r in res.items():
            rows.append([label, name, f"{r['ms']:.1f}", f"{r['ratio']:.2f}×",
                         "not measured (no GPU in this run)"])
        print(f"{label}: " + ", ".join(f"{n} {r['ms']:.1f} ms ({r['ratio']:.2f}×)" for n, r in res.items()),
              flush=True)
    table = markdown_table(["size", "method", "CPU ms / whole step (median)", "CPU ratio to AdamW (median)",
                            "GPU"], rows)
    write_json(RESULTS / "optim_cost.json", dict(command="python benchmarks/optim_cost.py", rounds=args.rounds,
                                                block=args.block, results=results, table_markdown=table))
    (RESULTS / "optim_cost.md").write_text(
        "# Whole-step cost against AdamW\n\n" + __doc__.split("\n\n")[1] + "\n\n" + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
