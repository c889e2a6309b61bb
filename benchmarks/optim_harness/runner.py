"""Train a method on a problem, tune its learning rate in two stages, and run the jobs in worker processes.

Every run uses the same schedule (linear warm-up, then cosine to 0), the problem's batches for its seed, and
the same seeding; a run whose loss or evaluation turns non-finite is stopped and flagged as diverged.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing as mp
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from optim_harness.problems import Problem

INF = math.inf
REPO = Path(__file__).resolve().parents[2]
_MODULES = {"KFAC": "kfac", "Shampoo": "shampoo", "SOAP": "soap", "Muon": "muon",
            "build_muon_optimizer": "routing", "layerwise_kfac_step": "layerwise"}


def warmup_cosine(step: int, total: int, warmup: int, final_ratio: float = 0.0) -> float:
    """lr multiplier at 0-based ``step``: (step + 1)/warmup, then cosine from 1 to ``final_ratio``."""
    if step < warmup:
        return (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + math.cos(math.pi * p))


def lr_grid(low: float, high: float, n: int) -> list[float]:
    """``n`` log-spaced learning rates from ``low`` to ``high`` inclusive (4 significant digits)."""
    if n < 1 or low <= 0 or high < low:
        raise ValueError(f"bad grid: low={low}, high={high}, n={n}")
    if n == 1:
        return [float(f"{math.sqrt(low * high):.4g}")]
    return [float(f"{v:.4g}") for v in np.geomspace(low, high, n)]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def ours(name: str):
    """``strategist.optim.<name>`` (from the package, else from its module); raises when it is missing."""
    package = importlib.import_module("strategist.optim")
    if hasattr(package, name):
        return getattr(package, name)
    return getattr(importlib.import_module(f"strategist.optim.{_MODULES[name]}"), name)


@dataclass(frozen=True)
class Method:
    """A method under test: ``build(model, lr, problem)`` returns its optimizer, whose ``param_groups`` carry
    the lr the schedule sets. Three loops: a torch optimizer (zero_grad, loss.backward(), step); K-FAC
    (``kfac``: capture the forward, Fisher pass, loss backward, step; factors refreshed every
    ``capture_every`` steps); or an object with its own ``train_step(x, y) -> loss`` (a closed-form update).
    ``settings``: what it runs with, for the record; ``info``: what a benchmark keeps about it (label, lr
    range, family, ...)."""

    name: str
    build: Callable[[nn.Module, float, Problem], Any]
    kfac: bool = False
    capture_every: int = 1
    settings: Any = field(default_factory=dict)
    info: dict = field(default_factory=dict)


class OptimizerPair:
    """Two optimizers stepped together (e.g. Muon on hidden matrices, AdamW on the rest)."""

    def __init__(self, *optimizers):
        self.optimizers = [o for o in optimizers if o is not None]

    @property
    def param_groups(self):
        return [g for o in self.optimizers for g in o.param_groups]

    @property
    def state(self):
        return {k: v for o in self.optimizers for k, v in o.state.items()}

    def step(self, closure=None):
        for o in self.optimizers:
            o.step()

    def zero_grad(self, set_to_none: bool = True):
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    def state_dict(self):
        return {str(i): o.state_dict() for i, o in enumerate(self.optimizers)}


def synchronize(t) -> None:
    """Wait for the GPU when ``t`` lives on one (timing)."""
    if isinstance(t, torch.Tensor) and t.is_cuda:
        torch.cuda.synchronize()


def make_step(method: Method, problem: Problem, model: nn.Module, opt, opt_timer: list[float] | None = None
              ) -> Callable[[Any, Any], torch.Tensor]:
    """One whole training step (forward, backward, optimizer step); returns the batch loss. With
    ``opt_timer``, the seconds spent in ``opt.step()`` are added to ``opt_timer[0]`` (plain loop only)."""
    if hasattr(opt, "train_step"):
        return opt.train_step
    if method.kfac:
        count = [0]

        def kfac_step(x, y):
            opt.zero_grad(set_to_none=True)
            with opt.capture(enabled=count[0] % method.capture_every == 0):
                out = model(x)
            count[0] += 1
            out, y = problem.examples(out, y)
            loss = problem.loss(out, y)
            opt.backward(loss, out)
            opt.step()
            return loss
        return kfac_step

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = problem.loss(model(x), y)
        loss.backward()
        if opt_timer is None:
            opt.step()
        else:
            synchronize(x)
            t0 = time.perf_counter()
            opt.step()
            synchronize(x)
            opt_timer[0] += time.perf_counter() - t0
        return loss
    return step


@dataclass
class Run:
    method: str
    lr: float
    seed: int
    steps_to_target: float = INF    # first evaluation at or below the target (inf: never, or diverged)
    final: float = math.nan         # evaluation after the last step (nan when diverged)
    diverged: bool = False
    step_ms: float = math.nan       # wall time per step, evaluations included
    steps_to_stay: float = INF      # first evaluation from which every later one is at or below the target
    first_hit: float = INF          # as steps_to_target, but also for runs that diverge later
    wall_s: float = 0.0
    train_s: float | None = None    # time inside the steps alone
    curve_steps: list[int] = field(default_factory=list)
    curve: list[float] = field(default_factory=list)         # evaluations (nan where the run diverged)
    curve_time_s: list[float] = field(default_factory=list)  # train_s at each evaluation
    state_bytes: int | None = None
    error: str | None = None


def train(problem: Problem, method: Method, lr: float, seed: int, steps: int, warmup: int | None = None,
          warmup_frac: float = 0.02, stop_at_target: bool = False, sync_steps: bool = True) -> Run:
    """Train one (method, lr, seed) for a budget of ``steps`` (the schedule's length; warm-up ``warmup`` steps,
    default ``warmup_frac`` of the budget). ``sync_steps``: on CUDA, synchronise around every step so that
    ``train_s`` is the steps' own time (else only at the end)."""
    seed_everything(seed)
    model = problem.make_model(seed)
    opt = method.build(model, lr, problem)
    base = [g["lr"] for g in opt.param_groups]
    warmup = max(1, int(warmup_frac * steps)) if warmup is None else warmup
    step = make_step(method, problem, model, opt)
    run = Run(method.name, lr, seed, curve_steps=[0], curve=[problem.evaluate(model, seed)], curve_time_s=[0.0])
    hit = stay = x = None
    train_s, done = 0.0, 0
    start = time.perf_counter()
    for t, (x, y) in enumerate(problem.batches(seed, steps)):
        for group, lr0 in zip(opt.param_groups, base):
            group["lr"] = lr0 * warmup_cosine(t, steps, warmup)
        if sync_steps:
            synchronize(x)
        t0 = time.perf_counter()
        loss = step(x, y)
        if sync_steps:
            synchronize(x)
        train_s += time.perf_counter() - t0
        done = t + 1
        if not problem.evaluated(done, steps):
            continue
        value = problem.evaluate(model, seed)
        run.diverged = not (math.isfinite(value) and math.isfinite(float(loss.detach())))
        run.curve_steps.append(done)
        run.curve.append(math.nan if run.diverged else value)
        run.curve_time_s.append(train_s)
        if run.diverged:
            break
        if value <= problem.target:
            hit, stay = hit or done, stay or done
            if stop_at_target:
                break
        else:
            stay = None
    synchronize(x)
    run.wall_s = time.perf_counter() - start
    run.train_s, run.step_ms = train_s, 1e3 * run.wall_s / max(1, done)
    run.final = math.nan if run.diverged else run.curve[-1]
    run.first_hit = INF if hit is None else hit
    run.steps_to_target = INF if run.diverged or hit is None else hit
    run.steps_to_stay = INF if run.diverged or stay is None else stay
    run.state_bytes = optimizer_state_bytes(opt)
    return run


