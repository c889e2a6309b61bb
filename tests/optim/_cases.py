"""The optimizers of strategist.optim as test cases: how each is built for a model, and a small problem.

Muon and KFAC are looked up in their own modules and skipped while those modules do not exist.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import pytest
import torch
from torch import nn


@dataclass(frozen=True)
class OptimizerCase:
    name: str
    module: str
    build: Callable[[object, nn.Module], torch.optim.Optimizer]  # (optimizer class, model) -> optimizer
    step: Callable[[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor], float] = None  # type: ignore

    def train_step(self, model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
        """One step on the batch (x, y) of the mean squared error."""
        return (self.step or train_step)(model, opt, x, y)

    def make(self, model: nn.Module) -> torch.optim.Optimizer:
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as exc:
            if exc.name == self.module:
                pytest.skip(f"{self.module} does not exist yet")
            raise
        return self.build(getattr(module, self.name), model)


def _matrices(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.ndim == 2]


CASES = [
    # eps=1e-6 instead of 1e-12: with near-null directions in the factors, (L + 1e-12 I)^(-1/4) magnifies
    # rounding about 1e8-fold over a few steps, so runs that round differently (CPU vs CUDA, one process vs
    # DDP) could not be compared tightly.
    OptimizerCase("Shampoo", "strategist.optim.shampoo",
                  lambda cls, model: cls(model.parameters(), lr=0.02, eps=1e-6, precondition_frequency=2,
                                         start_preconditioning_step=3)),
    # max_precond_dim=6 rotates the 6-wide and 3-wide axes, whose first factors are full rank. A
    # rank-deficient first factor has eigenvectors in its null space that only rounding picks, so runs that
    # round differently (CPU vs CUDA, one process vs DDP) would take different, equally valid, bases.
    OptimizerCase("SOAP", "strategist.optim.soap",
                  lambda cls, model: cls(model.parameters(), lr=0.01, precondition_frequency=2,
                                         max_precond_dim=6)),
    OptimizerCase("Muon", "strategist.optim.muon",
                  lambda cls, model: cls(_matrices(model), lr=0.02, ns_dtype=torch.float64)),
    OptimizerCase("KFAC", "strategist.optim.kfac",
                  lambda cls, model: cls(model, lr=0.3, loss_type="mse", fisher="exact",
                                         factor_dtype=torch.float64),
                  step=lambda model, opt, x, y: kfac_train_step(model, opt, x, y)),
]
CASE_IDS = [case.name for case in CASES]


def make_model(seed: int = 0, unused_parameter: bool = True, dtype: torch.dtype = torch.float64,
               device: str | torch.device = "cpu") -> nn.Module:
    """A 6-16-3 tanh MLP; optionally with a registered parameter that the forward pass never uses."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    if unused_parameter:
        model.register_parameter("unused", nn.Parameter(torch.randn(4, 4)))
    return model.to(device=device, dtype=dtype)


def regression_data(n: int = 512, seed: int = 123, dtype: torch.dtype = torch.float64):
    """y = tanh(x A) B + 0.01 noise, x ~ N(0, I_6): a problem the MLP can fit."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=gen, dtype=dtype)
    a = torch.randn(6, 5, generator=gen, dtype=dtype)
    b = torch.randn(5, 3, generator=gen, dtype=dtype)
    y = torch.tanh(x @ a) @ b + 0.01 * torch.randn(n, 3, generator=gen, dtype=dtype)
    return x, y


def batches(steps: int, batch_size: int = 64, seed: int = 7) -> list[torch.Tensor]:
    """Row indices of each step's batch."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 512, (batch_size,), generator=gen) for _ in range(steps)]


def train_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def kfac_train_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """K-FAC's loop: record layer inputs during the forward pass, Fisher pass and backward, then step."""
    opt.zero_grad()
    with opt.capture():
        out = model(x)
    loss = nn.functional.mse_loss(out, y)
    opt.backward(loss, out)
    opt.step()
    return loss.item()


class RecurrentHead(nn.Module):
    """A GRU read by a linear head at the last step: (N, T, d_in) -> (N, d_out)."""

    def __init__(self, d_in: int = 3, hidden: int = 16, d_out: int = 2) -> None:
        super().__init__()
        self.gru = nn.GRU(d_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self.head(out[:, -1])
