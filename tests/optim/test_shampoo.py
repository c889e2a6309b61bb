"""Shampoo against torch.optim references and an independent float64 computation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from strategist.errors import ConfigurationError, StrategistError
from strategist.optim import _linalg
from strategist.optim.shampoo import Shampoo, block_slices


def make_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()


def train(model: torch.nn.Module, opt: torch.optim.Optimizer, steps: int, seed: int = 1) -> list[float]:
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        x = torch.randn(32, 6, generator=gen, dtype=torch.float64)
        y = torch.randn(32, 3, generator=gen, dtype=torch.float64)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def assert_same_params(a: torch.nn.Module, b: torch.nn.Module, rtol: float = 1e-12, atol: float = 1e-14) -> None:
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=rtol, atol=atol)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_before_preconditioning_equals_adam(weight_decay):
    ours, ref = make_model(), make_model()
    kwargs = dict(lr=3e-2, betas=(0.9, 0.99))
    opt = Shampoo(ours.parameters(), weight_decay=weight_decay, start_preconditioning_step=1000,
                  precondition_frequency=2, graft_eps=1e-8, **kwargs)
    torch_opt = (torch.optim.AdamW(ref.parameters(), weight_decay=weight_decay, eps=1e-8, **kwargs)
                 if weight_decay else torch.optim.Adam(ref.parameters(), eps=1e-8, **kwargs))
    train(ours, opt, 12)
    train(ref, torch_opt, 12)
    assert_same_params(ours, ref)
    # The parameters moved, and the factors were accumulated all along (only not used yet).
    assert not torch.allclose(ours[0].weight, make_model()[0].weight)
    state = opt.state[ours[0].weight]
    assert state["step"] == 12 and all(f.abs().max() > 0 for f in state["factors"][0])
    assert all(r is None for r in state["roots"][0])


def test_sum_factors_graft_adagrad():
    ours, ref = make_model(), make_model()
    opt = Shampoo(ours.parameters(), lr=0.05, betas=(0.0, 1.0), start_preconditioning_step=1000)
    train(ours, opt, 10)
    train(ref, torch.optim.Adagrad(ref.parameters(), lr=0.05, eps=1e-8), 10)
    assert_same_params(ours, ref)


def reference_shampoo(grads, w0, b0, lr, betas, eps, weight_decay, freq, start, graft_eps):
    """Shampoo on one (m, n) weight and its bias in float64 numpy; roots by scipy's Schur-based power."""
    beta1, beta2 = betas
    w, b = w0.copy(), b0.copy()
    m_w, v_w, m_b, v_b = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    left, right = np.zeros((w.shape[0],) * 2), np.zeros((w.shape[1],) * 2)
    left_root = right_root = None
    for t, (gw, gb) in enumerate(grads, start=1):
        left = beta2 * left + (1 - beta2) * gw @ gw.T
        right = beta2 * right + (1 - beta2) * gw.T @ gw
        m_w, v_w = beta1 * m_w + (1 - beta1) * gw, beta2 * v_w + (1 - beta2) * gw**2
        m_b, v_b = beta1 * m_b + (1 - beta1) * gb, beta2 * v_b + (1 - beta2) * gb**2
        bc1, bc2 = 1 - beta1**t, 1 - beta2**t
        adam_w = (m_w / bc1) / (np.sqrt(v_w / bc2) + graft_eps)
        adam_b = (m_b / bc1) / (np.sqrt(v_b / bc2) + graft_eps)
        step_w = adam_w
        if t >= start:
            if (t - start) % freq == 0:
                left_root = np.real(scipy.linalg.fractional_matrix_power(left / bc2 + eps * np.eye(len(left)), -0.25))
                right_root = np.real(scipy.linalg.fractional_matrix_power(right / bc2 + eps * np.eye(len(right)), -0.25))
            shampoo = left_root @ (m_w / bc1) @ right_root
            step_w = shampoo * np.linalg.norm(adam_w) / np.linalg.norm(shampoo)
        w = w * (1 - lr * weight_decay) - lr * step_w
        b = b * (1 - lr * weight_decay) - lr * adam_b
    return w, b


