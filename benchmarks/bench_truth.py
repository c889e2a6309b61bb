"""Ground truth of the decision model: rally games fitted on the simulator's height mode, their recommended
policies evaluated exactly in the true game.

For each pair and data size: N matches of the pair alone under ``HEIGHT_PARAMETERS`` (the sizes are prefixes
of one seeded simulation), the situational rally game (default settings) and the coarse one (``states=
"group:tactic", zones=False, heights=False``) fitted on them, and each game's policies mapped onto the true
game (``strategist.rally.truth.recommended_policy``) and evaluated exactly against the opponent's best
response (``strategist.simulate.exact.policy_value``): the gap to the true optimum from each serve. Policies:
the recommendation (what the game advises; also its shots alone, the player standing where the optimum says
when the opponent hits, and its value against the opponent's optimal strategy), the point estimate's
equilibrium, and the observed mixes (the habits as estimated). The states where the recommendation loses most
are listed (one-step regret in the true game, V*(s) − min_b x·Q*(s)[:, b], weighted by the state's visits).
Two checks of the pessimism behind the recommendation: whether the cells' posterior sds are as wide as the
estimates' real errors (``strategist.rally.truth.cell_errors``: rms of z = (Q̂ − Q)/σ, near 1 when calibrated,
and the share of cells outside ±1.645σ, near 10 %), and the recommendation's gap when the situational game's
bounds are taken at other levels (``--levels``; default 0.7 and 0.5 beside the game's 0.9).

    OMP_NUM_THREADS=1 python benchmarks/bench_truth.py        # writes benchmarks/results/truth.json, truth.md
    python benchmarks/bench_truth.py --quick                  # one pair, 20 and 60 matches; nothing written
    python benchmarks/bench_truth.py --pairs 1 --sizes 1000 4000 16000 --name truth_16000   # larger data
    python benchmarks/bench_truth.py --pair 2 --sizes 4000 16000 --name truth_16000_pair2   # the second pair
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
PAIRS = (("Astrid NORDVIK", "Hiro TAKEDA"), ("Carmen ORTIZ", "Bao Thanh LE"))
SIZES = (200, 1000, 4000)
TARGET = 0.01
COARSE = {"states": "group:tactic", "zones": False, "heights": False}


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def regrets(truth, policy, visits: dict, top: int) -> list[dict]:
    """The player's states where ``policy`` loses most in one step of the true game, weighted by visits."""
    rows = []
    for g, label in enumerate(truth.labels):
        q = truth.rewards[g] + truth.transitions[g] @ truth.values
        loss = float(truth.values[g] - (policy[g] @ q).min())
        n = int(visits.get(label, 0))
        if loss > 1e-6 and n:
            rows.append({"state": label, "visits": n, "regret": loss, "weighted": loss * n,
                         "policy": {a: round(float(x), 3) for a, x in zip(truth.row_labels[g], policy[g]) if x > 0.005},
                         "optimum": {a: round(float(x), 3) for a, x in zip(truth.row_labels[g],
                                                                           truth.solution.row_strategies[g])
                                     if x > 0.005}})
    total = sum(r["weighted"] for r in rows) or 1.0
    for r in rows:
        r["share"] = r["weighted"] / total
    return sorted(rows, key=lambda r: -r["weighted"])[:top]


def calibration(game, truth) -> dict:
    """The cells' posterior sds against the estimates' real errors (:func:`strategist.rally.truth.cell_errors`)."""
    from strategist.rally.truth import cell_errors

    z = cell_errors(game, truth)["z"].to_numpy()
    return {"cells": int(len(z)), "rms_z": float(np.sqrt(np.mean(z ** 2))) if len(z) else float("nan"),
            "outside_90": float(np.mean(np.abs(z) > 1.6449)) if len(z) else float("nan")}


def evaluate(game, truth) -> dict:
    from strategist.rally.truth import policy_report, recommended_policy
    from strategist.simulate.exact import policy_value

    out = {}
    serves = truth.serve_states
    for name, strategies in (("recommendation", None), ("equilibrium", game.solution.row_strategies),
                             ("observed", game.observed_row)):
        rep = policy_report(game, truth, strategies)
        optimal = [float(truth.values[truth.index(s)] - rep["against_optimal_opponent"][s]) for s in serves]
        out[name] = {"gap_serve": rep["gap"][serves[0]], "gap_receive": rep["gap"][serves[1]],
                     "max_gap": rep["max_gap"], "max_gap_against_optimal_opponent": max(optimal), **rep["states"]}
        if name == "recommendation":
            policy, _ = recommended_policy(game, truth)
            visits = dict(zip(game.states["state"], game.states["visits"]))
            out[name]["worst_states"] = regrets(truth, policy, visits, 6)
            # the recommended shots alone: the player stands as the optimum says where the opponent hits
            shots = [x if who == "player" else np.asarray(opt, dtype=float)
                     for x, (who, *_), opt in zip(policy, truth.keys, truth.solution.row_strategies)]
            value = policy_value(truth, shots)
            out[name]["max_gap_shots_only"] = max(float(truth.values[truth.index(s)] - value[truth.index(s)])
                                                  for s in serves)
    basis = game.states["basis"].value_counts().to_dict()
    out["habit_states"] = int(basis.get("habit", 0))
    out["states"] = len(game.labels)
    out["calibration"] = calibration(game, truth)
    return out


