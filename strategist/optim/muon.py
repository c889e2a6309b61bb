"""Muon: momentum orthogonalised by Newton–Schulz, for the hidden weight matrices of a network.

B ← βB + (1−β)G;  U = G + β(B − G) (Nesterov);  O = NS5(U) ≈ U_svd V_svdᵀ;
W ← W(1 − lr·wd) − lr·√max(1, rows/cols)·O.

Weights with more than two axes (convolutions) are flattened to (out, in·k·k). A weight that stacks several
maps along its rows — a GRU's 3H×in gate stack — can be orthogonalised block by block (``row_blocks``).
:class:`MuonWithAdamW` runs Muon and AdamW side by side in one optimizer; see
:func:`strategist.optim.routing.build_muon_optimizer` for the one-call set-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable

import torch

from strategist.errors import ConfigurationError
from strategist.optim._common import evaluate_closure

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz_dtype(tensor: torch.Tensor) -> torch.dtype:
    """bfloat16 on CUDA; on CPU float64 for float64 input, float32 otherwise."""
    if tensor.is_cuda:
        return torch.bfloat16
    return torch.float64 if tensor.dtype == torch.float64 else torch.float32


def zeropower_via_newtonschulz5(matrix: torch.Tensor, steps: int = 5, eps: float = 1e-7,
                                dtype: torch.dtype | None = None) -> torch.Tensor:
    """Approximately orthogonalise ``matrix`` (…, m, n): U S Vᵀ ↦ U S' Vᵀ with S' roughly in [0.5, 1.5].

    X = M / (‖M‖_F + eps) (transposed so that rows ≤ cols); ``steps`` times: A = X Xᵀ, B = bA + cA²,
    X = aX + BX with (a, b, c) = (3.4445, −4.7750, 2.0315). Computed in ``dtype`` (default
    :func:`newton_schulz_dtype`); returned in that dtype.
    """
    if matrix.ndim < 2:
        raise ConfigurationError(f"Newton–Schulz needs a matrix, got shape {tuple(matrix.shape)}")
    a, b, c = NS_COEFFICIENTS
    x = matrix.to(dtype or newton_schulz_dtype(matrix))
    tall = matrix.size(-2) > matrix.size(-1)
    if tall:
        x = x.mT
    x = x / (x.norm(dim=(-2, -1), keepdim=True) + eps)
    for _ in range(steps):
        gram = x @ x.mT
        poly = b * gram + c * (gram @ gram)
        x = a * x + poly @ x
    return x.mT if tall else x


def muon_update(grad: torch.Tensor, momentum_buffer: torch.Tensor, momentum: float = 0.95,
                nesterov: bool = True, ns_steps: int = 5, row_blocks: int = 1,
                ns_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Advance the momentum buffer in place and return the scaled orthogonalised step, shaped like ``grad``.

    The step is √max(1, r/c)·NS5(U) for each of ``row_blocks`` equal row blocks (r × c) of the
    gradient flattened to (rows, cols).
    """
    momentum_buffer.lerp_(grad, 1.0 - momentum)
    update = grad.lerp(momentum_buffer, momentum) if nesterov else momentum_buffer
    rows = update.shape[0]
    blocks = update.reshape(row_blocks, rows // row_blocks, -1)
    block_rows, cols = blocks.shape[-2:]
    ortho = zeropower_via_newtonschulz5(blocks, steps=ns_steps, dtype=ns_dtype)
    scale = max(1.0, block_rows / cols) ** 0.5
    return (ortho * scale).reshape(grad.shape).to(grad.dtype)


def _check_muon_param(param: torch.Tensor, row_blocks: int) -> None:
    if param.ndim < 2:
        raise ConfigurationError(
            f"Muon takes weights with at least 2 axes, got a parameter of shape {tuple(param.shape)}; "
            "route biases, gains and embeddings to AdamW (strategist.optim.routing.build_muon_optimizer)")
    if int(row_blocks) != row_blocks or row_blocks < 1 or param.shape[0] % row_blocks:
        raise ConfigurationError(
            f"row_blocks must be a positive integer dividing the first axis {param.shape[0]}, got {row_blocks}")


def _check_muon_options(lr: float, momentum: float, weight_decay: float, ns_steps: int) -> None:
    if not lr >= 0.0:
        raise ConfigurationError(f"lr must be >= 0, got {lr}")
    if not 0.0 <= momentum < 1.0:
        raise ConfigurationError(f"momentum must be in [0, 1), got {momentum}")
    if not weight_decay >= 0.0:
        raise ConfigurationError(f"weight_decay must be >= 0, got {weight_decay}")
    if int(ns_steps) != ns_steps or ns_steps < 1:
        raise ConfigurationError(f"ns_steps must be a positive integer, got {ns_steps}")


def _muon_step_group(group: dict[str, Any], state: dict) -> None:
    for param in group["params"]:
        if param.grad is None:
            continue
        if param.grad.is_sparse:
            raise ConfigurationError("Muon does not take sparse gradients")
        param_state = state[param]
        if "momentum_buffer" not in param_state:
            param_state["momentum_buffer"] = torch.zeros_like(param)
        step = muon_update(param.grad, param_state["momentum_buffer"], group["momentum"],
                           group["nesterov"], group["ns_steps"], group["row_blocks"], group["ns_dtype"])
        param.mul_(1.0 - group["lr"] * group["weight_decay"])
        param.add_(step, alpha=-group["lr"])


def _adamw_step_group(group: dict[str, Any], state: dict) -> None:
    beta1, beta2 = group["betas"]
    for param in group["params"]:
        if param.grad is None:
            continue
        grad = param.grad
        param_state = state[param]
        if "step" not in param_state:
            param_state["step"] = 0
            param_state["exp_avg"] = torch.zeros_like(param)
            param_state["exp_avg_sq"] = torch.zeros_like(param)
        param_state["step"] += 1
        step = param_state["step"]
        param_state["exp_avg"].lerp_(grad, 1.0 - beta1)
        param_state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        denom = (param_state["exp_avg_sq"].sqrt() / (1.0 - beta2**step) ** 0.5).add_(group["eps"])
        param.mul_(1.0 - group["lr"] * group["weight_decay"])
        param.addcdiv_(param_state["exp_avg"], denom, value=-group["lr"] / (1.0 - beta1**step))


class Muon(torch.optim.Optimizer):
    """Muon for weight matrices (2-D, or more axes flattened to 2-D).

    Args:
        params: parameters or parameter groups, each with at least two axes.
        lr: step size in units of spectral norm (default 0.02).
        momentum: β of the momentum buffer (default 0.95).
        nesterov: use U = G + β(B − G) instead of B (default True).
        weight_decay: decoupled weight decay, W ← W(1 − lr·wd) (default 0).
        ns_steps: Newton–Schulz iterations (default 5).
        row_blocks: orthogonalise each weight as this many equal blocks of rows (3 for a GRU's gate stack).
        ns_dtype: dtype of the Newton–Schulz iteration; None picks bfloat16 on CUDA, float32 (float64 for
            float64 weights) on CPU.

    Scaling convention: the step is √max(1, rows/cols)·O, the same as KellerJordan/Muon and
    ``torch.optim.Muon(adjust_lr_fn="original")``; weight decay uses the unscaled lr, as both do.
    """

    def __init__(self, params: Iterable, lr: float = 0.02, momentum: float = 0.95, nesterov: bool = True,
                 weight_decay: float = 0.0, ns_steps: int = 5, row_blocks: int = 1,
                 ns_dtype: torch.dtype | None = None) -> None:
        _check_muon_options(lr, momentum, weight_decay, ns_steps)
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                        ns_steps=ns_steps, row_blocks=row_blocks, ns_dtype=ns_dtype)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                _check_muon_param(param, group["row_blocks"])

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            _muon_step_group(group, self.state)
        return loss