def test_preconditioned_steps_match_float64_reference():
    gen = torch.Generator().manual_seed(3)
    weight = torch.nn.Parameter(torch.randn(5, 4, generator=gen, dtype=torch.float64))
    bias = torch.nn.Parameter(torch.randn(5, generator=gen, dtype=torch.float64))
    grads = [(torch.randn(5, 4, generator=gen, dtype=torch.float64),
              torch.randn(5, generator=gen, dtype=torch.float64)) for _ in range(10)]
    hyper = dict(lr=0.1, betas=(0.9, 0.95), eps=1e-6, weight_decay=0.05)
    numpy_grads = [(g.numpy(), h.numpy()) for g, h in grads]
    w0, b0 = weight.detach().numpy().copy(), bias.detach().numpy().copy()
    w_ref, b_ref = reference_shampoo(numpy_grads, w0, b0, freq=3, start=2, graft_eps=1e-8, **hyper)
    opt = Shampoo([weight, bias], precondition_frequency=3, start_preconditioning_step=2, **hyper)
    for gw, gb in grads:
        weight.grad, bias.grad = gw.clone(), gb.clone()
        opt.step()
    np.testing.assert_allclose(weight.detach().numpy(), w_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bias.detach().numpy(), b_ref, rtol=1e-10, atol=1e-12)
    assert opt.health.refreshes == 2 * 3  # refreshes at steps 2, 5, 8; two factors each
    # The preconditioned trajectory differs from plain Adam's.
    w_adam, _ = reference_shampoo(numpy_grads, w0, b0, freq=3, start=10**6, graft_eps=1e-8, **hyper)
    assert not np.allclose(w_ref, w_adam)


def test_block_slices_cover_the_tensor_once():
    shape, max_dim = (10, 7, 3), 4
    cover = torch.zeros(shape)
    for block in block_slices(shape, max_dim):
        assert all(s.stop - s.start <= max_dim for s in block)
        cover[block] += 1
    assert torch.equal(cover, torch.ones(shape))
    assert len(block_slices(shape, max_dim)) == 3 * 2 * 1


def test_long_axes_get_only_block_sized_factors():
    big = torch.nn.Parameter(torch.zeros(100, 3))
    cube = torch.nn.Parameter(torch.zeros(5, 9, 3))
    opt = Shampoo([big, cube], max_preconditioner_dim=4, start_preconditioning_step=1, precondition_frequency=1)
    big.grad, cube.grad = torch.randn(100, 3), torch.randn(5, 9, 3)
    opt.step()
    big_sides = [f.shape for block in opt.state[big]["factors"] for f in block]
    assert len(opt.state[big]["factors"]) == 25
    assert all(side == (4, 4) for side in big_sides[0::2]) and all(side == (3, 3) for side in big_sides[1::2])
    cube_sides = {f.shape[0] for block in opt.state[cube]["factors"] for f in block}
    assert max(cube_sides) <= 4 and len(opt.state[cube]["factors"]) == 2 * 3 * 1
    assert torch.isfinite(big).all() and torch.isfinite(cube).all()


def test_blocked_parameter_equals_its_blocks_as_separate_parameters():
    gen = torch.Generator().manual_seed(0)
    whole = torch.nn.Parameter(torch.randn(10, 7, generator=gen, dtype=torch.float64))
    blocks = block_slices((10, 7), 4)
    parts = [torch.nn.Parameter(whole.detach()[b].clone()) for b in blocks]
    hyper = dict(lr=0.05, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01, precondition_frequency=2,
                 start_preconditioning_step=2)
    opt_whole = Shampoo([whole], max_preconditioner_dim=4, **hyper)
    opt_parts = Shampoo(parts, max_preconditioner_dim=8192, **hyper)
    for _ in range(7):
        grad = torch.randn(10, 7, generator=gen, dtype=torch.float64)
        whole.grad = grad.clone()
        for part, b in zip(parts, blocks):
            part.grad = grad[b].clone()
        opt_whole.step()
        opt_parts.step()
    for part, b in zip(parts, blocks):
        torch.testing.assert_close(whole.detach()[b], part.detach(), rtol=1e-12, atol=1e-14)
    assert opt_whole.health.refreshes == opt_parts.health.refreshes > 0


def test_eigh_failure_in_float32_is_retried_in_float64(monkeypatch):
    real = torch.linalg.eigh

    def fails_in_float32(mat):
        if mat.dtype == torch.float32:
            raise RuntimeError("linalg.eigh: the algorithm failed to converge")
        return real(mat)

    monkeypatch.setattr(_linalg, "_eigh", fails_in_float32)
    weight = torch.nn.Parameter(torch.randn(6, 5))
    opt = Shampoo([weight], start_preconditioning_step=1, precondition_frequency=1)
    weight.grad = torch.randn(6, 5)
    opt.step()
    roots = opt.state[weight]["roots"][0]
    assert opt.health.failures == 0 and opt.health.refreshes == 2
    assert all(r is not None and r.dtype == torch.float32 for r in roots)


