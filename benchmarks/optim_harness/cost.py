"""What a method costs: whole-step time of several methods interleaved in one process (against a reference),
and cProfile of its steps (where the time goes)."""

from __future__ import annotations

import os
import statistics
import time
from typing import Callable

import numpy as np
import torch

from optim_harness.problems import Problem
from optim_harness.runner import REPO, Method, synchronize, make_step


def round_ratio(times: list[float], reference: list[float], name: str = "adamw") -> dict:
    """Median and quartiles over rounds of times[i] / reference[i] (same rounds of one interleaved run)."""
    q25, q50, q75 = np.quantile([a / b for a, b in zip(times, reference)], [0.25, 0.5, 0.75])
    return {f"median_ratio_to_{name}": float(q50), "ratio_q25_q75": [float(q25), float(q75)]}


def interleaved_step_times(problem: Problem, methods: list[Method], lrs: dict[str, float], batches: list,
                           rounds: int = 21, block: int = 10, warmup: int = 20,
                           schedule: Callable[[int], float] | None = None, reference: str = "AdamW"
                           ) -> dict[str, dict]:
    """Per-step seconds of each method, in blocks of ``block`` steps with the methods interleaved (rotating
    order) in one process, after ``warmup`` steps each: the median over rounds, and the median and quartiles
    over rounds of the per-round ratio to ``reference``. Blocks are long enough to include the periodic
    preconditioner refreshes; ``batches`` are cycled; ``schedule(position)`` sets the lr multiplier.
    ``opt_step_s``: the part spent in ``optimizer.step()`` (not for K-FAC, whose Fisher pass is in backward)."""
    runners, opt_timers = {}, {}
    for m in methods:
        torch.manual_seed(0)
        model = problem.make_model(0)
        opt = m.build(model, lrs[m.name], problem)
        opt_timers[m.name] = [0.0]
        runners[m.name] = [make_step(m, problem, model, opt, opt_timers[m.name]), opt,
                           [g["lr"] for g in opt.param_groups], 0]
    opt_per: dict[str, list[float]] = {m.name: [] for m in methods}

    def run_block(name, n):
        step_fn, opt, base, pos = runners[name]
        opt_timers[name][0] = 0.0
        synchronize(batches[0][0])
        t0 = time.perf_counter()
        for _ in range(n):
            x, y = batches[pos % len(batches)]
            if schedule is not None:
                for group, lr0 in zip(opt.param_groups, base):
                    group["lr"] = lr0 * schedule(pos)
            step_fn(x, y)
            pos += 1
        synchronize(batches[0][0])
        runners[name][3] = pos
        opt_per[name].append(opt_timers[name][0] / n)
        return (time.perf_counter() - t0) / n

    names = [m.name for m in methods]
    for name in names:
        run_block(name, warmup)
        opt_per[name].clear()
    per: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            per[name].append(run_block(name, block))
    out = {}
    for m in methods:
        out[m.name] = {"median_step_s": statistics.median(per[m.name]), "step_s": per[m.name]}
        if not m.kfac:
            out[m.name].update(opt_step_s=opt_per[m.name], median_opt_step_s=statistics.median(opt_per[m.name]))
        if reference in per:
            out[m.name].update(round_ratio(per[m.name], per[reference], reference.lower()))
    return out


def step_cost(problem: Problem, methods: list[Method], lrs: dict[str, float], rounds: int = 15, block: int = 5,
              warmup_steps: int = 5, reference: str = "AdamW") -> dict[str, dict[str, float]]:
    """Whole-step milliseconds (forward + backward + optimizer step) per method and the median per-round
    ratio to ``reference``, from :func:`interleaved_step_times` (constant lr)."""
    batches = list(problem.batches(0, warmup_steps + block))
    times = interleaved_step_times(problem, methods, lrs, batches, rounds, block, warmup_steps, reference=reference)
    return {name: dict(ms=1e3 * t["median_step_s"], ratio=t[f"median_ratio_to_{reference.lower()}"])
            for name, t in times.items()}


def _is_optimizer_frame(filename: str) -> bool:
    return "strategist/optim" in filename or "torch/optim" in filename


def profile_steps(problem: Problem, method: Method, lr: float, batches: list, steps: int = 40, warmup: int = 20,
                  top: int = 8, optimizer_only: bool = False) -> dict:
    """cProfile of ``steps`` training steps: ms per step overall, in the optimizer (``optimizer.step()``, plus
    K-FAC's ``update_factors``, its Fisher pass), backward passes per step, and the heaviest functions by own
    time. ``optimizer_only``: profile only inside ``optimizer.step()`` (not for K-FAC)."""
    import cProfile
    import pstats
    torch.manual_seed(0)
    model = problem.make_model(0)
    opt = method.build(model, lr, problem)
    opt_timer = [0.0]
    step_fn = make_step(method, problem, model, opt, opt_timer)
    for i in range(warmup):
        step_fn(*batches[i])
    prof = cProfile.Profile()
    opt_timer[0] = 0.0
    t0 = time.perf_counter()
    if optimizer_only and not method.kfac:
        for i in range(warmup, warmup + steps):
            x, y = batches[i % len(batches)]
            loss = problem.loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            prof.enable()
            opt.step()
            prof.disable()
    else:
        prof.enable()
        for i in range(warmup, warmup + steps):
            step_fn(*batches[i % len(batches)])
        prof.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # (file, line, func) -> (cc, nc, tottime, cumtime, callers)
    if method.kfac:
        in_opt = sum(ct for (f, _, fn), (_, _, _, ct, _) in stats.items()
                     if _is_optimizer_frame(f) and fn in ("step", "update_factors"))
    elif optimizer_only:
        in_opt = sum(v[2] for v in stats.values())  # every function's own time: all of it is inside step()
    else:
        in_opt = opt_timer[0]
    backward_calls = sum(nc for (f, _, fn), (_, nc, _, _, _) in stats.items() if "'run_backward'" in fn)
    rows = sorted(((tt, nc, f, line, fn) for (f, line, fn), (_, nc, tt, _, _) in stats.items()), reverse=True)
    hot = []
    for tt, nc, f, line, fn in rows[:top]:
        where = (os.path.relpath(f, REPO) if f.startswith(str(REPO)) else
                 f.split("site-packages/")[-1] if "site-packages" in f else f)
        hot.append({"where": f"{where}:{line}({fn})" if line else fn, "ms_per_step": 1e3 * tt / steps,
                    "calls_per_step": nc / steps, "share": tt / max(in_opt if optimizer_only else wall, 1e-12)})
    return {"ms_per_step": 1e3 * wall / steps, "optimizer_ms_per_step": 1e3 * in_opt / steps,
            "backward_passes_per_step": backward_calls / steps, "hot": hot}
