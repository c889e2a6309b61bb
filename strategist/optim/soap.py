"""SOAP: Adam run in the eigenbasis of Shampoo's factors.

With L <- b L + (1 - b) G G^T, R <- b R + (1 - b) G^T G and Q_L, Q_R their eigenvectors: rotate
G' = Q_L^T G Q_R, keep Adam's moments m, v of G', and step W <- W (1 - lr wd) - lr Q_L (m_hat / (sqrt(v_hat)
+ eps)) Q_R^T. The first gradient only builds the factors and their eigenbases (eigh, no update); every
``precondition_frequency`` steps the bases are refreshed by one power iteration and QR, and v follows
the re-sorted columns. Axes longer than ``max_precond_dim`` are left unrotated; parameters without a
rotated axis (biases, gains) take the plain AdamW step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from strategist.errors import ConfigurationError
from strategist.optim._common import (
    PreconditionedOptimizer,
    adam_direction,
    apply_update,
    check_hyperparameters,
    compute_dtype,
    init_moments,
    update_moments,
)
from strategist.optim._linalg import EighFailure, PreconditionerHealth, robust_eigh

__all__ = ["SOAP"]

Bases = list[torch.Tensor | None]


def _matrix_product(tensor: torch.Tensor, left: torch.Tensor | None, right: torch.Tensor | None) -> torch.Tensor:
    """left @ T @ right for a matrix T, a missing factor read as the identity, in the factors' dtype."""
    out = tensor.to((left if left is not None else right).dtype)
    if left is not None:
        out = left @ out
    if right is not None:
        out = out @ right
    return out.to(tensor.dtype)


def _change_basis(tensor: torch.Tensor, bases: Bases, inverse: bool) -> torch.Tensor:
    """Contract every axis that has a basis with Q^T (``inverse=False``) or Q (``inverse=True``)."""
    if all(basis is None for basis in bases):
        return tensor
    if tensor.dim() == 2:
        left, right = bases
        if inverse:
            return _matrix_product(tensor, left, None if right is None else right.T)
        return _matrix_product(tensor, None if left is None else left.T, right)
    contracted = 1 if inverse else 0
    out = tensor
    for basis in bases:
        if basis is None:
            out = out.movedim(0, -1)
        else:
            out = torch.tensordot(out.to(basis.dtype), basis, dims=([0], [contracted]))
    return out.to(tensor.dtype)


def rotate(tensor: torch.Tensor, bases: Bases) -> torch.Tensor:
    """T x_1 Q_1 x_2 Q_2 ... (Q_L^T G Q_R for a matrix); axes without a basis are left as they are."""
    return _change_basis(tensor, bases, inverse=False)


def rotate_back(tensor: torch.Tensor, bases: Bases) -> torch.Tensor:
    """Inverse of :func:`rotate`: T x_1 Q_1^T x_2 Q_2^T ... (Q_L G' Q_R^T for a matrix)."""
    return _change_basis(tensor, bases, inverse=True)


def axis_statistics(grad: torch.Tensor, factors: Bases) -> list[torch.Tensor | None]:
    """G_(a) G_(a)^T for each axis a that has a factor (G G^T and G^T G for a matrix), in the factor's dtype."""
    axes = range(grad.dim())
    stats: list[torch.Tensor | None] = []
    for axis, factor in zip(axes, factors):
        if factor is None:
            stats.append(None)
        elif grad.dim() == 2:
            g = grad.to(factor.dtype)
            stats.append(g @ g.T if axis == 0 else g.T @ g)
        else:
            g = grad.to(factor.dtype)
            stats.append(torch.tensordot(g, g, dims=([b for b in axes if b != axis],) * 2))
    return stats


def update_factors(factors: Bases, statistics: list[torch.Tensor | None], beta: float) -> None:
    """L_a <- b L_a + (1 - b) G_(a) G_(a)^T on every rotated axis."""
    for factor, stat in zip(factors, statistics):
        if factor is not None:
            factor.lerp_(stat, 1.0 - beta)


def initial_basis(factor: torch.Tensor) -> torch.Tensor:
    """Eigenvectors of L, columns by decreasing eigenvalue (eigh, retried in float64); stored row-major, as a
    checkpoint reads it back, so a resumed run multiplies by the very same memory layout."""
    return robust_eigh(factor)[1].flip(-1).contiguous()


