"""A small harness for optimizer benchmarks: a problem is one page (:class:`Problem`), a method is a builder
(:class:`Method`), and the runner trains, sweeps learning rates and times whole steps the same way for all.

    from optim_harness import Method, Problem, lr_sweep, step_cost
"""

from optim_harness.problems import Problem
from optim_harness.report import markdown_table, write_json
from optim_harness.runner import Method, Run, best_run, lr_sweep, step_cost, train

__all__ = ["Method", "Problem", "Run", "best_run", "lr_sweep", "markdown_table", "step_cost", "train",
           "write_json"]
