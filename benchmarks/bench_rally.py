"""Benchmark and evidence for the rally game: speed, ShuttleSet's top pairs, and the ground-truth check.

* Speed: the population game of all ShuttleSet rallies (load, decision states, build, solve: states and
  sweeps); 100,000 rallies played out on one core.
* ShuttleSet: for the five pairs with the most rallies, the value of the serve and of receiving (observed
  and as recommended) and the gain of the recommendation over observed play, with 90 % match-bootstrap intervals.
* Ground truth: simulate 200 matches with the demo simulator, estimate every pair's game, and count how
  often the 90 % intervals of the observed values cover the exact truth in states with >= 50 visits.

    OMP_NUM_THREADS=1 python benchmarks/bench_rally.py          # writes benchmarks/results/rally.json, rally.md
    python benchmarks/bench_rally.py --quick                    # smaller sizes, a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
SHUTTLESET = ROOT / ".." / "shared" / "data" / "badminton_shuttleset" / "strokes.csv.gz"


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def speed(table, repeats: int) -> dict:
    from strategist.data.states import annotate_states
    from strategist.rally.game import _solve, layout, rally_game
    from strategist.rally.model import RallySettings, build_structure, estimate, structure_counts, strokes

    settings = RallySettings()
    t_annotate, _ = median_time(lambda: annotate_states(table, zones=True), repeats)
    t_strokes, st = median_time(lambda: strokes(table, settings), repeats)
    t_build, structure = median_time(lambda: build_structure(st, settings), repeats)

    t_estimate, est = median_time(lambda: estimate(structure, structure_counts(structure)), repeats)
    lay = layout(structure)
    from strategist.rally.game import stage_arrays

    rewards, moves = stage_arrays(lay, est.probability[0])
    t_solve, sol = median_time(lambda: _solve(rewards, moves, structure.labels, lay), repeats)
    t_total, game = median_time(lambda: rally_game(table), max(1, repeats // 2))
    return {"strokes": int(len(table)), "rallies": int(table["rally_id"].nunique()), "states": len(structure.labels),
            "sweeps": sol.iterations, "method": sol.method, "residual": sol.residual,
            "seconds": {"decision_states (annotate_states)": t_annotate,
                        "strokes (incl. annotate_states)": t_strokes, "build": t_build, "estimate": t_estimate,
                        "solve": t_solve, "rally_game total": t_total,
                        "build + estimate + solve": t_build + t_estimate + t_solve}}


def playout_speed(game, rallies: int, repeats: int) -> dict:
    from strategist.rally.playout import compile_game, play_out

    compiled = compile_game(game)
    t, out = median_time(lambda: play_out(game, "equilibrium", "observed", rallies, seed=1, compiled=compiled),
                         repeats)
    return {"rallies": rallies, "seconds": t, "win_probability": out.win_probability, "exact": out.exact,
            "mean_length": float(out.lengths.mean())}


def top_pairs(table, k: int, replicates: int) -> list[dict]:
    from strategist.rally.game import rally_game

    counts = (table.assign(a=np.minimum(table["hitter"].astype(str), table["opponent"].astype(str)),
                           b=np.maximum(table["hitter"].astype(str), table["opponent"].astype(str)))
              .groupby(["a", "b"])["rally_id"].nunique().sort_values(ascending=False))
    rows = []
    for (a, b), n in counts.head(k).items():
        t = time.perf_counter()
        g = rally_game(table, a, b, bootstrap=replicates, level=0.9, seed=0)
        st = g.states.set_index("state")
        serve, recv = g.serve_state("player"), g.serve_state("opponent")

        def trio(state, col):
            low, high = {"value": ("value_low", "value_high"), "observed_value": ("observed_low", "observed_high"),
                         "gain": ("gain_low", "gain_high")}[col]
            return [float(st.loc[state, col]), float(st.loc[state, low]), float(st.loc[state, high])]
        rows.append({"player": a, "opponent": b, "rallies": int(n), "matches": g.structure.game_matches,
                     "states": len(g.labels), "serve_observed": trio(serve, "observed_value"),
                     "serve_recommended": trio(serve, "value"), "serve_gain": trio(serve, "gain"),
                     "receive_observed": trio(recv, "observed_value"), "receive_recommended": trio(recv, "value"),
                     "receive_gain": trio(recv, "gain"), "seconds": time.perf_counter() - t,
                     "failed_replicates": g.bootstrap.failed})
    return rows


def truth(matches: int, replicates: int, seed: int) -> dict:
    from strategist.rally.truth import ground_truth_check

    t = time.perf_counter()
    rows = ground_truth_check(matches=matches, replicates=replicates, seed=seed)
    by_phase = rows.assign(phase=rows["state"].str.split(": ").str[1].str.split().str[0])
    return {"matches": matches, "replicates": replicates, "seed": seed, "level": 0.9, "min_visits": 50,
            "pairs": int(rows["pair"].nunique()), "states": int(len(rows)),
            "coverage": float(rows["covered"].mean()),
            "truth_below_interval": float((rows["truth"] < rows["low"]).mean()),
            "truth_above_interval": float((rows["truth"] > rows["high"]).mean()),
            "mean_error": float((rows["estimate"] - rows["truth"]).mean()),
            "mean_abs_error": float((rows["estimate"] - rows["truth"]).abs().mean()),
            "mean_width": float((rows["high"] - rows["low"]).mean()),
            "coverage_by_phase": by_phase.groupby("phase")["covered"].mean().round(4).to_dict(),
            "seconds": time.perf_counter() - t}


def _ci(t) -> str:
    return f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"


def _gain(t) -> str:
    return f"{t[0]:+.3f} [{t[1]:+.3f}, {t[2]:+.3f}]"


def markdown(res: dict) -> str:
    out = ["# Rally game benchmark", "", f"Machine: {res['machine']}; one thread (OMP_NUM_THREADS=1).", ""]
    if res.get("speed_rerun"):
        out += [f"Note: {res['speed_rerun']}.", ""]
    if res.get("speed"):
        s = res["speed"]
        out += ["## Population game of all ShuttleSet rallies", "",
                f"{s['strokes']} strokes, {s['rallies']} rallies -> {s['states']} states; solved by {s['method']} "
                f"iteration in {s['sweeps']} sweeps (residual {s['residual']:.1e}). Median seconds:", "",
                "| step | seconds |", "| --- | ---: |"]
        out += [f"| {k} | {v:.3f} |" for k, v in s["seconds"].items()]
        out.append("")
    if res.get("playout"):
        p = res["playout"]
        out += ["## Playout", "", f"{p['rallies']} rallies (recommendation vs observed, population game): "
                f"{p['seconds']:.3f} s; win probability {p['win_probability']:.4f} (exact {p['exact']:.4f}), "
                f"mean length {p['mean_length']:.2f} strokes.", ""]
    if res.get("pairs"):
        out += ["## ShuttleSet: the five pairs with the most rallies", "",
                "P = the first-named player. Values are P's probability of winning the rally; 90 % match-bootstrap "
                f"intervals ({res['pair_replicates']} replicates). Gain: P switching to the recommendation while "
                "the opponent keeps playing as observed.", "",
                "| P v O | rallies | matches | P serving: observed | as recommended | gain | "
                "P receiving: observed | as recommended | gain |",
                "| --- | ---: | ---: | --- | --- | --- | --- | --- | --- |"]
        for r in res["pairs"]:
            out.append(f"| {r['player']} v {r['opponent']} | {r['rallies']} | {r['matches']} | "
                       f"{_ci(r['serve_observed'])} | {_ci(r['serve_recommended'])} | {_gain(r['serve_gain'])} | "
                       f"{_ci(r['receive_observed'])} | {_ci(r['receive_recommended'])} | {_gain(r['receive_gain'])} |")
        out.append("")
    if res.get("truth"):
        t = res["truth"]
        out += ["## Ground truth (demo simulator)", "",
                f"{t['matches']} simulated matches (seed {t['seed']}), {t['pairs']} pairs, {t['states']} states with "
                f">= {t['min_visits']} visits; {t['replicates']} bootstrap replicates.", "",
                f"- 90 % intervals cover the exact truth in **{t['coverage']:.1%}** of the states "
                f"(truth below: {t['truth_below_interval']:.1%}, above: {t['truth_above_interval']:.1%})",
                f"- mean error {t['mean_error']:+.4f}, mean absolute error {t['mean_abs_error']:.4f}, "
                f"mean interval width {t['mean_width']:.4f}",
                f"- by phase: {t['coverage_by_phase']}", f"- {t['seconds']:.0f} s", ""]
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run); results not written")
    parser.add_argument("--skip-truth", action="store_true", help="leave out the ground-truth check")
    parser.add_argument("--data", default=str(SHUTTLESET), help="ShuttleSet strokes file")
    parser.add_argument("--truth-seed", type=int, default=None, metavar="S",
                        help="only the ground-truth check on a fresh simulation with seed S; writes "
                             "results/rally_truth_seedS.{json,md}")
    parser.add_argument("--speed-only", action="store_true",
                        help="rerun only the population game's speed and the playout; the other sections of "
                             "results/rally.json (pairs, ground truth) are kept from the last full run")
    args = parser.parse_args(argv)
    if args.speed_only:
        from strategist.data.load import load_rallies
        from strategist.rally.game import rally_game

        res = json.loads((RESULTS / "rally.json").read_text())
        table = load_rallies(args.data).table
        res["machine"] = f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
        res["speed"] = speed(table, 5)
        res["playout"] = playout_speed(rally_game(table), 100_000, 5)
        res["speed_rerun"] = "speed and playout rerun with --speed-only; pairs and ground truth from the last full run"
        text = markdown(res)
        print(text)
        (RESULTS / "rally.json").write_text(json.dumps(res, indent=2) + "\n")
        (RESULTS / "rally.md").write_text(text + "\n")
        return 0
    if args.truth_seed is not None:
        res = {"truth": truth(200, 200, args.truth_seed)}
        text = markdown({"machine": platform.machine(), "quick": False, **res})
        print(text)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"rally_truth_seed{args.truth_seed}.json").write_text(json.dumps(res, indent=2) + "\n")
        (RESULTS / f"rally_truth_seed{args.truth_seed}.md").write_text(text + "\n")
        return 0
    from strategist.data.load import load_rallies
    from strategist.rally.game import rally_game

    res = {"machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
           "quick": args.quick}
    if Path(args.data).exists():
        t = time.perf_counter()
        table = load_rallies(args.data).table
        res["load_seconds"] = time.perf_counter() - t
        res["speed"] = speed(table, 1 if args.quick else 5)
        res["playout"] = playout_speed(rally_game(table), 100_000, 1 if args.quick else 5)
        res["pair_replicates"] = 20 if args.quick else 200
        res["pairs"] = top_pairs(table, 2 if args.quick else 5, res["pair_replicates"])
    else:
        print(f"{args.data} is absent: ShuttleSet parts skipped", file=sys.stderr)
    if not args.skip_truth:
        res["truth"] = truth(40 if args.quick else 200, 30 if args.quick else 200, 0)
    text = markdown(res)
    print(text)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "rally.json").write_text(json.dumps(res, indent=2) + "\n")
        (RESULTS / "rally.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
