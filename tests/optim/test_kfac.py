"""K-FAC: exact natural gradients where the factorisation is exact, GRU factors, numerics, fallbacks."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import strategist.optim._linalg as linalg
from strategist.errors import ConfigurationError
from strategist.optim._kfac_blocks import gru_gate_gradients
from strategist.optim.kfac import KFAC, precondition
from strategist.optim.layerwise import layerwise_kfac_step

from ._cases import RecurrentHead

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    """Small matrices: one thread avoids OpenMP contention on a shared 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _train_step(opt: KFAC, model: nn.Module, x: torch.Tensor, loss_fn, capture: bool = True) -> float:
    opt.zero_grad()
    with opt.capture(enabled=capture):
        out = model(x)
    loss = loss_fn(out)
    opt.backward(loss, out)
    opt.step()
    return loss.item()


def _half_squared_error(y: torch.Tensor):
    return lambda out: 0.5 * (out - y).square().sum(-1).mean()


def _exact_kfac(model: nn.Module, **options) -> KFAC:
    settings = dict(lr=1.0, loss_type="mse", fisher="exact", momentum=0.0, kl_clip=None, factor_decay=0.0,
                    factor_dtype=F64)
    settings.update(options)
    return KFAC(model, **settings)


def test_linear_least_squares_step_is_the_exact_natural_gradient(float64):
    # One Linear layer under a unit-variance Gaussian: the Fisher is mean_n J_n^T J_n = A (x) I exactly,
    # so the K-FAC step must equal -(F + lambda I)^-1 g with F built from per-example Jacobians.
    torch.manual_seed(0)
    n, d_in, d_out, damping = 40, 5, 3, 1e-2
    layer = nn.Linear(d_in, d_out)
    x = torch.randn(n, d_in) @ torch.randn(d_in, d_in) + 0.3
    y = torch.randn(n, d_out)
    theta = torch.cat([layer.weight.detach().reshape(-1), layer.bias.detach()])

    def predict(params, inputs):
        weight, bias = params[: d_out * d_in].reshape(d_out, d_in), params[d_out * d_in:]
        return inputs @ weight.T + bias

    jac = torch.autograd.functional.jacobian(lambda p: predict(p, x), theta)  # n x d_out x params
    fisher = torch.einsum("nop,noq->pq", jac, jac) / n
    grad = torch.autograd.functional.jacobian(lambda p: 0.5 * (predict(p, x) - y).square().sum(-1).mean(), theta)
    expected = theta - torch.linalg.solve(fisher + damping * torch.eye(len(theta)), grad)

    opt = _exact_kfac(layer, damping=damping)
    _train_step(opt, layer, x, _half_squared_error(y))
    got = torch.cat([layer.weight.detach().reshape(-1), layer.bias.detach()])
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_cross_entropy_factors_and_step_match_explicit_kronecker_algebra(float64):
    # Logits over a (batch, time) grid: every position is one example. A = mean [x;1][x;1]^T,
    # S = mean (diag p - p p^T) (the exact categorical Fisher at the logits), step -(S (x) A + lambda)^-1 g.
    torch.manual_seed(1)
    batch, steps, d_in, classes, damping = 6, 4, 5, 4, 1e-3
    layer = nn.Linear(d_in, classes)
    x = torch.randn(batch, steps, d_in)
    labels = torch.randint(0, classes, (batch, steps))
    opt = _exact_kfac(layer, loss_type="cross_entropy", damping=damping)

    before = torch.cat([layer.weight.detach(), layer.bias.detach().unsqueeze(1)], 1)
    with torch.no_grad():
        probs = torch.softmax(layer(x), -1).reshape(-1, classes)
    rows = torch.cat([x.reshape(-1, d_in), torch.ones(batch * steps, 1)], 1)
    a_factor = rows.T @ rows / len(rows)
    s_factor = (torch.diag_embed(probs) - probs.unsqueeze(2) * probs.unsqueeze(1)).mean(0)
    loss_fn = lambda out: F.cross_entropy(out.reshape(-1, classes), labels.reshape(-1))  # noqa: E731
    grad_w, grad_b = torch.autograd.grad(loss_fn(layer(x)), [layer.weight, layer.bias])
    grad = torch.cat([grad_w, grad_b.unsqueeze(1)], 1)
    kron = torch.kron(s_factor, a_factor)  # row-major vec of the (out x in) matrix
    expected = before - torch.linalg.solve(kron + damping * torch.eye(len(kron)), grad.reshape(-1)).reshape(
        grad.shape)

    _train_step(opt, layer, x, loss_fn)
    state = opt.state[layer.weight]
    torch.testing.assert_close(state["A"], a_factor, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(state["S"], s_factor, rtol=1e-12, atol=1e-14)
    after = torch.cat([layer.weight.detach(), layer.bias.detach().unsqueeze(1)], 1)
    torch.testing.assert_close(after, expected, rtol=1e-9, atol=1e-12)


def test_two_layer_linear_network_matches_the_stylised_update(float64):
    # f(x) = F G x: with the exact Gaussian factor, K-FAC's blocks are (Sigma_x, F^T F) for G and
    # (G Sigma_x G^T, I) for F; with negligible damping this is the stylised update of arXiv 2502.01763.
    torch.manual_seed(2)
    n, d_x, k, d_y, lr = 200, 10, 3, 6, 0.5
    x = torch.randn(n, d_x) * torch.logspace(0, -1, d_x)
    y = torch.randn(n, d_y)
    model = nn.Sequential(nn.Linear(d_x, k, bias=False), nn.Linear(k, d_y, bias=False))
    G0, F0 = model[0].weight.detach().clone(), model[1].weight.detach().clone()
    F1, G1 = layerwise_kfac_step(F0, G0, x, y, lr=lr, damping=1e-10, alternating=False)
    opt = _exact_kfac(model, lr=lr, damping=1e-10)
    _train_step(opt, model, x, _half_squared_error(y))
    torch.testing.assert_close(model[0].weight.detach(), G1, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(model[1].weight.detach(), F1, rtol=1e-6, atol=1e-8)
    assert not torch.allclose(G1, G0) and not torch.allclose(F1, F0)


def test_stylised_update_preconditions_as_documented(float64):
    torch.manual_seed(3)
    n, d_x, k, d_y, lam = 50, 6, 2, 4, 0.1
    x, y = torch.randn(n, d_x), torch.randn(n, d_y)
    F0, G0 = torch.randn(d_y, k), torch.randn(k, d_x)
    Fp, Gp = F0.clone().requires_grad_(), G0.clone().requires_grad_()
    loss = 0.5 * (x @ Gp.T @ Fp.T - y).square().sum(-1).mean()
    grad_F, grad_G = torch.autograd.grad(loss, [Fp, Gp])
    cov_x = x.T @ x / n
    cov_h = G0 @ cov_x @ G0.T
    expected_G = G0 - 0.3 * torch.linalg.inv(F0.T @ F0 + lam * torch.eye(k)) @ grad_G @ torch.linalg.inv(
        cov_x + lam * torch.eye(d_x))
    expected_F = F0 - 0.2 * grad_F @ torch.linalg.inv(cov_h + lam * torch.eye(k))
    F1, G1 = layerwise_kfac_step(F0, G0, x, y, lr=0.3, lr_F=0.2, damping=lam, alternating=False)
    torch.testing.assert_close(G1, expected_G)
    torch.testing.assert_close(F1, expected_F)
    # Alternating (the default): F's gradient and hidden covariance are taken at the updated G.
    Fa = F0.clone().requires_grad_()
    loss_at_new_G = 0.5 * (x @ expected_G.T @ Fa.T - y).square().sum(-1).mean()
    (grad_F_new,) = torch.autograd.grad(loss_at_new_G, [Fa])
    cov_h_new = expected_G @ cov_x @ expected_G.T
    F_alt, G_alt = layerwise_kfac_step(F0, G0, x, y, lr=0.3, lr_F=0.2, damping=lam)
    torch.testing.assert_close(G_alt, expected_G)
    torch.testing.assert_close(F_alt, F0 - 0.2 * grad_F_new @ torch.linalg.inv(cov_h_new + lam * torch.eye(k)))
    _, G_right_only = layerwise_kfac_step(F0, G0, x, y, lr=0.3, damping=lam, left_precondition=False)
    torch.testing.assert_close(G_right_only, G0 - 0.3 * grad_G @ torch.linalg.inv(cov_x + lam * torch.eye(d_x)))
    with pytest.raises(ConfigurationError):
        layerwise_kfac_step(F0, G0.T, x, y, lr=0.1)


def test_sampled_targets_estimate_the_exact_fisher():
    torch.manual_seed(4)
    layer = nn.Linear(3, 4)
    x = torch.randn(20000, 3)
    factors = {}
    for fisher in ("sampled", "exact"):
        opt = KFAC(layer, loss_type="cross_entropy", fisher=fisher, factor_dtype=F64)
        opt.zero_grad()
        with opt.capture():
            out = layer(x)
        opt.update_factors(out)
        factors[fisher] = opt.state[layer.weight]["S"]
    error = torch.linalg.norm(factors["sampled"] - factors["exact"]) / torch.linalg.norm(factors["exact"])
    assert error < 0.05


def test_empirical_fisher_shrinks_with_the_residual_the_true_fisher_does_not():
    # At a good fit the loss gradients are the noise: their covariance is sigma^2 I and vanishes as the
    # fit improves, while the model's Fisher (targets sampled from the model) stays I for a Gaussian.
    torch.manual_seed(5)
    d_in, d_out, n = 4, 3, 4000
    truth = nn.Linear(d_in, d_out)
    x = torch.randn(n, d_in)
    traces = {}
    for sigma in (0.1, 0.01):
        y = truth(x).detach() + sigma * torch.randn(n, d_out)
        for fisher in ("sampled", "empirical"):
            model = copy.deepcopy(truth)
            opt = KFAC(model, loss_type="mse", fisher=fisher)
            with opt.capture():
                out = model(x)
            loss = _half_squared_error(y)(out)
            opt.update_factors(out, loss)
            traces[fisher, sigma] = torch.trace(opt.state[model.weight]["S"]).item() / d_out
    assert traces["sampled", 0.1] == pytest.approx(1.0, rel=0.1)
    assert traces["sampled", 0.01] == pytest.approx(1.0, rel=0.1)
    assert traces["empirical", 0.1] == pytest.approx(0.1**2, rel=0.15)
    assert traces["empirical", 0.01] == pytest.approx(0.01**2, rel=0.15)


@pytest.mark.parametrize("batch_first,batched,with_h0", [(True, True, True), (False, True, False),
                                                         (True, False, True)])
def test_gru_gate_gradients_reproduce_torch_weight_gradients(float64, batch_first, batched, with_h0):
    # The gate pre-activation gradients from the replay must give nn.GRU's own weight gradients:
    # dL/dW_ih = sum_t g_i,t x_t^T, dL/dW_hh = sum_t g_h,t h_{t-1}^T, bias gradients sum_t g.
    torch.manual_seed(6)
    layers, d_in, hidden, batch, steps = 2, 3, 5, 4, 6
    gru = nn.GRU(d_in, hidden, num_layers=layers, batch_first=batch_first)
    if batched:
        x = torch.randn(batch, steps, d_in) if batch_first else torch.randn(steps, batch, d_in)
        h0 = torch.randn(layers, batch, hidden) if with_h0 else None
    else:
        x, h0 = torch.randn(steps, d_in), torch.randn(layers, hidden)
    out, h_n = gru(x, h0)
    weight_out, weight_h = torch.randn_like(out), torch.randn_like(h_n)
    ((out * weight_out).sum() + (h_n * weight_h).sum()).backward()
    for k, (inputs, previous, grad_i, grad_h) in enumerate(gru_gate_gradients(gru, x, h0, weight_out, weight_h)):
        torch.testing.assert_close(grad_i.T @ inputs, getattr(gru, f"weight_ih_l{k}").grad)
        torch.testing.assert_close(grad_h.T @ previous, getattr(gru, f"weight_hh_l{k}").grad)
        torch.testing.assert_close(grad_i.sum(0), getattr(gru, f"bias_ih_l{k}").grad)
        torch.testing.assert_close(grad_h.sum(0), getattr(gru, f"bias_hh_l{k}").grad)


def test_gru_input_factors_come_from_the_sequence_and_previous_hidden_states(float64):
    torch.manual_seed(7)
    model = RecurrentHead(hidden=4)
    x, y = torch.randn(5, 6, 3), torch.randn(5, 2)
    opt = _exact_kfac(model)
    assert opt.preconditioned_layers == ["gru.weight_ih_l0", "gru.weight_hh_l0", "head"]
    with torch.no_grad():
        out, _ = model.gru(x)
    previous = torch.cat([torch.zeros(5, 1, 4), out[:, :-1]], 1).reshape(-1, 4)
    inputs = x.reshape(-1, 3)
    ones = torch.ones(30, 1)
    _train_step(opt, model, x, _half_squared_error(y))
    a_ih, a_hh = (torch.cat([m, ones], 1) for m in (inputs, previous))
    torch.testing.assert_close(opt.state[model.gru.weight_ih_l0]["A"], a_ih.T @ a_ih / 30)
    torch.testing.assert_close(opt.state[model.gru.weight_hh_l0]["A"], a_hh.T @ a_hh / 30)
    assert opt.state[model.gru.weight_hh_l0]["S"].shape == (12, 12)


def test_kfac_trains_a_gru_faster_than_tuned_sgd():
    torch.manual_seed(8)
    teacher = RecurrentHead(hidden=8)
    with torch.no_grad():
        for p in teacher.parameters():
            p.mul_(2.5)
    x = torch.randn(256, 8, 3)
    with torch.no_grad():
        y = teacher(x)
    loss_fn = _half_squared_error(y)

    def final_loss(make, kfac: bool, steps: int = 60) -> float:
        torch.manual_seed(108)
        model = RecurrentHead()
        opt = make(model)
        for _ in range(steps):
            if kfac:
                loss = _train_step(opt, model, x, loss_fn)
            else:
                opt.zero_grad()
                loss_t = loss_fn(model(x))
                loss_t.backward()
                opt.step()
                loss = loss_t.item()
        return loss if math.isfinite(loss) else math.inf

    torch.manual_seed(108)
    with torch.no_grad():
        start = loss_fn(RecurrentHead()(x)).item()
    sgd = min(final_loss(lambda m, lr=lr: torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9), False)
              for lr in (0.1, 0.3, 1.0, 3.0))
    kfac = final_loss(lambda m: KFAC(m, loss_type="mse"), True)  # default hyper-parameters
    print(f"start {start:.4f}  best SGD {sgd:.4f}  K-FAC {kfac:.4f}")
    assert kfac < 0.1 * start
    assert kfac < sgd


def _fresh_linear_step(opt, layer, x, y):
    return _train_step(opt, layer, x, _half_squared_error(y))


def test_forced_eigh_failure_keeps_the_last_eigenbasis_and_counts_it(monkeypatch):
    torch.manual_seed(9)
    layer = nn.Linear(4, 3)
    x, y = torch.randn(32, 4), torch.randn(32, 3)
    opt = KFAC(layer, loss_type="mse", inverse_every=1, kl_clip=None, momentum=0.0, lr=0.1)
    _fresh_linear_step(opt, layer, x, y)
    state = opt.state[layer.weight]
    kept = {key: state[key].clone() for key in ("A_eigvals", "A_eigvecs", "S_eigvals", "S_eigvecs")}
    assert opt.health.refreshes == 1 and opt.health.failures == 0

    def broken(matrix):
        raise RuntimeError("forced eigh failure")

    monkeypatch.setattr(linalg, "_eigh", broken)
    start = torch.cat([layer.weight.detach(), layer.bias.detach().unsqueeze(1)], 1)
    _fresh_linear_step(opt, layer, x + 1.0, y)
    assert opt.health.failures == 1 and opt.health.consecutive_failures == 1
    assert state["refresh_failures"] == 1
    for key, value in kept.items():
        assert torch.equal(state[key], value), key
    # The step was taken with the kept eigenbasis.
    grad = torch.cat([layer.weight.grad, layer.bias.grad.unsqueeze(1)], 1)
    expected = start - 0.1 * precondition(grad, (kept["A_eigvals"], kept["A_eigvecs"]),
                                          (kept["S_eigvals"], kept["S_eigvecs"]), 1e-3)
    torch.testing.assert_close(torch.cat([layer.weight.detach(), layer.bias.detach().unsqueeze(1)], 1), expected)


def test_float32_eigh_failure_is_retried_in_float64(monkeypatch):
    calls = []
    real = linalg._eigh

    def float64_only(matrix):
        calls.append(matrix.dtype)
        if matrix.dtype != torch.float64:
            raise RuntimeError("forced float32 failure")
        return real(matrix)

    monkeypatch.setattr(linalg, "_eigh", float64_only)
    torch.manual_seed(10)
    layer = nn.Linear(4, 3)
    opt = KFAC(layer, loss_type="mse")
    _fresh_linear_step(opt, layer, torch.randn(16, 4), torch.randn(16, 3))
    assert opt.health.refreshes == 1 and opt.health.failures == 0
    assert torch.float32 in calls and torch.float64 in calls
    assert opt.state[layer.weight]["A_eigvecs"].dtype == torch.float32


def test_kl_clip_bounds_the_fisher_norm_of_the_step(float64):
    torch.manual_seed(11)
    layer = nn.Linear(5, 3)
    x, y = torch.randn(64, 5), 10 * torch.randn(64, 3)
    free, clipped = copy.deepcopy(layer), copy.deepcopy(layer)
    kl_clip, lr = 1e-4, 0.5
    _train_step(_exact_kfac(free, lr=lr), free, x, _half_squared_error(y))
    opt = _exact_kfac(clipped, lr=lr, kl_clip=kl_clip)
    _train_step(opt, clipped, x, _half_squared_error(y))
    step_free = torch.cat([(free.weight - layer.weight).detach(), (free.bias - layer.bias).detach().unsqueeze(1)], 1)
    step_clipped = torch.cat([(clipped.weight - layer.weight).detach(),
                              (clipped.bias - layer.bias).detach().unsqueeze(1)], 1)
    state = opt.state[clipped.weight]
    kron = torch.kron(state["S"], state["A"]) + 1e-3 * torch.eye(step_free.numel())
    quadratic = lambda s: float(s.reshape(-1) @ kron @ s.reshape(-1))  # noqa: E731
    assert quadratic(step_free) > kl_clip  # the clip is active ...
    assert quadratic(step_clipped) == pytest.approx(kl_clip, rel=1e-9)  # ... and binds exactly
    torch.testing.assert_close(step_clipped, step_free * math.sqrt(kl_clip / quadratic(step_free)))


class _Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 6)
        self.wide = nn.Linear(6, 40)
        self.norm = nn.LayerNorm(40)
        self.bi = nn.GRU(40, 4, batch_first=True, bidirectional=True)
        self.head = nn.Linear(8, 3)
        self.unused = nn.Linear(3, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.wide(self.embed(tokens)))
        out, _ = self.bi(h)
        return self.head(out)


