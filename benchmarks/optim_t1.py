"""T1: linear representation learning, the problem of arXiv 2502.01763, as an optimizer benchmark.

The problem (benchmarks/optim_harness/t1.py): y = F* G* x + ε with Σx of condition number κ, model f(x) = F G x,
metric the subspace distance d(G) of row(G) to row(G*). Reported: steps until d ≤ target (0.05; 0.1 at
κ = 1000) and d at the end of the budget, for every method at its best learning rate (same warm-up + cosine
schedule, same grid size, 3 seeds), and the steps an OLS fit on all samples seen so far needs (how much data
the target takes at this noise level). The report (--report) is written by optim_t1_report.py.

    python benchmarks/optim_t1.py                  # reduced sweep on CPU (about 15 minutes on one core)
    python benchmarks/optim_t1.py --full --device cuda --out benchmarks/results/optim_t1_gpu.json
    python benchmarks/optim_t1.py --smoke          # a few seconds: every method once
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
for _p in (str(HERE), str(HERE.parent)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import optim_t1_report as report  # noqa: E402
from optim_harness.report import machine_info, spread, write_json  # noqa: E402
from optim_harness.runner import (Job, Method, Progress, Run, Workers, best_run, fit_to_time, lr_grid,  # noqa: E402
                                  ours, train_safely, tune_then_confirm, worker_init)
from optim_harness.t1 import LayerwiseUpdate, stylised_step_reference, t1_problem  # noqa: E402

RESULTS = HERE / "results"


def _eq5(dtype: torch.dtype, reference: bool = False):
    def build(model, lr, problem):
        if reference:
            return LayerwiseUpdate(model, lr, stylised_step_reference, dtype)
        step = ours("layerwise_kfac_step")
        return LayerwiseUpdate(model, lr, lambda F, G, x, y, eta: step(F, G, x, y, lr=eta, alternating=False), dtype)
    return build


def method(key: str, label: str, build, lr_range: tuple[float, float], settings: str, kfac: bool = False,
           kfac_style: bool = False, needs: str | None = None) -> Method:
    """A T1 method: ``lr_range`` the end points of its log-spaced grid; ``kfac_style`` methods face the targets;
    ``needs``: the strategist.optim name it is skipped without."""
    return Method(key, build, kfac=kfac, settings=settings,
                  info=dict(label=label, lr_range=lr_range, kfac_style=kfac or kfac_style, needs=needs))


def _kfac(**kw):
    return lambda m, lr, p: ours("KFAC")(m, lr=lr, loss_type="mse", **kw)


METHODS: dict[str, Method] = {m.name: m for m in [
    method("sgd", "SGD", lambda m, lr, p: torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9), (0.01, 3.16),
           "momentum 0.9"),
    method("adamw", "AdamW", lambda m, lr, p: torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.0),
           (1e-3, 0.316), "betas (0.9, 0.999), eps 1e-8, weight decay 0"),
    # The settings the committed results were run with (KFAC's defaults before the defaults sweep).
    method("kfac", "K-FAC", _kfac(factor_decay=0.95, inverse_every=10, kl_clip=1e-3, momentum=0.5), (3.16e-3, 1.0),
           "strategist.optim.KFAC(loss_type='mse'), sampled Fisher; its defaults before the defaults sweep: EMA "
           "factors (decay 0.95), inverses every 10 steps, KL clip 1e-3, damping 1e-3, momentum 0.5",
           kfac=True, needs="KFAC"),
    method("kfac_batch", "K-FAC, batch factors", _kfac(factor_decay=0.0, inverse_every=1, kl_clip=None), (0.01, 3.16),
           "strategist.optim.KFAC(loss_type='mse', factor_decay=0, inverse_every=1, kl_clip=None): factors of the "
           "current batch only, as in eq. (5); other options at their defaults", kfac=True, needs="KFAC"),
    method("shampoo", "Shampoo", lambda m, lr, p: ours("Shampoo")(m.parameters(), lr=lr, precondition_frequency=10,
                                                                  start_preconditioning_step=10), (1e-3, 0.316),
           "precondition_frequency 10, start_preconditioning_step 10, other options at their defaults",
           needs="Shampoo"),
    method("soap", "SOAP", lambda m, lr, p: ours("SOAP")(m.parameters(), lr=lr, weight_decay=0.0), (1e-3, 0.316),
           "weight decay 0, other options at their defaults", needs="SOAP"),
    method("muon", "Muon", lambda m, lr, p: ours("Muon")(m.parameters(), lr=lr), (1e-3, 0.316),
           "Muon on both weight matrices; momentum 0.95, Nesterov, 5 Newton–Schulz steps", needs="Muon"),
    method("eq5", "eq. (5) stylised", _eq5(torch.float32), (0.01, 3.16),
           "strategist.optim.layerwise.layerwise_kfac_step(alternating=False), damping 1e-3, float32",
           kfac_style=True, needs="layerwise_kfac_step"),
    method("eq5_f64", "eq. (5) stylised, float64", _eq5(torch.float64), (0.01, 3.16),
           "strategist.optim.layerwise.layerwise_kfac_step(alternating=False), damping 1e-3, run in float64",
           kfac_style=True, needs="layerwise_kfac_step"),
    method("eq5_ref", "eq. (5) float64 reference", _eq5(torch.float64, reference=True), (0.01, 3.16),
           "alternating G then F, damping 1e-3, float64 (this benchmark's own implementation)", kfac_style=True),
]}


def available(key: str) -> bool:
    try:
        needs = METHODS[key].info.get("needs")
        return needs is None or ours(needs) is not None
    except Exception:  # noqa: BLE001 - a missing optimizer is reported, not fatal
        return False


@dataclass
class SweepSettings:
    kappas: list[float]
    methods: list[str]
    seeds: list[int]
    steps: int
    warmup: int
    grid_size: int
    tune_seeds: int = 1             # the first ``tune_seeds`` seeds run the whole grid; the rest the best lr
    noise: float = 0.1
    batch: int = 256
    d_x: int = 100
    k: int = 8
    d_y: int = 16
    device: str = "cpu"
    workers: int = 1
    dense_until: int = 200          # evaluate every step up to here, then every ``eval_every``
    eval_every: int = 5
    oracle_max_steps: int = 600
    grids: dict[str, list[float]] = field(default_factory=dict)

    def set_grids(self) -> None:
        self.grids = {m: lr_grid(*METHODS[m].info["lr_range"], self.grid_size) for m in self.methods}


def run_one(task: tuple[SweepSettings, Any, bool]) -> dict[str, Any]:
    """One (method, κ, lr, seed) (in a worker): hitting steps, final distance and the distance curve."""
    s, job, keep_curve = task
    problem = t1_problem(job.setting, s.noise, s.batch, s.device, s.eval_every, s.dense_until, s.d_x, s.k, s.d_y)
    r = train_safely(problem, METHODS[job.method], job.lr, job.seed, s.steps, warmup=s.warmup, sync_steps=False)
    # A run that blows up later has not learnt the subspace: it counts as never reaching the target.
    out = dict(method=job.method, kappa=job.setting, lr=job.lr, seed=job.seed, target=problem.target,
               steps_to_target=r.steps_to_target, steps_to_stay=r.steps_to_stay, first_hit=r.first_hit,
               final_distance=r.final, diverged=r.diverged, wall_s=r.wall_s, step_ms=r.step_ms)
    if r.error:
        out["error"] = r.error
    if keep_curve:   # without the non-finite evaluation of a diverged run
        n = len(r.curve) - r.diverged
        out["curve_steps"], out["curve"] = r.curve_steps[:n], r.curve[:n]
    return out


def _select(records: list[dict]) -> float:
    """Best lr of a (method, κ) on the tuning seeds: median steps to target, ties by median final distance."""
    return best_run([Run(r["method"], r["lr"], r["seed"], r["steps_to_target"], r["final_distance"], r["diverged"])
                     for r in records])["lr"]


def run_sweep(s: SweepSettings, pool: Workers, deadline: float | None = None):
    """Stage 1 (grid on the tuning seeds), best lr per (method, κ), stage 2 (other seeds at the best lr)."""
    cells = [(k, m) for k in s.kappas for m in s.methods]
    progress = Progress(expected_runs(s), label="T1 runs", every_s=10.0)
    done, best = tune_then_confirm(
        cells, {c: s.grids[c[1]] for c in cells}, s.seeds, s.tune_seeds,
        lambda jobs: pool.map([(s, j, True) for j in jobs], progress, deadline, lambda r: (
            f"{r['method']:>8} κ={r['kappa']:<6g} lr={r['lr']:<8.3g} seed {r['seed']} "
            f"hit={r['steps_to_target']} d_end={r['final_distance']:.3g}")), _select)
    by_method = {m: {str(k): best[k, m] for k in s.kappas if (k, m) in best} for m in s.methods}
    return [r for _, r in done], {m: v for m, v in by_method.items() if v}


def expected_runs(s: SweepSettings) -> int:
    return len(s.methods) * len(s.kappas) * (s.tune_seeds * s.grid_size + len(s.seeds) - s.tune_seeds)


def calibrate(s: SweepSettings, pool: Workers, steps: int = 60) -> dict[str, float]:
    """Milliseconds per step of each method (κ = 100, mid-grid lr), measured with every worker busy."""
    short = dataclasses.replace(s, steps=steps, warmup=max(1, steps // 50))
    jobs = [(short, Job(100.0, m, s.grids[m][len(s.grids[m]) // 2], 0), False)
            for _ in range(max(1, s.workers)) for m in s.methods]
    runs = pool.map(jobs, Progress(len(jobs), label="calibration", every_s=30.0))
    return {m: spread(r["step_ms"] for r in runs if r["method"] == m)["median"] for m in s.methods}


MODES = {
    # budget (steps), grid size, seeds (the first ``tune_seeds`` run the whole grid), metric evaluation
    "smoke": dict(steps=150, grid_size=1, kappas=[1.0, 1000.0], seeds=[0], tune_seeds=1, dense_until=50,
                  eval_every=5),
    "quick": dict(steps=1000, grid_size=6, kappas=[1.0, 10.0, 100.0, 1000.0], seeds=[0, 1, 2], tune_seeds=1,
                  dense_until=200, eval_every=5),
    "full": dict(steps=3000, grid_size=7, kappas=[1.0, 10.0, 100.0, 1000.0], seeds=[0, 1, 2], tune_seeds=1,
                 dense_until=200, eval_every=10),
}
DEFAULT_METHODS = ["sgd", "adamw", "kfac", "kfac_batch", "shampoo", "soap", "muon", "eq5"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", dest="mode", const="quick", help="reduced sweep (default)")
    mode.add_argument("--full", action="store_const", dest="mode", const="full",
                      help="bigger budget, whole grid on every seed (for a GPU machine)")
    mode.add_argument("--smoke", action="store_const", dest="mode", const="smoke", help="seconds: wiring check")
    p.set_defaults(mode="quick")
    p.add_argument("--device", default="cpu")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help="comma-separated keys out of " + ",".join(METHODS))
    p.add_argument("--kappas", default=None, help="comma-separated condition numbers")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds")
    p.add_argument("--tune-seeds", type=int, default=None, help="seeds that run the whole lr grid")
    p.add_argument("--steps", type=int, default=None, help="step budget (schedule length)")
    p.add_argument("--grid-size", type=int, default=None)
    p.add_argument("--noise", type=float, default=0.1)
    p.add_argument("--workers", type=int, default=1, help="processes (1 thread each)")
    p.add_argument("--time-budget", type=float, default=None,
                   help="seconds for the sweep: time each method first, then shrink the step budget to fit")
    p.add_argument("--deadline", type=float, default=None,
                   help="hard limit in seconds: runs not finished by then are dropped (reported)")
    p.add_argument("--out", default=None, help="JSON path (default benchmarks/results/optim_t1[...].json)")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--report", action="store_true", help="only rewrite optim_t1.md from the result files")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.report:
        if not args.no_plots:
            report.redraw_plots(RESULTS)
        print(f"wrote {report.write_report(RESULTS)}", file=sys.stderr)
        return {}
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    deadline = None if args.deadline is None else t_start + args.deadline
    cfg = dict(MODES[args.mode])
    kappas = [float(k) for k in args.kappas.split(",")] if args.kappas else cfg["kappas"]
    seeds = list(range(args.seeds)) if args.seeds else cfg["seeds"]
    requested = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in requested if m not in METHODS]
    if unknown:
        raise SystemExit(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
    missing = [m for m in requested if not available(m)]
    methods = [m for m in requested if m not in missing]
    if missing:
        print(f"not available, skipped: {missing}", file=sys.stderr)
    steps = args.steps or cfg["steps"]
    s = SweepSettings(kappas=kappas, methods=methods, seeds=seeds, steps=steps, warmup=max(1, steps // 50),
                      grid_size=args.grid_size or cfg["grid_size"],
                      tune_seeds=min(len(seeds), args.tune_seeds or cfg["tune_seeds"]), noise=args.noise,
                      device=args.device, workers=args.workers, dense_until=cfg["dense_until"],
                      eval_every=cfg["eval_every"])
    s.set_grids()
    suffix = {"quick": "", "full": "_full", "smoke": "_smoke"}[args.mode] + (
        f"_noise{args.noise:g}" if args.noise != 0.1 else "")
    out = Path(args.out) if args.out else RESULTS / f"optim_t1{suffix}.json"

    oracle = report.oracle_table(s)
    pool = Workers(run_one, args.workers, worker_init, (args.device,))
    calibration = None
    try:
        if args.time_budget is not None:
            calibration = calibrate(s, pool)
            left = args.time_budget - (time.perf_counter() - t_start)
            s.steps, s.grid_size = fit_to_time({m: calibration[m] for m in s.methods}, lambda g: len(s.kappas) * (
                s.tune_seeds * g + len(s.seeds) - s.tune_seeds), left, s.steps, s.grid_size, s.workers)
            s.warmup = max(1, s.steps // 50)
            s.set_grids()
            print(f"calibration (ms/step): {({m: round(v, 2) for m, v in calibration.items()})} -> "
                  f"{s.steps} steps, {s.grid_size} lrs per method for {left:.0f} s", file=sys.stderr, flush=True)
        print(f"T1 {args.mode}: methods {methods}, κ {kappas}, seeds {seeds} (grid on the first {s.tune_seeds}), "
              f"{s.steps} steps (warm-up {s.warmup}, cosine), grid of {s.grid_size} lrs, noise {s.noise}, "
              f"device {s.device}, {s.workers} worker(s)", file=sys.stderr, flush=True)
        runs, best = run_sweep(s, pool, deadline)
    finally:
        pool.close()
    elapsed = time.perf_counter() - t_start
    table = report.summarise(s, runs, best)
    checks = report.target_checks(s, table, {m for m in s.methods if METHODS[m].info["kfac_style"]})
    labels = {m: METHODS[m].info["label"] for m in s.methods}
    text = report.steps_table(s.kappas, s.methods, labels, table, oracle, s.steps, s.oracle_max_steps, markdown=False)
    print(f"{text}\n\n(* best lr at the edge of its grid; '> {s.steps}': target not reached within the budget; "
          f"{len(runs)}/{expected_runs(s)} runs; runtime {elapsed:.0f} s)")
    for m, c in checks.items():
        print(f"{labels[m]}: " + ", ".join(f"{k} = {v:{'.3g' if isinstance(v, float) else ''}}" for k, v in c.items()))
    raw = [{k: v for k, v in r.items() if k not in ("curve", "curve_steps")} for r in runs]
    payload = dict(
        benchmark="T1 linear representation learning (arXiv 2502.01763)", mode=args.mode,
        command=" ".join(["python benchmarks/optim_t1.py"] + (argv if argv is not None else sys.argv[1:])),
        machine=machine_info(args.device), runtime_s=elapsed, complete=len(runs) == expected_runs(s),
        runs_done=len(runs), runs_expected=expected_runs(s), calibration_ms_per_step=calibration, settings=asdict(s),
        problem=report.PROBLEM, protocol=report.PROTOCOL,
        methods={m: dict(label=labels[m], settings=METHODS[m].settings, kfac_style=METHODS[m].info["kfac_style"],
                         grid=s.grids[m]) for m in methods},
        missing_methods=missing, best_lr=best, summary=table, targets=checks, ols_oracle=oracle, runs=raw,
        best_curves=report.best_curves(s, runs, table), table_text=text,
        table_markdown=report.steps_table(s.kappas, s.methods, labels, table, oracle, s.steps, s.oracle_max_steps))
    print(f"wrote {write_json(out, payload)}", file=sys.stderr)
    if not args.no_plots:
        try:
            for path in report.plot(payload, out.with_suffix("")):
                print(f"wrote {path}", file=sys.stderr)
        except ImportError as exc:
            print(f"plots skipped: {exc}", file=sys.stderr)
    return payload


if __name__ == "__main__":
    main()
