"""A small harness for optimizer benchmarks: a problem is one page (:class:`Problem`, see ``t1.py``, ``t2.py``),
a method is a builder (:class:`Method`); ``runner`` trains, tunes the learning rate in two stages and runs jobs in
worker processes the same way for all; ``cost`` times whole steps and profiles them; ``report`` summarises and
writes tables and JSON; ``plots`` draws the curves.

    from optim_harness import Method, Problem, train, tune_then_confirm, step_cost
"""

from optim_harness.cost import step_cost
from optim_harness.problems import Problem
from optim_harness.report import markdown_table, write_json
from optim_harness.runner import Method, Run, best_run, lr_sweep, train, tune_then_confirm

__all__ = ["Method", "Problem", "Run", "best_run", "lr_sweep", "markdown_table", "step_cost", "train",
           "tune_then_confirm", "write_json"]
