"""Pieces shared by Shampoo and SOAP: the base class, hyperparameter checks and the Adam step.

The base class keeps state on the parameter's device and saves a :class:`PreconditionerHealth` in
``state_dict``. ``torch.optim.Optimizer.load_state_dict`` casts every floating state tensor to its parameter's dtype, which
would squeeze float32 factors of a bfloat16 parameter (or float64 factors of a float32 one) into the
parameter's precision. Here state tensors keep their saved dtype and only move to the parameter's device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import torch

from strategist.errors import ConfigurationError
from strategist.optim._linalg import PreconditionerHealth


def _copy_to_device(value: Any, device: torch.device) -> Any:
    """Deep copy of a state value with every tensor on ``device`` in its own dtype."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(device=device, copy=True)
    if isinstance(value, dict):
        return {key: _copy_to_device(item, device) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_to_device(item, device) for item in value)
    return value


def evaluate_closure(closure: Callable[[], Any] | None) -> Any:
    """The loss ``closure()`` returns, computed with gradients on (a step runs under ``no_grad``); None
    without a closure."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class PreconditionedOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` with a :class:`PreconditionerHealth` saved alongside its state."""

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        super().__init__(params, defaults)
        self.health = PreconditionerHealth()

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["health"] = self.health.as_dict()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved_ids = list(chain.from_iterable(g["params"] for g in state_dict["param_groups"]))
        params = list(chain.from_iterable(g["params"] for g in self.param_groups))
        super().load_state_dict(state_dict)
        for saved_id, param in zip(saved_ids, params):
            if saved_id in state_dict["state"]:
                self.state[param] = _copy_to_device(state_dict["state"][saved_id], param.device)
        self.health = PreconditionerHealth.from_dict(state_dict.get("health"))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss if given.

        Subclasses implement ``_update(param, group)``; a parameter whose gradient holds NaN or Inf is
        skipped (and counted in ``health``) so it cannot poison the optimizer state.
        """
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for param in params:
                self._check_dense(param)
            for param, finite in zip(params, finite_gradients(params)):
                if finite:
                    self._update(param, group)
                else:
                    self.health.skipped()
        return loss

    def _update(self, param: torch.Tensor, group: dict[str, Any]) -> None:
        raise NotImplementedError

    @staticmethod
    def _check_dense(param: torch.Tensor) -> None:
        if param.grad is not None and param.grad.is_sparse:
            raise ConfigurationError("sparse gradients are not supported; use a dense embedding or "
                                     "route the parameter to torch.optim.SparseAdam")


def check_hyperparameters(lr: float, betas: tuple[float, float], eps: float, weight_decay: float,
                          precondition_frequency: int, max_dim: int, factor_dtype: torch.dtype) -> None:
    """Raise :class:`ConfigurationError` naming the first hyperparameter outside its valid range."""
    if not lr >= 0.0:
        raise ConfigurationError(f"lr must be >= 0, got {lr}")
    if len(betas) != 2 or not all(0.0 <= b <= 1.0 for b in betas):
        raise ConfigurationError(f"betas must be two numbers in [0, 1], got {betas}")
    if not eps >= 0.0:
        raise ConfigurationError(f"eps must be >= 0, got {eps}")
    if not weight_decay >= 0.0:
        raise ConfigurationError(f"weight_decay must be >= 0, got {weight_decay}")
    if int(precondition_frequency) != precondition_frequency or precondition_frequency < 1:
        raise ConfigurationError(f"precondition_frequency must be a positive integer, got {precondition_frequency}")
    if int(max_dim) != max_dim or max_dim < 0:
        raise ConfigurationError(f"the maximum preconditioner dimension must be an integer >= 0, got {max_dim}")
    if factor_dtype not in (torch.float32, torch.float64):
        raise ConfigurationError(f"factor_dtype must be torch.float32 or torch.float64, got {factor_dtype}")


def finite_gradients(params: list[torch.Tensor]) -> list[bool]:
    """For each parameter, whether ||G|| is finite (no NaN or Inf in G), with one synchronisation in all.

    A finite ||G|| also bounds every entry of the factor statistics G_(a) G_(a)^T (|S_ij| <= ||G||^2),
    so these need no check of their own.
    """
    if not params:
        return []
    norms = torch._foreach_norm([p.grad for p in params])
    if len({(n.dtype, n.device) for n in norms}) > 1:   # each norm checked in its own precision, then gathered
        return torch.stack([torch.isfinite(n).to(norms[0].device) for n in norms]).tolist()
    return torch.isfinite(torch.stack(norms)).tolist()


def compute_dtype(param: torch.Tensor, factor_dtype: torch.dtype = torch.float32) -> torch.dtype:
    """The wider of ``factor_dtype`` and the parameter's dtype: state is never held below float32."""
    return torch.promote_types(param.dtype, factor_dtype)


def init_moments(state: dict[str, Any], param: torch.Tensor, memory_format: torch.memory_format) -> dict[str, Any]:
    """``state`` with step 0 and Adam's two moments at zero (in :func:`compute_dtype` of ``param``)."""
    dtype = compute_dtype(param)
    state["step"] = 0
    state["exp_avg"] = torch.zeros_like(param, dtype=dtype, memory_format=memory_format)
    state["exp_avg_sq"] = torch.zeros_like(param, dtype=dtype, memory_format=memory_format)
    return state


def update_moments(exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor, grad: torch.Tensor,
                   betas: tuple[float, float]) -> None:
    """m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2, or v <- v + g^2 when b2 = 1 (AdaGrad sums)."""
    beta1, beta2 = betas
    exp_avg.lerp_(grad, 1.0 - beta1)
    if beta2 < 1.0:
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
    else:
        exp_avg_sq.addcmul_(grad, grad)


def bias_correction(beta: float, step: int) -> float:
    """1 - beta^t for an EMA started at zero; 1 for a running sum (beta = 1)."""
    return 1.0 - beta**step if beta < 1.0 else 1.0


def adam_direction(exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor, step: int,
                   betas: tuple[float, float], eps: float) -> torch.Tensor:
    """(m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), the step of torch.optim.Adam (AdaGrad's when b2 = 1)."""
    denom = (exp_avg_sq.sqrt() / bias_correction(betas[1], step) ** 0.5).add_(eps)
    return (exp_avg / bias_correction(betas[0], step)).div_(denom)


def apply_update(param: torch.Tensor, direction: torch.Tensor, lr: float, weight_decay: float) -> None:
    """W <- W (1 - lr wd) - lr D: decoupled weight decay, then the step."""
    if weight_decay != 0.0:
        param.mul_(1.0 - lr * weight_decay)
    param.add_(direction.to(param.dtype), alpha=-lr)