def test_parameters_outside_the_supported_layers_take_the_base_adamw_step(float64):
    torch.manual_seed(12)
    model = _Mixed()
    reference = copy.deepcopy(model)
    with pytest.warns(UserWarning, match=r"leaves these layers to the fallback optimizer: wide .*max_factor_dim=32.*bi"):
        opt = KFAC(model, max_factor_dim=32, fallback_lr=1e-2, fallback_weight_decay=0.1, skip_modules=["unused"])
    assert opt.preconditioned_layers == ["head"]  # wide: 41 > 32; bidirectional GRU; unused: skipped
    base = [p for p in reference.parameters() if not any(p is q for q in reference.head.parameters())]
    adamw = torch.optim.AdamW(base, lr=1e-2, weight_decay=0.1)
    tokens, labels = torch.randint(0, 10, (4, 5)), torch.randint(0, 3, (4, 5))
    loss_fn = lambda out: F.cross_entropy(out.reshape(-1, 3), labels.reshape(-1))  # noqa: E731
    for _ in range(3):
        adamw.zero_grad()
        loss_fn(reference(tokens)).backward()
        adamw.step()
        _train_step(opt, model, tokens, loss_fn)
        with torch.no_grad():  # the reference's head follows K-FAC's, so the other gradients agree
            reference.head.load_state_dict(model.head.state_dict())
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, msg=name)
    assert opt.state[model.head.weight]["A"].shape == (9, 9)