def test_repeated_eigh_failure_keeps_the_last_good_root(monkeypatch):
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(6, 5, dtype=torch.float64))
    opt = Shampoo([weight], lr=0.01, start_preconditioning_step=1, precondition_frequency=1)
    for _ in range(3):
        weight.grad = torch.randn(6, 5, dtype=torch.float64)
        opt.step()
    good = [r.clone() for r in opt.state[weight]["roots"][0]]

    def always_fails(mat):
        raise RuntimeError("linalg.eigh: the algorithm failed to converge")

    monkeypatch.setattr(_linalg, "_eigh", always_fails)
    before = weight.detach().clone()
    for _ in range(3):
        weight.grad = torch.randn(6, 5, dtype=torch.float64)
        opt.step()
    for kept, root in zip(good, opt.state[weight]["roots"][0]):
        assert torch.equal(kept, root)
    assert opt.health.failures == 6 and opt.health.consecutive_failures == 6 and opt.health.refreshes == 6
    assert torch.isfinite(weight).all() and not torch.equal(weight, before)
    assert opt.state_dict()["health"]["failures"] == 6


def test_failure_before_any_root_falls_back_to_the_grafted_adam_step(monkeypatch):
    def always_fails(mat):
        raise RuntimeError("linalg.eigh: the algorithm failed to converge")

    monkeypatch.setattr(_linalg, "_eigh", always_fails)
    ours, ref = make_model(), make_model()
    opt = Shampoo(ours.parameters(), lr=0.01, start_preconditioning_step=1, precondition_frequency=1)
    train(ours, opt, 4)
    train(ref, torch.optim.Adam(ref.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8), 4)
    assert_same_params(ours, ref)
    assert opt.health.failures == 4 * 2 * 2 and opt.health.refreshes == 0


def test_zero_and_rank_one_gradients_stay_finite():
    weight = torch.nn.Parameter(torch.randn(8, 6))
    start = weight.detach().clone()
    opt = Shampoo([weight], start_preconditioning_step=1, precondition_frequency=1)
    for _ in range(3):
        weight.grad = torch.zeros(8, 6)
        opt.step()
    assert torch.equal(weight, start)
    for _ in range(3):
        weight.grad = torch.outer(torch.randn(8), torch.randn(6))
        opt.step()
    assert torch.isfinite(weight).all() and not torch.equal(weight, start)
    assert all(torch.isfinite(r).all() for r in opt.state[weight]["roots"][0])
    assert opt.health.failures == 0


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_gradient_skips_the_update(bad):
    weight = torch.nn.Parameter(torch.randn(4, 3))
    opt = Shampoo([weight], start_preconditioning_step=1, precondition_frequency=1)
    weight.grad = torch.randn(4, 3)
    opt.step()
    snapshot = {k: ([[t.clone() for t in b] for b in v] if isinstance(v, list) else
                    v.clone() if torch.is_tensor(v) else v) for k, v in opt.state[weight].items()}
    before = weight.detach().clone()
    weight.grad = torch.randn(4, 3)
    weight.grad[2, 1] = bad
    opt.step()
    assert torch.equal(weight, before)
    assert opt.health.skipped_updates == 1
    state = opt.state[weight]
    assert state["step"] == snapshot["step"] == 1
    assert torch.equal(state["exp_avg_sq"], snapshot["exp_avg_sq"])
    assert all(torch.equal(a, b) for a, b in zip(state["factors"][0], snapshot["factors"][0]))


def test_factors_stay_float32_for_bfloat16_parameters_through_state_dict():
    weight = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.bfloat16))
    opt = Shampoo([weight], start_preconditioning_step=1, precondition_frequency=1)
    weight.grad = torch.randn(4, 3, dtype=torch.bfloat16)
    opt.step()
    clone = torch.nn.Parameter(weight.detach().clone())
    loaded = Shampoo([clone], start_preconditioning_step=1, precondition_frequency=1)
    loaded.load_state_dict(opt.state_dict())
    state = loaded.state[clone]
    assert state["factors"][0][0].dtype == torch.float32 and state["roots"][0][0].dtype == torch.float32
    assert state["exp_avg"].dtype == torch.float32
    assert torch.equal(state["factors"][0][0], opt.state[weight]["factors"][0][0])
    assert state["factors"][0][0].data_ptr() != opt.state[weight]["factors"][0][0].data_ptr()


