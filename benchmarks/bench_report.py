"""Time the post-match report of one match (target: under 5 s per match on CPU).

    python benchmarks/bench_report.py              # 3 timed runs per match after one warm-up
    python benchmarks/bench_report.py --runs 5

Matches: the first three of the shipped demo (20 simulated matches, 11,759 strokes), and — when
../shared/data is present — three ShuttleSet matches of Kento MOMOTA (94 matches, 81,939 strokes: the
population every estimate is fitted on is the other 93). Loading the data is done once and not timed
(``benchmarks/bench_load.py`` times it). Per match and run: ``build_report`` (the numbers), ``write_html``
(charts drawn as SVG), ``write_json`` and ``write_pdf`` (charts drawn again as PNG); the figure is the
median wall time with the median CPU time of the process beside it (wall time also holds the waits of a
shared machine). The target applies to the report a coach opens — numbers, HTML and JSON; the PDF is
timed apart. Threads are limited to one. Writes benchmarks/results/report.json and report.md.
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

SHUTTLESET = REPO / ".." / "shared" / "data" / "badminton_shuttleset" / "strokes.csv.gz"
RESULTS = REPO / "benchmarks" / "results"
TARGET_S = 5.0


def _timed(fn, *args, **kw):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def bench_match(table, match_id, player, runs: int, folder: Path) -> dict:
    from strategist.report import build_report, write_html, write_json, write_pdf

    steps = {"build": [], "html": [], "json": [], "pdf": []}
    cpu = {k: [] for k in steps}
    for k in range(runs + 1):
        report, w, c = _timed(build_report, table, match_id, player)
        timings = [("build", w, c)]
        for name, writer in (("html", write_html), ("json", write_json), ("pdf", write_pdf)):
            _, w, c = _timed(writer, report, folder / f"r.{name}")
            timings.append((name, w, c))
        if k == 0:
            continue                                   # warm-up: imports, caches
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
            "sections_s": {k: round(v, 3) for k, v in report.timings.items()},
            "models": {c["component"]: ("stand-in" if c["stand_in"] else "package") for c in report.meta["components"]}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    import strategist
    from strategist.data.demo import demo_path

    cases = []
    demo = strategist.load_rallies(demo_path()).table
    for match_id in list(dict.fromkeys(demo["match_id"]))[:3]:
        cases.append(("demo", demo, match_id, None))
    if SHUTTLESET.exists():
        real = strategist.load_rallies(SHUTTLESET).table
        momota = [m for m in dict.fromkeys(real["match_id"]) if "Kento_MOMOTA" in m][:3]
        cases += [("shuttleset", real, m, "Kento MOMOTA") for m in momota]
    else:
        print(f"ShuttleSet absent ({SHUTTLESET.resolve()}): demo only")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for data, table, match_id, player in cases:
            row = {"data": data, **bench_match(table, match_id, player, args.runs, Path(tmp))}
            rows.append(row)
            print(f"{data:10s} {match_id[:48]:48s} report {row['report_s']:.2f} s (cpu {row['report_cpu_s']:.2f}) "
                  f"with pdf {row['with_pdf_s']:.2f} s")
    out = {"target_s": TARGET_S, "runs": args.runs, "python": sys.version.split()[0],
           "machine": platform.machine(), "cpus": os.cpu_count(), "load_average": os.getloadavg(),
           "matches": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(out, indent=1) + "\n")
    lines = ["# Post-match report: time per match", "",
             f"`python benchmarks/bench_report.py --runs {args.runs}`: median of {args.runs} runs after a warm-up, "
             f"{os.cpu_count()} CPUs shared (load average {os.getloadavg()[0]:.1f} at the end), one thread. Report = "
             f"numbers + HTML + JSON (target {TARGET_S:.0f} s); the PDF is timed apart. Data loading is not timed.",
             "", "| data | match | strokes (population) | numbers s | HTML s | JSON s | report s (CPU s) | PDF s |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    models = rows[-1]["models"] if rows else {}
    lines.insert(3, "Models: " + ", ".join(f"{k}: {v}" for k, v in models.items()) + ". Per-section wall and CPU "
                 "seconds of the last run are in report.json (`sections_s`).")
    lines.insert(4, "")
    for r in rows:
        w = r["wall_s"]
        lines.append(f"| {r['data']} | {r['match_id']} | {r['strokes']} ({r['population_strokes']:,}) | "
                     f"{w['build']:.2f} | {w['html']:.2f} | {w['json']:.2f} | {r['report_s']:.2f} "
                     f"({r['report_cpu_s']:.2f}) | {w['pdf']:.2f} |")
    (RESULTS / "report.md").write_text("\n".join(lines) + "\n")
    return 0 if all(r["under_target"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
