"""T1 as a harness problem: y = F* G* x + ε with Σx of condition number κ, f(x) = F G x, metric the subspace
distance of row(G) to row(G*) (see benchmarks/optim_t1.py, which defines the data)."""

from __future__ import annotations

from functools import lru_cache

import torch

from optim_harness._scripts import script
from optim_harness.problems import Problem

CPU = torch.device("cpu")


def t1_problem(kappa: float, noise: float = 0.1, batch: int = 256) -> Problem:
    t1 = script("optim_t1")

    @lru_cache(maxsize=None)
    def instance(seed: int):
        return t1.make_problem(kappa, seed, noise=noise)

    def batches(seed: int, steps: int):
        stream = t1.BatchStream(instance(seed), batch, seed, CPU)
        return [stream.next() for _ in range(steps)]

    return Problem(
        name=f"T1 κ={kappa:g} noise={noise:g}",
        make_model=lambda seed: t1.make_model(instance(seed), seed, CPU),
        batches=batches,
        loss=t1.mse_loss,
        evaluate=lambda model, seed: t1.subspace_distance(model.G.weight, instance(seed).basis),
        target=0.1 if kappa >= 1000 else 0.05,
        loss_type="mse",
    )


def ols_steps(kappa: float, noise: float, seeds: list[int], max_steps: int = 600) -> list[float]:
    """The data limit: batches until OLS on all samples so far reaches the target, per seed."""
    t1 = script("optim_t1")
    return [t1.ols_oracle_steps(kappa, s, noise=noise, max_steps=max_steps)["steps"] for s in seeds]