def refresh_basis(factor: torch.Tensor, basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """One power iteration: sort Q's columns by the estimate diag(Q^T L Q), then Q_new = qr(L Q_sorted).

    Returns (Q_new, order) with ``order`` the column permutation applied, or None when L or the result is
    not finite.
    """
    if not torch.isfinite(factor).all():
        return None
    estimates = (basis * (factor @ basis)).sum(dim=0)
    order = torch.argsort(estimates, descending=True)
    try:
        new_basis = torch.linalg.qr(factor @ basis[:, order]).Q.contiguous()      # row-major (initial_basis)
    except RuntimeError:
        return None
    if not torch.isfinite(new_basis).all():
        return None
    return new_basis, order


def refresh_bases(state: dict[str, Any], health: PreconditionerHealth) -> None:
    """New bases by :func:`refresh_basis`; v is permuted with the columns, m is rotated into the new basis."""
    exp_avg = rotate_back(state["exp_avg"], state["bases"])
    exp_avg_sq = state["exp_avg_sq"]
    bases: Bases = []
    for axis, (factor, basis) in enumerate(zip(state["factors"], state["bases"])):
        refreshed = None if factor is None else refresh_basis(factor, basis)
        if refreshed is None:
            if factor is not None:
                health.failure()
            bases.append(basis)
            continue
        health.success()
        new_basis, order = refreshed
        exp_avg_sq = exp_avg_sq.index_select(axis, order)
        bases.append(new_basis)
    state["bases"] = bases
    state["exp_avg"] = rotate(exp_avg, bases)
    state["exp_avg_sq"] = exp_avg_sq


def eigenbases(factors: Bases, health: PreconditionerHealth) -> Bases:
    """The first bases: :func:`initial_basis` of each factor; identity (and a counted failure) if eigh fails."""
    bases: Bases = []
    for factor in factors:
        if factor is None:
            bases.append(None)
            continue
        try:
            bases.append(initial_basis(factor))
        except EighFailure:
            health.failure()
            bases.append(torch.eye(factor.shape[0], dtype=factor.dtype, device=factor.device))
        else:
            health.success()
    return bases


class SOAP(PreconditionedOptimizer):
    """SOAP with decoupled weight decay.

    Args:
        params: parameters or parameter groups, as for ``torch.optim.AdamW``.
        lr: learning rate.
        betas: Adam's (b1, b2) in the rotated coordinates.
        shampoo_beta: decay of the factors L, R (default: b2).
        eps: Adam's epsilon, added to sqrt(v_hat) as in ``torch.optim.AdamW``.
        weight_decay: decoupled weight decay, W <- W (1 - lr wd).
        precondition_frequency: steps between basis refreshes.
        max_precond_dim: axes longer than this are not rotated (no factor is allocated for them).
        factor_dtype: dtype of factors and bases (float32 or float64; never below the parameter's).

    ``health`` counts basis computations, failures (the previous basis is kept) and updates skipped
    because a gradient was not finite; it is saved in ``state_dict``.
    """

    def __init__(self, params: Iterable, lr: float = 3e-3, betas: tuple[float, float] = (0.95, 0.95),
                 shampoo_beta: float | None = None, eps: float = 1e-8, weight_decay: float = 0.01,
                 precondition_frequency: int = 10, max_precond_dim: int = 10000,
                 factor_dtype: torch.dtype = torch.float32) -> None:
        check_hyperparameters(lr, betas, eps, weight_decay, precondition_frequency, max_precond_dim,
                              factor_dtype)
        if betas[1] >= 1.0:
            raise ConfigurationError(f"SOAP needs betas[1] < 1, got {betas[1]}")
        if shampoo_beta is None:
            shampoo_beta = betas[1]
        if not 0.0 <= shampoo_beta < 1.0:
            raise ConfigurationError(f"shampoo_beta must be in [0, 1), got {shampoo_beta}")
        defaults = dict(lr=lr, betas=tuple(betas), shampoo_beta=shampoo_beta, eps=eps,
                        weight_decay=weight_decay, precondition_frequency=int(precondition_frequency),
                        max_precond_dim=int(max_precond_dim), factor_dtype=factor_dtype)
        super().__init__(params, defaults)

    def _init_state(self, param: torch.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = init_moments(self.state[param], param, torch.contiguous_format)
        fdtype = compute_dtype(param, group["factor_dtype"])
        rotated = param.dim() >= 2
        state["factors"] = [torch.zeros(size, size, dtype=fdtype, device=param.device)
                            if rotated and size <= group["max_precond_dim"] else None for size in param.shape]
        has_factor = any(f is not None for f in state["factors"])
        state["bases"] = None if has_factor else [None] * param.dim()
        return state

    def _update(self, param: torch.Tensor, group: dict[str, Any]) -> None:
        state = self.state[param] or self._init_state(param, group)
        grad = param.grad.to(state["exp_avg"].dtype)
        statistics = axis_statistics(grad, state["factors"])

        if state["bases"] is None:
            update_factors(state["factors"], statistics, group["shampoo_beta"])
            state["bases"] = eigenbases(state["factors"], self.health)
            return

        step = state["step"] = state["step"] + 1
        update_moments(state["exp_avg"], state["exp_avg_sq"], rotate(grad, state["bases"]), group["betas"])
        direction = adam_direction(state["exp_avg"], state["exp_avg_sq"], step, group["betas"], group["eps"])
        apply_update(param, rotate_back(direction, state["bases"]), group["lr"], group["weight_decay"])

        update_factors(state["factors"], statistics, group["shampoo_beta"])
        if step % group["precondition_frequency"] == 0 and any(f is not None for f in state["factors"]):
            refresh_bases(state, self.health)
