"""Our Shampoo, SOAP and Muon against heavyball's, pytorch-optimizer's and torch.optim.Muon on T2.

Same problem, models, schedule (warm-up + cosine), lr-grid size and seeds as benchmarks/optim_t2.py;
each external optimizer gets the hyper-parameters of ours where its API has them. The Muon variants all
receive exactly the tensors our routing helper sends to Muon (the rest goes to torch.optim.AdamW with the
settings of our Muon's AdamW part), so they differ only in the Muon step. Per-step times come from one
interleaved timing loop per model (ours, theirs and AdamW in rotating order; medians of per-round ratios).

heavyball runs eagerly (``heavyball.utils.compile_mode = None``): its default ``torch.compile`` path is a
different execution engine, not a different optimizer, and ours runs eagerly too.

    python benchmarks/optim_compare.py              # GRU and transformer; reuses AdamW/ours from optim_t2.json
    python benchmarks/optim_compare.py --models mlp,gru,transformer
    python benchmarks/optim_compare.py --rerun-ours
    python benchmarks/optim_compare.py --quick
    python benchmarks/optim_compare.py --problem t1  # T1 through optim_t1.py's harness (κ = 100, 1000)

Writes benchmarks/results/optim_compare.{json,md,png}. Packages that are not installed are skipped and
listed in the report.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
for _p in (str(REPO / "benchmarks"), str(REPO)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import optim_t2 as t2  # noqa: E402
from optim_harness import plots  # noqa: E402
from optim_harness.report import from_json, jsonable, write_json  # noqa: E402
from optim_harness.cost import profile_steps  # noqa: E402
from optim_harness.runner import Method, OptimizerPair  # noqa: E402
from optim_harness.t2 import t2_problem  # noqa: E402
from optim_t1_report import fmt_steps  # noqa: E402
from optim_t2 import ADAMW_CONFIG, LR_CENTERS, MUON_CONFIG, SHAMPOO_CONFIG, SOAP_CONFIG, t2_method  # noqa: E402
from optim_t2_report import fmt, t2_notes  # noqa: E402

FAMILY_OF_OURS = {"shampoo": "Shampoo", "soap": "SOAP", "muon": "Muon"}
DIAGNOSTIC = "heavyball, diagnostic"


class ReferenceNesterov(OptimizerPair):
    """heavyball.Muon with the reference Nesterov momentum: orthogonalise (1 − β) G + β B (B the EMA of G, as
    Keller Jordan's Muon, torch.optim.Muon and ours do) instead of heavyball's G + B. Patched only during step."""

    def __init__(self, pair: OptimizerPair, hb_utils):
        super().__init__(*pair.optimizers)
        self.hb_utils = hb_utils

    def step(self, closure=None):
        utils = self.hb_utils

        def reference(state, grad, beta):
            ema = utils._lerp(state, grad, beta)  # B <- beta B + (1 - beta) G
            b = float(beta)
            for g, e in zip(grad, ema):
                g.lerp_(e, b)                      # U = (1 - beta) G + beta B

        original = utils._compilable_nesterov_ema_
        utils._compilable_nesterov_ema_ = reference
        try:
            super().step()
        finally:
            utils._compilable_nesterov_ema_ = original


def muon_split(model):
    """(tensors our routing helper sends to Muon, the rest), so every Muon variant gets the same tensors."""
    from strategist.optim.routing import route_parameters
    routes = route_parameters(model)
    muon = [r.param for r in routes if r.role in ("hidden", "recurrent")]
    rest = [r.param for r in routes if r.role not in ("hidden", "recurrent")]
    return muon, rest


def _rest_adamw(params, lr):
    """AdamW for the parameters Muon does not take, as in our Muon's AdamW part."""
    if not params:
        return None
    return torch.optim.AdamW(params, lr=MUON_CONFIG["adamw_lr_ratio"] * lr, betas=MUON_CONFIG["adamw_betas"],
                             eps=ADAMW_CONFIG["eps"], weight_decay=MUON_CONFIG["adamw_weight_decay"])


def external_methods() -> tuple[list[Method], dict[str, str]]:
    """The external optimizers that import here, and why the others are missing."""
    methods: list[Method] = []
    missing: dict[str, str] = {}
    b1, b2 = SOAP_CONFIG["betas"]

    def torch_muon(model, lr):
        muon, rest = muon_split(model)
        return OptimizerPair(torch.optim.Muon(muon, lr=lr, momentum=MUON_CONFIG["momentum"], nesterov=True,
                                              weight_decay=MUON_CONFIG["weight_decay"], ns_steps=MUON_CONFIG["ns_steps"],
                                              adjust_lr_fn="original"), _rest_adamw(rest, lr))

    if hasattr(torch.optim, "Muon"):
        methods.append(t2_method("torch.optim.Muon", "muon", "torch", LR_CENTERS["Muon"], torch_muon,
                              config={"momentum": MUON_CONFIG["momentum"], "nesterov": True, "adjust_lr_fn": "original"},
                              notes="whole GRU gate stacks orthogonalised at once (ours: per gate)"))
    else:
        missing["torch.optim.Muon"] = f"torch {torch.__version__} has no torch.optim.Muon"

    try:
        import heavyball
        heavyball.utils.compile_mode = None  # eager, like ours
        hb_soap_cfg = {"betas": (b1, b2), "shampoo_beta": b2, "eps": SOAP_CONFIG["eps"],
                       "weight_decay": SOAP_CONFIG["weight_decay"],
                       "precondition_frequency": SOAP_CONFIG["precondition_frequency"], "use_precond_schedule": False,
                       "max_precond_dim": 10000, "precondition_1d": False}

        def hb_soap(model, lr, c=hb_soap_cfg):
            return heavyball.SOAP(list(model.parameters()), lr=lr, **c)

        def hb_muon(model, lr):
            muon, rest = muon_split(model)
            return OptimizerPair(heavyball.Muon(muon, lr=lr, betas=(MUON_CONFIG["momentum"], 0.99), nesterov=True,
                                                weight_decay=MUON_CONFIG["weight_decay"]), _rest_adamw(rest, lr))

        def hb_muon_reference_nesterov(model, lr):
            return ReferenceNesterov(hb_muon(model, lr), heavyball.utils)

        methods.append(t2_method("heavyball.SOAP", "soap", "heavyball", LR_CENTERS["SOAP"], hb_soap, config=hb_soap_cfg))
        methods.append(t2_method("heavyball.Muon", "muon", "heavyball", LR_CENTERS["Muon"], hb_muon,
                              config={"betas": (MUON_CONFIG["momentum"], 0.99), "nesterov": True},
                              notes="whole GRU gate stacks orthogonalised at once (ours: per gate)"))
        methods.append(t2_method("heavyball.Muon[ref-nesterov]", "muon", DIAGNOSTIC, LR_CENTERS["Muon"],
                              hb_muon_reference_nesterov, config={"betas": (MUON_CONFIG["momentum"], 0.99)},
                              notes="heavyball.Muon with its Nesterov step replaced by the reference one "
                                    "(diagnostic, not a target comparison)"))
        missing["heavyball Shampoo"] = ("heavyball has no plain Shampoo (its KLShampoo is a different update, "
                                        "arXiv 2509.03378)")
    except Exception as exc:  # noqa: BLE001
        missing["heavyball"] = f"not importable: {exc!r}"

    try:
        import pytorch_optimizer as po
        from pytorch_optimizer.optimizer.utils.graft import LayerWiseGrafting
        po_soap_cfg = {"betas": (b1, b2), "shampoo_beta": b2, "eps": SOAP_CONFIG["eps"],
                       "weight_decay": SOAP_CONFIG["weight_decay"],
                       "precondition_frequency": SOAP_CONFIG["precondition_frequency"], "max_precondition_dim": 10000,
                       "precondition_1d": False, "correct_bias": True}
        po_scalable_cfg = {"betas": SHAMPOO_CONFIG["betas"], "moving_average_for_momentum": True, "nesterov": False,
                           "weight_decay": SHAMPOO_CONFIG["weight_decay"],
                           "start_preconditioning_step": SHAMPOO_CONFIG["start_preconditioning_step"],
                           "preconditioning_compute_steps": SHAMPOO_CONFIG["precondition_frequency"],
                           "block_size": 8192, "graft_type": LayerWiseGrafting.RMSPROP}
        po_shampoo_cfg = {"momentum": SHAMPOO_CONFIG["betas"][0],
                          "preconditioning_compute_steps": SHAMPOO_CONFIG["precondition_frequency"]}

        def po_soap(model, lr, c=po_soap_cfg):
            return po.SOAP(model.parameters(), lr=lr, **c)

        def po_scalable(model, lr, c=po_scalable_cfg):
            return po.ScalableShampoo(model.parameters(), lr=lr, **c)

        def po_shampoo(model, lr, c=po_shampoo_cfg):
            return po.Shampoo(model.parameters(), lr=lr, **c)

        def po_muon(model, lr):
            muon, rest = muon_split(model)
            return OptimizerPair(po.Muon([{"params": muon, "use_muon": True}], lr=lr, momentum=MUON_CONFIG["momentum"],
                                         nesterov=True, weight_decay=MUON_CONFIG["weight_decay"],
                                         ns_steps=MUON_CONFIG["ns_steps"]), _rest_adamw(rest, lr))

        methods.append(t2_method("pytorch_optimizer.SOAP", "soap", "pytorch-optimizer", LR_CENTERS["SOAP"], po_soap,
                              config=po_soap_cfg))
        methods.append(t2_method("pytorch_optimizer.ScalableShampoo", "shampoo", "pytorch-optimizer",
                              LR_CENTERS["Shampoo"], po_scalable, config=po_scalable_cfg,
                              notes="grafting: RMSProp (it has no Adam grafting)"))
        methods.append(t2_method("pytorch_optimizer.Shampoo", "shampoo", "pytorch-optimizer", LR_CENTERS["Shampoo"],
                              po_shampoo, config=po_shampoo_cfg,
                              notes="original Shampoo: summed factors, no grafting"))
        methods.append(t2_method("pytorch_optimizer.Muon", "muon", "pytorch-optimizer", LR_CENTERS["Muon"], po_muon,
                              config={"momentum": MUON_CONFIG["momentum"], "nesterov": True},
                              notes="whole GRU gate stacks orthogonalised at once (ours: per gate)"))
    except Exception as exc:  # noqa: BLE001
        missing["pytorch_optimizer"] = f"not importable: {exc!r}"
    return methods, missing


def reusable_t2(path: Path, cfg: t2.T2Config, models: list[str], names: list[str]) -> dict:
    """Finished AdamW/ours results from optim_t2.json when it was run with the same configuration."""
    if not path.exists():
        return {}
    try:
        prev = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    mine = jsonable(cfg.__dict__, None)
    theirs = dict(prev.get("config") or {})
    if {k: v for k, v in theirs.items() if k != "fixed_lrs"} != {k: v for k, v in mine.items() if k != "fixed_lrs"}:
        return {}
    out = {}
    for model_name in models:
        methods = prev.get("models", {}).get(model_name, {}).get("methods", {})
        fixed = cfg.fixed_lrs.get(model_name, {})
        out[model_name] = {n: _restore(methods[n]) for n in names if n in methods and methods[n].get("runs")
                           and (n not in fixed or fixed[n] == methods[n].get("best_lr"))
                           and bool(theirs.get("fixed_lrs")) == bool(fixed)}
    return out


def _restore(md: dict) -> dict:
    """JSON turns NaN into null; put NaN back where the harness expects floats."""
    for r in md.get("runs", []):
        r["final_loss"] = math.nan if r.get("final_loss") is None else r["final_loss"]
        r["curve_loss"] = [math.nan if v is None else v for v in r.get("curve_loss", [])]
    return md


LOSS_TOL_NATS = 0.002
TIME_TOL = 0.05  # ours counts as "no slower" unless its median per-round step time is more than 5% above theirs


def loss_tolerance(a: dict, b: dict) -> float:
    """Two median final losses count as equal within half the larger seed range, at least LOSS_TOL_NATS."""
    return max(LOSS_TOL_NATS, (a["max"] - a["min"]) / 2, (b["max"] - b["min"]) / 2)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q25, q50, q75 = np.quantile(values, [0.25, 0.5, 0.75])
    return float(q50), float(q25), float(q75)


def _fmt_q(q) -> str:
    return "—" if q is None else f"{q[0]:.2f} [{q[1]:.2f}, {q[2]:.2f}]"


def family_rows(results: dict) -> tuple[list[str], list[str]]:
    """Markdown tables (one per model, ours vs theirs per family) and the target verdict lines."""
    lines, verdicts = [], []
    for model_name, mres in results["models"].items():
        timing = mres.get("timing", {})
        lines += [f"### {model_name}", "",
                  "| family | implementation | best lr | final loss, median [min, max] | step ms | their step time / "
                  "ours [q25, q75] | optimizer.step ms | their optimizer.step / ours [q25, q75] | state KiB | "
                  "ours no slower, loss equal or better? |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for family, ours_name in FAMILY_OF_OURS.items():
            ours = mres["methods"].get(ours_name)
            others = [(n, md) for n, md in mres["methods"].items() if md.get("family") == family and n != ours_name]
            for name, md in [(ours_name, ours)] + others if ours else others:
                if md is None:
                    continue
                if not md.get("runs"):
                    err = next((t.get("error") for t in md.get("tuning", []) if t.get("error")), "diverged")
                    lines.append(f"| {family} | {name} | — | failed at every lr: {err[:90]} | | | | | | |")
                    continue
                fl, t = md["final_loss"], timing.get(name)
                ratio = opt_ratio = None
                verdict = ""
                if ours and ours.get("runs") and t and ours_name in timing and name != ours_name:
                    ratio = _quartiles([a / b for a, b in zip(t["step_s"], timing[ours_name]["step_s"])])
                    if t.get("opt_step_s") and timing[ours_name].get("opt_step_s"):
                        opt_ratio = _quartiles([a / b for a, b in zip(t["opt_step_s"], timing[ours_name]["opt_step_s"])])
                if ratio is not None and md["impl"] != DIAGNOSTIC:
                    faster = ratio[0] >= 1.0 - TIME_TOL
                    loss_ok = ours["final_loss"]["median"] <= fl["median"] + loss_tolerance(ours["final_loss"], fl)
                    verdict = (f"{'yes' if faster and loss_ok else 'no'} (time {'ok' if faster else 'slower'}, "
                               f"loss {'ok' if loss_ok else 'worse'})")
                    verdicts.append((model_name, family, name, faster, loss_ok, ratio[0],
                                     ours["final_loss"]["median"], fl["median"], opt_ratio[0] if opt_ratio else None))
                edge = "*" if md.get("best_lr_at_grid_edge") else ""
                lines.append(f"| {family} | {name} | {md['best_lr']:.3g}{edge} | {fmt(fl['median'])} "
                             f"[{fmt(fl['min'])}, {fmt(fl['max'])}] | "
                             f"{fmt(t['median_step_s'] * 1e3 if t else None, '.2f')} | {_fmt_q(ratio)} | "
                             f"{fmt(t['median_opt_step_s'] * 1e3 if t and t.get('median_opt_step_s') else None, '.2f')} | "
                             f"{_fmt_q(opt_ratio)} | "
                             f"{fmt(md['state_bytes'] / 1024 if md.get('state_bytes') is not None else None, '.1f')} | {verdict} |")
        lines.append("")
    return lines, verdicts


def verdict_lines(verdicts) -> list[str]:
    out = []
    ok_all = all(v[3] and v[4] for v in verdicts)
    out.append(f"- **Ours no slower per step than the heavyball / pytorch-optimizer / torch version of the same method, "
               f"at equal or better loss**: **{'met' if ok_all and verdicts else 'missed'}** "
               f"({sum(v[3] and v[4] for v in verdicts)}/{len(verdicts)} comparisons).")
    for model_name, family, name, faster, loss_ok, ratio, ours_loss, their_loss, opt_ratio in verdicts:
        if not (faster and loss_ok):
            out.append(f"  - {model_name}, {family} vs {name}: their step time / ours = {ratio:.2f}"
                       + (f" (optimizer.step alone: {opt_ratio:.2f})" if opt_ratio is not None else "")
                       + f"; final loss ours {ours_loss:.4f} vs theirs {their_loss:.4f}.")
    return out


def write_report(results: dict, md_path: Path, png_name: str, missing: dict, extra_notes: list[str]):
    cfg, m = results["config"], results["machine"]
    table_lines, verdicts = family_rows(results)
    lines = ["# Our Shampoo, SOAP and Muon against other implementations (T2)", "",
             f"Machine: {m.get('device_name') or m['platform']}, device `{m['device']}`, torch {m['torch']}, "
             f"heavyball {m.get('heavyball')}, pytorch-optimizer {m.get('pytorch_optimizer')}, "
             f"{m['torch_threads']} thread(s). Run time {results['elapsed_s']:.0f} s. Command: `{results['command']}`.", "",
             "Problem and protocol as in [optim_t2.md](optim_t2.md): next-shot prediction on a known mixture of Markov "
             f"chains, {cfg['steps']} steps, warm-up + cosine, {len(cfg['lr_multipliers'])}-point lr grid per method "
             f"(same centre for every implementation of a family) tuned on seed {cfg['seeds'][0]}, "
             f"{len(cfg['seeds'])} seeds. Step time: all methods interleaved in one process, "
             f"{cfg['timing_rounds']} rounds of {cfg['timing_block']} steps; 'their step time / ours' > 1 means ours is "
             "faster; 'optimizer.step' is the same ratio for the time spent inside `optimizer.step()` alone (forward and "
             "backward are the same code for every implementation). Ours counts as no slower unless the median "
             "step-time ratio is below "
             f"{1 - TIME_TOL:.2f} (timing noise on a shared machine). Loss counts as equal when the medians differ by "
             f"less than half the larger seed range or {LOSS_TOL_NATS} nats, whichever is larger.",
             "", "## Target", *verdict_lines(verdicts), ""]
    if missing:
        lines += ["Not compared: " + "; ".join(f"{k}: {v}" for k, v in missing.items()), ""]
    lines += ["## Results", *table_lines]
    if results.get("reused"):
        lines += [f"AdamW and our optimizers' training runs reused from `{results['reused']}` (same configuration); "
                  "all methods re-timed together.", ""]
    if extra_notes:
        lines += ["## Notes", *[f"- {n}" for n in extra_notes], ""]
    lines += [f"![loss curves]({png_name})", ""]
    md_path.write_text("\n".join(lines))
    return verdicts


def explain_slower(results: dict, methods: list[Method], cfg: t2.T2Config) -> list[str]:
    """Where ours spends its optimizer time, for every comparison in which our ``optimizer.step()`` is slower
    than the other implementation's (cProfile of both, heaviest functions by own time)."""
    by_name = {m.name: m for m in methods}
    data = cfg.data()
    notes = []
    for model_name, mres in results["models"].items():
        timing = mres.get("timing", {})
        for family, ours_name in FAMILY_OF_OURS.items():
            ours_t = timing.get(ours_name, {})
            for name, md in mres["methods"].items():
                t = timing.get(name, {})
                if (md.get("family") != family or name == ours_name or md.get("impl") == DIAGNOSTIC
                        or not t.get("opt_step_s") or not ours_t.get("opt_step_s")):
                    continue
                q50 = _quartiles([a / b for a, b in zip(t["opt_step_s"], ours_t["opt_step_s"])])[0]
                if q50 >= 1.0 - TIME_TOL:
                    continue
                problem, batches = t2_problem(model_name, data), data.batches(0, cfg.steps)
                mine, theirs = (profile_steps(problem, by_name[n], t2.lr_center(by_name[n], model_name), batches, top=6,
                                              optimizer_only=True) for n in (ours_name, name))

                def listing(p):
                    return ", ".join(f"`{h['where']}` {h['ms_per_step']:.2f} ms ({h['calls_per_step']:.0f}×)"
                                     for h in p["hot"])
                notes.append(f"{model_name}: our {ours_name} `optimizer.step()` takes {1 / q50:.2f}× the time of "
                             f"{name}'s (interleaved median). Inside `optimizer.step()` under cProfile, "
                             f"{mine['optimizer_ms_per_step']:.2f} vs {theirs['optimizer_ms_per_step']:.2f} ms/step. "
                             f"Heaviest (own time per step) in ours: {listing(mine)}; in theirs: {listing(theirs)}.")
    return notes


def diagnostic_notes(results: dict) -> list[str]:
    """What the diagnostic variant says about heavyball.Muon's loss against ours."""
    notes = []
    for model_name, mres in results["models"].items():
        hb, ref, ours = (mres["methods"].get(n) for n in ("heavyball.Muon", "heavyball.Muon[ref-nesterov]", "Muon"))
        if not (hb and ref and ours and hb.get("runs") and ref.get("runs") and ours.get("runs")):
            continue
        notes.append(f"{model_name}: heavyball.Muon {hb['final_loss']['median']:.4f} (lr {hb['best_lr']:.3g}); the same "
                     f"with the reference Nesterov step (1 − β)G + βB instead of heavyball's G + B "
                     f"(`heavyball.utils.nesterov_ema`): {ref['final_loss']['median']:.4f} (lr {ref['best_lr']:.3g}); "
                     f"ours {ours['final_loss']['median']:.4f} (lr {ours['best_lr']:.3g}); torch.optim.Muon "
                     + (f"{mres['methods']['torch.optim.Muon']['final_loss']['median']:.4f}"
                        if mres["methods"].get("torch.optim.Muon", {}).get("runs") else "—") + ".")
    return notes


def plot_families(results: dict, path: Path):
    """One panel per (family, model): median eval loss − Bayes loss over seeds, range shaded."""
    bayes = results["source"]["bayes_loss_eval"]
    panels = []
    for family in FAMILY_OF_OURS:
        row = []
        for model_name, mres in results["models"].items():
            curves = []
            for name, md in mres["methods"].items():
                runs = [r for r in md.get("runs", []) if r["curve_loss"]]
                if md.get("family") in (family, "adamw") and runs:
                    n = min(len(r["curve_loss"]) for r in runs)
                    style = {"color": "k", "ls": ":"} if name == "AdamW" else {"lw": 2.2} if md["impl"] == "ours" else {}
                    curves.append((name, runs[0]["curve_steps"][:n], [[v - bayes for v in r["curve_loss"][:n]]
                                                                     for r in runs], dict(style, alpha=0.12)))
            row.append((f"{family} on {model_name}", {"curves": curves}))
        panels.append(row)
    plots.curve_panels(panels, path, (5, 3.6), 100, "eval loss − Bayes (nats)")


# ----------------------------------------------------------------------------------------------------------
# T1 (linear representation learning) through the T1 benchmark's own harness
# ----------------------------------------------------------------------------------------------------------

T1_FAMILY_KEYS = {"shampoo": "shampoo", "soap": "soap", "muon": "muon"}  # our methods' keys in optim_t1.METHODS
T1_EXTERNAL_FAMILY = {"torch_muon": "muon", "hb_soap": "soap", "hb_muon": "muon", "po_soap": "soap",  # key -> family
                      "po_scalable_shampoo": "shampoo", "po_shampoo": "shampoo", "po_muon": "muon"}


def register_t1_externals(t1) -> tuple[list[str], dict[str, str]]:
    """Add the external SOAP/Shampoo/Muon to ``optim_t1.METHODS`` with the settings T1 gives ours (weight decay 0,
    refresh every 10 steps, the same lr range as ours); returns their keys and what is missing."""
    keys, missing = [], {}
    soap_kw = dict(betas=(0.95, 0.95), shampoo_beta=0.95, eps=1e-8, weight_decay=0.0, precondition_frequency=10)

    def add(key, label, family, build, settings):
        ours = t1.METHODS[T1_FAMILY_KEYS[family]]
        t1.METHODS[key] = t1.method(key, label, lambda model, lr, problem: build(model, lr), ours.info["lr_range"],
                                    settings)
        keys.append(key)

    if hasattr(torch.optim, "Muon"):
        add("torch_muon", "torch.optim.Muon", "muon",
            lambda m, lr: torch.optim.Muon(m.parameters(), lr=lr, momentum=0.95, nesterov=True, weight_decay=0.0,
                                           adjust_lr_fn="original"), "momentum 0.95, Nesterov, weight decay 0")
    try:
        import heavyball
        heavyball.utils.compile_mode = None
        add("hb_soap", "heavyball.SOAP", "soap",
            lambda m, lr: heavyball.SOAP(list(m.parameters()), lr=lr, use_precond_schedule=False, **soap_kw),
            "betas (0.95, 0.95), refresh every 10 steps, no schedule, weight decay 0, eager")
        add("hb_muon", "heavyball.Muon", "muon",
            lambda m, lr: heavyball.Muon(list(m.parameters()), lr=lr, betas=(0.95, 0.99), nesterov=True),
            "momentum 0.95, Nesterov, eager")
    except Exception as exc:  # noqa: BLE001
        missing["heavyball"] = repr(exc)
    try:
        import pytorch_optimizer as po
        from pytorch_optimizer.optimizer.utils.graft import LayerWiseGrafting
        add("po_soap", "pytorch_optimizer.SOAP", "soap",
            lambda m, lr: po.SOAP(m.parameters(), lr=lr, **soap_kw), "betas (0.95, 0.95), refresh every 10 steps")
        add("po_scalable_shampoo", "pytorch_optimizer.ScalableShampoo", "shampoo",
            lambda m, lr: po.ScalableShampoo(m.parameters(), lr=lr, betas=(0.9, 0.999), moving_average_for_momentum=True,
                                             nesterov=False, start_preconditioning_step=10,
                                             preconditioning_compute_steps=10, graft_type=LayerWiseGrafting.RMSPROP),
            "betas (0.9, 0.999), start 10, refresh every 10 steps, RMSProp grafting")
        add("po_shampoo", "pytorch_optimizer.Shampoo", "shampoo",
            lambda m, lr: po.Shampoo(m.parameters(), lr=lr, momentum=0.9, preconditioning_compute_steps=10),
            "momentum 0.9, refresh every 10 steps, no grafting")
        add("po_muon", "pytorch_optimizer.Muon", "muon",
            lambda m, lr: po.Muon([{"params": list(m.parameters()), "use_muon": True}], lr=lr, momentum=0.95,
                                  nesterov=True), "momentum 0.95, Nesterov")
    except Exception as exc:  # noqa: BLE001
        missing["pytorch_optimizer"] = repr(exc)
    return keys, missing


def t1_report(payload: dict, md_path: Path, missing: dict) -> list[str]:
    """Markdown: per κ and family, steps to the subspace target, final distance and step time vs ours."""
    summary, settings = payload["summary"], payload["settings"]
    lines = ["# Our Shampoo, SOAP and Muon against other implementations (T1, through optim_t1.py)", "",
             f"Machine: {payload['machine'].get('device_name')}, torch {payload['machine']['torch']}. "
             f"Run time {payload['runtime_s']:.0f} s. Command: `{payload['command']}` (T1 harness, extra methods "
             "registered by optim_compare.py).", "",
             f"Protocol of optim_t1.py: {settings['steps']} steps, warm-up + cosine, {settings['grid_size']}-point lr "
             f"grid (the same range for every implementation of a family) tuned on seed 0, seeds {settings['seeds']}. "
             "Steps: first evaluation with subspace distance ≤ target (median over seeds); step ms: median wall time "
             "per step of the runs at the best lr (runs are not interleaved here, so ratios are rougher than T2's).", ""]
    if missing:
        lines += ["Not compared: " + "; ".join(f"{k}: {v}" for k, v in missing.items()), ""]
    verdicts = []
    for kappa in settings["kappas"]:
        lines += [f"## κ = {kappa:g} (target d ≤ {0.1 if kappa >= 1000 else 0.05})", "",
                  "| family | implementation | best lr | steps to target | final distance | step ms | their step ms / ours |",
                  "|---|---|---|---|---|---|---|"]
        for family, ours_key in T1_FAMILY_KEYS.items():
            keys = [ours_key] + [k for k in payload["methods"] if T1_EXTERNAL_FAMILY.get(k) == family]
            ours_e = summary.get(ours_key, {}).get(str(kappa))
            for k in keys:
                e = summary.get(k, {}).get(str(kappa))
                if e is None:
                    lines.append(f"| {family} | {payload['methods'][k]['label']} | — | failed / not run | | | |")
                    continue
                ratio = (e["step_ms"]["median"] / ours_e["step_ms"]["median"]) if ours_e and k != ours_key else None
                if ratio is not None:
                    verdicts.append((kappa, family, payload["methods"][k]["label"], ratio, ours_e["steps"]["median"],
                                     e["steps"]["median"], ours_e["final"]["median"], e["final"]["median"]))
                lines.append(f"| {family} | {payload['methods'][k]['label']} | {e['best_lr']:.3g}{'*' if e['best_at_grid_edge'] else ''} "
                             f"| {fmt_steps(e['steps'], settings['steps'])} | {e['final']['median']:.3g} "
                             f"| {e['step_ms']['median']:.2f} | {'—' if ratio is None else f'{ratio:.2f}'} |")
        lines.append("")
    ok = [v for v in verdicts if t1_ok(v)]
    head = [f"- **Ours no slower per step than the other implementation of the same method, at equal or better "
            f"result** (no slower: their/ours ≥ {1 - TIME_TOL:.2f}; equal: steps to target, else final distance, "
            f"within 10%): **{'met' if len(ok) == len(verdicts) else 'missed'}** "
            f"({len(ok)}/{len(verdicts)} comparisons)."]
    for v in verdicts:
        if not t1_ok(v):
            kappa, family, label, ratio, s_ours, s_theirs, d_ours, d_theirs = v
            head.append(f"  - κ = {kappa:g}, {family} vs {label}: their step ms / ours {ratio:.2f}; steps ours "
                        f"{s_ours:g} vs {s_theirs:g}; final distance ours {d_ours:.3g} vs {d_theirs:.3g}.")
    first = next(i for i, line in enumerate(lines) if line.startswith("## κ"))
    lines[first:first] = ["## Target", *head, ""]
    md_path.write_text("\n".join(lines))
    return lines


def t1_ok(v) -> bool:
    """Ours no slower (within TIME_TOL) and at least as good: steps to target within 10% of theirs, or (neither
    reaching it) a final distance within 10% of theirs. A diverged external counts as worse whatever its speed."""
    kappa, family, label, ratio, s_ours, s_theirs, d_ours, d_theirs = v
    if not math.isfinite(d_theirs):  # theirs diverged at every lr: ours is better, speed is moot
        return True
    if ratio < 1.0 - TIME_TOL:
        return False
    if math.isfinite(s_ours) or math.isfinite(s_theirs):
        return s_ours <= 1.1 * s_theirs
    return d_ours <= 1.1 * d_theirs


def main_t1(argv: list[str]) -> None:
    """``--problem t1``: run optim_t1.py's sweep on our Shampoo/SOAP/Muon and the external versions
    (``--report-only``: rebuild the Markdown from the existing JSON)."""
    import optim_t1 as t1
    out = RESULTS / "optim_compare_t1.json"
    if "--report-only" in argv:
        payload = from_json(json.loads(out.read_text()))
        print("\n".join(t1_report(payload, out.with_suffix(".md"), payload.get("missing_external", {}))))
        return
    keys, missing = register_t1_externals(t1)
    base = ["--methods", ",".join(list(T1_FAMILY_KEYS.values()) + keys), "--kappas", "100,1000",
            "--out", str(out), "--no-plots"]
    payload = t1.main(base + argv)
    payload["missing_external"] = missing
    data = json.loads(out.read_text())
    data["missing_external"] = missing
    out.write_text(json.dumps(data, indent=1))
    lines = t1_report(payload, out.with_suffix(".md"), missing)
    print("\n".join(lines))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--problem" in argv:
        i = argv.index("--problem")
        problem = argv[i + 1]
        del argv[i:i + 2]
        if problem == "t1":
            return main_t1(argv)
        if problem != "t2":
            raise SystemExit(f"--problem must be t1 or t2, got {problem!r}")
    parser = t2.base_parser(__doc__.splitlines()[0])
    parser.set_defaults(models="gru,transformer")
    parser.add_argument("--rerun-ours", action="store_true", help="train AdamW and ours again instead of reusing optim_t2.json")
    parser.add_argument("--t2-json", default=None, help="optim_t2 results to reuse (default: next to --out)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = t2.config_from_args(args)
    models = args.models.split(",")
    ours_all, missing_ours = t2.our_methods()
    ours = [m for m in ours_all if m.name in ("AdamW", "Shampoo", "SOAP", "Muon")]
    externals, missing = external_methods()
    missing.update({k: v for k, v in missing_ours.items() if k != "KFAC"})
    out = Path(args.out) if args.out else t2.RESULTS / ("optim_compare_quick.json" if args.quick else "optim_compare.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    t2_json = Path(args.t2_json) if args.t2_json else out.parent / out.name.replace("optim_compare", "optim_t2")
    reuse = {} if args.rerun_ours else reusable_t2(t2_json, cfg, models, [m.name for m in ours])
    print(f"compare: ours {[m.name for m in ours]}, external {[m.name for m in externals]}; "
          f"reusing {sorted({n for v in reuse.values() for n in v}) or 'nothing'} from {t2_json}; missing {missing or 'none'}",
          flush=True)
    results = t2.run_benchmark(ours + externals, models, cfg, log=lambda s: print(s, flush=True), reuse=reuse)
    results["machine"] = t2.t2_machine(cfg.device)
    results["config"] = jsonable(cfg.__dict__, None)
    results["command"] = "python " + " ".join([os.path.relpath(__file__, REPO)] + (argv if argv is not None else sys.argv[1:]))
    results["missing"] = missing
    results["reused"] = os.path.relpath(t2_json, REPO) if any(reuse.values()) else None
    results["lrs_from"] = args.lrs_from
    write_json(out, results, nonfinite=lambda v: None)
    png = out.with_suffix(".png")
    plot_families(results, png)
    slow_notes = explain_slower(results, ours + externals, cfg)
    verdicts = write_report(results, out.with_suffix(".md"), png.name, missing,
                            slow_notes + diagnostic_notes(results) + t2_notes(results))
    for line in family_rows(results)[0]:
        print(line)
    print("\n".join(verdict_lines(verdicts)))
    print(f"\nwrote {out}, {out.with_suffix('.md')}, {png} in {results['elapsed_s']:.0f} s")


if __name__ == "__main__":
    main()