def train_safely(problem: Problem, method: Method, lr: float, seed: int, steps: int, **kw) -> Run:
    """:func:`train`, with a method that raises recorded as a failed run (diverged, ``error`` set)."""
    try:
        return train(problem, method, lr, seed, steps, **kw)
    except Exception as exc:  # noqa: BLE001 - an optimizer that fails on a problem is reported, not fatal
        return Run(method.name, lr, seed, diverged=True, error=repr(exc))


def lr_sweep(problem: Problem, method: Method, lrs: list[float], seeds: list[int], steps: int,
             stop_at_target: bool = False) -> list[Run]:
    return [train(problem, method, lr, seed, steps, stop_at_target=stop_at_target) for lr in lrs for seed in seeds]


def best_run(runs: list[Run]) -> dict:
    """The lr with the smallest median steps to target (ties: smallest median final evaluation, non-finite
    counting as infinite; then the first lr)."""
    by_lr: dict[float, list[Run]] = {}
    for r in runs:
        by_lr.setdefault(r.lr, []).append(r)

    def key(lr):
        rs = by_lr[lr]
        finals = [r.final if math.isfinite(r.final) else INF for r in rs]
        return statistics.median(r.steps_to_target for r in rs), statistics.median(finals)

    lr = min(by_lr, key=key)
    steps, final = key(lr)
    return dict(lr=lr, steps=steps, final=final, diverged_lrs=sorted(l for l, rs in by_lr.items()
                                                                        if any(r.diverged for r in rs)))


