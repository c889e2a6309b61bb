"""T1, linear representation learning (arXiv 2502.01763): y = F* G* x + ε, x ~ N(0, Σx) with Σx = U diag(λ) Uᵀ,
λ log-spaced from 1 to 1/κ, U a seeded random rotation; G* (k × d_x) orthonormal rows, F* (d_y × k) orthonormal
columns, ε ~ N(0, σ² I). Model f(x) = F G x (two bias-free nn.Linear), loss ½‖f(x) − y‖² on a fresh batch every
step. Metric: d(G) = ‖(I − P_{G*}) Q_G‖₂, the sine of the largest principal angle between row(G) and row(G*);
target 0.05 (0.1 at κ ≥ 1000). The data limit: batches until OLS on all samples so far reaches the target."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from optim_harness.problems import Problem

INIT_SCALE = 0.1


def random_orthonormal(rows: int, cols: int, generator: torch.Generator) -> torch.Tensor:
    """A Haar-random rows × cols matrix with orthonormal columns (QR of a Gaussian, signs fixed), float64."""
    q, r = torch.linalg.qr(torch.randn(rows, cols, generator=generator, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, torch.ones(()))


def input_covariance(kappa: float, d_x: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Σx = U diag(λ) Uᵀ with λ log-spaced from 1 to 1/κ and U Haar-random; returns (Σx, Σx^½), float64."""
    if not kappa >= 1:
        raise ValueError(f"condition number must be >= 1, got {kappa}")
    eigvals = torch.logspace(0.0, -math.log10(kappa), d_x, dtype=torch.float64)
    rotation = random_orthonormal(d_x, d_x, generator)
    sigma = (rotation * eigvals) @ rotation.T
    sqrt = (rotation * eigvals.sqrt()) @ rotation.T
    return 0.5 * (sigma + sigma.T), 0.5 * (sqrt + sqrt.T)


@dataclass
class Instance:
    """One instance of y = F* G* x + ε; tensors float64 on the CPU. ``basis``: row(G*) as columns (d_x × k)."""

    kappa: float
    seed: int
    d_x: int
    k: int
    d_y: int
    noise: float
    sigma_x: torch.Tensor
    sigma_x_sqrt: torch.Tensor
    g_star: torch.Tensor
    f_star: torch.Tensor

    basis = property(lambda self: self.g_star.T)
    target = property(lambda self: 0.1 if self.kappa >= 1000 else 0.05)


def make_problem(kappa: float, seed: int, d_x: int = 100, k: int = 8, d_y: int = 16, noise: float = 0.1) -> Instance:
    gen = torch.Generator().manual_seed(10_007 * seed + 17)
    sigma, sqrt = input_covariance(kappa, d_x, gen)
    g_star = random_orthonormal(d_x, k, gen).T.contiguous()
    return Instance(kappa, seed, d_x, k, d_y, noise, sigma, sqrt, g_star, random_orthonormal(d_y, k, gen))


def subspace_distance(g: torch.Tensor, basis: torch.Tensor) -> float:
    """‖(I − B Bᵀ) Q_G‖₂ with Q_G an orthonormal basis of row(``g``) (QR of gᵀ) and ``basis`` B (d × k)."""
    g64 = g.detach().to("cpu", torch.float64)
    if not torch.isfinite(g64).all():
        return math.nan
    q = torch.linalg.qr(g64.T)[0]
    return float(torch.linalg.svdvals(q - basis @ (basis.T @ q))[0])


class BatchStream:
    """Fresh batches (x, y) of the instance from a seeded generator on ``device``."""

    def __init__(self, problem: Instance, batch: int, seed: int, device, dtype: torch.dtype = torch.float32):
        self.batch, self.noise, self.d_x, self.d_y = batch, problem.noise, problem.d_x, problem.d_y
        self.gen = torch.Generator(device=device).manual_seed(7919 * seed + 1)
        self.sqrt = problem.sigma_x_sqrt.to(device, dtype)
        self.w_t = (problem.f_star @ problem.g_star).T.contiguous().to(device, dtype)
        self.device, self.dtype = device, dtype

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(self.batch, self.d_x, generator=self.gen, device=self.device, dtype=self.dtype) @ self.sqrt
        eps = torch.randn(self.batch, self.d_y, generator=self.gen, device=self.device, dtype=self.dtype)
        return x, x @ self.w_t + self.noise * eps


class TwoLayerLinear(nn.Module):
    def __init__(self, d_x: int, k: int, d_y: int) -> None:
        super().__init__()
        self.G, self.F = nn.Linear(d_x, k, bias=False), nn.Linear(k, d_y, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.F(self.G(x))


def make_model(problem: Instance, seed: int, device) -> TwoLayerLinear:
    """Small random init: entries N(0, (0.1)²/fan_in), from a generator seeded by ``seed``."""
    gen = torch.Generator().manual_seed(104_729 * seed + 3)
    model = TwoLayerLinear(problem.d_x, problem.k, problem.d_y)
    with torch.no_grad():
        for layer in (model.G, model.F):
            fan_in = layer.weight.shape[1]
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * INIT_SCALE / math.sqrt(fan_in))
    return model.to(device)


