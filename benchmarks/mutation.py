"""Mutation testing of the core modules with mutmut: does each module's own test area catch small changes?

mutmut copies the package, rewrites every function of the module under test into many mutants (an operator,
constant, comparison, argument or string changed) and runs, for each mutant, the tests of the module's area
that call the mutated function. A mutant is *killed* when a test fails, *survives* when all pass. A survivor is
a change of behaviour no test notices, unless it cannot change behaviour at all (an *equivalent* mutant): those
are listed with their reason in ``benchmarks/mutation_equivalent.toml`` and left out of the score.

    python benchmarks/mutation.py strategist/games/zero_sum.py      # named modules (paths or dotted names)
    python benchmarks/mutation.py --changed origin/main             # the modules `git diff --name-only` lists
    python benchmarks/mutation.py --core                            # every module of the core areas
    python benchmarks/mutation.py --survivors strategist/games/zero_sum.py   # rerun only last run's survivors
    python benchmarks/mutation.py --rejudge       # the recorded survivors against an edited equivalence file
    python benchmarks/mutation.py --recorded strategist/games/zero_sum.py   # rerun the survivors mutation.json
                                                  # records (no earlier workdir needed), the rest of the row kept

Each module runs in its own copy of the repository under ``build/mutation/<module>/`` (mutmut keeps its
results there, so ``--survivors`` reruns quickly after new tests), niced, against the test files
:data:`TESTS` maps it to (its area's folder by default). Results are merged into
``benchmarks/results/mutation.json`` and ``.md``: per module killed / survived / equivalent and the score
killed / (mutants - equivalent), with every survivor's change. Timeouts count as killed (the mutant made the
tests hang); mutants no selected test reaches count as survived.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
EQUIVALENT_FILE = ROOT / "benchmarks" / "mutation_equivalent.toml"
WORKDIR = ROOT / "build" / "mutation"

#: The areas whose modules ``--core`` mutates (each against ``tests/<area>/`` unless :data:`TESTS` says else).
CORE_AREAS = ("games", "estimation", "rally", "opponent", "advice", "matchlog", "optim")

#: Modules mutmut leaves alone: re-export lists and modules of names only.
SKIP = {"__init__.py", "__main__.py"}

#: module -> the test files or folders it is run against (its area's folder when absent). Narrower lists keep
#: the run short: mutmut first runs the whole selection once to learn which test calls which function.
TESTS: dict[str, list[str]] = {
    "strategist/games/zero_sum.py": ["tests/games/test_zero_sum.py", "tests/games/test_zero_sum_edges.py",
                                     "tests/games/test_numeric_limits.py", "tests/games/test_properties.py",
                                     "tests/games/test_matrix_game.py",
                                     "tests/games/test_zero_sum_gap_limits.py"],
    "strategist/games/exact.py": ["tests/games/test_zero_sum.py", "tests/games/test_numeric_limits.py",
                                  "tests/games/test_exact_kernels.py"],
    "strategist/games/batch.py": ["tests/games/test_batch.py", "tests/games/test_batch_paths.py",
                                  "tests/games/test_numeric_limits.py",
        "tests/games/test_batch_unresolved_games_counted.py"],
    "strategist/games/stochastic.py": ["tests/games/test_stochastic.py", "tests/games/test_numeric_limits.py",
                                       "tests/games/test_stochastic_solver_paths.py",
                                       "tests/games/test_termination_bound.py",
                                       "tests/games/test_stochastic_input_checks.py",
                                       "tests/games/test_stochastic_stopping_and_sweeps.py"],
    "strategist/games/general_sum.py": ["tests/games/test_general_sum.py", "tests/games/test_general_sum_paths.py",
                                        "tests/games/test_general_sum_methods.py",
                                        "tests/games/test_general_sum_answers.py",
                                        "tests/games/test_general_sum_bounds_and_paths.py"],
    "strategist/games/safe_exploit.py": ["tests/games/test_safe_exploit.py", "tests/games/test_properties.py",
                                         "tests/games/test_responses_edges.py",
                                         "tests/games/test_safe_exploit_edges.py",
                                         "tests/games/test_safe_exploit_lps.py",
                                         "tests/games/test_numeric_limits.py",
        "tests/games/test_safe_exploit_value_checks.py"],
    "strategist/games/mdp.py": ["tests/games/test_mdp.py"],
    "strategist/games/matrix_game.py": ["tests/games/test_matrix_game.py", "tests/games/test_zero_sum.py",
                                        "tests/games/test_solve_cli.py", "tests/games/test_numeric_limits.py",
                                        "tests/games/test_responses_edges.py",
                                        "tests/games/test_safe_exploit_edges.py",
                                        "tests/games/test_matrix_game_inputs.py",
                                        "tests/games/test_matrix_game_contracts.py"],
    "strategist/games/responses.py": ["tests/games/test_matrix_game.py", "tests/games/test_properties.py",
                                      "tests/games/test_safe_exploit.py", "tests/games/test_responses_edges.py",
        "tests/games/test_responses_messages_and_tolerance.py"],
    "strategist/estimation/bootstrap.py": ["tests/estimation/test_bootstrap.py",
                                           "tests/estimation/test_bootstrap_report.py",
                                           "tests/estimation/test_bootstrap_resampling.py"],
    "strategist/estimation/shrinkage.py": ["tests/estimation/"],
    "strategist/estimation/serve.py": ["tests/estimation/test_serve.py", "tests/estimation/test_serve_reference.py",
                                       "tests/estimation/test_serve_table_and_test_edges.py"],
    "strategist/estimation/counts.py": ["tests/estimation/test_counts_context.py",
                                       "tests/estimation/test_counts_tables.py"],
    "strategist/estimation/payoff.py": ["tests/estimation/test_payoff.py", "tests/estimation/test_payoff_selection.py",
                                        "tests/estimation/test_players.py", "tests/estimation/test_bootstrap.py",
                                        "tests/estimation/test_payoff_counts_and_bounds.py",
        "tests/estimation/test_player_strength_flag_and_state_list.py"],
    "strategist/opponent/backoff.py": ["tests/opponent/test_backoff_reference.py", "tests/opponent/test_models.py",
                                       "tests/opponent/test_checkpoint.py", "tests/opponent/test_own_vocabulary.py",
                                       "tests/opponent/test_backoff_mixing_and_updates.py",
        "tests/opponent/test_backoff_checkpoint_missing_keys.py"],
    "strategist/opponent/markov.py": ["tests/opponent/test_backoff_reference.py", "tests/opponent/test_models.py",
                                      "tests/opponent/test_markov_orders.py"],
    "strategist/opponent/frequency.py": ["tests/opponent/test_models.py", "tests/opponent/test_frequency_reference.py",
                                         "tests/opponent/test_frequency_states.py"],
    "strategist/opponent/checkpoint.py": ["tests/opponent/test_checkpoint.py", "tests/opponent/test_checkpoint_files.py",
                                          "tests/opponent/test_checkpoint_recorded_sport.py",
                                          "tests/opponent/test_checkpoint_messages.py"],
    "strategist/opponent/checkpoint_schema.py": ["tests/opponent/test_checkpoint.py",
                                                 "tests/opponent/test_checkpoint_schema_fields.py",
        "tests/opponent/test_checkpoint_fingerprint_field.py"],
    # neural.py: the tests on tiny untrained networks; of test_neural_inputs.py only those that train nothing
    "strategist/opponent/neural.py": [
        "tests/opponent/test_neural_encoding.py", "tests/opponent/test_neural_masking.py",
        "tests/opponent/test_neural_temperature_choice.py", "tests/opponent/test_neural_prediction.py",
        "tests/opponent/test_models.py", "tests/opponent/test_neural_history_heights.py",
        "tests/opponent/test_neural_inputs.py::test_a_prediction_reports_the_inputs_it_used",
        "tests/opponent/test_neural_inputs.py::test_the_temperatures_interval_is_the_bootstrap_of_the_fit_over_the_matches",
        "tests/opponent/test_neural_inputs.py::test_a_temperature_is_applied_only_where_the_validation_matches_agree_on_it",
        "tests/opponent/test_neural_inputs.py::test_the_table_path_applies_each_players_in_match_offset",
        "tests/opponent/test_neural_score_and_history_inputs.py",
        "tests/opponent/test_neural_device_path_and_weight_changes.py",
        "tests/opponent/test_neural_offset_steps_and_live_evidence.py",
        "tests/opponent/test_neural_masking_shared_start.py"],
    "strategist/opponent/inference.py": ["tests/opponent/test_inference.py", "tests/opponent/test_inference_dtypes.py"],
    "strategist/opponent/split.py": ["tests/opponent/test_split_rule.py", "tests/opponent/test_models.py"],
    "strategist/opponent/adapt.py": ["tests/opponent/test_in_match_order.py", "tests/opponent/test_models.py"],
    "strategist/opponent/choose.py": ["tests/opponent/test_choose_rule.py"],
    "strategist/opponent/evaluate.py": ["tests/opponent/test_evaluate_scores.py", "tests/opponent/test_models.py"],
    "strategist/opponent/cache.py": ["tests/opponent/test_cache.py", "tests/opponent/test_cache_keys.py"],
    # train.py: tiny networks trained a few steps (tests/opponent/test_train.py trains for seconds)
    "strategist/opponent/train.py": ["tests/opponent/test_train_schedule.py", "tests/opponent/test_train_loop.py",
                                     "tests/opponent/test_train_resume.py", "tests/opponent/test_train_optimizers.py",
                                     "tests/opponent/test_train_progress.py",
                                     "tests/opponent/test_train_calibration.py"],
    "strategist/opponent/base.py": ["tests/opponent/test_base_inputs.py", "tests/opponent/test_models.py",
                                    "tests/opponent/test_frequency_states.py", "tests/opponent/test_markov_orders.py",
                                    "tests/opponent/test_in_match_order.py",
                                    "tests/opponent/test_base_rally_order_and_float_columns.py",
                                    "tests/opponent/test_base_shot_index_save_and_series.py",
                                    "tests/opponent/test_rally_frame_order.py"],
    "strategist/advice/sentence.py": ["tests/advice/test_sentence_words.py"],
    "strategist/advice/gifts.py": ["tests/advice/test_gifts_sum.py"],
    "strategist/advice/history.py": ["tests/advice/test_history_rows.py", "tests/advice/test_gifts_sum.py",
        "tests/advice/test_history_stroke_numbers_of_any_dtype.py"],
    "strategist/advice/fastlp.py": ["tests/advice/test_fastlp_vertices.py", "tests/advice/test_fastlp_ties.py",
                                    "tests/advice/test_fastlp_guards_and_fallbacks.py"],
    "strategist/advice/decision.py": ["tests/advice/test_decision_rules.py"],
    "strategist/advice/prep.py": ["tests/advice/test_prep_summary.py"],
    "strategist/advice/advisor.py": ["tests/advice/test_advisor_predictions_and_mixes.py",
                                     "tests/advice/test_advisor_labels_and_parts.py",
                                     "tests/advice/test_advisor_tennis_serves.py",
        "tests/advice/test_advisor_ties_and_thresholds.py"],
    "strategist/rally/playout.py": ["tests/rally/test_playout.py", "tests/rally/test_rally.py",
                                    "tests/rally/test_model_policy.py"],
    "strategist/rally/stored.py": ["tests/rally/test_stored_reads.py", "tests/rally/test_stored.py",
                                   "tests/data/test_prepared.py"],
    "strategist/data/cache.py": ["tests/data/test_cache.py", "tests/data/test_cache_details.py",
                                 "tests/data/test_prepared.py"],
    "strategist/data/prepared.py": ["tests/data/test_prepared.py"],
    "strategist/rally/model.py": ["tests/rally/test_model_strokes.py", "tests/rally/test_model_structure.py",
                                  "tests/rally/test_model_feasibility.py", "tests/rally/test_model_laws.py",
                                  "tests/rally/test_model_record.py", "tests/rally/test_model_ordering.py",
                                  "tests/rally/test_dirichlet_strength.py", "tests/rally/test_model_packed_rows.py"],
    "strategist/rally/model_policy.py": ["tests/rally/test_model_policy_moves.py", "tests/rally/test_model_policy.py"],
    "strategist/rally/strength.py": ["tests/rally/test_model_parts.py", "tests/rally/test_strength.py"],
    "strategist/rally/policies.py": ["tests/rally/test_policies_mixes.py", "tests/rally/test_rally_values.py",
        "tests/rally/test_policy_names_and_departures.py"],
    "strategist/rally/practice.py": ["tests/rally/test_practice_rallies.py", "tests/rally/test_practice_default_seed.py"],
    "strategist/rally/truth.py": ["tests/rally/test_truth_game.py"],
    # the other rally tests build games of 12 matches or of ShuttleSet pairs (2-7 s each): too slow per mutant
    "strategist/rally/game.py": ["tests/rally/test_game_stage_solves.py", "tests/rally/test_game_states.py",
                                 "tests/rally/test_departure_rule.py", "tests/rally/test_openings.py",
                                 "tests/rally/test_openings_rule.py",
                                 "tests/rally/test_recommendation_cycle.py",
                                 "tests/rally/test_game_intervals.py", "tests/rally/test_game_rounds.py",
                                 "tests/rally/test_tie_break.py::"
                                 "test_the_tie_at_the_bound_goes_to_the_row_better_on_the_estimates",
                                 "tests/rally/test_game_levels_and_bounds.py",
                                 "tests/rally/test_tie_break_beside_a_kept_habit.py",
                                 "tests/rally/test_recommendation_passes.py"],
    "strategist/optim/_linalg.py": ["tests/optim/test_linalg.py"],
    "strategist/optim/kfac.py": ["tests/optim/test_kfac.py", "tests/optim/test_kfac_exact.py",
                                 "tests/optim/test_kfac_loop.py",
        "tests/optim/test_kfac_statistics_device_and_gru_hooks.py"],
    "strategist/optim/_kfac_blocks.py": ["tests/optim/test_kfac.py", "tests/optim/test_kfac_exact.py",
        "tests/optim/test_kfac_statistics_device_and_gru_hooks.py"],
    "strategist/optim/layerwise.py": ["tests/optim/test_kfac.py", "tests/optim/test_common.py"],
    "strategist/optim/muon.py": ["tests/optim/test_muon.py"],
    "strategist/optim/routing.py": ["tests/optim/test_muon.py", "tests/optim/test_common.py"],
    "strategist/optim/shampoo.py": ["tests/optim/test_shampoo.py"],
    "strategist/optim/soap.py": ["tests/optim/test_soap.py"],
}

#: Tests never run under mutation: browsers and multi-process DDP; slow tests only with ``--slow`` (each
#: surviving mutant runs every selected test that calls its function: one slow test there costs minutes).
PYTEST_ARGS = ["-p", "no:cacheprovider", "-q", "-x", "--ignore-glob=*test_ddp.py"]
MARKERS = "not browser and not slow"
#: A mutant's tests may take this many times their unmutated time (plus TIMEOUT_CONSTANT) before it counts as a
#: timeout (mutmut's default, 15, lets a mutant that waits in a loop hold a core for ten minutes).
TIMEOUT_MULTIPLIER = 3.0
#: Seconds added to a mutant's estimated test time before the multiplier: a run starts a test session and
#: builds each test's fixtures, which the estimate (the tests' own durations) leaves out.
TIMEOUT_CONSTANT = 10.0

#: Statements left unmutated: the texts of raised errors and of warnings (what a message says is checked where
#: it is a contract, by `match=`; mutating every word of every message would bury the mutants that change
#: behaviour). The condition that raises, and the error's class, are still mutated where they stand elsewhere.
DO_NOT_MUTATE = [r"^\s*raise [\w.]+\(", r"^\s*warnings\.warn\("]

# mutmut's exit codes -> our verdicts (mutmut's own table, folded to what the score needs).
_VERDICT = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
            36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", -9: "killed",
            -11: "killed", None: "not checked"}


def module_path(name: str) -> str:
    """``strategist/games/zero_sum.py`` for a path or a dotted name."""
    if name.endswith(".py"):
        path = Path(name)
        return (path.resolve().relative_to(ROOT) if path.is_absolute() else path).as_posix()
    return name.replace(".", "/") + ".py"


def core_modules() -> list[str]:
    """The modules git tracks in :data:`CORE_AREAS` (work not yet added is not mutated by ``--core``)."""
    out = subprocess.run(["git", "ls-files", *(f"strategist/{area}/*.py" for area in CORE_AREAS)], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout.split()
    return sorted(p for p in out if Path(p).name not in SKIP and (ROOT / p).is_file())


def changed_modules(base: str) -> list[str]:
    """The core modules ``git diff --name-only base`` lists (working tree against ``base``)."""
    out = subprocess.run(["git", "diff", "--name-only", base, "--", "strategist"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split()
    core = set(core_modules())
    return sorted(p for p in out if p in core and (ROOT / p).exists())


def tests_for(module: str) -> list[str]:
    if module in TESTS:
        return TESTS[module]
    area = Path(module).parts[1]
    return [f"tests/{area}"]


def _sync(src: Path, dst: Path) -> None:
    """Make ``dst`` a copy of ``src`` (mtimes kept, so mutmut knows which files are unchanged)."""
    keep = set()
    for path in src.rglob("*"):
        if "__pycache__" in path.parts or path.is_dir():
            continue
        rel = path.relative_to(src)
        keep.add(rel)
        target = dst / rel
        stat = path.stat()
        if target.exists() and target.stat().st_mtime == stat.st_mtime and target.stat().st_size == stat.st_size:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    if dst.exists():
        for path in list(dst.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.relative_to(dst) not in keep:
                path.unlink()


#: Appended to the copy's tests/conftest.py. mutmut credits a test with the functions called while it runs; a
#: fixture shared by a test file (scope "module" or "class") runs once, inside its first test, so the file's
#: other tests would never be run against mutants of what the fixture calls. Each test builds its own instead.
FIXTURES_PER_TEST = """

