"""Shampoo: one preconditioner per axis of each weight block, step size grafted from Adam.

For a block G (m x n) of a gradient: L <- b2 L + (1 - b2) G G^T and R <- b2 R + (1 - b2) G^T G (sums when
b2 = 1); the direction (L + eps I)^(-1/4) Gbar (R + eps I)^(-1/4), with Gbar the momentum of G, is rescaled
to the norm of Adam's step Gbar / (sqrt(v) + eps_graft) on the same block. A k-axis block uses the
-1/(2k) root on each axis. Axes longer than ``max_preconditioner_dim`` are cut into blocks, so no factor is
ever larger than ``max_preconditioner_dim`` squared. Parameters with fewer than two axes take the grafted
Adam step alone, as every parameter does before ``start_preconditioning_step``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import product
from typing import Any

import torch

from strategist.errors import ConfigurationError
from strategist.optim._common import (
    PreconditionedOptimizer,
    adam_direction,
    apply_update,
    bias_correction,
    check_hyperparameters,
    compute_dtype,
    init_moments,
    update_moments,
)
from strategist.optim._linalg import EighFailure, PreconditionerHealth, inverse_root

__all__ = ["Shampoo", "block_slices"]


@lru_cache(maxsize=256)
def block_slices(shape: tuple[int, ...], max_dim: int) -> tuple[tuple[slice, ...], ...]:
    """Index tuples cutting a tensor of ``shape`` into blocks whose every side is at most ``max_dim``."""
    per_axis = [[slice(start, min(start + max_dim, size)) for start in range(0, size, max_dim)]
                for size in shape]
    return tuple(product(*per_axis))


def axis_statistics(block: torch.Tensor) -> list[torch.Tensor]:
    """G_(a) G_(a)^T for every axis a, G_(a) the mode-a unfolding (G G^T and G^T G for a matrix)."""
    if block.dim() == 2:
        return [block @ block.T, block.T @ block]
    axes = range(block.dim())
    return [torch.tensordot(block, block, dims=([b for b in axes if b != a],) * 2) for a in axes]


def update_factors(factors: list[torch.Tensor], statistics: list[torch.Tensor], beta2: float) -> None:
    """L_a <- b2 L_a + (1 - b2) G_(a) G_(a)^T, or L_a <- L_a + G_(a) G_(a)^T when b2 = 1."""
    for factor, stat in zip(factors, statistics):
        if beta2 < 1.0:
            factor.lerp_(stat, 1.0 - beta2)
        else:
            factor.add_(stat)


def refresh_roots(factors: list[torch.Tensor], roots: list[torch.Tensor | None], step: int, beta2: float,
                  eps: float, health: PreconditionerHealth) -> None:
    """roots[a] <- (L_a / (1 - b2^t) + eps I)^(-1/(2k)) for a k-axis block; on failure the last root stays."""
    order = len(factors)
    correction = bias_correction(beta2, step)
    for axis, factor in enumerate(factors):
        try:
            roots[axis] = inverse_root(factor / correction, 2 * order, eps)
        except EighFailure:
            health.failure()
        else:
            health.success()


def precondition(block: torch.Tensor, roots: list[torch.Tensor]) -> torch.Tensor:
    """Gbar x_1 R_1 x_2 R_2 ...: each axis multiplied by its symmetric root (L^-1/4 Gbar R^-1/4 for k = 2)."""
    if block.dim() == 2:
        return roots[0] @ block @ roots[1]
    for root in roots:
        block = torch.tensordot(block, root, dims=([0], [0]))
    return block


def graft(direction: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """direction * ||reference|| / ||direction||: Shampoo's direction at the grafted step's length."""
    tiny = torch.finfo(direction.dtype).tiny
    norm = torch.linalg.vector_norm(direction).clamp_min(tiny)
    return direction * (torch.linalg.vector_norm(reference.to(direction.dtype)) / norm)


class Shampoo(PreconditionedOptimizer):
    """Shampoo with Adam grafting, blocking of long axes and decoupled weight decay.

    Args:
        params: parameters or parameter groups, as for ``torch.optim.AdamW``.
        lr: learning rate.
        betas: (b1, b2): b1 the momentum of the gradient; b2 the decay of the factors and of the grafted
            Adam second moment (b2 = 1: running sums, i.e. AdaGrad-style factors and AdaGrad grafting).
        eps: added to each factor before its inverse root.
        weight_decay: decoupled weight decay, W <- W (1 - lr wd).
        precondition_frequency: steps between inverse-root refreshes.
        start_preconditioning_step: first step that uses the Shampoo direction (default:
            ``precondition_frequency``); before it the grafted Adam step alone is taken.
        max_preconditioner_dim: longest side of a block; longer axes are split.
        graft_eps: epsilon of the grafted Adam step.
        factor_dtype: dtype of factors and roots (float32 or float64; never below the parameter's).

    ``health`` counts root refreshes, eigh failures (the last good root is kept) and updates skipped
    because a gradient was not finite; it is saved in ``state_dict``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-12, weight_decay: float = 0.0, precondition_frequency: int = 100,
                 start_preconditioning_step: int | None = None, max_preconditioner_dim: int = 8192,
                 graft_eps: float = 1e-8, factor_dtype: torch.dtype = torch.float32) -> None:
        check_hyperparameters(lr, betas, eps, weight_decay, precondition_frequency, max_preconditioner_dim,
                              factor_dtype)
        if max_preconditioner_dim < 1:
            raise ConfigurationError(f"max_preconditioner_dim must be >= 1, got {max_preconditioner_dim}")
        if start_preconditioning_step is None:
            start_preconditioning_step = precondition_frequency
        if int(start_preconditioning_step) != start_preconditioning_step or start_preconditioning_step < 1:
            raise ConfigurationError(
                f"start_preconditioning_step must be a positive integer, got {start_preconditioning_step}")
        if not graft_eps > 0.0:
            raise ConfigurationError(f"graft_eps must be > 0, got {graft_eps}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        precondition_frequency=int(precondition_frequency),
                        start_preconditioning_step=int(start_preconditioning_step),
                        max_preconditioner_dim=int(max_preconditioner_dim), graft_eps=graft_eps,
                        factor_dtype=factor_dtype)
        super().__init__(params, defaults)

    def _blocks(self, param: torch.Tensor, group: dict[str, Any]) -> tuple[tuple[slice, ...], ...]:
        if param.dim() < 2:
            return ()
        return block_slices(tuple(param.shape), group["max_preconditioner_dim"])

    def _init_state(self, param: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = init_moments(self.state[param], param, torch.preserve_format)
        fdtype = compute_dtype(param, group["factor_dtype"])
        blocks = self._blocks(param, group)
        state["factors"] = [[torch.zeros(s.stop - s.start, s.stop - s.start, dtype=fdtype, device=param.device)
                             for s in block] for block in blocks]
        state["roots"] = [[None] * len(block) for block in blocks]
        return state

    def _update(self, param: torch.Tensor, group: dict[str, Any]) -> None:
        state = self.state[param] or self._init_state(param, group)
        grad = param.grad.to(state["exp_avg"].dtype)
        blocks = self._blocks(param, group)
        fdtype = compute_dtype(param, group["factor_dtype"])
        statistics = [axis_statistics(grad[block].to(fdtype)) for block in blocks]

        step = state["step"] = state["step"] + 1
        beta2 = group["betas"][1]
        for factors, stats in zip(state["factors"], statistics):
            update_factors(factors, stats, beta2)
        update_moments(state["exp_avg"], state["exp_avg_sq"], grad, group["betas"])
        direction = adam_direction(state["exp_avg"], state["exp_avg_sq"], step, group["betas"],
                                   group["graft_eps"])

        start = group["start_preconditioning_step"]
        if blocks and step >= start:
            if (step - start) % group["precondition_frequency"] == 0:
                for factors, roots in zip(state["factors"], state["roots"]):
                    refresh_roots(factors, roots, step, beta2, group["eps"], self.health)
            # The graft fixes the length, so the momentum's bias correction (a scalar) is left out here.
            momentum = state["exp_avg"]
            for block, roots in zip(blocks, state["roots"]):
                if all(root is not None for root in roots):
                    preconditioned = precondition(momentum[block].to(fdtype), roots)
                    direction[block] = graft(preconditioned, direction[block])

        apply_update(param, direction, group["lr"], group["weight_decay"])
