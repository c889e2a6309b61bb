"""K-FAC's defaults against a sweep of its other settings, on T1 (κ 10, 100, 1000; noise 0.1 and 0.01) and T2.

Every configuration gets the same lr grid, schedule and seeds (harness: benchmarks/optim_harness). For each
problem the report gives the default configuration's best steps to the target, whether any lr of the grid
diverged, the best configuration of the sweep, the ratio default / best (target ≤ 1.5), and on T1 the data
limit: the batches an OLS fit on all samples seen so far needs to reach the same target.

    python benchmarks/optim_kfac_defaults.py --seeds 5            # the first grid: about 35 minutes on 2 cores
    python benchmarks/optim_kfac_defaults.py --seeds 5 --extra    # the later configurations: about 35 more
    python benchmarks/optim_kfac_defaults.py --report             # rewrite the markdown from the JSON

Steps are medians over the seeds (each seed is its own problem instance and batch stream); an lr counts as
diverged when any seed diverges there.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing as mp
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from optim_harness import Method, best_run, markdown_table, train, write_json  # noqa: E402
from optim_harness.report import fmt  # noqa: E402

RESULTS = HERE / "results"
OUT = RESULTS / "optim_kfac_defaults.json"
LRS = [0.01, 0.0316, 0.1, 0.316, 1.0]
T1_SETTINGS = [(k, n) for n in (0.1, 0.01) for k in (10.0, 100.0, 1000.0)]
T1_STEPS, T2_STEPS = 300, 200


def _grid(decays, everies, clips, moms) -> dict[str, dict]:
    return {f"decay {decay:g}, inv/{every}, clip {clip}, mom {mu:g}": dict(
        factor_decay=decay, inverse_every=every, kl_clip=clip, momentum=mu)
        for decay, every, clip, mu in itertools.product(decays, everies, clips, moms)}


def configs() -> dict[str, dict]:
    """factor_decay × inverse_every × kl_clip × momentum (damping 1e-3, one sample per example): a first
    grid, then intermediate decays with an inverse every step (run with ``--extra``)."""
    return {**_grid((0.0, 0.95), (1, 10), (None, 1e-3, 1e-2), (0.0, 0.5)), **EXTRA}


EXTRA = {
    **_grid((0.8,), (1,), (None, 1e-2, 3e-2, 1e-1), (0.0,)),
    # the trade-off between per-batch and averaged factors, looked at from four more sides
    **_grid((0.3, 0.5), (1,), (None, 3e-2), (0.0,)),
    **{f"decay 0, inv/1, clip None, mom 0, damping {d:g}": dict(factor_decay=0.0, inverse_every=1, kl_clip=None,
                                                                momentum=0.0, damping=d) for d in (1e-2, 3e-2, 1e-1)},
    **{f"decay 0.8, inv/1, clip {clip}, mom 0, {variant} EMA": dict(factor_decay=0.8, inverse_every=1, kl_clip=clip,
                                                                   momentum=0.0, variant=variant)
       for variant in ("rescaled", "drift") for clip in (None, 3e-2)},
}


def default_config() -> str:
    """The sweep's name for KFAC's own defaults (read from its signature)."""
    import inspect

    from strategist.optim import KFAC
    p = {k: v.default for k, v in inspect.signature(KFAC).parameters.items()}
    name = f"decay {p['factor_decay']:g}, inv/{p['inverse_every']}, clip {p['kl_clip']}, mom {p['momentum']:g}"
    if name not in configs():
        raise KeyError(f"KFAC's defaults ({name}) are not a configuration of the sweep")
    return name


def kfac_class(variant: str | None):
    """KFAC, or a variant of its factor average (``variant``; tried, not adopted):

    - ``rescaled``: the old factor is first rescaled to the new batch's trace (the average keeps the shape,
      the scale follows the latest batch);
    - ``drift``: the decay is cut to decay·2σ²/‖new − old‖²_F where the change exceeds twice the batch's
      sampling noise σ² = (tr(new)² + ‖new‖²_F)/n (a Gaussian second moment from n samples).
    """
    from strategist.optim import KFAC

    if variant is None:
        return KFAC

    class Variant(KFAC):
        def _average_factor(self, factor, new, decay, samples):
            if variant == "rescaled":
                old, now = float(factor.trace()), float(new.trace())
                if old > 0 and now > 0:
                    factor.mul_(now / old)
            elif variant == "drift":
                noise = (float(new.trace()) ** 2 + float(new.square().sum())) / max(float(samples), 1.0)
                drift = float((new - factor).square().sum())
                if noise > 0 and drift > 2.0 * noise:
                    decay = decay * 2.0 * noise / drift
            else:
                raise ValueError(f"unknown K-FAC variant {variant!r}")
            super()._average_factor(factor, new, decay, samples)

    return Variant


T2_CONFIGS = ["decay 0, inv/1, clip None, mom 0", "decay 0, inv/1, clip None, mom 0.5",
              "decay 0, inv/1, clip 0.01, mom 0", "decay 0, inv/1, clip 0.01, mom 0.5",
              "decay 0.95, inv/10, clip 0.001, mom 0.5", "decay 0.95, inv/10, clip None, mom 0.5",
              "decay 0.95, inv/1, clip None, mom 0.5", "decay 0, inv/10, clip None, mom 0.5"]


def method(name: str, settings: dict) -> Method:
    def build(model, lr, problem):
        options = dict(settings)
        return kfac_class(options.pop("variant", None))(model, lr=lr, loss_type=problem.loss_type, **options)
    return Method(name, build, kfac=True, settings=settings)


def problem(key: str):
    if key == "T2 gru":
        from optim_harness.t2 import t2_problem
        return t2_problem("gru")
    from optim_harness.t1 import t1_problem
    kappa, noise = (float(v) for v in key.split(":"))
    return t1_problem(kappa, noise)


def job(args):
    import warnings

    import torch
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    key, name, lr, seed, steps = args
    run = train(problem(key), method(name, configs()[name]), lr, seed, steps)
    return dict(problem=key, config=name, lr=lr, seed=seed, steps_to_target=run.steps_to_target,
                final=run.final, diverged=run.diverged, step_ms=run.step_ms)


def jobs(seeds: list[int], extra: bool = False, done: frozenset = frozenset()) -> list[tuple]:
    """The runs to do: the first grid with KFAC's defaults, or (``extra``) the EXTRA configurations not yet in
    ``done``."""
    if extra:
        t1 = t2 = [n for n in EXTRA if n not in done]
    else:
        first = [n for n in configs() if n not in EXTRA]
        with_defaults = lambda names: names + [default_config()] * (default_config() not in names)  # noqa: E731
        t1, t2 = with_defaults(first), with_defaults(list(T2_CONFIGS))
    out = [(f"{k}:{n}", name, lr, s, T1_STEPS) for k, n in T1_SETTINGS for name in t1 for lr in LRS for s in seeds]
    out += [("T2 gru", name, lr, s, T2_STEPS) for name in t2 for lr in LRS for s in seeds]
    return out


def summarise(runs: list[dict], default: str) -> tuple[str, list[dict]]:
    from optim_harness.runner import Run
    from optim_harness.t1 import ols_steps
    rows, table = [], []
    for key in sorted({r["problem"] for r in runs}, key=lambda k: (k.startswith("T2"), k)):
        by_config = {}
        for r in runs:
            if r["problem"] == key:
                by_config.setdefault(r["config"], []).append(
                    Run(r["config"], r["lr"], r["seed"], float(r["steps_to_target"]), float(r["final"]),
                        r["diverged"], r["step_ms"]))
        best = {name: best_run(rs) for name, rs in by_config.items()}

        def per_seed(name):
            runs_at = sorted((r for r in by_config[name] if r.lr == best[name]["lr"]), key=lambda r: r.seed)
            return [r.steps_to_target for r in runs_at]

        # the fewest median steps; between equal medians the one whose worst seed is better, then the final value
        top = min(best, key=lambda n: (best[n]["steps"], max(per_seed(n)), best[n]["final"]))
        if default not in best:
            raise KeyError(f"{key}: no runs of the defaults ({default!r}) in the JSON")
        d = best[default]
        ratio = d["steps"] / best[top]["steps"] if math.isfinite(best[top]["steps"]) else math.nan
        if key.startswith("T2"):
            label, data = "T2 GRU (excess ≤ 0.15 nats)", "—"
        else:
            kappa, noise = (float(v) for v in key.split(":"))
            label = f"T1 κ={kappa:g}, noise {noise:g}"
            seeds = sorted({r["seed"] for r in runs if r["problem"] == key})
            data = fmt(float(sorted(ols_steps(kappa, noise, seeds))[len(seeds) // 2]))
        entry = dict(problem=label, default_steps=d["steps"], default_lr=d["lr"],
                     default_steps_by_seed=per_seed(default), default_diverged_lrs=d["diverged_lrs"],
                     best_config=top, best_steps=best[top]["steps"], best_lr=best[top]["lr"],
                     best_steps_by_seed=per_seed(top), ratio=ratio, ols_steps=data,
                     old_default=best.get("decay 0.95, inv/10, clip 0.001, mom 0.5", {}).get("steps", math.nan),
                     diverging_configs=sorted(n for n, b in best.items() if b["diverged_lrs"]))
        table.append(entry)
        seeds_text = lambda steps: ", ".join(fmt(float(v)) for v in steps)  # noqa: E731
        rows.append([label, d["steps"], seeds_text(entry["default_steps_by_seed"]), d["lr"],
                     ", ".join(f"{l:g}" for l in d["diverged_lrs"]) or "none",
                     top, best[top]["steps"], seeds_text(entry["best_steps_by_seed"]), best[top]["lr"], ratio,
                     "met" if ratio <= 1.5 and not d["diverged_lrs"] else "missed", entry["old_default"], data])
    headers = ["problem", "defaults: steps (median)", "per seed", "lr", "diverged at lr",
               "best configuration of the sweep", "steps (median)", "per seed", "lr", "defaults / best",
               "target (≤ 1.5, no divergence)", "old defaults: steps", "data limit (OLS steps)"]
    return markdown_table(headers, rows), table


XMAX = 3.0


def plot(table: list[dict], path: Path) -> Path:
    """One row per problem: each seed's steps of the defaults (at their lr) and of the best configuration (at
    its lr), divided by the best configuration's median; the line at 1.5 is the target. Ratios beyond
    ``XMAX`` sit at its edge, labelled with their value."""
    from optim_harness.plots import pyplot, save
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(table) + 1.2))
    rows = list(reversed(table))
    for i, entry in enumerate(rows):
        best = entry["best_steps"]
        if not (math.isfinite(best) and best > 0):
            continue
        for key, color, dy, label in (("default_steps_by_seed", "tab:blue", 0.12, "defaults, each seed"),
                                      ("best_steps_by_seed", "tab:gray", -0.12, "best of the sweep, each seed")):
            values = [min(v / best, XMAX) for v in entry[key]]
            spread = [i + dy + 0.035 * (j - (len(values) - 1) / 2) for j in range(len(values))]  # seeds apart
            ax.scatter(values, spread, s=16, color=color, alpha=0.75, label=label if i == 0 else None)
            for v, y in zip(entry[key], spread):
                if not v / best < XMAX:
                    ax.annotate(f"{v / best:.3g}" if math.isfinite(v) else "never", (XMAX, y), fontsize=6,
                                xytext=(-3, 0), textcoords="offset points", ha="right", va="center")
        ax.scatter([entry["ratio"]], [i + 0.12], marker="|", s=260, color="tab:blue",
                   label="defaults' median / best's median" if i == 0 else None)
    ax.axvline(1.5, color="tab:red", lw=1, ls="--", label="target 1.5")
    ax.axvline(1.0, color="black", lw=0.6)
    ax.set_yticks(range(len(rows)), [e["problem"] for e in rows])
    ax.set_xlim(0, XMAX * 1.02)
    ax.set_xlabel("steps to target / best configuration's median steps")
    ax.legend(fontsize=7, loc="lower right")
    return save(fig, path, dpi=130, title="K-FAC defaults against the best configuration of the sweep")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--default", default=None,
                   help="the configuration to report as the defaults (default: KFAC's own, from its signature)")
    p.add_argument("--report", action="store_true")
    p.add_argument("--extra", action="store_true", help="run the intermediate decays and add them to the JSON")
    args = p.parse_args(argv)
    if args.report:
        payload = json.loads(OUT.read_text())
        runs = payload["runs"]
    else:
        start = time.perf_counter()
        done = frozenset(r["config"] for r in json.loads(OUT.read_text())["runs"]) if args.extra else frozenset()
        todo = jobs(list(range(args.seeds)), args.extra, done)
        with mp.get_context("spawn").Pool(args.workers) as pool:
            runs = []
            for i, r in enumerate(pool.imap_unordered(job, todo, chunksize=4)):
                runs.append(r)
                if i % 50 == 0:
                    print(f"{i + 1}/{len(todo)} runs, {time.perf_counter() - start:.0f} s", file=sys.stderr)
        payload = dict(command="python benchmarks/optim_kfac_defaults.py " + " ".join(argv or sys.argv[1:]),
                       runtime_s=time.perf_counter() - start, lrs=LRS, t1_steps=T1_STEPS, t2_steps=T2_STEPS,
                       seeds=args.seeds, configs=configs(), runs=runs)
        if args.extra:
            first = json.loads(OUT.read_text())
            payload = dict(first, runs=first["runs"] + runs, configs=configs(),
                           command=first["command"].strip() + "; then with " + " ".join(argv or sys.argv[1:]),
                           runtime_s=first["runtime_s"] + payload["runtime_s"])
    default = args.default or default_config()
    text, table = summarise(payload["runs"], default)
    payload.update(default=default, summary=table, table_markdown=text)
    write_json(OUT, payload)
    md = ["# K-FAC: defaults against a sweep of its settings", "",
          f"Command: `{payload['command']}`; runtime {payload['runtime_s']:.0f} s on CPU; {payload['seeds']} "
          f"seed(s). Every configuration: lr grid {LRS}, warm-up 2% then cosine to 0, {T1_STEPS} steps on T1 "
          f"(batch 256), {T2_STEPS} on T2 (GRU, batch 64). Steps = first step at which the metric reaches the "
          "target (T1: subspace distance 0.05, 0.1 at κ = 1000, evaluated every step; T2: excess loss over "
          "the Bayes loss, evaluated every 10 steps), the median over the seeds at each lr, each configuration at "
          "its best lr; an lr diverged when any seed diverged there; the best configuration has the fewest median "
          "steps, then the better worst seed, then the better final value. Sweep: factor_decay {0, 0.95} × "
          "inverse_every {1, 10} × "
          "kl_clip {None, 1e-3, 1e-2} × momentum {0, 0.5} on T1, the 8 configurations listed in the JSON on "
          f"T2, then (--extra, on both) factor_decay 0.8 × inverse_every 1 × kl_clip {{None, 1e-2, 3e-2, 1e-1}} × "
          "momentum 0; factor_decay {0.3, 0.5} × kl_clip {None, 3e-2}; per-batch factors (decay 0, no clip) with "
          "damping {1e-2, 3e-2, 1e-1}; and two variants of the factor average at decay 0.8, kl_clip {None, 3e-2}: "
          "`rescaled EMA` (the old factor rescaled to the new batch's trace) and `drift EMA` (the decay cut where "
          "the change exceeds twice the batch's sampling noise; `kfac_class`). Damping 1e-3 unless named. "
          f"Defaults: `{default}`.", "", text, ""]
    plot(table, RESULTS / "optim_kfac_defaults.png")
    md += ["![defaults against the best configuration, each seed](optim_kfac_defaults.png)", ""]
    (RESULTS / "optim_kfac_defaults.md").write_text("\n".join(md))
    print(text)


if __name__ == "__main__":
    main()