# -- mutation runs only (benchmarks/mutation.py): every fixture shared by a file or a class is built per test,
# -- so that mutmut credits each test with the functions its fixtures call
_shared_fixture = pytest.fixture


def _fixture_per_test(*args, **kwargs):
    if kwargs.get("scope") in ("module", "class", "package"):
        kwargs["scope"] = "function"
    return _shared_fixture(*args, **kwargs)


pytest.fixture = _fixture_per_test
"""
#: The data cache the package keeps on disk is switched off for every mutation run, and the model cache points
#: below a plain file, where nothing can be kept (each model is fitted anew, as the cache's note says): a result
#: kept by an earlier run, made by the original code or another mutant, would stand in for the mutant's own.
CACHE_VARIABLES = {"STRATEGIST_DATA_CACHE": "off"}
NO_MODEL_CACHE = "model-cache-off"


def prepare(module: str, workdir: Path, slow: bool = False) -> Path:
    """A copy of the repository for one module, with its mutmut configuration."""
    scratch = workdir / module.removesuffix(".py").replace("/", ".")
    scratch.mkdir(parents=True, exist_ok=True)
    for folder in ("strategist", "tests", "data"):
        _sync(ROOT / folder, scratch / folder)
    conftest = scratch / "tests" / "conftest.py"
    conftest.write_text((ROOT / "tests" / "conftest.py").read_text() + FIXTURES_PER_TEST)
    shipped = scratch / "strategist" / "_shipped"  # the repository's link to data/; mutants/data replaces it
    if shipped.is_symlink() or shipped.exists():
        shipped.unlink() if shipped.is_symlink() else shutil.rmtree(shipped)
    shared = ROOT.parent / "shared"  # tests find ../shared/data beside the copy mutmut runs in
    if shared.is_dir() and not (scratch / "shared").exists():
        (scratch / "shared").symlink_to(shared)
    config = {"source_paths": ["strategist"], "only_mutate": [module], "also_copy": ["data"],
              "pytest_add_cli_args": [*PYTEST_ARGS, "-m", "not browser" if slow else MARKERS],
              "pytest_add_cli_args_test_selection": tests_for(module),
              "do_not_mutate_patterns": DO_NOT_MUTATE, "timeout_multiplier": TIMEOUT_MULTIPLIER,
              "timeout_constant": TIMEOUT_CONSTANT}
    lines = [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    text = (ROOT / "pyproject.toml").read_text()
    (scratch / "pyproject.toml").write_text(text + "\n[tool.mutmut]\n" + "\n".join(lines) + "\n")
    return scratch


def _progress(log: Path) -> str:
    try:
        tail = log.read_bytes()[-400:].decode("utf-8", "replace")
    except OSError:
        return ""
    found = re.findall(r"(\d+)/(\d+)\s", tail)
    return f"{found[-1][0]}/{found[-1][1]} mutants" if found else "preparing"


def run_mutmut(scratch: Path, jobs: int, names: list[str], label: str) -> int:
    """``nice mutmut run`` in ``scratch``, printing its progress every 30 s; returns its exit code."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               HYPOTHESIS_PROFILE="ci", PYTHONDONTWRITEBYTECODE="1", **CACHE_VARIABLES,
               STRATEGIST_MODEL_CACHE=str(scratch / NO_MODEL_CACHE / "models"))
    (scratch / NO_MODEL_CACHE).write_text("a file, so that no model can be kept below it\n")
    log = scratch / "run.log"
    mutmut = Path(sys.executable).with_name("mutmut")
    cmd = ["nice", "-n", "10", str(mutmut), "run", "--max-children", str(jobs), *names]
    start = shown = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=scratch, stdout=out, stderr=subprocess.STDOUT, env=env)
        while proc.poll() is None:
            time.sleep(1)
            if time.monotonic() - shown >= 30:
                shown = time.monotonic()
                print(f"  {label}: {_progress(log)}, {shown - start:.0f} s", flush=True)
    return proc.returncode


