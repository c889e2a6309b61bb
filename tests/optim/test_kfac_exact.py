"""K-FAC, value by value: factors, EMA, sampled-Fisher normalisation, momentum, square blocks, GRU output
factors. Each test pins one line of the algorithm that a "loss went down" test lets through."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as F

from strategist.optim._kfac_blocks import gru_gate_gradients
from strategist.optim.kfac import KFAC, fisher_quadratic, precondition

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


# ---------------------------------------------------------------------------------------------------------
# The Fisher quadratic form, the KL clip's threshold, factors of (N, T, C) outputs

def test_fisher_quadratic_is_the_damped_kronecker_quadratic_form(float64, spd):
    # Uᵀ(A ⊗ S + λI)U for a non-square (out × in) U, against the explicit Kronecker product (row-major vec).
    a_factor, _ = spd(4, torch.tensor([3.0, 1.0, 0.5, 0.1]), seed=1)
    s_factor, _ = spd(3, torch.tensor([2.0, 0.7, 0.2]), seed=2)
    step = torch.randn(3, 4, generator=torch.Generator().manual_seed(3), dtype=F64)
    damping = 0.05
    kron = torch.kron(s_factor, a_factor) + damping * torch.eye(12)
    expected = step.reshape(-1) @ kron @ step.reshape(-1)
    eig_a, eig_s = torch.linalg.eigh(a_factor), torch.linalg.eigh(s_factor)
    got = fisher_quadratic(step, (eig_a.eigenvalues, eig_a.eigenvectors), (eig_s.eigenvalues, eig_s.eigenvectors),
                           damping)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=0.0)


def _least_squares_step(layer: nn.Linear, x: torch.Tensor, y: torch.Tensor, damping: float):
    """The free (unclipped) exact natural-gradient step of 0.5‖Wx̃ − y‖² and the Kronecker matrix it uses:
    A = mean x̃x̃ᵀ, S = I (the unit-variance Gaussian's Fisher at a Linear output)."""
    a_factor = _with_ones(x).T @ _with_ones(x) / len(x)
    size = layer.out_features * len(a_factor)
    kron = torch.kron(torch.eye(layer.out_features), a_factor) + damping * torch.eye(size)
    residual = _with_ones(x) @ _matrix(layer).T - y
    grad = residual.T @ _with_ones(x) / len(x)
    free = torch.linalg.solve(kron, grad.reshape(-1))
    return free, kron


def test_kl_clip_threshold_is_on_lr_squared_times_the_fisher_norm(float64):
    # κ = 0.75·lr²·UᵀFU with lr = 0.5: the step is clipped (lr³·UᵀFU = 0.5·lr²·UᵀFU would be under κ) by
    # ν = √0.75, and a clip κ just above lr²·UᵀFU leaves it alone.
    torch.manual_seed(8)
    layer = nn.Linear(3, 2)
    x, y = torch.randn(20, 3) + 0.5, torch.randn(20, 2)
    lr, damping = 0.5, 1e-2
    free, kron = _least_squares_step(layer, x, y, damping)
    quadratic = float(free @ kron @ free)
    for kl, nu in ((0.75 * lr**2 * quadratic, 0.75 ** 0.5), (1.01 * lr**2 * quadratic, 1.0)):
        model = nn.Linear(3, 2)
        model.load_state_dict(layer.state_dict())
        opt = KFAC(model, lr=lr, loss_type="mse", fisher="exact", damping=damping, factor_decay=0.0, kl_clip=kl,
                   factor_dtype=F64)
        _step(opt, model, x, _half_squared_error(y))
        torch.testing.assert_close(_matrix(model), _matrix(layer) - lr * nu * free.reshape(2, 4), rtol=1e-10,
                                   atol=1e-12)


def _cross_entropy_fisher(logits: torch.Tensor) -> torch.Tensor:
    """Σ_n diag(p_n) − p_n p_nᵀ over the rows of ``logits`` (classes last)."""
    probs = torch.softmax(logits.detach().reshape(-1, logits.shape[-1]).to(F64), -1)
    return (torch.diag_embed(probs) - probs.unsqueeze(2) * probs.unsqueeze(1)).sum(0)


@pytest.mark.parametrize("loss_type", ["cross_entropy", "mse"])
def test_every_position_of_batch_time_class_outputs_is_one_example(float64, loss_type):
    # Outputs (N, T, C) with T ≠ C: the classes are the last axis and N·T positions are the examples, so
    # A = Σ x̃x̃ᵀ / NT and S = Σ F_n / NT (F_n = diag p − ppᵀ, or I for the Gaussian).
    torch.manual_seed(9)
    layer = nn.Linear(3, 4)
    x = torch.randn(2, 5, 3)
    opt = KFAC(layer, loss_type=loss_type, fisher="exact", factor_decay=0.0, factor_dtype=F64)
    if loss_type == "cross_entropy":
        labels = torch.randint(0, 4, (2, 5))
        loss_fn = lambda out: F.cross_entropy(out.reshape(-1, 4), labels.reshape(-1))  # noqa: E731
    else:
        loss_fn = _half_squared_error(torch.randn(2, 5, 4))
    opt.zero_grad()
    with opt.capture():
        out = layer(x)
    opt.backward(loss_fn(out), out)  # a Gaussian loss over (N, T, C) is not checked for a class axis
    rows = _with_ones(x.reshape(10, 3))
    s_factor = _cross_entropy_fisher(out) / 10 if loss_type == "cross_entropy" else torch.eye(4)
    torch.testing.assert_close(opt.state[layer.weight]["A"], rows.T @ rows / 10)
    torch.testing.assert_close(opt.state[layer.weight]["S"], s_factor)


def test_half_precision_logits_are_turned_into_probabilities_in_float32():
    # A class of probability ≈ 2e-9 rounds to 0 in a float16 softmax; from float32 probabilities its Fisher
    # entry p(1 − p) survives the float16 cotangents (as a subnormal) and reaches S.
    layer = nn.Linear(2, 3).half()
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.copy_(torch.tensor([0.0, 0.0, -20.0]))
    opt = KFAC(layer, fisher="exact", factor_decay=0.0)
    with opt.capture():
        out = layer(torch.randn(4, 2).half())
    assert opt.update_factors(out)
    expected = _cross_entropy_fisher(out.float()) / 4
    assert expected[2, 2] > 1e-9
    torch.testing.assert_close(opt.state[layer.weight]["S"].double(), expected, rtol=1e-2, atol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Factor statistics: which are folded, which skipped, what a subclass is told

class _Recording(KFAC):
    """Records what each EMA update is told the new statistic averages."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.averaged: list[tuple[tuple[int, ...], float]] = []

    def _average_factor(self, factor, new, decay, samples) -> None:
        self.averaged.append((tuple(factor.shape), samples))
        super()._average_factor(factor, new, decay, samples)


def test_the_ema_update_is_told_how_many_outer_products_each_new_factor_averages(float64):
    # A averages one outer product per input row; S one per example and sampled target.
    torch.manual_seed(10)
    layer = nn.Linear(3, 2)
    opt = _Recording(layer, loss_type="mse", fisher="sampled", fisher_samples=3, factor_dtype=F64)
    for rows in (5, 7):
        with opt.capture():
            out = layer(torch.randn(rows, 3))
        assert opt.update_factors(out)
    assert opt.averaged == [((4, 4), 7), ((2, 2), 7 * 3)]  # the first batch initialises the factors


class _Scaled(nn.Module):
    """An input layer followed by a huge output layer: its output gradients overflow float32 when squared."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Linear(2, 3)
        self.outer = nn.Linear(3, 2)
        with torch.no_grad():
            self.outer.weight.mul_(1e25)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outer(self.inner(x))


def test_a_layer_whose_output_statistics_overflow_is_skipped_alone():
    # inner: A finite, S = Σ (W_outᵀ e_j)(W_outᵀ e_j)ᵀ ≈ 1e50 overflows float32, so its factors are not set
    # (counted); outer, after it, still gets its factors: A = mean h̃h̃ᵀ, S = I.
    torch.manual_seed(11)
    model = _Scaled()
    x = torch.randn(6, 2)
    opt = KFAC(model, loss_type="mse", fisher="exact", factor_decay=0.0)
    with opt.capture():
        out = model(x)
    assert torch.isfinite(out).all()
    assert opt.update_factors(out)
    assert "A" not in opt.state[model.inner.weight]
    assert opt.health.skipped_updates == 1
    hidden = _with_ones(model.inner(x).detach().double())
    torch.testing.assert_close(opt.state[model.outer.weight]["A"].double(), hidden.T @ hidden / 6,
                               rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(opt.state[model.outer.weight]["S"], torch.eye(2))


class _Bypassed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(2, 2)
        self.scale = nn.Parameter(torch.ones(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


def test_a_captured_forward_that_reaches_no_kfac_layer_sets_no_factors(float64):
    torch.manual_seed(12)
    model = _Bypassed()
    opt = KFAC(model, loss_type="mse", fisher="exact")
    with opt.capture():
        out = model(torch.randn(4, 2))
    assert opt.update_factors(out)
    assert "A" not in opt.state[model.layer.weight] and opt.health.skipped_updates == 0


def test_factor_statistics_are_made_on_the_layers_device_not_the_default_one(float64):
    # Under another default device (here "meta", which holds no values) the counts and sums stay on the
    # layer's device.
    torch.manual_seed(13)
    layer = nn.Linear(3, 2)
    x = torch.randn(5, 3)
    opt = KFAC(layer, loss_type="mse", fisher="exact", factor_dtype=F64)
    with torch.device("meta"):
        with opt.capture():
            out = layer(x)
        assert opt.update_factors(out)
    torch.testing.assert_close(opt.state[layer.weight]["A"], _with_ones(x).T @ _with_ones(x) / 5)


# ---------------------------------------------------------------------------------------------------------
# Distributed: the factor sums and counts are all-reduced

@pytest.fixture
def process_group(tmp_path):
    """A real single-process gloo group (world size 1)."""
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_a_single_process_group_reduces_nothing(float64, process_group, monkeypatch):
    calls = []
    monkeypatch.setattr(dist, "all_reduce", lambda *args, **kwargs: calls.append(args))
    torch.manual_seed(14)
    layer = nn.Linear(3, 2)
    x = torch.randn(5, 3)
    opt = KFAC(layer, loss_type="mse", fisher="exact", factor_dtype=F64)
    _step(opt, layer, x, _half_squared_error(torch.randn(5, 2)))
    assert calls == []
    torch.testing.assert_close(opt.state[layer.weight]["A"], _with_ones(x).T @ _with_ones(x) / 5)


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.second = nn.Linear(3, 4)
        self.use_second = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.first(x) + self.second(x) if self.use_second else self.first(x)


def test_two_ranks_hold_the_factors_of_their_joint_batch(float64, process_group, monkeypatch):
    # Two processes simulated in one: rank B's reduced vector is recorded, then added to rank A's in its
    # all-reduce (a sum over the two ranks). Rank B calls both heads, rank A only the first, so A's second
    # head sends zero sums and counts. Expected on rank A, with F_n = diag p_n − p_n p_nᵀ:
    #   first:  A = (Σ_a x̃x̃ᵀ + Σ_b x̃x̃ᵀ) / (n_a + n_b),  S = (Σ_a F_n + Σ_b F_n) / (n_a + n_b)
    #   second: A = Σ_b x̃x̃ᵀ / n_b,                      S = Σ_b F_n / (n_a + n_b)
    # Rank A runs under another default device: its zero sums are made on the layers' device.
    monkeypatch.setattr(dist, "get_world_size", lambda *args, **kwargs: 2)
    torch.manual_seed(15)
    rank_a = _TwoHeads()
    rank_b = copy.deepcopy(rank_a)
    rank_a.use_second = False
    x_a, x_b = torch.randn(4, 3), torch.randn(6, 3) + 1.0
    options = dict(loss_type="cross_entropy", fisher="exact", factor_decay=0.0, factor_dtype=torch.float32)
    opt_a, opt_b = KFAC(rank_a, **options), KFAC(rank_b, **options)
    sent = []

    def record(tensor, *args, **kwargs):
        sent.append(tensor.clone())

    def add_rank_b(tensor, *args, **kwargs):
        tensor.add_(sent.pop())

    monkeypatch.setattr(dist, "all_reduce", record)
    with opt_b.capture():
        out_b = rank_b(x_b)
    assert opt_b.update_factors(out_b)
    assert len(sent) == 1
    monkeypatch.setattr(dist, "all_reduce", add_rank_b)
    with torch.device("meta"):
        with opt_a.capture():
            out_a = rank_a(x_a)
        assert opt_a.update_factors(out_a)
    assert sent == []
    inputs_a, inputs_b = _with_ones(x_a), _with_ones(x_b)
    fisher_a, fisher_b = _cross_entropy_fisher(out_a), _cross_entropy_fisher(out_b)
    expected = {
        "first": ((inputs_a.T @ inputs_a + inputs_b.T @ inputs_b) / 10, (fisher_a + fisher_b) / 10),
        "second": (inputs_b.T @ inputs_b / 6, fisher_b / 10),
    }
    for name, (a_factor, s_factor) in expected.items():
        state = opt_a.state[getattr(rank_a, name).weight]
        assert state["A"].dtype == state["S"].dtype == torch.float32
        torch.testing.assert_close(state["A"].double(), a_factor, rtol=1e-5, atol=1e-6, msg=name)
        torch.testing.assert_close(state["S"].double(), s_factor, rtol=1e-5, atol=1e-6, msg=name)