def test_sgd_fallback_and_layers_without_factors_yet(float64):
    torch.manual_seed(13)
    layer = nn.Linear(4, 2)
    reference = copy.deepcopy(layer)
    opt = KFAC(layer, lr=0.1, momentum=0.5, fallback="sgd")
    sgd = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.5)
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    with pytest.warns(UserWarning, match="has no factors yet.*sgd fallback step") as caught:
        for _ in range(2):  # no capture: no factors yet, so the base optimizer steps the layer
            _train_step(opt, layer, x, _half_squared_error(y), capture=False)
            sgd.zero_grad()
            _half_squared_error(y)(reference(x)).backward()
            sgd.step()
    assert sum("no factors yet" in str(w.message) for w in caught) == 1      # warned once, counted every time
    assert opt.health.fallback_updates == 2
    torch.testing.assert_close(layer.weight, reference.weight)
    assert "A" not in opt.state[layer.weight]


def test_non_finite_gradients_are_skipped_and_counted():
    torch.manual_seed(14)
    layer = nn.Linear(3, 2)
    opt = KFAC(layer, loss_type="mse")
    x, y = torch.randn(8, 3), torch.randn(8, 2)
    _fresh_linear_step(opt, layer, x, y)
    before = layer.weight.detach().clone()
    opt.zero_grad()
    out = layer(x)
    opt.backward(_half_squared_error(y)(out), out)
    layer.weight.grad[0, 0] = float("nan")
    opt.step()
    assert torch.equal(layer.weight.detach(), before)
    assert opt.health.skipped_updates == 1


