"""The stylised layer-wise preconditioned update of arXiv 2502.01763 (eq. (5)) for f(x) = F G x.

With L = (1/2n) Σᵢ ‖yᵢ − F G xᵢ‖², Σ̂x = XᵀX/n and hidden features h = G x:

    G⁺ = G − η_G (FᵀF + λI)⁻¹ ∇_G L (Σ̂x + λI)⁻¹        (left factor I with ``left_precondition=False``)
    F⁺ = F − η_F ∇_F L (G Σ̂x Gᵀ + λI)⁻¹

By default the update alternates, as the paper's scheme does: F's gradient and hidden covariance are taken
at the new G⁺. With ``alternating=False`` both updates use the same (F, G): that is the K-FAC step of the
two-layer linear network under a unit-variance Gaussian likelihood with the exact output factor and
per-factor damping. (Simultaneous steps at η ≈ 1 swap scale between F and G instead of contracting.)
"""

from __future__ import annotations

import torch

from strategist.errors import ConfigurationError


def _solve_spd_right(matrix: torch.Tensor, spd: torch.Tensor) -> torch.Tensor:
    """matrix · spd⁻¹ for a symmetric positive definite ``spd`` (Cholesky)."""
    factor = torch.linalg.cholesky(spd)
    return torch.cholesky_solve(matrix.T, factor).T


def layerwise_kfac_step(F: torch.Tensor, G: torch.Tensor, x: torch.Tensor, y: torch.Tensor, *, lr: float,
                        lr_F: float | None = None, damping: float = 1e-3,
                        left_precondition: bool = True,
                        alternating: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """One stylised K-FAC step; returns the new (F, G) and leaves the inputs unchanged.

    Shapes: F (d_y × k), G (k × d_x), x (n × d_x), y (n × d_y). ``lr`` is η_G, ``lr_F`` is η_F
    (default ``lr``), ``damping`` is λ; ``alternating`` takes F's step at the updated G.
    """
    if F.ndim != 2 or G.ndim != 2 or x.ndim != 2 or y.ndim != 2 or F.shape[1] != G.shape[0] \
            or x.shape[1] != G.shape[1] or y.shape[1] != F.shape[0] or x.shape[0] != y.shape[0]:
        raise ConfigurationError(
            f"expected F (d_y × k), G (k × d_x), x (n × d_x), y (n × d_y); got F {tuple(F.shape)}, "
            f"G {tuple(G.shape)}, x {tuple(x.shape)}, y {tuple(y.shape)}")
    if not damping > 0:
        raise ConfigurationError(f"damping must be > 0, got {damping}")
    lr_F = lr if lr_F is None else lr_F
    n = x.shape[0]
    hidden = x @ G.T                              # n × k
    residual = hidden @ F.T - y                   # n × d_y
    grad_F = residual.T @ hidden / n              # d_y × k
    grad_G = F.T @ residual.T @ x / n             # k × d_x
    eye_x = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    eye_k = torch.eye(G.shape[0], dtype=x.dtype, device=x.device)
    cov_x = x.T @ x / n + damping * eye_x
    cov_h = hidden.T @ hidden / n + damping * eye_k
    step_G = _solve_spd_right(grad_G, cov_x)
    if left_precondition:
        step_G = torch.linalg.solve(F.T @ F + damping * eye_k, step_G)
    new_G = G - lr * step_G
    if alternating:
        hidden = x @ new_G.T
        grad_F = (hidden @ F.T - y).T @ hidden / n
        cov_h = hidden.T @ hidden / n + damping * eye_k
    step_F = _solve_spd_right(grad_F, cov_h)
    return F - lr_F * step_F, new_G
