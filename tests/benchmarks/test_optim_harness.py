"""The benchmark harness: a one-page problem, steps to target, divergence, lr selection and step timing."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from optim_harness import Method, Problem, Run, best_run, lr_sweep, step_cost, train, tune_then_confirm  # noqa: E402
from optim_harness.runner import warmup_cosine  # noqa: E402


def _regression(target: float = 0.05) -> Problem:
    """Fit y = x w* with one Linear layer; evaluation = ‖w − w*‖."""
    w_star = torch.tensor([[1.0, -2.0, 0.5]])

    def batches(seed, steps):
        gen = torch.Generator().manual_seed(seed)
        xs = [torch.randn(32, 3, generator=gen) for _ in range(steps)]
        return [(x, x @ w_star.T) for x in xs]

    def make_model(seed):
        torch.manual_seed(seed)
        return nn.Linear(3, 1, bias=False)

    return Problem("toy", make_model, batches, loss=lambda out, y: 0.5 * (out - y).square().sum(-1).mean(),
                   evaluate=lambda m, seed: float(torch.linalg.norm(m.weight.detach() - w_star)),
                   target=target, loss_type="mse")


SGD = Method("SGD", lambda m, lr, p: torch.optim.SGD(m.parameters(), lr=lr))


def test_warmup_then_cosine_to_zero():
    assert [warmup_cosine(t, 10, 2) for t in (0, 1)] == [0.5, 1.0]
    assert warmup_cosine(2, 10, 2) == 1.0 and warmup_cosine(10, 10, 2) == pytest.approx(0.0)


def test_steps_to_target_is_the_first_evaluation_at_or_below_it():
    problem = _regression()
    run = train(problem, SGD, 0.5, 0, 60)
    again = train(problem, SGD, 0.5, 0, 60, stop_at_target=True)
    assert math.isfinite(run.steps_to_target) and run.steps_to_target == again.steps_to_target
    assert not run.diverged and run.final <= problem.target


def test_a_diverging_run_is_flagged_and_never_counts_as_reaching_the_target():
    run = train(_regression(), SGD, 1e3, 0, 30)
    assert run.diverged and math.isnan(run.final) and run.steps_to_target == math.inf


def test_kfac_methods_run_in_their_own_loop():
    from strategist.optim import KFAC
    kfac = Method("K-FAC", lambda m, lr, p: KFAC(m, lr=lr, loss_type=p.loss_type, kl_clip=None), kfac=True)
    assert train(_regression(), kfac, 0.5, 0, 40).steps_to_target < 40


def test_best_run_takes_the_fewest_median_steps_then_the_best_final_value():
    runs = [Run("m", 0.1, 0, 10, 0.01, False, 1.0), Run("m", 0.1, 1, 40, 0.01, False, 1.0),
            Run("m", 0.3, 0, 20, 0.02, False, 1.0), Run("m", 0.3, 1, 20, 0.02, False, 1.0),
            Run("m", 1.0, 0, math.inf, math.nan, True, 1.0)]
    best = best_run(runs)
    assert (best["lr"], best["steps"]) == (0.3, 20) and best["diverged_lrs"] == [1.0]
    tied = [Run("m", 0.1, 0, 20, 0.03, False, 1.0), Run("m", 0.3, 0, 20, 0.02, False, 1.0)]
    assert best_run(tied)["lr"] == 0.3
    assert len(lr_sweep(_regression(), SGD, [0.1, 0.3], [0, 1], 5)) == 4


def test_step_cost_reports_the_reference_at_ratio_one():
    adamw = Method("AdamW", lambda m, lr, p: torch.optim.AdamW(m.parameters(), lr=lr))
    cost = step_cost(_regression(), [adamw, SGD], {"AdamW": 1e-3, "SGD": 0.1}, rounds=3, block=2, warmup_steps=1)
    assert cost["AdamW"]["ratio"] == 1.0 and cost["SGD"]["ms"] > 0


def test_tune_then_confirm_runs_the_grid_on_the_tuning_seeds_then_the_best_lr_on_the_others():
    problem = _regression()
    grids = {("toy", "SGD"): [0.01, 0.5, 1e3], ("toy", "none"): [0.1]}
    seen = []

    def run_jobs(jobs):
        seen.append(jobs)
        return [train(problem, SGD, j.lr, j.seed, 40) for j in jobs]

    def select(runs):
        return None if runs[0].lr == 0.1 else best_run(runs)["lr"]   # the "none" cell picks no lr

    done, best = tune_then_confirm([("toy", "SGD"), ("toy", "none")], grids, [0, 1, 2], 1, run_jobs, select)
    assert [(j.method, j.lr, j.seed) for j in seen[0]] == [("SGD", 0.01, 0), ("none", 0.1, 0), ("SGD", 0.5, 0),
                                                           ("SGD", 1e3, 0)]
    assert best == {("toy", "SGD"): 0.5}
    assert [(j.lr, j.seed) for j in seen[1]] == [(0.5, 1), (0.5, 2)]
    assert len(done) == 6 and all(r.lr == j.lr and r.seed == j.seed for j, r in done)