def test_bad_options_and_missing_outputs_raise_configuration_errors():
    layer = nn.Linear(2, 2)
    for options in (dict(loss_type="hinge"), dict(fisher="diagonal"), dict(damping=0.0),
                    dict(factor_decay=1.0), dict(fallback="lion"), dict(factor_dtype=torch.float16)):
        with pytest.raises(ConfigurationError):
            KFAC(layer, **options)
    opt = KFAC(layer)
    with opt.capture():
        out = layer(torch.randn(3, 2))
    with pytest.raises(ConfigurationError, match="output tensor"):
        opt.update_factors(out.detach())


def test_state_dict_round_trip_continues_like_an_uninterrupted_run(float64):
    torch.manual_seed(15)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(7, 4)
            self.gru = nn.GRU(4, 5, batch_first=True)
            self.head = nn.Linear(5, 7)
            self.never = nn.Parameter(torch.zeros(3))  # never receives a gradient

        def forward(self, tokens):
            out, _ = self.gru(self.embed(tokens))
            return self.head(out)

    tokens = torch.randint(0, 7, (6, 5))
    loss_fn = lambda out: F.cross_entropy(out.reshape(-1, 7), tokens.roll(1, 1).reshape(-1))  # noqa: E731
    options = dict(lr=0.3, inverse_every=2, factor_dtype=torch.float32)

    def train(model, opt, steps, seed):
        torch.manual_seed(seed)  # the sampled targets come from the global generator
        for _ in range(steps):
            _train_step(opt, model, tokens, loss_fn)

    model = Net()
    uninterrupted = copy.deepcopy(model)
    opt_u = KFAC(uninterrupted, **options)
    train(uninterrupted, opt_u, 3, seed=1)
    train(uninterrupted, opt_u, 3, seed=2)
    first = copy.deepcopy(model)
    opt_1 = KFAC(first, **options)
    train(first, opt_1, 3, seed=1)
    saved = copy.deepcopy(opt_1.state_dict())
    resumed = copy.deepcopy(first)
    opt_2 = KFAC(resumed, **options)
    opt_2.load_state_dict(saved)
    assert opt_2.state[resumed.head.weight]["A"].dtype == torch.float32  # not cast to the float64 weight
    train(resumed, opt_2, 3, seed=2)
    for p, q in zip(resumed.parameters(), uninterrupted.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert opt_2.health.refreshes == opt_u.health.refreshes


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_step_matches_cpu():
    # float64 throughout: cuDNN runs float32 GRUs in TF32, whose rounding K-FAC's steps then amplify.
    torch.manual_seed(16)
    model = RecurrentHead(hidden=8).double()
    x, y = torch.randn(32, 6, 3, dtype=torch.float64), torch.randn(32, 2, dtype=torch.float64)
    cuda_model = copy.deepcopy(model).cuda()
    for net, inputs, targets in ((model, x, y), (cuda_model, x.cuda(), y.cuda())):
        opt = _exact_kfac(net, lr=0.5, kl_clip=1e-2, momentum=0.5)
        for _ in range(3):
            _train_step(opt, net, inputs, _half_squared_error(targets))
    for p, q in zip(model.parameters(), cuda_model.parameters()):
        torch.testing.assert_close(p, q.cpu(), rtol=1e-6, atol=1e-8)


def test_non_finite_outputs_skip_the_factor_update_instead_of_failing():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    opt = KFAC(model, lr=0.1, loss_type="cross_entropy")
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    opt.zero_grad()
    with opt.capture():
        logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    assert opt.update_factors(logits, loss) is True
    before = {k: v.clone() for k, v in opt.state[model[0].weight].items() if torch.is_tensor(v)}
    skipped = opt.health.as_dict().get("skipped_updates", 0)
    opt.zero_grad()
    with opt.capture():
        logits = model(x) * float("nan")
    assert opt.update_factors(logits) is False
    assert opt.health.as_dict()["skipped_updates"] == skipped + 1
    after = opt.state[model[0].weight]
    for key, value in before.items():
        assert torch.equal(after[key], value), key


def _stylised_reference(F0, G0, x, y, lr, lam):
    """The simultaneous stylised step written out with explicit inverses (float64)."""
    n, k, d_x = x.shape[0], G0.shape[0], x.shape[1]
    residual = x @ G0.T @ F0.T - y
    grad_F, grad_G = residual.T @ (x @ G0.T) / n, F0.T @ residual.T @ x / n
    cov_x = x.T @ x / n
    eye_k, eye_x = torch.eye(k, dtype=F64), torch.eye(d_x, dtype=F64)
    new_G = G0 - lr * torch.linalg.inv(F0.T @ F0 + lam * eye_k) @ grad_G @ torch.linalg.inv(cov_x + lam * eye_x)
    new_F = F0 - lr * grad_F @ torch.linalg.inv(G0 @ cov_x @ G0.T + lam * eye_k)
    return new_F, new_G


def test_stylised_update_damping_default_and_precision():
    # float64 inputs under a float32 default dtype: the damping is added in float64 (λ = 0.1 is not a float32
    # number), and the default λ is 1e-3.
    gen = torch.Generator().manual_seed(41)
    n, d_x, k, d_y = 30, 5, 2, 3
    x = 0.01 * torch.randn(n, d_x, generator=gen, dtype=F64)  # small covariances: λ dominates
    y = torch.randn(n, d_y, generator=gen, dtype=F64)
    F0, G0 = torch.randn(d_y, k, generator=gen, dtype=F64), torch.randn(k, d_x, generator=gen, dtype=F64)
    for lam, kwargs in ((0.1, dict(damping=0.1)), (1e-3, {})):
        F1, G1 = layerwise_kfac_step(F0, G0, x, y, lr=0.5, alternating=False, **kwargs)
        expected_F, expected_G = _stylised_reference(F0, G0, x, y, 0.5, lam)
        assert F1.dtype == G1.dtype == F64
        torch.testing.assert_close(G1, expected_G, rtol=1e-12, atol=1e-13)
        torch.testing.assert_close(F1, expected_F, rtol=1e-12, atol=1e-13)


def test_stylised_update_runs_on_the_inputs_device():
    # The meta device stands in for an accelerator: the damping identities must be made there too.
    meta = lambda *shape: torch.zeros(*shape, device="meta")  # noqa: E731
    F1, G1 = layerwise_kfac_step(meta(4, 2), meta(2, 6), meta(10, 6), meta(10, 4), lr=0.1)
    assert F1.device.type == G1.device.type == "meta" and F1.shape == (4, 2) and G1.shape == (2, 6)


@pytest.mark.parametrize("shapes", [
    dict(F=(3, 2, 1)), dict(G=(2, 5, 1)), dict(x=(8, 5, 1)), dict(y=(8,)),
    dict(F=(3, 4)),          # F's columns are not G's rows
    dict(x=(8, 6)),          # x's width is not G's columns
    dict(y=(8, 4)),          # y's width is not F's rows
    dict(y=(7, 3)),          # different numbers of examples
])
def test_stylised_update_refuses_every_shape_mismatch(shapes):
    sizes = dict(F=(3, 2), G=(2, 5), x=(8, 5), y=(8, 3))
    sizes.update(shapes)
    tensors = {name: torch.ones(*shape, dtype=F64) for name, shape in sizes.items()}
    with pytest.raises(ConfigurationError, match="expected F"):
        layerwise_kfac_step(tensors["F"], tensors["G"], tensors["x"], tensors["y"], lr=0.1)


def test_stylised_update_refuses_zero_damping():
    F0, G0, x, y = torch.ones(3, 2), torch.ones(2, 5), torch.ones(8, 5), torch.ones(8, 3)
    with pytest.raises(ConfigurationError, match="damping"):
        layerwise_kfac_step(F0, G0, x, y, lr=0.1, damping=0.0)
    layerwise_kfac_step(F0, G0, x, y, lr=0.1, damping=1e-6)


# ---------------------------------------------------------------------------------------------------------
# Capturing the factors (strategist.optim._kfac_blocks)

def test_capture_records_only_inside_capture_and_with_gradients_on():
    from strategist.optim._kfac_blocks import CaptureContext

    assert not CaptureContext().active()
    assert CaptureContext(recording=True).active()
    with torch.no_grad():
        assert not CaptureContext(recording=True).active()


def test_a_forward_outside_capture_adds_nothing_to_the_factors(float64):
    torch.manual_seed(40)
    model = nn.Linear(3, 2)
    x, other, y = torch.randn(6, 3), 10 * torch.randn(4, 3), torch.randn(6, 2)
    opt = _exact_kfac(model)
    opt.zero_grad()
    with opt.capture():
        out = model(x)
    model(other)  # e.g. a validation forward with gradients on, between capture and backward
    opt.backward(_half_squared_error(y)(out), out)
    rows = torch.cat([x, torch.ones(6, 1)], 1)
    torch.testing.assert_close(opt.state[model.weight]["A"], rows.T @ rows / 6)


class _TwoCalls(nn.Module):
    """The same Linear applied to two inputs (called by keyword), plus a branch the loss never reads."""

    def __init__(self) -> None:
        super().__init__()
        self.shared = nn.Linear(3, 2)
        self.unused = nn.Linear(3, 2)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        self.unused(x1)
        return torch.cat([self.shared(input=x1), self.shared(x2)])


def test_a_layer_applied_twice_averages_its_inputs_over_both_calls(float64):
    torch.manual_seed(41)
    model = _TwoCalls()
    x1, x2 = torch.randn(5, 3), 3 * torch.randn(2, 3)
    y = torch.randn(7, 2)
    opt = _exact_kfac(model)
    opt.zero_grad()
    with opt.capture():
        out = model(x1, x2)
    opt.backward(_half_squared_error(y)(out), out)
    rows = torch.cat([torch.cat([x1, x2]), torch.ones(7, 1)], 1)
    torch.testing.assert_close(opt.state[model.shared.weight]["A"], rows.T @ rows / 7)
    # Exact Fisher of 0.5‖f − y‖²: S = (1/N) Σ over positions of I, two positions per example here (7 rows
    # of outputs, 7 examples): S = I.
    torch.testing.assert_close(opt.state[model.shared.weight]["S"], torch.eye(2))
    # The branch the loss never reads got inputs but no output gradient: no factors.
    assert "A" not in opt.state[model.unused.weight]


def test_block_gradient_matrix_fills_a_missing_gradient_with_zeros():
    from strategist.optim._kfac_blocks import KroneckerBlock

    layer = nn.Linear(3, 2)
    block = KroneckerBlock("layer", layer.weight, layer.bias, torch.float64)
    assert block.gradient_matrix() is None
    layer.bias.grad = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(block.gradient_matrix(), torch.tensor([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 2.0]]))
    layer.weight.grad, layer.bias.grad = torch.ones(2, 3), None
    torch.testing.assert_close(block.gradient_matrix(), torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0]]))


