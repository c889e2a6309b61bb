"""What a benchmark problem is: a model per seed, batches per seed, the training loss and an evaluation.

A new problem is one page: fill in the callables below (see ``t1.py`` and ``t2.py``; the toy regression in
``tests/benchmarks/test_optim_harness.py`` is fifteen lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import torch
from torch import nn


def all_positions(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return outputs, targets


@dataclass
class Problem:
    """One optimisation problem, as every method sees it.

    make_model(seed) -> nn.Module; batches(seed, steps) -> ``steps`` (inputs, targets) pairs (a list or a
    generator); loss(outputs, targets) -> scalar training loss; evaluate(model, seed) -> float, lower is
    better; ``target``: the evaluation value a run must reach (steps to it are the headline figure).
    ``loss_type`` is K-FAC's ("mse" for ½‖f − y‖², "cross_entropy" for logits); ``examples(outputs, targets)``
    picks the positions that count (K-FAC's loss and Fisher pass use them; default: all), classes on the last
    axis. The evaluation runs before the first step, at every step up to ``dense_until``, then every
    ``eval_every`` steps, and after the last step.
    """

    name: str
    make_model: Callable[[int], nn.Module]
    batches: Callable[[int, int], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    evaluate: Callable[[nn.Module, int], float]
    target: float
    loss_type: str = "cross_entropy"
    examples: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] = all_positions
    eval_every: int = 1
    dense_until: int = 0

    def evaluated(self, done: int, steps: int) -> bool:
        """Whether the evaluation runs after ``done`` of ``steps`` steps."""
        return done <= self.dense_until or (done - self.dense_until) % self.eval_every == 0 or done == steps
