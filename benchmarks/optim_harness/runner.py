"""Train a method on a problem, sweep its learning rate, and time whole steps against AdamW.

Every run uses the same schedule (linear warm-up over ``warmup_frac`` of the budget, then cosine to 0), the
problem's batches for the seed, and stops early only when asked to (``stop_at_target``).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from optim_harness.problems import Problem


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """lr multiplier at 0-based ``step``: (step + 1)/warmup, then cosine from 1 to 0."""
    if step < warmup:
        return (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * p))


@dataclass(frozen=True)
class Method:
    """``build(model, lr, problem)`` returns the optimizer; ``kfac``: it needs K-FAC's capture loop."""

    name: str
    build: Callable[[nn.Module, float, Problem], Any]
    kfac: bool = False
    settings: dict = field(default_factory=dict)


def make_step(method: Method, problem: Problem, model: nn.Module, opt) -> Callable[[Any, Any], torch.Tensor]:
    """One whole training step (forward, backward, optimizer step); returns the batch loss."""
    if method.kfac:
        def kfac_step(x, y):
            opt.zero_grad(set_to_none=True)
            with opt.capture():
                out = model(x)
            loss = problem.loss(out, y)
            opt.backward(loss, problem.examples(out, y))
            opt.step()
            return loss
        return kfac_step

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = problem.loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


@dataclass
class Run:
    method: str
    lr: float
    seed: int
    steps_to_target: float      # inf when never reached (or diverged)
    final: float                # evaluation after the last step (nan when diverged)
    diverged: bool
    step_ms: float


def train(problem: Problem, method: Method, lr: float, seed: int, steps: int, warmup_frac: float = 0.02,
          stop_at_target: bool = False) -> Run:
    """Train one (method, lr, seed) for a budget of ``steps``; evaluate every ``problem.eval_every`` steps."""
    torch.manual_seed(seed)
    model = problem.make_model(seed)
    opt = method.build(model, lr, problem)
    base = [g["lr"] for g in opt.param_groups]
    warmup = max(1, int(warmup_frac * steps))
    step = make_step(method, problem, model, opt)
    hit, final, diverged, done = math.inf, math.nan, False, 0
    start = time.perf_counter()
    for t, (x, y) in enumerate(problem.batches(seed, steps)):
        for group, lr0 in zip(opt.param_groups, base):
            group["lr"] = lr0 * warmup_cosine(t, steps, warmup)
        loss = step(x, y)
        done = t + 1
        if done % problem.eval_every and done != steps:
            continue
        final = problem.evaluate(model, seed)
        if not (math.isfinite(final) and math.isfinite(float(loss.detach()))):
            diverged, final, hit = True, math.nan, math.inf
            break
        if final <= problem.target and hit == math.inf:
            hit = done
            if stop_at_target:
                break
    ms = 1e3 * (time.perf_counter() - start) / max(1, done)
    return Run(method.name, lr, seed, hit, final, diverged, ms)


def lr_sweep(problem: Problem, method: Method, lrs: list[float], seeds: list[int], steps: int,
             stop_at_target: bool = False) -> list[Run]:
    return [train(problem, method, lr, seed, steps, stop_at_target=stop_at_target) for lr in lrs for seed in seeds]


def best_run(runs: list[Run]) -> dict:
    """The lr with the smallest median steps to target (ties: smallest median final evaluation)."""
    by_lr: dict[float, list[Run]] = {}
    for r in runs:
        by_lr.setdefault(r.lr, []).append(r)

    def key(lr):
        rs = by_lr[lr]
        finals = [r.final if math.isfinite(r.final) else math.inf for r in rs]
        return statistics.median(r.steps_to_target for r in rs), statistics.median(finals)

    lr = min(by_lr, key=key)
    steps, final = key(lr)
    return dict(lr=lr, steps=steps, final=final, diverged_lrs=sorted(l for l, rs in by_lr.items()
                                                                        if any(r.diverged for r in rs)))


def step_cost(problem: Problem, methods: list[Method], lrs: dict[str, float], rounds: int = 15, block: int = 5,
              warmup_steps: int = 5, reference: str = "AdamW") -> dict[str, dict[str, float]]:
    """Whole-step time (forward + backward + optimizer step) per method, interleaved round by round in one
    process so that every method sees the same machine state; medians over rounds of ``block`` steps, and the
    median of the per-round ratios to ``reference``."""
    setups = {}
    for m in methods:
        torch.manual_seed(0)
        model = problem.make_model(0)
        opt = m.build(model, lrs[m.name], problem)
        setups[m.name] = (make_step(m, problem, model, opt), list(problem.batches(0, warmup_steps + block)))
    for step, batches in setups.values():
        for x, y in batches[:warmup_steps]:
            step(x, y)
    times: dict[str, list[float]] = {m.name: [] for m in methods}
    for r in range(rounds):
        order = methods[r % len(methods):] + methods[:r % len(methods)]
        for m in order:
            step, batches = setups[m.name]
            t0 = time.perf_counter()
            for x, y in batches[warmup_steps:]:
                step(x, y)
            times[m.name].append(1e3 * (time.perf_counter() - t0) / block)
    ref = times[reference]
    return {name: dict(ms=statistics.median(ts), ratio=statistics.median(t / q for t, q in zip(ts, ref)))
            for name, ts in times.items()}