def mse_loss(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """½‖pred − y‖² averaged over the batch."""
    return 0.5 * (pred - y).pow(2).sum(-1).mean()


def stylised_step_reference(F: torch.Tensor, G: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: float,
                            damping: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """One alternating step of the paper's stylised layer-wise update, eq. (5), float64 (the benchmark's reference):

    G⁺ = G − η (FᵀF + λI)⁻¹ ∇_G L̂(F, G) (Σ̂x + λI)⁻¹,   F⁺ = F − η ∇_F L̂(F, G⁺) (G⁺ Σ̂x G⁺ᵀ + λI)⁻¹,
    with L̂ = (1/2n) Σ ‖y − F G x‖² on the batch and Σ̂x = XᵀX/n.
    """
    F, G, x, y = (t.to(torch.float64) for t in (F, G, x, y))
    n, d_x = x.shape
    eye_x = torch.eye(d_x, dtype=torch.float64, device=x.device)
    eye_k = torch.eye(G.shape[0], dtype=torch.float64, device=x.device)
    grad_g = F.T @ (x @ G.T @ F.T - y).T @ x / n                   # k × d_x
    step_g = torch.linalg.solve(F.T @ F + damping * eye_k, grad_g)
    G = G - lr * torch.linalg.solve(x.T @ x / n + damping * eye_x, step_g.T).T
    h = x @ G.T                                                    # n × k
    grad_f = (h @ F.T - y).T @ h / n                               # d_y × k
    return F - lr * torch.linalg.solve(h.T @ h / n + damping * eye_k, grad_f.T).T, G


class LayerwiseUpdate:
    """An optimizer of :class:`TwoLayerLinear` that applies an update (F, G, x, y, lr) -> (F⁺, G⁺) to its
    two weights in ``dtype`` (the model is cast to it); the harness calls ``train_step``."""

    def __init__(self, model, lr: float, update, dtype: torch.dtype) -> None:
        self.model, self.update, self.dtype, self.param_groups = model.to(dtype), update, dtype, [{"lr": lr}]

    @torch.no_grad()
    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y = x.to(self.dtype), y.to(self.dtype)
        F, G = self.update(self.model.F.weight, self.model.G.weight, x, y, self.param_groups[0]["lr"])
        F, G = F.to(self.dtype), G.to(self.dtype)
        self.model.F.weight.copy_(F)
        self.model.G.weight.copy_(G)
        return mse_loss(x @ G.T @ F.T, y)


def ols_oracle_steps(kappa: float, seed: int, target: float | None = None, max_steps: int = 600, batch: int = 256,
                     noise: float = 0.1, d_x: int = 100, k: int = 8, d_y: int = 16) -> dict[str, float]:
    """Steps (batches) until row(rank-k truncation of the OLS fit on all samples so far) is within the target
    distance of row(G*): the data the target needs at this noise level; float64, CPU."""
    problem = make_problem(kappa, seed, d_x, k, d_y, noise)
    target = problem.target if target is None else target
    stream = BatchStream(problem, batch, seed, torch.device("cpu"), torch.float64)
    xx, xy = torch.zeros(d_x, d_x, dtype=torch.float64), torch.zeros(d_x, d_y, dtype=torch.float64)
    d = math.nan
    for t in range(max_steps):
        x, y = stream.next()
        xx += x.T @ x
        xy += x.T @ y
        if t + 1 < math.ceil(d_x / batch):
            continue
        rows = torch.linalg.svd(torch.linalg.solve(xx, xy).T, full_matrices=False)[2][:k]
        d = subspace_distance(rows, problem.basis)
        if d <= target:
            return {"steps": t + 1, "distance": d}
    return {"steps": math.inf, "distance": d}


def t1_problem(kappa: float, noise: float = 0.1, batch: int = 256, device: str = "cpu", eval_every: int = 1,
               dense_until: int = 0, d_x: int = 100, k: int = 8, d_y: int = 16) -> Problem:
    @lru_cache(maxsize=None)
    def instance(seed: int) -> Instance:
        return make_problem(kappa, seed, d_x, k, d_y, noise)

    def batches(seed: int, steps: int):
        stream = BatchStream(instance(seed), batch, seed, torch.device(device))
        return (stream.next() for _ in range(steps))

    return Problem(name=f"T1 κ={kappa:g} noise={noise:g}",
                   make_model=lambda seed: make_model(instance(seed), seed, torch.device(device)),
                   batches=batches, loss=mse_loss,
                   evaluate=lambda model, seed: subspace_distance(model.G.weight, instance(seed).basis),
                   target=0.1 if kappa >= 1000 else 0.05, loss_type="mse", eval_every=eval_every,
                   dense_until=dense_until)


def ols_steps(kappa: float, noise: float, seeds: list[int], max_steps: int = 600) -> list[float]:
    """The data limit per seed (see :func:`ols_oracle_steps`)."""
    return [ols_oracle_steps(kappa, s, noise=noise, max_steps=max_steps)["steps"] for s in seeds]
