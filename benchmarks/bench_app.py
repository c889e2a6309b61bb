"""Time the app's pages as a coach meets them, through Streamlit's AppTest (the page scripts as the server runs
them, without the browser's drawing):

    python benchmarks/bench_app.py              # 3 runs of each step
    python benchmarks/bench_app.py --runs 5

Steps, on the built-in ShuttleSet (94 matches, 81,939 strokes), after the data are loaded (loading is timed
apart): the first Match prep of the data set (what is made once per data set: its usable strokes and opponent
model, with the first pair; no target), Match prep's first render of a pair (target 3 s; each run forgets what
was computed for pairs — the data set's strokes and model are kept, as on a server that has shown the data —
so that the run is a first render again), a change of player on Match prep (target 2 s; a pair not seen before),
Live rally's answer to a click on a shot button (target 0.3 s; median over 10 clicks), and the post-match
report (target 5 s; the numbers, HTML and JSON a coach opens — the PDF is drawn when downloaded). Then the
command line as fresh processes: each command on ShuttleSet (target 2 s; training, evaluation and reports
aside), on the built-in copy with an empty data cache (its entries ship), and on a copy outside the package
the first time its data are read (an empty data cache: parsed) and again; every ``--help`` (target 0.3 s); and
``load_rallies`` on ShuttleSet against ``pd.read_csv(dtype=str)`` of the same file (target: at most 3x).
The package's bytecode is written first (:func:`compile_package`), as an installed package keeps it.
Medians of the runs. Writes benchmarks/results/app.json and app.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RESULTS = REPO / "benchmarks" / "results"
PAGES = "strategist/app/pages/"
TARGETS = {"load ShuttleSet": None, "Match prep: first pair of the data set": None, "Match prep: first render": 3.0,
           "Match prep: change of player": 2.0, "Live rally: a click": 0.3, "Post-match report": 5.0}


def _app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    at.query_params["data"] = "shuttleset"
    return at


CPU: dict[str, list[float]] = {}


def _timed(step, name: str | None = None) -> float:
    """Wall seconds of ``step``; its CPU seconds (this process, every thread) go to CPU[name]."""
    started, cpu = time.perf_counter(), time.process_time()
    step()
    if name:
        CPU.setdefault(name, []).append(time.process_time() - cpu)
    return time.perf_counter() - started


def _check(at, what: str) -> None:
    if at.exception or at.error:
        raise SystemExit(f"{what}: {[e.value for e in list(at.exception) + list(at.error)]}")


def _forget_pairs() -> None:
    from strategist.app import common
    from strategist.app.datasets import SHUTTLESET

    cache = common.cache()
    with cache._lock:
        store = cache._entries[SHUTTLESET]["derived"]
        for name in [n for n in store if isinstance(n, tuple)]:      # pairs' entries; the data set's stay
            store.pop(name)


def measure(runs: int) -> dict:
    times: dict[str, list[float]] = {name: [] for name in TARGETS}
    at = _app()
    times["load ShuttleSet"].append(_timed(at.run, "load ShuttleSet"))
    _check(at, "data")
    at.switch_page(PAGES + "prep.py")
    times["Match prep: first pair of the data set"].append(_timed(at.run, "Match prep: first pair of the data set"))
    _check(at, "prep")
    for run in range(runs):
        _forget_pairs()
        at = _app()
        at.run()
        at.switch_page(PAGES + "prep.py")
        times["Match prep: first render"].append(_timed(at.run, "Match prep: first render"))
        _check(at, "prep")
        players = at.selectbox(key="player_box").options
        box = at.selectbox(key="player_box").set_value(players[1 + run])
        times["Match prep: change of player"].append(_timed(box.run, "Match prep: change of player"))
        _check(at, "change of player")
    at.switch_page(PAGES + "live.py").run()
    at.button(key="new_match").click().run()
    for k in range(10):
        shot = next(b for b in at.button if b.key and b.key.startswith("shot:"))
        times["Live rally: a click"].append(_timed(shot.click().run, "Live rally: a click"))
        _check(at, "click")
        if k % 4 == 3:
            at.button(key="won").click().run()
    at.switch_page(PAGES + "report.py").run()
    matches = at.selectbox(key="report_match").options
    for run in range(runs):
        at.selectbox(key="report_match").set_value(matches[run]).run()
        times["Post-match report"].append(_timed(at.button(key="report_go").click().run, "Post-match report"))
        _check(at, "report")
    return times


# -- the command line and loading ----------------------------------------------------------------------------
PAIR = ["--player", "Kento MOMOTA", "--opponent", "CHOU Tien Chen"]
#: Commands on ShuttleSet (target 2 s); training, evaluating a model and reports are left out (the issue's
#: exceptions; the shipped ShuttleSet model learnt every match, so there is nothing to evaluate it on).
CLI = {
    "solve": ["solve"],
    "data summary": ["data", "summary", "{data}"],
    "payoff": ["payoff", "--data", "{data}", *PAIR],
    "rally": ["rally", "--data", "{data}", *PAIR],
    "simulate": ["simulate", "--data", "{data}", *PAIR],
    "practice (20 rallies, automatic)": ["practice", "--data", "{data}", *PAIR, "--auto", "equilibrium",
                                         "--rallies", "20"],
    "scout": ["scout", "--data", "{data}", *PAIR, "--json"],
}
HELP = ["--help"] + [[name, "--help"] for name in
                     ("solve", "data", "payoff", "rally", "simulate", "practice", "train", "evaluate", "report",
                      "scout")]
CLI_TARGET, HELP_TARGET, LOAD_TARGET = 2.0, 0.3, 3.0


def _command(argv: list[str], env: dict) -> float:
    return _timed_process([sys.executable, "-m", "strategist", *argv], env, name=f"strategist {' '.join(argv)}")


def _timed_process(argv: list[str], env: dict | None = None, name: str | None = None) -> float:
    """Seconds a fresh process running ``argv`` takes; a failure stops the benchmark with its error."""
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{name or ' '.join(argv)}: {done.stderr.strip()[-500:]}")
    return seconds


def measure_cli(runs: int) -> list[dict]:
    """Fresh processes, every command on ShuttleSet: the built-in copy with an empty data cache (its entries
    ship in data/prepared: nothing is parsed), a copy outside the package the first time its data are read
    (parsed and kept) and again (what it kept read back); then every --help."""
    import shutil

    from strategist.data.shipped import shuttleset_dir

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy" / "shuttleset"
        shutil.copytree(shuttleset_dir(), copy)
        for name, argv in CLI.items():
            cache = str(Path(folder) / name.replace(" ", "-"))
            built_in = [_command([a.replace("{data}", str(shuttleset_dir())) for a in argv],
                                 {**os.environ, "STRATEGIST_DATA_CACHE": f"{cache}-built-in-{k}"})
                        for k in range(runs)]
            argv = [a.replace("{data}", str(copy)) for a in argv]
            env = {**os.environ, "STRATEGIST_DATA_CACHE": cache}
            first = _command(argv, env)
            again = [_command(argv, env) for _ in range(runs)]
            rows.append({"step": f"`strategist {name}` on the built-in ShuttleSet, empty data cache",
                         "runs_s": built_in, "target_s": CLI_TARGET})
            rows.append({"step": f"`strategist {name}` on a copy of ShuttleSet, data read before", "runs_s": again,
                         "target_s": CLI_TARGET})
            rows.append({"step": f"`strategist {name}` on a copy of ShuttleSet, first read of the data",
                         "runs_s": [first], "target_s": CLI_TARGET})
    for argv in HELP:
        argv = [argv] if isinstance(argv, str) else argv
        rows.append({"step": f"`strategist {' '.join(argv)}`", "runs_s": [_command(argv, dict(os.environ))
                                                                            for _ in range(runs)],
                     "target_s": HELP_TARGET})
    return rows


def measure_load(runs: int) -> dict:
    """``load_rallies`` of ShuttleSet against pandas reading the same file as text, median of ``runs`` each."""
    import pandas as pd

    from strategist.data.load import load_rallies
    from strategist.data.shipped import shuttleset_path

    path = shuttleset_path()
    load_rallies(path)
    pandas_s, ours_s = [], []
    for _ in range(runs):
        pandas_s.append(_timed(lambda: pd.read_csv(path, dtype=str)))
        ours_s.append(_timed(lambda: load_rallies(path)))
    ratio = statistics.median(ours_s) / statistics.median(pandas_s)
    return {"step": "`load_rallies` on ShuttleSet / `pd.read_csv(dtype=str)` of the same file (ratio)",
            "runs_s": [round(ratio, 3)], "target_s": LOAD_TARGET, "detail": {"load_rallies_s": ours_s,
                                                                            "read_csv_s": pandas_s}}


def machine_reference(runs: int = 3) -> float:
    """Seconds a fresh process takes to import pandas and scipy.special (median of ``runs``): the floor under every
    command, and a yardstick for comparing tables made on different machines or under different loads."""
    return statistics.median(_timed_process([sys.executable, "-c", "import pandas, scipy.special"])
                             for _ in range(runs))


def write(times: dict, runs: int, extra: list[dict] | None = None, reference: float | None = None) -> str:
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        target = TARGETS[name]
        cpu = statistics.median(CPU.get(name) or [float("nan")])
        rows.append({"step": name, "median_s": round(median, 3), "runs_s": [round(v, 3) for v in values],
                     "median_cpu_s": round(cpu, 3),
                     "target_s": target, "met": None if target is None else median <= target})
    for row in extra or []:
        median = statistics.median(row["runs_s"])
        rows.append({**row, "median_s": round(median, 3), "runs_s": [round(v, 3) for v in row["runs_s"]],
                     "median_cpu_s": None, "met": median <= row["target_s"]})
    RESULTS.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    meta = {"command": f"python benchmarks/bench_app.py --runs {runs}", "python": platform.python_version(),
            "cpus": os.cpu_count(), "load_average": round(load, 2),
            "import_pandas_scipy_s": None if reference is None else round(reference, 3)}
    (RESULTS / "app.json").write_text(json.dumps({"meta": meta, "steps": rows}, indent=2) + "\n")
    lines = ["# The app's pages and the command line: time per step", "",
             f"`{meta['command']}`: AppTest (the page scripts as the server runs them), built-in ShuttleSet "
             f"(94 matches), {os.cpu_count()} CPUs shared (load average {load:.1f} at the end). Medians; every run "
             "in app.json; CPU s is this process's CPU time (wall time also holds the waits of a shared machine). "
             "Match prep's first render forgets the pairs' cached Advisors, tables and scouting before each run "
             "(the data set's prepared strokes and opponent model stay). Commands run as fresh processes "
             "(`python -m strategist ...`), the package's bytecode written beforehand as an installed package "
             "keeps it: on the built-in ShuttleSet with an empty data cache (its cache entries ship in "
             "`data/prepared`: nothing is parsed), then on a copy of the same files outside the package, once "
             "with an empty data cache (the first read of the data: parsed and kept on disk, "
             "`strategist.data.cache`) and then again; `--help` and the loading ratio below them." +
             ("" if reference is None else f" The machine's yardstick: a fresh `python -c 'import pandas, "
                                           f"scipy.special'` took {reference:.2f} s (median of 3), the floor under "
                                           "every command; compare tables made elsewhere by it."),
             "",
             "| step | median s | median CPU s | runs s | target s | met |", "| --- | ---: | ---: | --- | ---: | --- |"]
    for r in rows:
        target = "" if r["target_s"] is None else f"{r['target_s']:g}"
        met = "" if r["met"] is None else ("yes" if r["met"] else "no")
        cpu = "" if r["median_cpu_s"] is None else f"{r['median_cpu_s']:.2f}"
        lines.append(f"| {r['step']} | {r['median_s']:.2f} | {cpu} | "
                     f"{', '.join(f'{v:.2f}' for v in r['runs_s'])} | "
                     f"{target} | {met} |")
    text = "\n".join(lines) + "\n"
    (RESULTS / "app.md").write_text(text)
    return text


def compile_package() -> None:
    """Write the package's bytecode (``__pycache__``), as an installed package keeps it after its first import:
    an environment that sets PYTHONDONTWRITEBYTECODE would otherwise compile every module from source in every
    fresh process, a cost no installed copy pays."""
    import compileall
    import io
    from contextlib import redirect_stdout

    with redirect_stdout(io.StringIO()):
        compileall.compile_dir(str(REPO / "strategist"), quiet=1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    compile_package()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["STRATEGIST_MATCHLOG"] = str(Path(folder) / "matches.sqlite")
        os.environ["STRATEGIST_UPLOAD_DIR"] = str(Path(folder) / "uploads")
        pages = measure(args.runs)
        extra = measure_cli(args.runs) + [measure_load(args.runs)]
        print(write(pages, args.runs, extra, machine_reference()))


if __name__ == "__main__":
    main()