def test_float64_factor_option():
    weight = torch.nn.Parameter(torch.randn(4, 3))
    opt = Shampoo([weight], factor_dtype=torch.float64, start_preconditioning_step=1, precondition_frequency=1)
    weight.grad = torch.randn(4, 3)
    opt.step()
    assert opt.state[weight]["roots"][0][0].dtype == torch.float64 and weight.dtype == torch.float32


@pytest.mark.parametrize("kwargs", [dict(lr=-1.0), dict(betas=(0.9, 1.5)), dict(eps=-1.0), dict(weight_decay=-0.1),
                                    dict(precondition_frequency=0), dict(max_preconditioner_dim=0),
                                    dict(start_preconditioning_step=0), dict(graft_eps=0.0),
                                    dict(factor_dtype=torch.float16)])
def test_bad_hyperparameters_raise_configuration_error(kwargs):
    with pytest.raises(ConfigurationError) as info:
        Shampoo([torch.nn.Parameter(torch.zeros(2, 2))], **kwargs)
    assert isinstance(info.value, StrategistError) and next(iter(kwargs)) in str(info.value)


def test_defaults_follow_the_reference_recipe():
    opt = Shampoo([torch.nn.Parameter(torch.zeros(2, 2))])
    group = opt.param_groups[0]
    assert group["betas"] == (0.9, 0.999) and group["eps"] == 1e-12 and group["graft_eps"] == 1e-8
    assert group["precondition_frequency"] == 100 and group["max_preconditioner_dim"] == 8192
    assert group["start_preconditioning_step"] == 100


def upstream_shampoo(grads, w0, lr, beta1, beta2, graft_beta2, eps, graft_eps, weight_decay, freq):
    """facebookresearch/optimizers' DistributedShampoo step on one matrix, in float64 numpy and in its own
    form: a bias-corrected filtered gradient m_hat; factors L, R of the raw gradient, rooted as
    (L / (1 - b2^t) + eps I)^(-1/4) at steps t with t % freq == 0 (start_preconditioning_step = freq);
    Adam grafting with its own beta2, m_hat / (sqrt(v_hat) + graft_eps), giving the step's norm; decoupled
    weight decay W (1 - lr wd) - lr D."""
    w = w0.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    left, right = np.zeros((w.shape[0],) * 2), np.zeros((w.shape[1],) * 2)
    roots = None
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        m_hat = m / (1 - beta1**t)
        left = beta2 * left + (1 - beta2) * g @ g.T
        right = beta2 * right + (1 - beta2) * g.T @ g
        v = graft_beta2 * v + (1 - graft_beta2) * g**2
        graft = m_hat / (np.sqrt(v / (1 - graft_beta2**t)) + graft_eps)
        if t % freq == 0:
            bc2 = 1 - beta2**t
            roots = [np.real(scipy.linalg.fractional_matrix_power(f / bc2 + eps * np.eye(len(f)), -0.25))
                     for f in (left, right)]
        direction = graft
        if t >= freq:
            shampoo = roots[0] @ m_hat @ roots[1]
            direction = shampoo * np.linalg.norm(graft) / np.linalg.norm(shampoo)
        w = w * (1 - lr * weight_decay) - lr * direction
    return w