@dataclass(frozen=True)
class Job:
    setting: Any        # what distinguishes the problems of a sweep: κ, a model name, ...
    method: str
    lr: float
    seed: int


def tune_then_confirm(cells: list[tuple[Any, str]], grids: dict, seeds: list[int], tune_seeds: int,
                      run_jobs: Callable[[list[Job]], list], select: Callable[[list], float | None]
                      ) -> tuple[list[tuple[Job, Any]], dict]:
    """Stage 1: every lr of ``grids[cell]`` on the first ``tune_seeds`` seeds, for every (setting, method)
    cell (the methods of a setting interleaved lr by lr, so that a deadline cuts them evenly); the lr
    ``select`` picks from a cell's results (None: no lr); stage 2: the other seeds at that lr.
    ``run_jobs(jobs)`` returns one result per job, in order (fewer when it stopped early).
    Returns [(job, result)] and {cell: lr}."""
    settings = list(dict.fromkeys(s for s, _ in cells))
    width = max((len(g) for g in grids.values()), default=0)
    stage1 = [Job(s, m, grids[(s, m)][i], seed) for seed in seeds[:tune_seeds] for s in settings
              for i in range(width) for c, m in cells if c == s and i < len(grids[(s, m)])]
    done = list(zip(stage1, run_jobs(stage1)))
    best = {}
    for cell in cells:
        results = [r for j, r in done if (j.setting, j.method) == cell]
        lr = select(results) if results else None
        if lr is not None:
            best[cell] = lr
    stage2 = [Job(s, m, best[(s, m)], seed) for seed in seeds[tune_seeds:] for s in settings
              for c, m in cells if c == s and (s, m) in best]
    done += list(zip(stage2, run_jobs(stage2)))
    return done, best


