"""T2: next-shot prediction on synthetic rallies from a known mixture of Markov chains.

The problem (optim_harness/t2.py) has a known Bayes-optimal loss; models: a window MLP, a GRU, a causal
transformer. Methods: AdamW and strategist.optim's Shampoo, SOAP, Muon (routing helper) and K-FAC, on the same
warm-up + cosine schedule and lr-grid size, tuned on seed 0, run on 3 seeds. Reports excess loss over the Bayes
loss, steps and wall-clock to AdamW's final loss, per-step time ratio to AdamW (interleaved, medians) and
optimizer-state bytes in benchmarks/results/optim_t2.{json,md,png} (written by optim_t2_report.py).

    python benchmarks/optim_t2.py                 # CPU, about 10 minutes on one core
    python benchmarks/optim_t2.py --quick         # smoke run
    python benchmarks/optim_t2.py --device cuda --out benchmarks/results/optim_t2_gpu.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for _p in (str(HERE), str(REPO)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import optim_t2_report as report  # noqa: E402
from optim_harness.report import jsonable, machine_info, write_json  # noqa: E402
from optim_harness.cost import interleaved_step_times, profile_steps  # noqa: E402
from optim_harness.runner import (Method, Progress, Run, best_run, ours, train_safely, tune_then_confirm,  # noqa: E402
                                  warmup_cosine)
from optim_harness.t2 import T2Data, build_model, t2_problem  # noqa: E402

RESULTS = HERE / "results"
PROFILE_NAME = "optim_t2_profile"

ADAMW_CONFIG = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01}
SHAMPOO_CONFIG = {"betas": (0.9, 0.999), "eps": 1e-12, "precondition_frequency": 10,
                  "start_preconditioning_step": 10, "weight_decay": 0.0, "graft_eps": 1e-8}
SOAP_CONFIG = {"betas": (0.95, 0.95), "eps": 1e-8, "weight_decay": 0.01, "precondition_frequency": 10}
# Muon on hidden matrices; the AdamW part runs at adamw_lr_ratio x the Muon lr, with the AdamW baseline's betas/wd.
MUON_CONFIG = {"momentum": 0.95, "ns_steps": 5, "weight_decay": 0.0, "adamw_lr_ratio": 0.5,
               "adamw_betas": (0.9, 0.999), "adamw_weight_decay": 0.01}
# K-FAC on Linear/GRU layers; embeddings and LayerNorms on its AdamW fallback at fallback_lr_ratio x lr.
# kl_clip off: with its default 1e-3 the clip binds at every lr >= 0.01 here, so the lr grid stops mattering.
KFAC_CONFIG = {"momentum": 0.9, "damping": 1e-2, "factor_decay": 0.95, "inverse_every": 10, "kl_clip": None,
               "fallback": "adamw", "fallback_lr_ratio": 1.0, "fallback_weight_decay": 0.01}
# Centres of the lr grids (grid = centre x T2Config.lr_multipliers), set by a coarse pilot scan on this problem;
# the MLP (one-hot inputs, no normalisation) wants half a decade more for every Adam-scaled method.
LR_CENTERS = {"AdamW": 1e-2, "Shampoo": 1e-2, "SOAP": 1e-2, "Muon": 0.03, "KFAC": 0.02}
MODEL_LR_SCALE = {"mlp": 10 ** 0.5}
UNSCALED_FAMILIES = {"kfac"}  # natural-gradient lr: the same centre on every model


def t2_method(name: str, family: str, impl: str, lr_center: float, build: Callable, config: dict, notes: str = "",
              kfac: bool = False, capture_every: int = 1) -> Method:
    """A T2 method: ``build(model, lr)``; its lr grid is centred on ``lr_center`` (scaled per model)."""
    return Method(name, lambda model, lr, problem: build(model, lr), kfac=kfac, capture_every=capture_every,
                  settings=dict(config), info=dict(family=family, impl=impl, lr_center=lr_center, notes=notes))


def lr_center(method: Method, model_name: str) -> float:
    scale = 1.0 if method.info["family"] in UNSCALED_FAMILIES else MODEL_LR_SCALE.get(model_name, 1.0)
    return method.info["lr_center"] * scale


def _muon(model, lr):
    c = dict(MUON_CONFIG)
    return ours("build_muon_optimizer")(model, lr=lr, adamw_lr=c.pop("adamw_lr_ratio") * lr, **c)


def _kfac(model, lr):
    c = dict(KFAC_CONFIG)
    return ours("KFAC")(model, lr=lr, loss_type="cross_entropy", fallback_lr=c.pop("fallback_lr_ratio") * lr, **c)


def our_methods() -> tuple[list[Method], dict[str, str]]:
    """AdamW and the optimizers of strategist.optim that import; the second value says why any is missing."""
    methods = [t2_method("AdamW", "adamw", "torch", LR_CENTERS["AdamW"],
                         lambda m, lr: torch.optim.AdamW(m.parameters(), lr=lr, **ADAMW_CONFIG), ADAMW_CONFIG)]
    missing: dict[str, str] = {}
    notes = {"Muon": "hidden 2-D weights (GRU stacks split per gate) on Muon, embeddings/head/biases/gains on AdamW, "
                     "via strategist.optim.routing.build_muon_optimizer",
             "KFAC": "Linear and GRU layers preconditioned (attention projections are plain nn.Linear layers here); "
                     "embeddings and LayerNorms on the AdamW fallback"}
    for name, symbol, build, config in [
            ("Shampoo", "Shampoo", lambda m, lr: ours("Shampoo")(m.parameters(), lr=lr, **SHAMPOO_CONFIG),
             SHAMPOO_CONFIG),
            ("SOAP", "SOAP", lambda m, lr: ours("SOAP")(m.parameters(), lr=lr, **SOAP_CONFIG), SOAP_CONFIG),
            ("Muon", "build_muon_optimizer", _muon, MUON_CONFIG), ("KFAC", "KFAC", _kfac, KFAC_CONFIG)]:
        try:
            ours(symbol)
        except Exception as exc:  # noqa: BLE001 - a missing optimizer is reported, not fatal
            missing[name] = f"cannot import {symbol} from strategist.optim: {exc!r}"
            continue
        kfac = name == "KFAC"
        methods.append(t2_method(name, name.lower(), "ours", LR_CENTERS[name], build, config, notes.get(name, ""),
                                 kfac=kfac))
        if kfac:  # the documented cheaper loop: factors (capture + Fisher pass) every 5th step
            methods.append(t2_method("KFAC/5", "kfac", "ours", LR_CENTERS[name], build, dict(config, capture_every=5),
                                     notes[name] + "; factors refreshed every 5th step", kfac=True, capture_every=5))
    return methods, missing


@dataclass
class T2Config:
    steps: int = 200
    batch: int = 64
    warmup_frac: float = 0.05
    eval_every: int = 10
    n_eval: int = 600
    lr_multipliers: tuple[float, ...] = (10 ** -0.5, 1.0, 10 ** 0.5)
    seeds: tuple[int, ...] = (0, 1, 2)
    source_seed: int = 0
    n_shots: int = 12
    n_components: int = 4
    max_len: int = 16
    timing_rounds: int = 21
    timing_block: int = 10
    timing_warmup: int = 20
    device: str = "cpu"
    fixed_lrs: dict = field(default_factory=dict)  # {model: {method: lr}}: a one-point grid instead of tuning

    def data(self) -> T2Data:
        return T2Data(self.n_shots, self.n_components, self.max_len, self.source_seed, self.n_eval, self.batch,
                      self.device)


def run_benchmark(methods: list[Method], models: list[str], cfg: T2Config, log=print, reuse: dict | None = None
                  ) -> dict:
    """Tune every method on every model (seed 0 on each lr of its grid, the lowest final loss picks the lr for
    the other seeds), then time them interleaved per model. ``reuse[model][method]`` holds finished results
    (same config) of methods not to train again; they are still timed with the others."""
    reuse = reuse or {}
    data = cfg.data()
    summary = report.source_summary(data, cfg.seeds, cfg.steps, log)
    start = time.perf_counter()
    problems = {m: t2_problem(m, data, target_excess=-math.inf, excess=False, eval_every=cfg.eval_every)
                for m in models}
    by_name = {m.name: m for m in methods}
    cells = [(mn, m.name) for mn in models for m in methods if m.name not in reuse.get(mn, {})]
    grids = {(mn, n): [cfg.fixed_lrs[mn][n]] if cfg.fixed_lrs.get(mn, {}).get(n) else
             [lr_center(by_name[n], mn) * k for k in cfg.lr_multipliers] for mn, n in cells}
    progress = Progress(sum(len(g) + len(cfg.seeds) - 1 for g in grids.values()), "T2 runs", every_s=0, stream=log)

    def run_jobs(jobs):
        runs = []
        for j in jobs:
            runs.append(report.run_record(train_safely(problems[j.setting], by_name[j.method], j.lr, j.seed, cfg.steps,
                                                       warmup_frac=cfg.warmup_frac), j.setting))
            r = runs[-1]
            progress.update(note=f"{j.setting:11s} {j.method:22s} lr={j.lr:.2e} seed={j.seed} "
                            f"final={r['final_loss']:.4f}" + (f" error={r['error'][:100]}" if r.get("error") else ""))
        return runs

    def select(runs):   # the lowest final loss on the tuning seed; none when every lr failed
        best = best_run([Run(r["method"], r["lr"], r["seed"], final=r["final_loss"]) for r in runs])
        return best["lr"] if math.isfinite(best["final"]) else None

    done, best = tune_then_confirm(cells, grids, list(cfg.seeds), 1, run_jobs, select)
    results: dict[str, Any] = {"source": summary, "models": {}}
    for model_name in models:
        torch.manual_seed(0)
        mres: dict[str, Any] = {"n_params": sum(p.numel() for p in build_model(model_name, data.source).parameters()),
                                "methods": {}}
        for m in methods:
            if m.name in reuse.get(model_name, {}):
                mres["methods"][m.name] = dict(reuse[model_name][m.name], reused=True)
                continue
            cell = (model_name, m.name)
            mres["methods"][m.name] = report.method_result(m, grids[cell], [r for j, r in done if (j.setting, j.method)
                                                                            == cell], best.get(cell))
        timed = [m for m in methods if mres["methods"][m.name].get("runs")]
        log(f"timing {model_name}: {len(timed)} methods interleaved, {cfg.timing_rounds} rounds x "
            f"{cfg.timing_block} steps")
        warmup = max(1, int(cfg.warmup_frac * cfg.steps))
        try:
            mres["timing"] = interleaved_step_times(
                problems[model_name], timed, {m.name: mres["methods"][m.name]["best_lr"] for m in timed},
                data.batches(cfg.seeds[0], cfg.steps), cfg.timing_rounds, cfg.timing_block, cfg.timing_warmup,
                schedule=lambda pos: warmup_cosine(pos % cfg.steps, cfg.steps, warmup))
        except Exception as exc:  # noqa: BLE001
            mres["timing_error"] = repr(exc)
            log(f"timing failed: {exc!r}")
        report.relative_to_adamw(mres, data.bayes)
        results["models"][model_name] = mres
    results["elapsed_s"] = time.perf_counter() - start
    return results


def run_profile(methods: list[Method], models: list[str], cfg: T2Config, out: Path, log=print) -> dict:
    """cProfile of 40 steps of every method on every model (optim_t2_profile.{json,md})."""
    data = cfg.data()
    result = {"machine": t2_machine(cfg.device), "profiles": []}
    for model_name in models:
        problem = t2_problem(model_name, data, eval_every=cfg.eval_every)
        for m in methods:
            p = {"method": m.name, "model": model_name,
                 **profile_steps(problem, m, lr_center(m, model_name), data.batches(0, cfg.steps))}
            result["profiles"].append(p)
            log(f"profile {model_name:11s} {m.name:10s} {p['ms_per_step']:7.2f} ms/step, optimizer "
                f"{p['optimizer_ms_per_step']:6.2f} ms, {p['backward_passes_per_step']:.0f} backward passes")
    write_json(out, result, nonfinite=lambda v: None)
    out.with_suffix(".md").write_text(report.profile_markdown(result, len(methods), models))
    return result


def t2_machine(device: str) -> dict:
    return machine_info(device, packages=("heavyball", "pytorch_optimizer"))


def base_parser(desc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=desc)
    p.add_argument("--device", default="cpu")
    p.add_argument("--models", default="mlp,gru,transformer")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="tiny smoke run")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="JSON path (Markdown and PNG next to it)")
    p.add_argument("--profile", action="store_true", help="only cProfile each optimizer's steps (optim_t2_profile.*)")
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile pass after the benchmark")
    p.add_argument("--report-only", "--report", action="store_true", dest="report_only",
                   help="rebuild the Markdown and plot from the saved JSON")
    p.add_argument("--lrs-from", default=None,
                   help="results JSON whose tuned lrs replace the grid (a one-point grid for every method)")
    return p


def config_from_args(args) -> T2Config:
    cfg = T2Config(device=args.device, seeds=tuple(range(args.seeds)))
    if args.quick:
        cfg.steps, cfg.eval_every, cfg.n_eval = 40, 10, 300
        cfg.timing_rounds, cfg.timing_block, cfg.timing_warmup = 2, 5, 5
    if args.steps:
        cfg.steps = args.steps
    if args.lrs_from:
        prev = json.loads(Path(args.lrs_from).read_text())
        cfg.fixed_lrs = {mn: {n: md["best_lr"] for n, md in mres["methods"].items() if md.get("best_lr")}
                         for mn, mres in prev["models"].items()}
    return cfg


def main(argv=None):
    args = base_parser(__doc__.splitlines()[0]).parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = config_from_args(args)
    methods, missing = our_methods()
    models, log = args.models.split(","), (lambda s: print(s, flush=True))
    report_args = dict(lr_centers=LR_CENTERS, mlp_scale=MODEL_LR_SCALE.get("mlp", 1))
    if args.report_only:  # rebuild Markdown and plot from the saved JSON (after a change to the report code)
        out = Path(args.out) if args.out else RESULTS / "optim_t2.json"
        results = json.loads(out.read_text())
        if "train_padding_fraction" not in results["source"]:
            keep = ("steps", "batch", "max_len", "n_shots", "n_components", "source_seed")
            prev = T2Config(**{k: v for k, v in results["config"].items() if k in keep})
            results["source"]["train_padding_fraction"] = prev.data().padding_fraction(results["config"]["seeds"],
                                                                                       prev.steps)
        report.rebuild(results, out, out.parent / f"{PROFILE_NAME}{out.stem[len('optim_t2'):]}.json", **report_args)
        return
    if args.profile:
        run_profile(methods, models, cfg, Path(args.out) if args.out else RESULTS / f"{PROFILE_NAME}.json", log)
        return
    out = Path(args.out) if args.out else RESULTS / ("optim_t2_quick.json" if args.quick else "optim_t2.json")
    print(f"T2 methods: {[m.name for m in methods]}; missing: {missing or 'none'}", flush=True)
    results = run_benchmark(methods, models, cfg, log)
    command = "python " + " ".join([os.path.relpath(__file__, REPO)] + (argv if argv is not None else sys.argv[1:]))
    results.update(machine=t2_machine(cfg.device), config=jsonable(cfg.__dict__, None), command=command,
                   missing=missing, lrs_from=args.lrs_from)
    results["notes"] = report.t2_notes(results)
    write_json(out, results, nonfinite=lambda v: None)
    profile_path = out.parent / f"{PROFILE_NAME}{out.stem[len('optim_t2'):]}.json"
    profile = None if args.no_profile else run_profile(methods, models, cfg, profile_path, log)
    png = out.with_suffix(".png")
    report.plot_curves(results, png, report.TITLE)
    report.write_report(results, out.with_suffix(".md"), png.name, missing, profile, profile_path.stem, **report_args)
    report.print_tables(results)
    print("\nTargets:\n" + "\n".join(report.t2_targets(results, profile)))
    print(f"\nwrote {out}, {out.with_suffix('.md')}, {png} in {results['elapsed_s']:.0f} s")


if __name__ == "__main__":
    main()