@pytest.mark.parametrize("bias", [True, False])
def test_block_input_width_is_the_size_of_its_input_factor(bias):
    from strategist.optim._kfac_blocks import KroneckerBlock

    layer = nn.Linear(3, 2, bias=bias)
    block = KroneckerBlock("layer", layer.weight, layer.bias, torch.float64)
    block.add_inputs(torch.randn(4, 3))
    assert block.in_dim == 3 + bias and block.a_sum.shape == (block.in_dim, block.in_dim)


def test_a_frozen_bias_is_left_out_of_the_block(float64):
    torch.manual_seed(42)
    model = nn.Linear(3, 2)
    model.bias.requires_grad_(False)
    bias = model.bias.detach().clone()
    x, y = torch.randn(6, 3), torch.randn(6, 2)
    opt = _exact_kfac(model)
    _train_step(opt, model, x, _half_squared_error(y))
    torch.testing.assert_close(opt.state[model.weight]["A"], x.T @ x / 6)
    assert torch.equal(model.bias.detach(), bias)


class _StatefulGRU(nn.Module):
    """A GRU started from a given state; read at its output's last step or at h_n; called positionally or by
    keyword; optionally after a call whose result is discarded; or as separate one-layer GRUs."""

    def __init__(self, layers: int = 3, read: str = "out", keyword: bool = False, discard: bool = False,
                 split_from: nn.GRU | None = None) -> None:
        super().__init__()
        self.read, self.keyword, self.discard = read, keyword, discard
        self.gru = nn.GRU(2, 3, num_layers=layers, batch_first=True)
        self.layers = None
        if split_from is not None:
            self.layers = nn.ModuleList(nn.GRU(2 if k == 0 else 3, 3, batch_first=True) for k in range(layers))
            for k, single in enumerate(self.layers):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(single, f"{name}_l0").data.copy_(getattr(split_from, f"{name}_l{k}").detach())
        self.head = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
        if self.layers is not None:
            out = x
            for k, single in enumerate(self.layers):
                out, _ = single(out, h0[k:k + 1])
            return self.head(out[:, -1])
        if self.discard:
            self.gru(2 * x, h0)
        out, h_n = self.gru(input=x, hx=h0) if self.keyword else self.gru(x, h0)
        return self.head(out[:, -1] if self.read == "out" else h_n[-1])