def test_upstream_shampoo_conventions_with_the_grafting_beta2_tied_to_the_factors():
    """Ours ties the graft's beta2 to the factors' (one ``betas[1]``): with equal values it is upstream's step
    (bias-corrected factors, eps after the bias correction, per-block Adam graft, refreshes at multiples of
    the frequency); with upstream's separate grafting beta2 it is not."""
    gen = torch.Generator().manual_seed(5)
    weight = torch.nn.Parameter(torch.randn(4, 6, generator=gen, dtype=torch.float64))
    w0 = weight.detach().numpy().copy()
    grads = [torch.randn(4, 6, generator=gen, dtype=torch.float64) * torch.linspace(0.2, 3, 6, dtype=torch.float64)
             for _ in range(12)]
    hyper = dict(lr=0.05, eps=0.3, weight_decay=0.1)  # a large eps: its placement matters
    opt = Shampoo([weight], betas=(0.9, 0.95), precondition_frequency=4, graft_eps=1e-8, **hyper)
    for g in grads:
        weight.grad = g.clone()
        opt.step()
    numpy_grads = [g.numpy() for g in grads]
    expected = upstream_shampoo(numpy_grads, w0, beta1=0.9, beta2=0.95, graft_beta2=0.95, graft_eps=1e-8,
                                freq=4, **hyper)
    np.testing.assert_allclose(weight.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    separate = upstream_shampoo(numpy_grads, w0, beta1=0.9, beta2=0.95, graft_beta2=0.999, graft_eps=1e-8,
                                freq=4, **hyper)
    assert np.abs(separate - expected).max() > 1e-4
    assert opt.health.refreshes == 2 * 3  # steps 4, 8, 12


def test_default_learning_rate_is_1e_3():
    gen = torch.Generator().manual_seed(21)
    weight = torch.nn.Parameter(torch.randn(4, 3, generator=gen, dtype=torch.float64))
    start = weight.detach().clone()
    opt = Shampoo([weight])
    assert opt.param_groups[0]["lr"] == 1e-3
    weight.grad = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    opt.step()
    # First step, before preconditioning (step 1 < 100): Adam's first step g / (|g| + 1e-8), times lr.
    torch.testing.assert_close(weight.detach(), start - 1e-3 * weight.grad / (weight.grad.abs() + 1e-8),
                               rtol=1e-12, atol=1e-15)


def test_one_by_one_blocks_are_allowed_and_give_adamw():
    # max_preconditioner_dim = 1: every entry is its own block, whose preconditioned direction has the sign of
    # the momentum and, once grafted, the length of Adam's step on that entry: AdamW exactly.
    ours, ref = make_model(), make_model()
    hyper = dict(lr=2e-2, betas=(0.9, 0.99), weight_decay=0.1)
    opt = Shampoo(ours.parameters(), max_preconditioner_dim=1, precondition_frequency=1, graft_eps=1e-8, **hyper)
    train(ours, opt, 6)
    train(ref, torch.optim.AdamW(ref.parameters(), eps=1e-8, **hyper), 6)
    assert_same_params(ours, ref, rtol=1e-10, atol=1e-12)
    factors = opt.state[ours[0].weight]["factors"]
    assert len(factors) == 8 * 6 and all(f.shape == (1, 1) for block in factors for f in block)
    assert opt.health.refreshes == 6 * 2 * (8 * 6 + 3 * 8)  # both axes of every 1x1 block, every step


def test_beta2_one_sums_the_factor_statistics():
    gen = torch.Generator().manual_seed(22)
    weight = torch.nn.Parameter(torch.randn(3, 5, generator=gen, dtype=torch.float64))
    opt = Shampoo([weight], betas=(0.9, 1.0), start_preconditioning_step=1000)
    left, right = torch.zeros(3, 3, dtype=torch.float64), torch.zeros(5, 5, dtype=torch.float64)
    for _ in range(3):
        grad = torch.randn(3, 5, generator=gen, dtype=torch.float64)
        left, right = left + grad @ grad.T, right + grad.T @ grad
        weight.grad = grad
        opt.step()
    got_left, got_right = opt.state[weight]["factors"][0]
    torch.testing.assert_close(got_left, left, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(got_right, right, rtol=1e-12, atol=1e-14)


def test_graft_measures_the_reference_in_the_direction_precision():
    from strategist.optim.shampoo import graft

    direction = torch.tensor([[3.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
    reference = torch.ones(3, dtype=torch.float32)  # ‖reference‖ = √3, not a float32 number
    got = graft(direction, reference)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, direction * (3.0**0.5 / 5.0), rtol=1e-15, atol=0)


def test_state_is_created_on_the_parameter_device(monkeypatch):
    # The meta device stands in for an accelerator: factors and moments must follow the parameter there.
    from strategist.optim import _common

    monkeypatch.setattr(_common, "finite_gradients", lambda params: [True] * len(params))
    weight = torch.nn.Parameter(torch.zeros(4, 3, device="meta"))
    weight.grad = torch.zeros(4, 3, device="meta")
    opt = Shampoo([weight], start_preconditioning_step=1000)
    opt.step()
    state = opt.state[weight]
    assert {t.device.type for t in [state["exp_avg"], state["exp_avg_sq"], *state["factors"][0]]} == {"meta"}