def prefix_tables(matches: list, sizes) -> list[tuple[int, object]]:
    """(n, the canonical table of the first n matches) for each size, smallest first: one table of all the
    matches, each smaller one its first rows (views, not copies), so memory holds the largest table alone."""
    from strategist.simulate import canonical_table

    ends = np.cumsum([sum(len(r.strokes) for r in m.rallies) for m in matches])
    whole = canonical_table(matches)
    return [(n, whole.iloc[:int(ends[n - 1])]) for n in sorted(sizes)]


def run_pair(player: str, opponent: str, sizes, seed: int, levels=()) -> dict:
    from strategist.rally.game import rally_game
    from strategist.rally.truth import policy_report
    from strategist.simulate import HEIGHT_PARAMETERS, simulate_matches
    from strategist.simulate.exact import policy_value, true_game

    params = replace(HEIGHT_PARAMETERS, players=(HEIGHT_PARAMETERS.player(player), HEIGHT_PARAMETERS.player(opponent)))
    truth = true_game(params, player, opponent)
    serves = [truth.index(s) for s in truth.serve_states]
    habit, observed = policy_value(truth, truth.row_habits), truth.habit_values()
    progress(f"{player} v {opponent}: simulating {max(sizes)} matches")
    t = time.perf_counter()
    matches = simulate_matches(params, matches=max(sizes), seed=seed)
    simulate_s = time.perf_counter() - t
    out = {"player": player, "opponent": opponent, "seed": seed, "simulate_seconds": simulate_s,
           "optimum": [float(truth.values[g]) for g in serves],
           "habit_guaranteed": [float(habit[g]) for g in serves],
           "habit_observed": [float(observed[g]) for g in serves], "sizes": []}
    tables = prefix_tables(matches, sizes)
    del matches                                     # the table holds them now; keep memory for the fits
    for n, table in tables:
        row = {"matches": n, "strokes": int(len(table))}
        for model, options in (("situational", {}), ("coarse", COARSE)):
            progress(f"{player} v {opponent}: {n} matches, {len(table):,} strokes, {model} game")
            t = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                game = rally_game(table, player, opponent, **options)
            fit_s = time.perf_counter() - t
            row[model] = {**evaluate(game, truth), "fit_seconds": fit_s,
                          "warnings": sorted({str(w.message)[:120] for w in caught})}
            r = row[model]["recommendation"]
            progress(f"  gap {r['gap_serve']:.4f} serving, {r['gap_receive']:.4f} receiving ({fit_s:.1f} s)")
        row["levels"] = {}
        for level in levels:                      # the price of pessimism: the situational game at other levels
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                game = rally_game(table, player, opponent, level=level)
            rep = policy_report(game, truth)
            row["levels"][str(level)] = {"max_gap": rep["max_gap"],
                                         "habit_states": int((game.states["basis"] == "habit").sum())}
            progress(f"  level {level}: max gap {rep['max_gap']:.4f}")
        out["sizes"].append(row)
    out["peak_memory_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20   # KiB on Linux
    return out


def model_version() -> str:
    """The commit, and a digest of the rally game's sources when they differ from it (work in progress)."""
    import hashlib
    import subprocess

    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    sources = ["strategist/rally/game.py", "strategist/rally/model.py"]
    text = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", *sources):
        digest = hashlib.sha1(b"".join((ROOT / f).read_bytes() for f in sources)).hexdigest()[:10]
        text += f" with uncommitted rally game sources (sha1 of game.py + model.py: {digest})"
    return text


def _f(x: float) -> str:
    return f"{x:.4f}"


def _calibration(c: dict | None) -> str:
    if not c or not c["cells"]:
        return "none named by both games"
    return f"{c['rms_z']:.2f}, {c['outside_90']:.0%} ({c['cells']})"


def markdown(res: dict) -> str:
    out = ["# Ground truth: recommendations evaluated in the simulator's exact game", "",
           f"Machine: {res['machine']}; one thread. Height mode (`HEIGHT_PARAMETERS`); each pair simulated alone "
           f"(seed {res['seed']}; smaller sizes are the first matches of the largest). Gap = true optimum − exact "
           "value of the policy against the opponent's best response, from the player's serve / the opponent's "
           f"serve. Target: recommendation gap <= {TARGET} (issue 18). Command: `{res['command']}`; rally game: "
           f"{res['model_version']}.", ""]
    for p in res["pairs"]:
        out += [f"## {p['player']} v {p['opponent']}", "",
                f"True optimum {_f(p['optimum'][0])} serving, {_f(p['optimum'][1])} receiving; the player's habits "
                f"guarantee {_f(p['habit_guaranteed'][0])} / {_f(p['habit_guaranteed'][1])} against a best "
                f"response (both habits: {_f(p['habit_observed'][0])} / {_f(p['habit_observed'][1])}). "
                f"Simulation: {p['simulate_seconds']:.0f} s."
                + (f" Peak memory of the run so far: {p['peak_memory_gib']:.1f} GiB." if "peak_memory_gib" in p else ""),
                "",
                "| matches | strokes | model | recommendation gap (serve / receive) | max | meets target | "
                "max gap against the optimal opponent | max gap of its shots with the optimal positions | "
                "point equilibrium max gap | observed mixes max gap | habit-basis states | cells' σ: rms z, "
                "outside ±1.645σ (cells) | fit s |",
                "| ---: | ---: | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
        for row in p["sizes"]:
            for model in ("situational", "coarse"):
                m = row[model]
                r = m["recommendation"]
                out.append(f"| {row['matches']} | {row['strokes']:,} | {model} | {_f(r['gap_serve'])} / "
                           f"{_f(r['gap_receive'])} | {_f(r['max_gap'])} | {'yes' if r['max_gap'] <= TARGET else 'no'} "
                           f"| {_f(r['max_gap_against_optimal_opponent'])} | {_f(r['max_gap_shots_only'])} | "
                           f"{_f(m['equilibrium']['max_gap'])} | {_f(m['observed']['max_gap'])} | "
                           f"{m['habit_states']} of {m['states']} | {_calibration(m.get('calibration'))} | "
                           f"{m['fit_seconds']:.1f} |")
        levels = sorted({lv for row in p["sizes"] for lv in row.get("levels", {})}, key=float, reverse=True)
        if levels:
            out += ["", "The price of pessimism: the situational recommendation's max gap when its bounds are "
                    "the game's intervals at other levels (default 0.9: Q ∓ 1.645σ; the habit is kept where the "
                    "bound does not support a change), with its habit-basis states:", "",
                    "| matches | " + " | ".join(f"level {lv}" for lv in ["0.9", *levels]) + " |",
                    "| ---: | " + " | ".join("---:" for _ in range(len(levels) + 1)) + " |"]
            for row in p["sizes"]:
                m = row["situational"]
                cells = [f"{_f(m['recommendation']['max_gap'])} ({m['habit_states']})"]
                cells += [f"{_f(row['levels'][lv]['max_gap'])} ({row['levels'][lv]['habit_states']})"
                          if lv in row.get("levels", {}) else "" for lv in levels]
                out.append(f"| {row['matches']} | " + " | ".join(cells) + " |")
        last = p["sizes"][-1]["situational"]["recommendation"]["worst_states"]
        out += ["", f"Where the situational recommendation loses most at {p['sizes'][-1]['matches']} matches "
                "(one-step regret in the true game × the state's visits; share of the total):", "",
                "| state | visits | regret | share | recommended | optimum |",
                "| --- | ---: | ---: | ---: | --- | --- |"]
        out += [f"| {w['state']} | {w['visits']} | {w['regret']:.4f} | {w['share']:.0%} | {w['policy']} | "
                f"{w['optimum']} |" for w in last]
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one pair, 20 and 60 matches; results not written")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="matches per pair")
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help=f"how many of {PAIRS} (default all)")
    parser.add_argument("--pair", type=int, choices=range(1, len(PAIRS) + 1),
                        help="run this one pair of PAIRS alone (1-based) instead of the first --pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--levels", type=float, nargs="*", default=[0.7, 0.5],
                        help="other pessimism levels the situational game is fitted at (default 0.7 0.5)")
    parser.add_argument("--name", default="truth",
                        help="results file name (default truth: benchmarks/results/truth.json and .md)")
    args = parser.parse_args(argv)
    sizes, pairs = (([20, 60], PAIRS[:1]) if args.quick else (args.sizes, PAIRS[:args.pairs]))
    if args.pair and not args.quick:
        pairs = PAIRS[args.pair - 1:args.pair]
    command = "python benchmarks/bench_truth.py " + " ".join(sys.argv[1:] if argv is None else argv)
    res = {"machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
           "seed": args.seed, "target": TARGET, "model_version": model_version(), "command": command.strip(),
           "pairs": [run_pair(a, b, sizes, args.seed, args.levels) for a, b in pairs]}
    text = markdown(res)
    print(text)
    if not args.quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{args.name}.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
        (RESULTS / f"{args.name}.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