def _gru_factors(model: nn.Module, x: torch.Tensor, h0: torch.Tensor, y: torch.Tensor):
    opt = _exact_kfac(model)
    opt.zero_grad()
    with opt.capture():
        out = model(x, h0)
    opt.backward(_half_squared_error(y)(out), out)
    blocks = model.layers if model.layers is not None else [model.gru]
    factors = []
    for k in range(3):
        gru, j = (blocks[k], 0) if model.layers is not None else (model.gru, k)
        for side in ("ih", "hh"):
            state = opt.state[getattr(gru, f"weight_{side}_l{j}")]
            factors.append((state["A"], state["S"]))
    return factors


@pytest.mark.parametrize("variant", [dict(read="h_n"), dict(keyword=True), dict(discard=True)])
def test_gru_factors_of_every_layer_and_call_form(float64, variant):
    # Reference: the same three-layer GRU run as three one-layer GRUs (each factor then belongs to a layer 0)
    # read at its output's last step. Reading h_n[-1] (the same value), calling by keyword, or after a call
    # whose result is discarded must give the same factors; A of weight_hh_l0 includes the initial state.
    torch.manual_seed(43)
    model = _StatefulGRU(**variant)
    reference = _StatefulGRU(split_from=model.gru)
    reference.head.load_state_dict(model.head.state_dict())
    x, h0, y = torch.randn(4, 5, 2), torch.randn(3, 4, 3), torch.randn(4, 2)
    expected = _gru_factors(reference, x, h0, y)
    for (a, s), (a_ref, s_ref) in zip(_gru_factors(model, x, h0, y), expected):
        torch.testing.assert_close(a, a_ref, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(s, s_ref, rtol=1e-10, atol=1e-12)
    with torch.no_grad():
        out0, _ = reference.layers[0](x, h0[0:1])
    previous = torch.cat([h0[0].unsqueeze(1), out0[:, :-1]], 1).reshape(-1, 3)
    rows = torch.cat([previous, torch.ones(20, 1)], 1)
    torch.testing.assert_close(expected[1][0], rows.T @ rows / 20)


def test_gru_replay_casts_inputs_and_output_gradients_to_the_gru_dtype():
    torch.manual_seed(44)
    gru = nn.GRU(2, 3, num_layers=2).double()
    x, h0 = torch.randn(5, 4, 2), torch.randn(2, 4, 3)
    g_out, g_h = torch.randn(5, 4, 3), torch.randn(2, 4, 3)
    low = gru_gate_gradients(gru, x, h0, g_out, g_h)
    high = gru_gate_gradients(gru, x.double(), h0.double(), g_out.double(), g_h.double())
    for got, expected in zip(low, high):
        for a, b in zip(got, expected):
            assert a.dtype == torch.float64
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_gru_without_biases_or_with_frozen_biases(float64):
    torch.manual_seed(45)
    x, y = torch.randn(4, 5, 3), torch.randn(4, 2)
    plain = RecurrentHead(hidden=4)
    plain.gru = nn.GRU(3, 4, batch_first=True, bias=False)
    opt = _exact_kfac(plain)
    _train_step(opt, plain, x, _half_squared_error(y))
    assert opt.state[plain.gru.weight_ih_l0]["A"].shape == (3, 3)
    assert opt.state[plain.gru.weight_hh_l0]["A"].shape == (4, 4)
    frozen = RecurrentHead(hidden=4)
    frozen.gru.bias_ih_l0.requires_grad_(False)
    frozen.gru.bias_hh_l0.requires_grad_(False)
    bias = frozen.gru.bias_ih_l0.detach().clone()
    opt = _exact_kfac(frozen)
    _train_step(opt, frozen, x, _half_squared_error(y))
    assert opt.state[frozen.gru.weight_ih_l0]["A"].shape == (3, 3)
    torch.testing.assert_close(opt.state[frozen.gru.weight_ih_l0]["A"], x.reshape(-1, 3).T @ x.reshape(-1, 3) / 20)
    assert torch.equal(frozen.gru.bias_ih_l0.detach(), bias)


def test_which_grus_are_supported():
    from strategist.optim._kfac_blocks import gru_is_supported

    assert gru_is_supported(nn.GRU(2, 3))
    assert gru_is_supported(nn.GRU(2, 3, num_layers=2))
    with pytest.warns(UserWarning):
        one_layer_dropout = nn.GRU(2, 3, dropout=0.5)
    assert gru_is_supported(one_layer_dropout)
    assert not gru_is_supported(nn.GRU(2, 3, num_layers=2, dropout=0.1))
    assert not gru_is_supported(nn.GRU(2, 3, num_layers=3, dropout=0.5))
    assert not gru_is_supported(nn.GRU(2, 3, bidirectional=True))
    assert not gru_is_supported(nn.LSTM(2, 3))


# ---------------------------------------------------------------------------------------------------------
# KFAC options, defaults and which layers it takes

def test_kfac_defaults_and_group_roles():
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    opt = KFAC(model)
    kfac_group, fallback = opt.param_groups
    assert (kfac_group["role"], fallback["role"], fallback["algorithm"]) == ("kfac", "fallback", "adamw")
    assert (kfac_group["lr"], kfac_group["inverse_every"], kfac_group["kl_clip"], kfac_group["damping"],
            kfac_group["factor_decay"], kfac_group["momentum"]) == (0.1, 1, 3e-2, 1e-3, 0.8, 0.0)
    assert opt.fisher_samples == 1 and fallback["lr"] == 1e-3 and fallback["betas"] == (0.9, 0.999)
    assert KFAC(model, lr=0.4, fallback="sgd").param_groups[1]["lr"] == 0.4


def test_kfac_option_boundaries():
    model = nn.Sequential(nn.Linear(3, 2))
    for kwargs in (dict(lr=0.0), dict(momentum=0.0), dict(max_factor_dim=4), dict(kl_clip=None),
                   dict(fisher_samples=1), dict(inverse_every=1)):
        KFAC(model, **kwargs)
    for kwargs, match in ((dict(momentum=1.0), "momentum"), (dict(kl_clip=0.0), "kl_clip"),
                          (dict(inverse_every=1.5), "inverse_every"), (dict(inverse_every=0), "inverse_every"),
                          (dict(max_factor_dim=2.5), "max_factor_dim"), (dict(max_factor_dim=0), "max_factor_dim"),
                          (dict(fisher_samples=1.5), "fisher_samples"), (dict(fisher_samples=0), "fisher_samples")):
        with pytest.raises(ConfigurationError, match=match):
            KFAC(model, **kwargs)


@pytest.mark.filterwarnings("ignore:K-FAC leaves")
def test_max_factor_dim_counts_the_bias_column_and_the_gate_stack():
    assert KFAC(nn.Sequential(nn.Linear(4095, 1))).preconditioned_layers == ["0"]  # A is 4096 x 4096
    assert KFAC(nn.Sequential(nn.Linear(4096, 1))).preconditioned_layers == []
    assert KFAC(nn.Sequential(nn.Linear(4, 2)), max_factor_dim=5).preconditioned_layers == ["0"]
    assert KFAC(nn.Sequential(nn.Linear(4, 2)), max_factor_dim=4).preconditioned_layers == []
    # A GRU's largest factor: S of the 3H gate stack, or A of the input with its bias column.
    wide = nn.Sequential(nn.GRU(9, 2))
    assert len(KFAC(wide, max_factor_dim=10).preconditioned_layers) == 2
    assert KFAC(wide, max_factor_dim=9).preconditioned_layers == []
    gates = nn.Sequential(nn.GRU(2, 5))
    assert len(KFAC(gates, max_factor_dim=15).preconditioned_layers) == 2
    assert KFAC(gates, max_factor_dim=14).preconditioned_layers == []


def test_max_factor_dim_one_is_accepted_and_leaves_every_layer_out():
    with pytest.warns(UserWarning, match=r"0 \(a factor of size 4 > max_factor_dim=1\)"):
        opt = KFAC(nn.Sequential(nn.Linear(3, 2)), max_factor_dim=1)
    assert opt.preconditioned_layers == []


def test_the_optimizer_keeps_the_model_it_hooks():
    model = nn.Sequential(nn.Linear(3, 2))
    assert KFAC(model).model is model


def test_a_model_that_is_itself_a_linear_layer_is_named_by_its_type():
    assert KFAC(nn.Linear(3, 2)).preconditioned_layers == ["Linear"]


def test_layers_tied_to_another_module_are_left_out_and_named():
    first, second, third = nn.Linear(3, 3), nn.Linear(3, 3), nn.Linear(3, 3)
    second.weight = first.weight
    model = nn.Sequential(first, nn.Tanh(), second, third)
    with pytest.warns(UserWarning, match=r"0 \(a weight shared with another module\); "
                                         r"2 \(a weight shared with another module\)$"):
        opt = KFAC(model)
    assert opt.preconditioned_layers == ["3"]
    tied_three = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3), nn.Linear(3, 3), nn.Linear(3, 3))
    for k in (1, 2):
        tied_three[k].weight = tied_three[0].weight
    with pytest.warns(UserWarning, match="shared"):
        assert KFAC(tied_three).preconditioned_layers == ["3"]


