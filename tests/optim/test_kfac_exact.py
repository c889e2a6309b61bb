"""K-FAC, value by value: factors, EMA, sampled-Fisher normalisation, momentum, square blocks, GRU output
factors. Each test pins one line of the algorithm that a "loss went down" test lets through."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from strategist.optim._kfac_blocks import gru_gate_gradients
from strategist.optim.kfac import KFAC, precondition

from ._cases import RecurrentHead

F64 = torch.float64


def _step(opt: KFAC, model: nn.Module, x: torch.Tensor, loss_fn) -> None:
    opt.zero_grad()
    with opt.capture():
        out = model(x)
    opt.backward(loss_fn(out), out)
    opt.step()


def _half_squared_error(y: torch.Tensor):
    return lambda out: 0.5 * (out - y).square().sum(-1).mean()


def _with_ones(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)


def _matrix(layer: nn.Linear) -> torch.Tensor:
    return torch.cat([layer.weight.detach(), layer.bias.detach().unsqueeze(1)], 1)


def test_factor_ema_weighs_the_old_factor_by_the_decay(float64):
    # A_2 = ρ A_1 + (1 − ρ) Â_2 with Â_t the batch's mean of [x;1][x;1]ᵀ (the first batch initialises).
    torch.manual_seed(0)
    layer = nn.Linear(3, 2)
    decay = 0.9
    opt = KFAC(layer, loss_type="mse", fisher="exact", factor_decay=decay, factor_dtype=F64)
    x1, x2 = torch.randn(16, 3), 3.0 + torch.randn(16, 3)
    y = torch.randn(16, 2)
    _step(opt, layer, x1, _half_squared_error(y))
    _step(opt, layer, x2, _half_squared_error(y))
    a1, a2 = (_with_ones(x).T @ _with_ones(x) / 16 for x in (x1, x2))
    torch.testing.assert_close(opt.state[layer.weight]["A"], decay * a1 + (1 - decay) * a2)


def test_sampled_fisher_averages_over_the_samples_drawn(float64):
    # For a Linear output under "mse" the sampled cotangents ε_k ~ N(0, I) are the output gradients:
    # S = Σ_k Σ_n ε_kn ε_knᵀ / (N · fisher_samples), drawn in this order from the global generator.
    torch.manual_seed(1)
    layer = nn.Linear(3, 4)
    x = torch.randn(10, 3)
    samples = 5
    opt = KFAC(layer, loss_type="mse", fisher="sampled", fisher_samples=samples, factor_dtype=F64)
    with opt.capture():
        out = layer(x)
    torch.manual_seed(2)
    opt.update_factors(out)
    torch.manual_seed(2)
    draws = [torch.randn_like(out) for _ in range(samples)]
    expected = sum(d.T @ d for d in draws) / (10 * samples)
    torch.testing.assert_close(opt.state[layer.weight]["S"], expected)


def test_momentum_accumulates_natural_gradient_directions(float64):
    # U_t = μ U_{t−1} + V_t (heavy ball, not an EMA), W_t = W_{t−1} − lr U_t, with V_t = (A ⊗ S + λI)⁻¹ ∇_t
    # from the factors of step t (factor_decay 0, an inverse every step).
    torch.manual_seed(3)
    layer = nn.Linear(4, 3)
    lr, mu, damping = 0.3, 0.7, 1e-2
    opt = KFAC(layer, lr=lr, loss_type="mse", fisher="exact", momentum=mu, damping=damping, factor_decay=0.0,
               inverse_every=1, kl_clip=None, factor_dtype=F64)
    momentum = torch.zeros(3, 5)
    for t in range(3):
        x, y = torch.randn(32, 4) + t, torch.randn(32, 3)
        before = _matrix(layer)
        _step(opt, layer, x, _half_squared_error(y))
        state = opt.state[layer.weight]
        grad = torch.cat([layer.weight.grad, layer.bias.grad.unsqueeze(1)], 1)
        direction = precondition(grad, (state["A_eigvals"], state["A_eigvecs"]),
                                 (state["S_eigvals"], state["S_eigvecs"]), damping)
        momentum = mu * momentum + direction
        torch.testing.assert_close(_matrix(layer), before - lr * momentum, rtol=1e-10, atol=1e-12)


def test_momentum_survives_a_change_of_eigenbasis(float64):
    # The momentum is kept in the eigenbasis of A ⊗ S; a refresh must carry it over, not reinterpret it.
    torch.manual_seed(4)
    layer = nn.Linear(3, 3)
    lr, mu = 0.2, 0.5
    opt = KFAC(layer, lr=lr, loss_type="mse", fisher="exact", momentum=mu, damping=1e-2, factor_decay=0.0,
               inverse_every=2, kl_clip=None, factor_dtype=F64)
    momentum = torch.zeros(3, 4)
    bases = None
    for t in range(4):
        x, y = torch.randn(32, 3) * (1 + t), torch.randn(32, 3)
        before = _matrix(layer)
        _step(opt, layer, x, _half_squared_error(y))
        state = opt.state[layer.weight]
        if t % 2 == 0:
            bases = ((state["A_eigvals"].clone(), state["A_eigvecs"].clone()),
                     (state["S_eigvals"].clone(), state["S_eigvecs"].clone()))
        grad = torch.cat([layer.weight.grad, layer.bias.grad.unsqueeze(1)], 1)
        momentum = mu * momentum + precondition(grad, *bases, 1e-2)
        torch.testing.assert_close(_matrix(layer), before - lr * momentum, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("d_in, classes", [(3, 4), (5, 6)])
def test_square_block_factors_and_step_match_the_explicit_kronecker_solve(float64, d_in, classes):
    # [W | b] is square (d_in + 1 = classes): A and S have the same size, so a swapped orientation would run.
    torch.manual_seed(5)
    batch, damping = 24, 1e-2
    layer = nn.Linear(d_in, classes)
    x = torch.randn(batch, d_in) @ torch.randn(d_in, d_in) + 0.5
    labels = torch.randint(0, classes, (batch,))
    opt = KFAC(layer, lr=1.0, loss_type="cross_entropy", fisher="exact", momentum=0.0, damping=damping,
               factor_decay=0.0, kl_clip=None, factor_dtype=F64)
    before = _matrix(layer)
    with torch.no_grad():
        probs = torch.softmax(layer(x), -1)
    a_factor = _with_ones(x).T @ _with_ones(x) / batch
    s_factor = (torch.diag_embed(probs) - probs.unsqueeze(2) * probs.unsqueeze(1)).mean(0)
    grad_w, grad_b = torch.autograd.grad(F.cross_entropy(layer(x), labels), [layer.weight, layer.bias])
    grad = torch.cat([grad_w, grad_b.unsqueeze(1)], 1)
    kron = torch.kron(s_factor, a_factor) + damping * torch.eye(grad.numel())  # row-major vec of (out × in)
    expected = before - torch.linalg.solve(kron, grad.reshape(-1)).reshape(grad.shape)
    _step(opt, layer, x, lambda out: F.cross_entropy(out, labels))
    torch.testing.assert_close(opt.state[layer.weight]["A"], a_factor)
    torch.testing.assert_close(opt.state[layer.weight]["S"], s_factor)
    torch.testing.assert_close(_matrix(layer), expected, rtol=1e-9, atol=1e-12)


def test_kl_clip_on_a_square_block_uses_the_fisher_norm(float64):
    # ν = √(κ / (lr² Uᵀ(A ⊗ S + λI)U)) with A ⊗ S in the (out × in) orientation.
    torch.manual_seed(6)
    layer = nn.Linear(3, 4)
    x, y = torch.randn(40, 3) * torch.tensor([3.0, 1.0, 0.2]), 5 * torch.randn(40, 4)
    lr, damping, kl = 0.5, 1e-3, 1e-4
    opt = KFAC(layer, lr=lr, loss_type="mse", fisher="exact", momentum=0.0, damping=damping, factor_decay=0.0,
               kl_clip=kl, factor_dtype=F64)
    before = _matrix(layer)
    _step(opt, layer, x, _half_squared_error(y))
    state = opt.state[layer.weight]
    kron = torch.kron(state["S"], state["A"]) + damping * torch.eye(16)
    grad = torch.cat([layer.weight.grad, layer.bias.grad.unsqueeze(1)], 1).reshape(-1)
    free = torch.linalg.solve(kron, grad)
    nu = min(1.0, (kl / (lr**2 * float(free @ kron @ free))) ** 0.5)
    assert nu < 1.0
    torch.testing.assert_close(_matrix(layer), before - lr * nu * free.reshape(4, 4), rtol=1e-9, atol=1e-12)


def test_gru_output_factors_are_the_gate_gradients_of_each_block(float64):
    # Exact Gaussian Fisher: for each output coordinate j the cotangent e_j reaches the GRU's last output as
    # W_head[j]; S_ih = Σ_j Σ_t g_i g_iᵀ / N and S_hh = Σ_j Σ_t g_h g_hᵀ / N with (g_i, g_h) the
    # input-side and hidden-side gate pre-activation gradients.
    torch.manual_seed(7)
    model = RecurrentHead(hidden=4)
    x, y = torch.randn(5, 6, 3), torch.randn(5, 2)
    opt = KFAC(model, loss_type="mse", fisher="exact", factor_decay=0.0, factor_dtype=F64)
    s_ih = torch.zeros(12, 12)
    s_hh = torch.zeros(12, 12)
    for j in range(2):
        grad_out = torch.zeros(5, 6, 4)
        grad_out[:, -1] = model.head.weight.detach()[j]
        ((_, _, g_i, g_h),) = gru_gate_gradients(model.gru, x, None, grad_out, None)
        s_ih += g_i.T @ g_i / 5
        s_hh += g_h.T @ g_h / 5
    assert not torch.allclose(s_ih, s_hh, rtol=0.1)
    _step(opt, model, x, _half_squared_error(y))
    torch.testing.assert_close(opt.state[model.gru.weight_ih_l0]["S"], s_ih)
    torch.testing.assert_close(opt.state[model.gru.weight_hh_l0]["S"], s_hh)