MUON_DEFAULTS: dict[str, Any] = dict(lr=0.02, momentum=0.95, nesterov=True, weight_decay=0.0, ns_steps=5,
                                     row_blocks=1, ns_dtype=None)
ADAMW_DEFAULTS: dict[str, Any] = dict(lr=3e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)


class MuonWithAdamW(torch.optim.Optimizer):
    """One optimizer over Muon groups and AdamW groups.

    Each parameter group carries ``use_muon``: True groups take Muon's step (keys of :class:`Muon`,
    defaults lr 0.02, momentum 0.95), False groups take AdamW's (lr 3e-4, betas (0.9, 0.95), eps 1e-8,
    weight_decay 0; the update of ``torch.optim.AdamW``). ``step``, ``zero_grad``, ``state_dict``,
    ``load_state_dict`` and learning-rate schedulers cover both kinds at once.
    """

    def __init__(self, param_groups: Iterable[dict[str, Any]]) -> None:
        param_groups = list(param_groups)
        if not param_groups or not all(isinstance(g, dict) for g in param_groups):
            raise ConfigurationError("MuonWithAdamW takes a non-empty list of parameter-group dicts, "
                                     "each with a boolean 'use_muon'")
        super().__init__(param_groups, {})

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if "use_muon" not in param_group:
            raise ConfigurationError("every MuonWithAdamW parameter group needs a boolean 'use_muon'")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, torch.Tensor) else list(params)
        for key, value in (MUON_DEFAULTS if group["use_muon"] else ADAMW_DEFAULTS).items():
            group.setdefault(key, value)
        if group["use_muon"]:
            _check_muon_options(group["lr"], group["momentum"], group["weight_decay"], group["ns_steps"])
            for param in group["params"]:
                _check_muon_param(param, group["row_blocks"])
        super().add_param_group(group)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            if group["use_muon"]:
                _muon_step_group(group, self.state)
            else:
                _adamw_step_group(group, self.state)
        return loss