def _diffs(scratch: Path, module: str, names: list[str]) -> dict[str, str]:
    """Each mutant's change as the removed and added lines of mutmut's diff."""
    script = ("import json, sys\nfrom mutmut.mutation.diff_apply import get_diff_for_mutant\n"
              "names, path = json.loads(sys.stdin.read())\n"
              "out = {}\nfor n in names:\n"
              "    d = get_diff_for_mutant(n, path=path).splitlines()\n"
              "    out[n] = '\\n'.join(l for l in d if l[:1] in '+-' and l[:3] not in ('+++', '---'))\n"
              "print(json.dumps(out))\n")
    res = subprocess.run([sys.executable, "-c", script], cwd=scratch, input=json.dumps([names, module]),
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def load_equivalent(path: Path = EQUIVALENT_FILE) -> dict:
    """``{"mutants": {name: entry}, "rules": [rule]}`` from the equivalence file (see its header)."""
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    return {"mutants": {entry["mutant"]: entry for entry in data.get("equivalent", [])},
            "rules": data.get("rule", [])}


def _lines(diff: str, sign: str) -> list[str]:
    return [line[1:].strip() for line in diff.splitlines() if line.startswith(sign) and not line.startswith(sign * 3)]


def _added(diff: str) -> list[str]:
    return _lines(diff, "+")


def rule_for(diff: str, rules: list[dict]) -> dict | None:
    """The first rule that makes the mutant of ``diff`` equivalent: every removed line matches the rule's
    ``removed`` pattern and, with ``case_only``, the added lines are the removed ones in another letter case."""
    removed, added = _lines(diff, "-"), _lines(diff, "+")
    for rule in rules:
        if not removed or len(removed) != len(added):
            continue
        if not all(re.search(rule["removed"], line) for line in removed):
            continue
        if rule.get("case_only") and not all(r != a and r.lower() == a.lower() for r, a in zip(removed, added)):
            continue
        if rule.get("sql_literals") and not all(_sql_case_only(r, a, rule["keywords"]) for r, a in zip(removed, added)):
            continue
        return rule
    return None


def _sql_case_only(removed: str, added: str, keywords: str) -> bool:
    """Whether ``added`` differs from ``removed`` only in the letter case of double-quoted strings that hold one
    of the SQL ``keywords`` (a pattern) and define nothing (no CREATE or ALTER, which store names as written),
    their single-quoted literals unchanged."""
    literal, quoted = r'"[^"]*"', r"'[^']*'"
    if removed == added or removed.lower() != added.lower():
        return False
    if re.sub(literal, '""', removed) != re.sub(literal, '""', added):
        return False
    for was, now in zip(re.findall(literal, removed), re.findall(literal, added)):
        if was != now and (not re.search(keywords, was, re.IGNORECASE)
                           or re.search(r"\b(CREATE|ALTER)\b", was, re.IGNORECASE)
                           or re.findall(quoted, was) != re.findall(quoted, now)):
            return False
    return True


def equivalence(name: str, diff: str, equivalent: dict) -> dict | None:
    """Why the mutant ``name`` with ``diff`` cannot change behaviour: its entry in the equivalence file (same name,
    same added lines) or a rule that covers the diff; None if neither does."""
    entry = equivalent["mutants"].get(name)
    if entry is not None and [line.strip() for line in entry.get("added", [])] == _added(diff):
        return {"reason": entry["reason"]}
    rule = rule_for(diff, equivalent["rules"])
    return None if rule is None else {"reason": rule["reason"], "rule": rule["name"]}


def collect(module: str, scratch: Path, equivalent: dict[str, dict], previous: dict | None = None) -> dict:
    """The verdict of every mutant of ``module`` in ``scratch`` and the changes of those that survived.
    ``previous``: the exit codes of the run before a ``--survivors`` rerun, for the mutants it did not rerun
    (mutmut forgets them when it regenerates the mutants of an unchanged module)."""
    meta = json.loads((scratch / "mutants" / (module + ".meta")).read_text())
    codes = dict(meta["exit_code_by_key"])
    if previous and set(previous) == set(codes):          # the same mutants: the module is unchanged
        codes = {name: previous[name] if code is None else code for name, code in codes.items()}
    verdicts = {name: _VERDICT.get(code, "suspicious") for name, code in codes.items()}
    alive = sorted(n for n, v in verdicts.items() if v in ("survived", "no tests", "suspicious"))
    diffs = _diffs(scratch, module, alive) if alive else {}
    counts = {k: 0 for k in ("mutants", "killed", "timeout", "survived", "no_tests", "suspicious", "equivalent",
                             "not_checked")}
    survivors, equivalents, stale = [], [], []
    for name, verdict in sorted(verdicts.items()):
        counts["mutants"] += 1
        if verdict in ("killed", "timeout"):
            counts[verdict] += 1
            continue
        if verdict == "not checked" or verdict == "skipped":
            counts["not_checked"] += 1
            continue
        why = equivalence(name, diffs[name], equivalent)
        if why is not None:
            counts["equivalent"] += 1
            equivalents.append({"mutant": name, "change": diffs[name], **why})
            continue
        if name in equivalent["mutants"]:
            stale.append(name)  # listed as equivalent, but the mutant with this name now changes other code
        counts["no_tests" if verdict == "no tests" else verdict] += 1
        survivors.append({"mutant": name, "verdict": verdict, "change": diffs[name]})
    judged = counts["mutants"] - counts["equivalent"] - counts["not_checked"]
    killed = counts["killed"] + counts["timeout"]
    return {"module": module, "tests": tests_for(module), **counts,
            "score": round(killed / judged, 4) if judged else None, "survivors": survivors,
            "equivalent_mutants": equivalents, "stale_equivalent_entries": stale}


#: The row's count that holds a survivor of each verdict.
_COUNT_OF = {"survived": "survived", "no tests": "no_tests", "suspicious": "suspicious"}


def rejudge(result: dict, equivalent: dict) -> dict:
    """``result`` (a module's entry of mutation.json) with its recorded survivors and equivalents judged again
    against the equivalence file: a survivor an entry or a rule now covers counts as equivalent, an equivalent
    whose entry is gone or names another change counts as survived again. No mutant is run again."""
    out = {**result, "survivors": [], "equivalent_mutants": [], "stale_equivalent_entries": []}
    recorded = list(result["survivors"])
    for judged in result.get("equivalent_mutants", []):
        if equivalence(judged["mutant"], judged["change"], equivalent) is not None:
            out["equivalent_mutants"].append(judged)
        else:                                                      # no longer equivalent: a survivor again
            out["equivalent"] -= 1
            out["survived"] += 1
            recorded.append({"mutant": judged["mutant"], "verdict": "survived", "change": judged["change"]})
    for survivor in recorded:
        name, diff = survivor["mutant"], survivor["change"]
        why = equivalence(name, diff, equivalent)
        if why is not None:
            out[_COUNT_OF[survivor["verdict"]]] -= 1
            out["equivalent"] += 1
            out["equivalent_mutants"].append({"mutant": name, "change": diff, **why})
            continue
        if name in equivalent["mutants"]:
            out["stale_equivalent_entries"].append(name)
        out["survivors"].append(survivor)
    judged = out["mutants"] - out["equivalent"] - out.get("not_checked", 0)
    out["score"] = round((out["killed"] + out["timeout"]) / judged, 4) if judged else None
    return out


def rerun_recorded(result: dict, scratch: Path, module: str, equivalent: dict) -> dict:
    """``result`` (a module's entry of mutation.json) after its recorded survivors were run again in
    ``scratch`` against today's tests: those a test now kills count as killed (or timeout), the others are
    judged again as by :func:`rejudge`; every other count of the row is kept. Refused (ValueError) when a
    mutant of that name now makes another change than the one recorded: the module changed, run it fresh."""
    names = [s["mutant"] for s in result["survivors"]]
    codes = json.loads((scratch / "mutants" / (module + ".meta")).read_text())["exit_code_by_key"]
    diffs = _diffs(scratch, module, names)
    moved = [n for n, s in zip(names, result["survivors"]) if diffs.get(n) != s["change"]]
    if moved:
        raise ValueError(f"{module}: {len(moved)} recorded survivors now make other changes ({moved[0]}, ...); "
                         "the module changed since its last run: run it with --fresh")
    out, killed = {**result, "survivors": []}, 0
    for survivor in result["survivors"]:
        verdict = _VERDICT.get(codes.get(survivor["mutant"]), "suspicious")
        if verdict in ("killed", "timeout"):
            out[_COUNT_OF[survivor["verdict"]]] -= 1
            out[verdict] += 1
            killed += 1
        else:
            out["survivors"].append(survivor)
    out = rejudge(out, equivalent)
    out["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    out["recorded_rerun"] = {"date": out["date"], "rerun": len(names), "killed": killed}
    return out


def previous_survivors(scratch: Path, module: str) -> list[str]:
    meta = scratch / "mutants" / (module + ".meta")
    if not meta.exists():
        return []
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return sorted(n for n, c in codes.items() if _VERDICT.get(c, "suspicious") not in ("killed", "timeout"))


def write_results(results: dict[str, dict], run_info: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "mutation.json"
    merged = json.loads(path.read_text())["modules"] if path.exists() else {}
    merged.update(results)
    (RESULTS / "mutation.json").write_text(json.dumps({"run": run_info, "modules": merged}, indent=1) + "\n")
    (RESULTS / "mutation.md").write_text(markdown(merged, run_info))


def markdown(modules: dict[str, dict], run_info: dict) -> str:
    def pct(x):
        return "-" if x is None else f"{100 * x:.1f} %"

    lines = ["# Mutation testing", "",
             f"mutmut {run_info['mutmut']}, `{run_info['command']}`, last run {run_info['date']}. Each module is "
             "mutated alone and run against the tests listed (`benchmarks/mutation.py`, `TESTS`). Score: "
             "killed (timeouts included) / (mutants - equivalent - not run). Not run: mutants a stopped run "
             "left untested (the score covers the others only). Equivalent mutants and their reasons: "
             "`benchmarks/mutation_equivalent.toml`.", "",
             "| module | mutants | killed | timeout | survived | no test | equivalent | not run | score | run |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name in sorted(modules):
        m = modules[name]
        lines.append(f"| `{name}` | {m['mutants']} | {m['killed']} | {m['timeout']} | {m['survived']} | "
                     f"{m['no_tests']} | {m['equivalent']} | {m.get('not_checked', 0)} | {pct(m['score'])} | "
                     f"{m.get('date', '')} |")
    total = {k: sum(m.get(k, 0) for m in modules.values()) for k in ("mutants", "killed", "timeout", "survived",
                                                                      "no_tests", "equivalent", "not_checked")}
    judged = total["mutants"] - total["equivalent"] - total["not_checked"]
    score = (total["killed"] + total["timeout"]) / judged if judged else None
    lines.append(f"| **all** | {total['mutants']} | {total['killed']} | {total['timeout']} | {total['survived']} "
                 f"| {total['no_tests']} | {total['equivalent']} | {total['not_checked']} | {pct(score)} | |")
    for name in sorted(modules):
        m = modules[name]
        if m["survivors"]:
            lines += ["", f"## Survivors of `{name}` ({len(m['survivors'])})", ""]
            for s in m["survivors"]:
                change = s["change"].replace("\n", " ⏎ ").replace("`", "'")
                lines.append(f"- `{s['mutant'].rsplit('.', 1)[-1]}` ({s['verdict']}): `{change[:300]}`")
        if m["stale_equivalent_entries"]:
            lines += ["", "Entries of mutation_equivalent.toml that no longer match their mutant: "
                      + ", ".join(f"`{n}`" for n in m["stale_equivalent_entries"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module paths (strategist/games/zero_sum.py) or dotted names")
    parser.add_argument("--changed", metavar="BASE", help="the core modules git diff --name-only BASE lists")
    parser.add_argument("--core", action="store_true", help="every module of " + ", ".join(CORE_AREAS))
    parser.add_argument("--survivors", action="store_true", help="rerun only the last run's survivors")
    parser.add_argument("--recorded", action="store_true",
                        help="rerun the survivors mutation.json records for each module (the rest of its row kept)")
    parser.add_argument("--fresh", action="store_true", help="forget mutmut's cached results first")
    parser.add_argument("--slow", action="store_true", help="run the tests marked slow too")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1: shared CPUs)")
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--rejudge", action="store_true",
                        help="judge the recorded survivors again against the equivalence file (runs no mutant)")
    args = parser.parse_args(argv)
    if args.rejudge:
        recorded = json.loads((RESULTS / "mutation.json").read_text())
        equivalent = load_equivalent()
        modules = {name: rejudge(m, equivalent) for name, m in recorded["modules"].items()}
        run = {**recorded["run"], "rejudged": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        for name in modules:
            if modules[name] != recorded["modules"][name]:
                print(f"{name}: {recorded['modules'][name]['survived']} -> {modules[name]['survived']} survived")
        if not args.no_write:
            write_results(modules, run)
        return 0

    modules = [module_path(m) for m in args.modules]
    if args.changed:
        modules += changed_modules(args.changed)
    if args.core:
        modules += core_modules()
    modules = list(dict.fromkeys(modules))
    if not modules:
        print("no module to mutate (name modules, or use --changed BASE or --core)")
        return 0
    missing = [m for m in modules if not (ROOT / m).is_file()]
    if missing:
        parser.error("not a module of the repository: " + ", ".join(missing))

    import importlib.metadata

    equivalent = load_equivalent()
    results, failed = {}, []
    for i, module in enumerate(modules, 1):
        scratch = prepare(module, args.workdir, args.slow)
        if args.fresh and (scratch / "mutants").exists():
            shutil.rmtree(scratch / "mutants")
        names = previous_survivors(scratch, module) if args.survivors else []
        meta = scratch / "mutants" / (module + ".meta")
        previous = json.loads(meta.read_text())["exit_code_by_key"] if args.survivors and meta.exists() else None
        if args.recorded:
            row = json.loads((RESULTS / "mutation.json").read_text())["modules"].get(module)
            names = [s["mutant"] for s in row["survivors"]] if row else []
        if (args.survivors or args.recorded) and not names:
            print(f"[{i}/{len(modules)}] {module}: no survivor to rerun")
            continue
        print(f"[{i}/{len(modules)}] {module} against {' '.join(tests_for(module))}", flush=True)
        start = time.monotonic()
        if names:                  # a named rerun: mutmut keeps the tests it credited before unless told again
            (scratch / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
        code = run_mutmut(scratch, args.jobs, names, module)
        if code != 0 or not (scratch / "mutants" / (module + ".meta")).exists():
            print(f"  mutmut failed (exit {code}); its output: {scratch / 'run.log'}")
            failed.append(module)
            continue
        if args.recorded:
            try:
                result = rerun_recorded(row, scratch, module, equivalent)
            except ValueError as exc:
                print(f"  {exc}")
                failed.append(module)
                continue
        else:
            result = collect(module, scratch, equivalent, previous)
            result["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        result["seconds"] = round(time.monotonic() - start, 1)
        results[module] = result
        print(f"  {result['mutants']} mutants: {result['killed']} killed, {result['timeout']} timeout, "
              f"{result['survived']} survived, {result['no_tests']} no test, {result['equivalent']} equivalent; "
              f"score {result['score']}; {result['seconds']:.0f} s", flush=True)
        if not args.no_write:  # after each module, so that a long run's finished modules are kept
            info = {"mutmut": importlib.metadata.version("mutmut"), "date": datetime.now(timezone.utc).isoformat(
                timespec="seconds"), "command": "python benchmarks/mutation.py " + " ".join(argv or sys.argv[1:])}
            write_results({module: result}, info)
    if results and not args.no_write:
        print(f"wrote {RESULTS / 'mutation.md'} and mutation.json")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
