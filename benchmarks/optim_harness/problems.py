"""What a benchmark problem is: a model per seed, batches per seed, the training loss and an evaluation.

A new problem is one page: fill in the five callables below (see ``t1.py`` and ``t2.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import torch
from torch import nn


@dataclass
class Problem:
    """One optimisation problem, as every method sees it.

    make_model(seed) -> nn.Module; batches(seed, steps) -> ``steps`` (inputs, targets) pairs; loss(outputs,
    targets) -> scalar training loss; evaluate(model, seed) -> float, lower is better; ``target``: the evaluation
    value a run must reach (steps to it are the headline figure). ``loss_type`` is K-FAC's ("mse" for
    ½‖f − y‖², "cross_entropy" for logits); ``examples(outputs, targets)`` picks the positions K-FAC counts
    as examples (default: all), classes on the last axis.
    """

    name: str
    make_model: Callable[[int], nn.Module]
    batches: Callable[[int, int], Iterable[tuple[torch.Tensor, torch.Tensor]]]
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    evaluate: Callable[[nn.Module, int], float]
    target: float
    loss_type: str = "cross_entropy"
    examples: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = staticmethod(lambda out, y: out)
    eval_every: int = 1
