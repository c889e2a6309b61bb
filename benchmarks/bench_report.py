"""Time the post-match report of one match (target: under 5 s per match on CPU).

    python benchmarks/bench_report.py              # 3 timed runs per match after one warm-up
    python benchmarks/bench_report.py --runs 5

Matches: the first three of the shipped demo (20 simulated matches, 11,759 strokes), and three matches of
Kento MOMOTA in the ShuttleSet copy the package ships (94 matches: the population every estimate is fitted on
is the other 93; the scouting section reads all 94). Loading the data and reading the situations of its
strokes are done once per data set and not timed (``benchmarks/bench_load.py`` times the load; the app keeps
both per data set, and a report takes the situations of its population from them: ``annotated=``). Per match and run: ``build_report`` (the numbers: the Advisor built
without the match, the advice before each of the player's strokes, the other sections and the scouting),
``write_html`` (charts drawn as SVG), ``write_json`` and ``write_pdf`` (charts drawn again as PNG); the figure
is the median wall time with the median CPU time of the process beside it (wall time also holds the waits of a
shared machine), and the Advisor's build time and the decision review's time apart. The target applies to the
report a coach opens — numbers, HTML and JSON; the PDF is timed apart. Threads are limited to one. Writes
benchmarks/results/report.json and report.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ARROW_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SHUTTLESET = REPO / "data" / "shuttleset" / "strokes.csv.gz"
RESULTS = REPO / "benchmarks" / "results"
TARGET_S = 5.0


def _timed(fn, *args, **kw):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def bench_match(table, match_id, player, runs: int, folder: Path, matches=None, annotated=None) -> dict:
    from strategist.report import build_report, write_html, write_json, write_pdf

    steps = {"build": [], "html": [], "json": [], "pdf": []}
    cpu = {k: [] for k in steps}
    advisor, review = [], []
    for k in range(runs + 1):
        report, w, c = _timed(build_report, table, match_id, player, matches=matches, annotated=annotated)
        timings = [("build", w, c)]
        for name, writer in (("html", write_html), ("json", write_json), ("pdf", write_pdf)):
            _, w, c = _timed(writer, report, folder / f"r.{name}")
            timings.append((name, w, c))
        if k == 0:
            continue                                   # warm-up: imports, caches
        advisor.append(report.meta["components"][0]["advisor"].get("build_seconds", float("nan")))
        review.append(report.timings["decisions"] - advisor[-1])     # the review builds the Advisor first
        for name, w, c in timings:
            steps[name].append(w)
            cpu[name].append(c)
    med = {k: statistics.median(v) for k, v in steps.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    coach = med["build"] + med["html"] + med["json"]
    return {"match_id": match_id, "player": report.meta["player"], "rallies": report.meta["rallies"],
            "strokes": report.meta["strokes"], "population_strokes": report.meta["population"]["strokes"],
            "wall_s": med, "cpu_s": med_cpu, "report_s": coach, "report_cpu_s": med_cpu["build"] + med_cpu["html"]
            + med_cpu["json"], "with_pdf_s": coach + med["pdf"], "under_target": coach < TARGET_S,
            "advisor_build_s": statistics.median(advisor), "decision_review_s": statistics.median(review),
            "decisions": report.decisions["decisions"],
            "sections_s": {k: round(v, 3) for k, v in report.timings.items()},
            "advisor": report.meta["components"][0]["advisor"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    import strategist
    from strategist.data.demo import demo_path
    from strategist.scout.matchinfo import read_match_info

    from strategist.rally.model import situation_annotation

    cases = []
    demo = strategist.load_rallies(demo_path()).table
    demo_situations = situation_annotation(demo)           # once per data set, as the app keeps it
    for match_id in list(dict.fromkeys(demo["match_id"]))[:3]:
        cases.append(("demo", demo, match_id, None, read_match_info(demo_path()), demo_situations))
    real = strategist.load_rallies(SHUTTLESET).table
    real_situations = situation_annotation(real)
    momota = [m for m in dict.fromkeys(real["match_id"]) if "Kento_MOMOTA" in m][:3]
    cases += [("shuttleset", real, m, "Kento MOMOTA", read_match_info(SHUTTLESET), real_situations)
              for m in momota]
    load_start = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for data, table, match_id, player, matches, situations in cases:
            row = {"data": data, **bench_match(table, match_id, player, args.runs, Path(tmp), matches, situations)}
            rows.append(row)
            print(f"{data:10s} {match_id[:48]:48s} report {row['report_s']:.2f} s (cpu {row['report_cpu_s']:.2f}; "
                  f"Advisor {row['advisor_build_s']:.2f} s, review {row['decision_review_s']:.2f} s) "
                  f"with pdf {row['with_pdf_s']:.2f} s", flush=True)
    out = {"target_s": TARGET_S, "runs": args.runs, "python": sys.version.split()[0],
           "machine": platform.machine(), "cpus": os.cpu_count(), "load_average_start": load_start,
           "load_average": os.getloadavg(), "matches": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(out, indent=1) + "\n")
    lines = ["# Post-match report: time per match", "",
             f"`python benchmarks/bench_report.py --runs {args.runs}`: median of {args.runs} runs after a warm-up, "
             f"{os.cpu_count()} CPUs shared (load average {load_start[0]:.1f} at the start, {os.getloadavg()[0]:.1f} "
             f"at the end), one thread. Report = numbers + HTML + JSON (target {TARGET_S:.0f} s); the PDF is timed "
             "apart. Data loading is not timed, nor the situations of the data set's strokes, read once per data "
             "set (`annotated=`, as the app keeps them). The numbers include building the one Advisor of the pair without "
             "the match (its rally game and opponent model) and asking it for advice before each of the player's "
             "strokes (the decision review, without the build); both are shown apart. Per-section seconds of the last run are in "
             "report.json (`sections_s`).", "",
             "| data | match | strokes (population) | decisions | Advisor build s | decision review s | numbers s "
             "| HTML s | JSON s | report s (CPU s) | PDF s |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        w = r["wall_s"]
        lines.append(f"| {r['data']} | {r['match_id']} | {r['strokes']} ({r['population_strokes']:,}) | "
                     f"{r['decisions']} | {r['advisor_build_s']:.2f} | {r['decision_review_s']:.2f} | "
                     f"{w['build']:.2f} | {w['html']:.2f} | {w['json']:.2f} | {r['report_s']:.2f} "
                     f"({r['report_cpu_s']:.2f}) | {w['pdf']:.2f} |")
    (RESULTS / "report.md").write_text("\n".join(lines) + "\n")
    return 0 if all(r["under_target"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
