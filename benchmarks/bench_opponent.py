"""Opponent models on ShuttleSet's held-out matches, and our optimizers on the neural model, in one run.

    PYTHONPATH=. python benchmarks/bench_opponent.py [--data ../shared/data/badminton_shuttleset/strokes.csv.gz]
        [--steps 600] [--seeds 3] [--quick]

Writes benchmarks/results/opponent.json, opponent.md and opponent_reliability.png.

Missing inputs (issue: models that hold up away from their training data): every model is also scored on
the test matches with inputs removed, as a live match log records them —
``late``: wing, heights, positions and player areas removed from every stroke after the fourth (shot and
landing area kept); ``shots``: every input but the shot removed from every stroke (landing area and score
too; the hitters, hence the players and the server, stay known). The models are trained on the full table.

Protocol (the data README's): whole matches held out by the SHA-1 rank rule (19 of 94 matches); the next
stroke's type (19 classes) for every stroke that has one before it in its rally. Count models learn from
the 75 other matches (tuning their smoothing on 15 % of them); the neural model trains on the 75 less its
validation matches (10 %, same rule), which early stopping and the optimizer comparison use. The test
matches are used only for the final scores.

Optimizer comparison: the same model, data, batch (64 rallies), schedule (5 % warm-up, cosine to 5 %),
EMA, clipping and step budget for every optimizer; lr grid of 3 values per optimizer tuned on seed 0 (by
the best validation loss), then seeds 1 and 2 at that lr, the optimizers' runs interleaved (each grid
position and each seed runs every optimizer back to back). Steps and seconds to AdamW's best validation
loss (per seed), and each optimizer's best validation loss. Times are the CPU time of the training thread
(one torch thread; evaluations excluded), so that waiting for a core on a machine shared with other jobs does
not count as an optimizer's cost (its wall-clock is recorded beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# one BLAS thread, as one torch thread: the folded single-rally forward pass is NumPy, and a BLAS pool of
# several threads waiting for cores on a shared machine turns its 0.5 ms into 10 ms at the 99th percentile
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from strategist.data.load import load_rallies  # noqa: E402
from strategist.opponent import FrequencyModel, MarkovModel, NeuralModel  # noqa: E402
from strategist.opponent.base import History, positions_in_rally, rally_frame  # noqa: E402
from strategist.opponent.evaluate import evaluate, reliability_plot  # noqa: E402
from strategist.opponent.split import select, split_matches  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from optim_harness import tune_then_confirm  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "badminton_shuttleset" / "strokes.csv.gz"
OUT = ROOT / "benchmarks" / "results"
LR_GRID = {"adamw": (1e-3, 3e-3, 1e-2), "soap": (1e-3, 3e-3, 1e-2), "shampoo": (1e-3, 3e-3, 1e-2),
           "muon": (0.01, 0.02, 0.05), "kfac": (0.01, 0.03, 0.1)}
OURS = ("soap", "shampoo", "muon", "kfac")
#: Stroke inputs of the canonical table that a live match log does not record.
STROKE_INPUTS = ("wing", "landing_height", "hitter_area", "opponent_area", "hitter_x", "hitter_y", "opponent_x",
                 "opponent_y", "hitter_x_m", "hitter_y_m", "opponent_x_m", "opponent_y_m", "landing_x_m",
                 "landing_y_m")
CONDITIONS = {"all": "all inputs as recorded",
              "late": "after the 4th stroke only shot and landing area (wing, heights, positions, player areas removed)",
              "shots": "only the shot on every stroke (areas, heights, wing, positions, score removed)"}


def remove_inputs(table, condition: str):
    """The test table of a :data:`CONDITIONS` entry (columns emptied, the rows unchanged)."""
    frame = rally_frame(table).copy()
    if condition == "all":
        return frame
    rows = (frame["stroke"] > 4).to_numpy() if condition == "late" else np.ones(len(frame), bool)
    columns = list(STROKE_INPUTS) + (["landing_area", "hitter_score", "opponent_score"] if condition == "shots"
                                     else [])
    for c in columns:
        if c in frame.columns:
            frame.loc[rows, c] = np.nan if frame[c].dtype == "float64" else pd.NA
    return frame


def p99_us(fn, calls) -> dict:
    """Wall-clock and CPU time (this thread) per call; the first 10 calls are warm-up. On a shared machine
    the wall-clock tail holds the waits for a core; the CPU time is the work of the call itself."""
    wall, cpu = [], []
    for args in calls:
        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
        fn(*args)
        wall.append(time.perf_counter_ns() - t0)
        cpu.append(time.thread_time_ns() - c0)
    wall, cpu = np.array(wall[10:]) / 1e3, np.array(cpu[10:]) / 1e3
    return {"p50_us": float(np.percentile(wall, 50)), "p99_us": float(np.percentile(wall, 99)),
            "cpu_p50_us": float(np.percentile(cpu, 50)), "cpu_p99_us": float(np.percentile(cpu, 99)),
            "calls": int(len(wall))}


def latency(model, test, n: int = 1000) -> dict:
    """Single-history predictions: DataFrame in (the public API), and the light-weight History form."""
    frame = rally_frame(test)
    pos = positions_in_rally(frame)
    rng = np.random.default_rng(0)
    rows = rng.choice(np.flatnonzero(pos >= 1), size=n + 10, replace=False)
    calls, light = [], []
    for r in rows:
        start = r - pos[r]
        hist = frame.iloc[start:r]
        ctx = {"player": frame["hitter"].iloc[r], "opponent": frame["opponent"].iloc[r], "stroke": int(pos[r]) + 1,
               "server": frame["server"].iloc[r], "match_id": frame["match_id"].iloc[r],
               "score": (int(frame["hitter_score"].iloc[r]) if frame["hitter_score"].notna().iloc[r] else 0,
                         int(frame["opponent_score"].iloc[r]) if frame["opponent_score"].notna().iloc[r] else 0)}
        calls.append((hist, ctx))
        light.append((History(tuple(model.vocabulary.shot_ids(hist["shot"].tolist())), tuple(hist["hitter"]),
                              tuple(hist["landing_area"].astype(object).where(hist["landing_area"].notna(), None)),
                              hist if model.kind == "neural" else None), ctx))
    out = {"dataframe": p99_us(model.predict_proba, calls)}
    if hasattr(model, "_cache"):
        def cold(h, c):
            model._cache.clear()
            return model.predict_proba(h, c)
        out["history_cold_cache"] = p99_us(cold, light)
        out["history_warm_cache"] = p99_us(model.predict_proba, light)
    else:
        out["history"] = p99_us(model.predict_proba, light)
    return out


def score_protocol(model, test, adapt=False) -> dict:
    r = evaluate(model, test, adapt=adapt, only_held_out=False)
    return {k: r[k] for k in ("log_loss", "top1", "top3", "ece", "n")} | {
        "seen": r["seen"], "unseen": r["unseen"]}, r


def score_conditions(model, tests: dict) -> dict:
    """Scores (log-loss, top-1, top-3, ECE, n) on the test matches under each condition of :data:`CONDITIONS`."""
    out = {}
    for name, table in tests.items():
        r = evaluate(model, table, only_held_out=False)
        out[name] = {k: r[k] for k in ("log_loss", "top1", "top3", "ece", "n")}
    return out


def run_neural(train, valid, *, optimizer, lr, seed, steps=None, eval_every=None, patience=None):
    """The neural model trained with the defaults of :class:`~strategist.opponent.neural.NeuralConfig` but the
    settings given (None: the default)."""
    given = {"max_steps": steps, "eval_every": eval_every, "patience": patience}
    model = NeuralModel(optimizer=optimizer, lr=lr, seed=seed, **{k: v for k, v in given.items() if v is not None})
    t0 = time.perf_counter()
    model.fit(train, valid=valid, threads=1)
    wall = time.perf_counter() - t0
    m = model.metrics_
    return model, {"optimizer": optimizer, "lr": lr, "seed": seed, "best_valid_loss": m["valid_loss"],
                   "best_step": m["best_step"], "steps": m["steps"], "train_seconds": m["train_seconds"],
                   "train_cpu_seconds": m["train_cpu_seconds"], "wall_seconds": wall, "stopped": m["stopped"],
                   "curve": [(c["step"], c["cpu_seconds"], c["valid_loss"]) for c in m["curve"]]}


def reach(curve, target):
    for step, sec, val in curve:
        if val <= target + 1e-9:
            return step, sec
    return None, None


def compare_optimizers(train, valid, steps, seeds, eval_every) -> dict:
    """Every optimizer's lr grid on seed 0, then its best lr on the other seeds. The runs are interleaved
    (each grid position, then each seed, runs every optimizer back to back) so that a slower stretch of a
    shared machine falls on all optimizers alike instead of on whichever ran then."""
    def one(job):
        _, rec = run_neural(train, valid, optimizer=job.method, lr=job.lr, seed=job.seed, steps=steps,
                            eval_every=eval_every, patience=10 ** 6)
        if not np.isfinite(rec["best_valid_loss"]):
            rec["best_valid_loss"] = float("inf")
        print(f"  {job.method} lr {job.lr:g} seed {job.seed}: best valid {rec['best_valid_loss']:.4f} at step "
              f"{rec['best_step']}, {rec['train_cpu_seconds']:.1f} s CPU ({rec['train_seconds']:.1f} s wall)", flush=True)
        return rec

    cells = [("opponent", name) for name in LR_GRID]
    done, best = tune_then_confirm(cells, {cell: LR_GRID[cell[1]] for cell in cells}, list(range(seeds)), 1,
                                   run_jobs=lambda jobs: [one(job) for job in jobs],
                                   select=lambda recs: min(recs, key=lambda r: r["best_valid_loss"])["lr"])
    runs = [rec for _, rec in done]
    best_lr = {name: best[(setting, name)] for setting, name in cells}
    table = {}
    adam = {r["seed"]: r for r in runs if r["optimizer"] == "adamw" and r["lr"] == best_lr["adamw"]}
    for name in LR_GRID:
        mine = {r["seed"]: r for r in runs if r["optimizer"] == name and r["lr"] == best_lr[name]}
        steps_to, secs_to, ratios, step_ratios = [], [], [], []
        for seed, rec in mine.items():
            target = adam[seed]["best_valid_loss"]
            a_step, a_sec = reach(adam[seed]["curve"], target)
            s, sec = reach(rec["curve"], target)
            steps_to.append(s)
            secs_to.append(sec)
            ratios.append(None if sec is None else sec / a_sec)
            step_ratios.append(None if s is None else s / a_step)
        bests = [mine[s]["best_valid_loss"] for s in sorted(mine)]
        ms_per_step = [mine[s]["train_cpu_seconds"] / mine[s]["steps"] * 1e3 for s in sorted(mine)]
        reached = [r for r in ratios if r is not None]
        table[name] = {
            "best_lr": best_lr[name], "best_valid_loss": bests, "best_valid_loss_median": statistics.median(bests),
            "steps_to_adamw_best": steps_to, "seconds_to_adamw_best": secs_to, "time_ratio_to_adamw": ratios,
            "step_ratio_to_adamw": step_ratios, "seeds_reaching": len(reached),
            "time_ratio_median": statistics.median(reached) if len(reached) == len(ratios) else None,
            "ms_per_step_median": statistics.median(ms_per_step),
            "gap_to_adamw_best_median": statistics.median(
                [mine[s]["best_valid_loss"] - adam[s]["best_valid_loss"] for s in sorted(mine)]),
        }
    winners = [n for n in OURS if table[n]["time_ratio_median"] is not None and table[n]["time_ratio_median"] <= 0.8]
    default = min(winners, key=lambda n: table[n]["time_ratio_median"]) if winners else "adamw"
    return {"runs": runs, "table": table, "best_lr": best_lr, "default": default, "steps": steps,
            "eval_every": eval_every}


def count_models(fit_table, test, tests) -> tuple[dict, dict]:
    """The count models fitted on the training and validation matches, scored plain, in-match and under
    every condition; (results, fitted models)."""
    counts, fitted = {}, {}
    models = {"markov1_population (README reference)": MarkovModel(order=1, tune=False, beta=5.0, by_player=False),
              "markov1": MarkovModel(order=1), "markov2": MarkovModel(order=2), "markov3": MarkovModel(order=3),
              "frequency": FrequencyModel()}
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(fit_table)
        fit_s = time.perf_counter() - t0
        plain, _ = score_protocol(model, test)
        adapted, _ = score_protocol(model, test, adapt=True) if name != "markov1_population (README reference)" \
            else (None, None)
        counts[name] = {"config": model.config(), "fitted": model.fitted_params(), "fit_seconds": fit_s,
                        "test": plain, "test_in_match": adapted, "conditions": score_conditions(model, tests)}
        fitted[name] = model
        print(f"{name}: {plain['log_loss']:.4f} nats, top-1 {plain['top1']:.3f}"
              + (f"; in-match {adapted['log_loss']:.4f} / {adapted['top1']:.3f}" if adapted else "")
              + "; " + ", ".join(f"{c} {v['log_loss']:.4f} / {v['top1']:.3f}"
                                 for c, v in counts[name]["conditions"].items()), flush=True)
    return counts, fitted


def final_neural(train, valid, test, tests, comparison, args) -> tuple[list, list]:
    """The neural model with the default optimizer on every seed: scores plain, in-match, per condition."""
    default = comparison["default"]
    neural, final_models = [], []
    for seed in range(args.seeds):
        model, rec = run_neural(train, valid, optimizer=default, lr=comparison["best_lr"][default], seed=seed,
                                steps=args.final_steps)
        plain, full = score_protocol(model, test)
        adapted, _ = score_protocol(model, test, adapt=True)
        rec.pop("curve")
        rec["calibration"] = model.metrics_["calibration"]
        neural.append({**rec, "test": plain, "test_in_match": adapted, "conditions": score_conditions(model, tests)})
        final_models.append((model, full))
        print(f"neural seed {seed}: {plain['log_loss']:.4f} nats, top-1 {plain['top1']:.3f}, ece {plain['ece']:.3f}; "
              f"in-match {adapted['log_loss']:.4f}; " + ", ".join(
                  f"{c} {v['log_loss']:.4f} / {v['top1']:.3f}" for c, v in neural[-1]["conditions"].items())
              + f"; {rec['train_seconds']:.0f} s", flush=True)
    return neural, final_models


def default_model(r) -> dict:
    """The rule for :data:`strategist.opponent.DEFAULT_MODEL`: the kind with the lowest (median) held-out
    log-loss when only the shots are known (what the Advisor's predictions receive)."""
    scores = {name: c["conditions"]["shots"]["log_loss"] for name, c in r["count_models"].items()
              if not name.startswith("markov1_population")}
    scores["neural"] = _med([n["conditions"]["shots"]["log_loss"] for n in r["neural"]])
    kind = min(scores, key=scores.get)
    return {"kind": kind, "condition": "shots", "log_loss": scores,
            "rule": "lowest median held-out log-loss with only the shots known (condition 'shots')"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--steps", type=int, default=600, help="step budget of each optimizer-comparison run")
    ap.add_argument("--final-steps", type=int, default=None,
                    help="step budget of the final neural runs (default: the model's, NeuralConfig.max_steps)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="a smoke run: few steps, one seed, one lr each")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.final_steps, args.seeds, args.eval_every = 40, 60, 1, 20
        for k in LR_GRID:
            LR_GRID[k] = LR_GRID[k][1:2]
    torch.set_num_threads(1)
    out = Path(args.out)
    started = time.perf_counter()
    table = load_rallies(args.data).table
    split = split_matches(table)
    used = list(split.train) + list(split.valid)
    fit_table, train, valid, test = (select(table, used), select(table, split.train), select(table, split.valid),
                                     select(table, split.test))
    tests = {name: remove_inputs(test, name) for name in CONDITIONS}
    result = {"data": {"path": str(args.data), "strokes": len(table), "matches": int(table["match_id"].nunique()),
                       "test_matches": len(split.test), "valid_matches": len(split.valid),
                       "train_matches": len(split.train)},
              "conditions": CONDITIONS,
              "machine": {"device": "cpu", "cuda_available": torch.cuda.is_available(), "torch": torch.__version__,
                          "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                          "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                          "platform": platform.platform(), "shared": True,
                          "note": "2 CPU cores shared with other jobs during the run; the optimizer comparison's times are "
                                  "the CPU time of the training thread, the others wall-clock"},
              "gpu": {"available": torch.cuda.is_available(),
                      "note": "no device was available: no GPU is lent to this project, so the neural model has no "
                              "GPU figures; every figure here is from the CPU"}}
    result["count_models"], fitted = count_models(fit_table, test, tests)
    result["best_markov"] = min((n for n in result["count_models"] if n.startswith("markov")),
                                key=lambda n: result["count_models"][n]["test"]["log_loss"])
    result["latency_markov"] = latency(fitted["markov2"], test)
    print("markov latency", result["latency_markov"], flush=True)

    print("optimizer comparison", flush=True)
    comparison = compare_optimizers(train, valid, args.steps, args.seeds, args.eval_every)
    result["optimizers"] = comparison
    print("default optimizer:", comparison["default"], flush=True)

    result["neural"], final_models = final_neural(train, valid, test, tests, comparison, args)
    result["latency_neural"] = latency(final_models[0][0], test, n=500)
    print("neural latency", result["latency_neural"], flush=True)
    reliability_plot(final_models[0][1], out / "opponent_reliability.png",
                     title=f"neural ({comparison['default']}, seed 0) on {len(split.test)} held-out matches: "
                           f"ECE {final_models[0][1]['ece']:.3f}")
    result["default_model"] = default_model(result)
    result["targets"] = targets(result)
    result["total_seconds"] = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    (out / "opponent.json").write_text(json.dumps(result, indent=1, default=float))
    (out / "opponent.md").write_text(report(result))
    print(report(result))
    return 0


def _med(values):
    return statistics.median(values)


def condition_targets(r) -> dict:
    """Per masking condition and seed: the neural model against the best Markov model on the same data
    (log-loss at most the lowest Markov log-loss, top-1 at least the highest Markov top-1)."""
    out = {}
    for name in ("late", "shots"):
        markov = {n: c["conditions"][name] for n, c in r["count_models"].items()
                  if n.startswith("markov") and not n.startswith("markov1_population")}
        best_ll = min(v["log_loss"] for v in markov.values())
        best_top1 = max(v["top1"] for v in markov.values())
        seeds = [{"seed": x["seed"], "log_loss": x["conditions"][name]["log_loss"],
                  "top1": x["conditions"][name]["top1"]} for x in r["neural"]]
        out[f"neural_vs_markov_{name}"] = {
            "target": "every seed: log-loss <= best Markov's, top-1 >= best Markov's",
            "markov_log_loss": best_ll, "markov_top1": best_top1, "seeds": seeds,
            "met": all(s["log_loss"] <= best_ll and s["top1"] >= best_top1 for s in seeds)}
    return out


def targets(r) -> dict:
    best = r["count_models"][r["best_markov"]]["test"]["log_loss"]
    ll = [n["test"]["log_loss"] for n in r["neural"]]
    top1 = [n["test"]["top1"] for n in r["neural"]]
    ece = [n["test"]["ece"] for n in r["neural"]]
    secs = [n["wall_seconds"] for n in r["neural"]]
    ref = r["count_models"]["markov1_population (README reference)"]["test"]
    opt = r["optimizers"]["table"]
    return {
        "markov_reference_top1": {"target": "about 0.414", "value": ref["top1"]},
        "markov_reference_log_loss": {"target": "about 1.507", "value": ref["log_loss"]},
        "neural_log_loss_ratio": {"target": "<= 0.93", "value": _med(ll) / best, "best_markov": best,
                                  "met": _med(ll) / best <= 0.93},
        "neural_top1": {"target": ">= 0.46", "value": _med(top1), "met": _med(top1) >= 0.46},
        "neural_ece": {"target": "<= 0.03", "value": _med(ece), "met": _med(ece) <= 0.03},
        "neural_cpu_training_seconds": {"target": "< 600", "value": max(secs), "met": max(secs) < 600},
        "neural_p99_ms": {"target": "< 2", "value": r["latency_neural"]["dataframe"]["p99_us"] / 1e3,
                          "cpu_p99_ms": r["latency_neural"]["dataframe"]["cpu_p99_us"] / 1e3,
                          "met": r["latency_neural"]["dataframe"]["p99_us"] < 2000},
        "markov_p99_ms": {"target": "< 0.2", "value": r["latency_markov"]["dataframe"]["p99_us"] / 1e3,
                          "cpu_p99_ms": r["latency_markov"]["dataframe"]["cpu_p99_us"] / 1e3,
                          "met": r["latency_markov"]["dataframe"]["p99_us"] < 200,
                          "history_form_cold_p99_ms": r["latency_markov"]["history_cold_cache"]["p99_us"] / 1e3,
                          "history_form_cold_cpu_p99_ms":
                              r["latency_markov"]["history_cold_cache"]["cpu_p99_us"] / 1e3},
        "default_optimizer_time_ratio": {"target": "<= 0.8", "default": r["optimizers"]["default"],
                                         "ratios": {n: opt[n]["time_ratio_median"] for n in OURS},
                                         "met": r["optimizers"]["default"] != "adamw"},
        **condition_targets(r),
        "neural_every_seed_all_inputs": {
            "target": "every seed: log-loss <= 0.93x best Markov's, top-1 >= 0.46, ECE <= 0.03",
            "seeds": [{"seed": x["seed"], "ratio": x["test"]["log_loss"] / best, "top1": x["test"]["top1"],
                       "ece": x["test"]["ece"]} for x in r["neural"]],
            "met": all(x["test"]["log_loss"] / best <= 0.93 and x["test"]["top1"] >= 0.46 and x["test"]["ece"] <= 0.03
                       for x in r["neural"])},
    }


def _fmt(x, spec=".4f"):
    return "—" if x is None else format(x, spec)


def report(r) -> str:
    lines = ["# Opponent models on ShuttleSet (held-out matches)", "",
             f"Data: {r['data']['strokes']} strokes, {r['data']['matches']} matches; test {r['data']['test_matches']} "
             f"matches (README rule), validation {r['data']['valid_matches']}, training {r['data']['train_matches']}. "
             "Next stroke's type (19 classes), every stroke with one before it in its rally. "
             f"Device: {r['machine']['device']} (CUDA available: {r['machine']['cuda_available']}), torch "
             f"{r['machine']['torch']}, 1 torch thread; {r['machine']['note']}. Total run "
             f"{r['total_seconds'] / 60:.1f} min.", "",
             "## Count models", "",
             "| model | log-loss | top-1 | top-3 | ECE | seen log-loss | unseen log-loss | in-match log-loss | in-match top-1 |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, c in r["count_models"].items():
        t, a = c["test"], c["test_in_match"]
        lines.append(f"| {name} | {t['log_loss']:.4f} | {t['top1']:.3f} | {t['top3']:.3f} | {t['ece']:.3f} | "
                     f"{t['seen']['log_loss']:.4f} | {t['unseen']['log_loss']:.4f} | "
                     f"{_fmt(a and a['log_loss'])} | {_fmt(a and a['top1'], '.3f')} |")
    n = r["neural"]
    lines += ["", f"n = {r['count_models']['markov1']['test']['n']} scored strokes "
              f"(seen {r['count_models']['markov1']['test']['seen']['n']}, unseen "
              f"{r['count_models']['markov1']['test']['unseen']['n']}).", "",
              f"## Neural model ({r['optimizers']['default']}, {len(n)} seeds)", "",
              "| seed | log-loss | top-1 | top-3 | ECE | seen | unseen | in-match log-loss | in-match top-1 | steps | train s |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for x in n:
        t, a = x["test"], x["test_in_match"]
        lines.append(f"| {x['seed']} | {t['log_loss']:.4f} | {t['top1']:.3f} | {t['top3']:.3f} | {t['ece']:.3f} | "
                     f"{t['seen']['log_loss']:.4f} | {t['unseen']['log_loss']:.4f} | {a['log_loss']:.4f} | "
                     f"{a['top1']:.3f} | {x['steps']} | {x['train_seconds']:.0f} |")
    lines += ["", conditions_table(r), "", calibration_table(r), "",
              f"Default model (`strategist.opponent.DEFAULT_MODEL`): **{r['default_model']['kind']}** — "
              f"{r['default_model']['rule']}: " + ", ".join(f"{k} {v:.4f}" for k, v in
                                                             sorted(r['default_model']['log_loss'].items(),
                                                                    key=lambda kv: kv[1])) + ".", "",
              "## GPU", "", f"{r['gpu']['note'][0].upper()}{r['gpu']['note'][1:]}."]
    lines += ["", "## Targets", "", "| target | wanted | measured | met |", "| --- | --- | --- | --- |"]
    for k, v in r["targets"].items():
        shown = {kk: vv for kk, vv in v.items() if kk not in ("target", "met")}
        lines.append(f"| {k} | {v['target']} | {json.dumps(shown, default=lambda x: round(x, 4))} | "
                     f"{v.get('met', '')} |")
    lines += ["", "## Latency (one history, CPU, one thread)", "",
              "Wall-clock includes waiting for a core on the shared machine; CPU time is the call's own work.", "",
              "| model | input | wall p50 µs | wall p99 µs | CPU p50 µs | CPU p99 µs |",
              "| --- | --- | ---: | ---: | ---: | ---: |"]
    for model in ("markov", "neural"):
        for form, v in r[f"latency_{model}"].items():
            lines.append(f"| {model} | {form} | {v['p50_us']:.0f} | {v['p99_us']:.0f} | {v['cpu_p50_us']:.0f} | "
                         f"{v['cpu_p99_us']:.0f} |")
    lines += ["", optimizer_table(r), ""]
    return "\n".join(lines)


def conditions_table(r) -> str:
    """Every model's held-out log-loss and top-1 under each condition (the neural model per seed)."""
    names = list(r["conditions"])
    lines = ["## Missing inputs (test matches; models trained on the full table)", ""]
    lines += [f"- `{name}`: {text}" for name, text in r["conditions"].items()]
    lines += ["", "| model | " + " | ".join(f"{c} log-loss | {c} top-1 | {c} ECE" for c in names) + " |",
              "| --- | " + " | ".join("---: | ---: | ---:" for _ in names) + " |"]
    rows = [(name, c["conditions"]) for name, c in r["count_models"].items()]
    rows += [(f"neural seed {x['seed']}", x["conditions"]) for x in r["neural"]]
    for name, cond in rows:
        lines.append(f"| {name} | " + " | ".join(f"{cond[c]['log_loss']:.4f} | {cond[c]['top1']:.3f} | "
                                                 f"{cond[c]['ece']:.3f}" for c in names) + " |")
    return "\n".join(lines)


def calibration_table(r) -> str:
    """The neural model's temperature (fitted, its bootstrap interval over the validation matches, applied or
    not) and its validation ECE before and after, per seed."""
    lines = ["## Calibration of the neural model (temperature fitted on the validation matches, applied when the "
             "90 % interval of a bootstrap over those matches excludes 1)", "",
             "| seed | fitted T | 90 % interval | applied T | valid log-loss before | after | valid ECE before | after "
             "| test ECE |", "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for x in r["neural"]:
        c = x["calibration"]
        low, high = c.get("interval") or (None, None)
        interval = "—" if low is None else f"[{low:.3f}, {high:.3f}]"
        lines.append(f"| {x['seed']} | {c.get('fitted_temperature', c['temperature']):.3f} | {interval} | "
                     f"{c['temperature']:.3f} | {c['valid_log_loss_before']:.4f} | {c['valid_log_loss_after']:.4f} | "
                     f"{c['valid_ece_before']:.3f} | {c['valid_ece_after']:.3f} | {x['test']['ece']:.3f} |")
    return "\n".join(lines)


def optimizer_table(r) -> str:
    o = r["optimizers"]
    lines = [f"## Optimizers on the real task ({o['steps']} steps, validation every {o['eval_every']}, 3-value lr "
             "grid tuned on seed 0)", "",
             "| optimizer | lr grid | best lr | best valid loss, median [min, max] | gap to AdamW's best | steps to "
             "AdamW's best (per seed) | CPU seconds to AdamW's best (per seed) | time / AdamW's (median) | CPU ms/step |",
             "| --- | --- | ---: | --- | ---: | --- | --- | ---: | ---: |"]
    for name, t in o["table"].items():
        b = t["best_valid_loss"]
        steps = ", ".join("—" if s is None else str(s) for s in t["steps_to_adamw_best"])
        secs = ", ".join("—" if s is None else f"{s:.1f}" for s in t["seconds_to_adamw_best"])
        lines.append(f"| {name} | {', '.join(f'{x:g}' for x in LR_GRID[name])} | {t['best_lr']:g} | "
                     f"{statistics.median(b):.4f} [{min(b):.4f}, {max(b):.4f}] | {t['gap_to_adamw_best_median']:+.4f} | "
                     f"{steps} | {secs} | {_fmt(t['time_ratio_median'], '.2f')} | {t['ms_per_step_median']:.1f} |")
    lines += ["", f"Default optimizer: **{o['default']}** (rule: among ours that reach AdamW's best validation loss on "
              "every seed, the one with the smallest median time ratio, if that median is at most 0.8; else AdamW). "
              "Per-seed time ratios: " + "; ".join(
                  f"{n} " + ", ".join("—" if x is None else f"{x:.2f}" for x in t["time_ratio_to_adamw"])
                  for n, t in o["table"].items() if n != "adamw") + "."]
    return "\n".join(lines)


def rerender(path=OUT / "opponent.json") -> None:
    """Rewrite opponent.md from opponent.json (no new measurement)."""
    r = json.loads(Path(path).read_text())
    Path(path).with_suffix(".md").write_text(report(r))


if __name__ == "__main__":
    sys.exit(main())