class _LinearWithChild(nn.Linear):
    """A Linear subclass that owns a LayerNorm; the LayerNorm's weight is tied elsewhere, its own are not."""

    def __init__(self) -> None:
        super().__init__(3, 3)
        self.norm = nn.LayerNorm(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(super().forward(x))


def test_only_a_layers_own_weights_decide_whether_it_is_shared():
    model = nn.Sequential(nn.LayerNorm(3), _LinearWithChild())
    model[1].norm.weight = model[0].weight
    assert KFAC(model).preconditioned_layers == ["1"]


def test_skipped_modules_skip_their_children_and_nothing_after_them():
    model = nn.ModuleDict({"frozen": nn.Linear(3, 3), "enc": nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3)),
                           "encoder": nn.Linear(3, 3), "head": nn.Linear(3, 2)})
    model["frozen"].requires_grad_(False)
    opt = KFAC(model, skip_modules=["enc"])
    assert opt.preconditioned_layers == ["encoder", "head"]  # enc.0 and enc.1 skipped, "encoder" is not enc
    assert KFAC(model).preconditioned_layers == ["enc.0", "enc.1", "encoder", "head"]


def test_repeated_eigh_failures_are_counted_per_layer(monkeypatch):
    torch.manual_seed(16)
    layer = nn.Linear(3, 2)
    x, y = torch.randn(16, 3), torch.randn(16, 2)
    opt = KFAC(layer, loss_type="mse", kl_clip=None)
    _fresh_linear_step(opt, layer, x, y)

    def broken(matrix):
        raise RuntimeError("forced eigh failure")

    monkeypatch.setattr(linalg, "_eigh", broken)
    for k in range(1, 4):
        _fresh_linear_step(opt, layer, x + k, y)
        assert opt.state[layer.weight]["refresh_failures"] == k
    assert opt.health.failures == 3