def fit_to_time(step_ms: dict[str, float], runs_per_method: Callable[[int], int], seconds: float, steps: int,
                grid_size: int, workers: int = 1, floor: int = 500, min_grid: int = 5, margin: float = 1.25
                ) -> tuple[int, int]:
    """(steps, grid size) for a sweep to fit ``seconds``: the largest step budget (a multiple of 100, at most
    ``steps``) whose estimate fits; below ``floor`` steps the lr grid shrinks instead (not under
    ``min_grid``). ``runs_per_method(grid_size)``: runs of one method in the sweep."""
    while True:
        ms_per_step = sum(step_ms.values()) * runs_per_method(grid_size) / max(1, workers)
        fit = min(steps, int(seconds * 1e3 / (ms_per_step * margin)) // 100 * 100)
        if fit >= min(floor, steps) or grid_size <= min_grid:
            return max(fit, min(floor, steps)), grid_size
        grid_size -= 1


@dataclass
class Progress:
    """Prints ``label i/n elapsed, eta  note`` lines to stderr, at most every ``every_s`` seconds."""

    total: int
    label: str = ""
    every_s: float = 5.0
    stream: Callable[[str], object] = lambda s: print(s, file=sys.stderr, flush=True)

    def __post_init__(self) -> None:
        self.start, self._last, self.done = time.perf_counter(), -INF, 0

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last < self.every_s and self.done < self.total:
            return
        self._last = now
        elapsed = now - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else INF
        self.stream(f"{self.label} {self.done}/{self.total}  {elapsed:6.0f}s elapsed, ~{eta:5.0f}s left  {note}")


def worker_init(device: str = "cpu") -> None:
    """One thread; on CUDA, initialise the context and the linear-algebra libraries before any timing."""
    torch.set_num_threads(1)
    if device.startswith("cuda"):
        a = torch.randn(16, 16, device=device, generator=torch.Generator(device=device).manual_seed(0))
        spd = a @ a.T + torch.eye(16, device=device)
        torch.linalg.eigh(spd), torch.linalg.cholesky(spd), torch.linalg.qr(a), torch.linalg.solve(spd, a)
        (a.to(torch.bfloat16) @ a.to(torch.bfloat16)).float().sum().item()


class Workers:
    """``fn(job)`` for a list of jobs, in this process (``workers`` = 1) or in a spawn pool of processes
    started with ``init(*initargs)``; jobs not finished by a ``deadline`` (perf_counter time) are dropped."""

    def __init__(self, fn: Callable, workers: int = 1, init: Callable = worker_init, initargs: tuple = ()):
        self.fn = fn
        self.pool = mp.get_context("spawn").Pool(workers, initializer=init, initargs=initargs) if workers > 1 else None
        if self.pool is None:
            init(*initargs)

    def map(self, jobs: list, progress: Progress | None = None, deadline: float | None = None,
            note: Callable[[Any], str] = lambda r: "") -> list:
        out: list = []
        if self.pool is None:
            for job in jobs:
                if deadline is not None and time.perf_counter() > deadline:
                    print("deadline reached: the remaining runs are skipped", file=sys.stderr, flush=True)
                    break
                out.append(self.fn(job))
                if progress:
                    progress.update(note=note(out[-1]))
            return out
        pending = [self.pool.apply_async(self.fn, (job,)) for job in jobs]
        for fut in pending:
            try:
                out.append(fut.get(timeout=None if deadline is None else max(0.1, deadline - time.perf_counter())))
            except mp.TimeoutError:
                print("deadline reached: the remaining runs are skipped", file=sys.stderr, flush=True)
                self.close(terminate=True)
                break
            if progress:
                progress.update(note=note(out[-1]))
        return out

    def close(self, terminate: bool = False) -> None:
        if self.pool is not None:
            (self.pool.terminate if terminate else self.pool.close)()
            self.pool.join()
            self.pool = None


def optimizer_state_bytes(opt) -> int | None:
    """Bytes of the distinct tensor storages reachable from ``opt.state_dict()`` (inside dicts, lists and
    plain objects such as preconditioner holders); parameters themselves are not in it. None without a
    state_dict."""
    if not hasattr(opt, "state_dict"):
        return None
    storages: dict[int, int] = {}
    seen: set[int] = set()

    def walk(obj):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, torch.Tensor):
            if obj.numel():
                storage = obj.untyped_storage()
                storages[storage.data_ptr()] = storage.nbytes()
        elif isinstance(obj, dict):
            for k, v in obj.items():
                if k != "params":
                    walk(v)
        elif isinstance(obj, (list, tuple, set)):
            for v in obj:
                walk(v)
        elif hasattr(obj, "__dict__") and not isinstance(obj, (nn.Module, type)):
            walk(vars(obj))

    walk(opt.state_dict())
    return sum(storages.values())
