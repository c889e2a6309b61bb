"""The K-FAC defaults sweep: its summary (medians over seeds, the per-seed figures behind them, the verdict) and
its tie to KFAC's own defaults."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import optim_kfac_defaults as sweep  # noqa: E402


def _runs(config: str, lr: float, steps: list[float], diverged: tuple[bool, ...] = (), final: float = 0.1
          ) -> list[dict]:
    diverged = diverged or (False,) * len(steps)
    return [dict(problem="T2 gru", config=config, lr=lr, seed=seed, steps_to_target=s,
                 final=math.nan if d else final, diverged=d, step_ms=1.0)
            for seed, (s, d) in enumerate(zip(steps, diverged))]


def test_the_sweep_reports_kfacs_own_defaults_and_its_committed_results_are_for_them():
    import inspect

    from strategist.optim import KFAC

    defaults = {k: v.default for k, v in inspect.signature(KFAC).parameters.items()}
    assert sweep.configs()[sweep.default_config()] == dict(
        factor_decay=defaults["factor_decay"], inverse_every=defaults["inverse_every"],
        kl_clip=defaults["kl_clip"], momentum=defaults["momentum"])
    committed = json.loads((BENCH / "results" / "optim_kfac_defaults.json").read_text())
    assert committed["default"] == sweep.default_config()


def test_summary_takes_medians_over_seeds_keeps_each_seed_and_judges_divergence_on_any_seed():
    default, other = "decay 0.8, inv/1, clip 0.03, mom 0", "decay 0, inv/1, clip None, mom 0"
    runs = (_runs(default, 0.1, [9, 9, 12]) + _runs(default, 1.0, [4, 30, 40])
            + _runs(other, 1.0, [5, 7, 6]) + _runs(other, 0.1, [3, math.inf, math.inf], (False, True, False)))
    _, (row,) = sweep.summarise(runs, default)
    assert (row["default_steps"], row["default_lr"], row["default_steps_by_seed"]) == (9, 0.1, [9, 9, 12])
    assert (row["best_config"], row["best_steps"], row["best_steps_by_seed"]) == (other, 6, [5, 7, 6])
    assert row["ratio"] == 1.5 and row["default_diverged_lrs"] == []
    assert row["diverging_configs"] == [other]          # one seed of three diverged at lr 0.1


def test_between_equal_medians_the_best_configuration_is_the_one_with_the_better_worst_seed():
    default, steady, erratic = ("decay 0.8, inv/1, clip 0.03, mom 0", "decay 0, inv/1, clip None, mom 0",
                                "decay 0, inv/1, clip None, mom 0, damping 0.01")
    runs = (_runs(default, 0.316, [9, 9, 9]) + _runs(steady, 1.0, [5, 7, 6])
            + _runs(erratic, 1.0, [52, 6, 6], final=0.01))   # same median, a better final value, one bad seed
    _, (row,) = sweep.summarise(runs, default)
    assert (row["best_config"], row["best_steps_by_seed"], row["ratio"]) == (steady, [5, 7, 6], 1.5)


def test_the_first_grid_runs_the_defaults_and_the_later_run_does_not_repeat_what_is_done():
    default = sweep.default_config()
    first = sweep.jobs([0, 1])
    for problem in [f"{k}:{n}" for k, n in sweep.T1_SETTINGS] + ["T2 gru"]:
        runs = [j for j in first if j[0] == problem and j[1] == default]
        assert len(runs) == len(sweep.LRS) * 2, problem
    later = sweep.jobs([0], extra=True, done=frozenset(name for _, name, *_ in first))
    assert later and default not in {name for _, name, *_ in later}
    assert {name for _, name, *_ in later} <= set(sweep.EXTRA)


def test_a_summary_without_the_defaults_runs_says_so():
    with pytest.raises(KeyError, match="no runs of the defaults"):
        sweep.summarise(_runs("decay 0, inv/1, clip None, mom 0", 1.0, [5, 6]), sweep.default_config())
