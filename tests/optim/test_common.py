"""Properties every optimizer of strategist.optim must have: exact resume from state_dict, on any device, with
a parameter that never gets a gradient; the scheduled learning rate; progress on a small regression problem."""

from __future__ import annotations

import copy
import io

import pytest
import torch

from strategist.errors import ConfigurationError

from ._cases import CASE_IDS, CASES, batches, make_model, regression_data

STEPS_BEFORE, STEPS_AFTER = 5, 6
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def run(case, model, opt, indices, device="cpu"):
    x, y = regression_data()
    x, y = x.to(device), y.to(device)
    for idx in indices:
        case.train_step(model, opt, x[idx], y[idx])


def saved(obj) -> dict:
    """obj.state_dict() after a trip through torch.save / torch.load, as a checkpoint would make it."""
    buffer = io.BytesIO()
    torch.save(obj.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer)


def resume(case, indices, save_device, load_device):
    model = make_model(device=save_device)
    opt = case.make(model)
    run(case, model, opt, indices[:STEPS_BEFORE], save_device)
    model_state, opt_state = saved(model), saved(opt)
    fresh = make_model(seed=99, device=load_device)
    fresh.load_state_dict(model_state)
    fresh_opt = case.make(fresh)
    fresh_opt.load_state_dict(opt_state)
    run(case, fresh, fresh_opt, indices[STEPS_BEFORE:], load_device)
    return fresh, fresh_opt


def assert_params_close(a, b, atol):
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(pa.detach().cpu(), pb.detach().cpu(), rtol=0, atol=atol, msg=name)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_state_dict_resume_continues_like_an_uninterrupted_run(case):
    indices = batches(STEPS_BEFORE + STEPS_AFTER)
    straight = make_model()
    straight_opt = case.make(straight)
    run(case, straight, straight_opt, indices)
    resumed, resumed_opt = resume(case, indices, "cpu", "cpu")
    assert_params_close(resumed, straight, atol=1e-12)

    # The parameter without a gradient has no state and is untouched; the others do have state.
    assert torch.equal(resumed.unused, make_model().unused)
    assert not resumed_opt.state.get(resumed.unused)
    assert resumed_opt.state.get(resumed[0].weight)

    # Not vacuous: continuing with a fresh optimizer (no loaded state) lands elsewhere.
    cold = make_model()
    cold.load_state_dict(straight.state_dict())
    cold_model = make_model()
    run(case, cold_model, case.make(cold_model), indices[:STEPS_BEFORE])
    cold_opt = case.make(cold_model)
    run(case, cold_model, cold_opt, indices[STEPS_BEFORE:])
    assert any(not torch.allclose(a, b, rtol=0, atol=1e-9)
               for a, b in zip(cold_model.parameters(), straight.parameters()))


@needs_cuda
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("save_device, load_device", [("cuda", "cpu"), ("cpu", "cuda")])
def test_state_dict_resume_across_devices(case, save_device, load_device):
    indices = batches(STEPS_BEFORE + STEPS_AFTER)
    straight = make_model()
    run(case, straight, case.make(straight), indices)
    resumed, resumed_opt = resume(case, indices, save_device, load_device)
    for param, state in resumed_opt.state.items():
        for value in _tensors(state):
            assert value.device == param.device
    assert_params_close(resumed, straight, atol=1e-8)


@needs_cuda
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cuda_trajectory_matches_cpu(case):
    indices = batches(8)
    on_cpu, on_gpu = make_model(), make_model(device="cuda")
    run(case, on_cpu, case.make(on_cpu), indices)
    gpu_opt = case.make(on_gpu)
    run(case, on_gpu, gpu_opt, indices, "cuda")
    for param, state in gpu_opt.state.items():
        assert all(value.is_cuda for value in _tensors(state))
    assert_params_close(on_gpu, on_cpu, atol=1e-8)


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_reduces_the_loss_on_a_regression_problem(case):
    """A smoke test (finite, and progress); each optimizer's step is pinned value by value in its own file."""
    x, y = regression_data()
    model = make_model(unused_parameter=False)
    opt = case.make(model)
    initial = torch.nn.functional.mse_loss(model(x), y).item()
    run(case, model, opt, batches(150))
    with torch.no_grad():
        final = torch.nn.functional.mse_loss(model(x), y).item()
    assert final < 0.25 * initial, (initial, final)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_step_uses_the_learning_rate_a_scheduler_sets(case):
    """A scheduler's lr is the one the next step uses: lr 0 leaves every parameter where it is (weight decay
    scales with lr too), and the lr survives state_dict."""
    model = make_model(unused_parameter=False)
    opt = case.make(model)
    lrs = [group["lr"] for group in opt.param_groups]
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 if step == 0 else 0.0)
    run(case, model, opt, batches(2)[:1])
    moved = [p.detach().clone() for p in model.parameters()]
    scheduler.step()
    assert [group["lr"] for group in opt.param_groups] == [0.0] * len(lrs)
    assert copy.deepcopy(opt.state_dict())["param_groups"][0]["lr"] == 0.0
    run(case, model, opt, batches(2)[1:])
    for p, q in zip(model.parameters(), moved):
        assert torch.equal(p.detach(), q)
    assert any(not torch.equal(p, q) for p, q in zip(moved, make_model(unused_parameter=False).parameters()))


# ---------------------------------------------------------------------------------------------------------
# The shared base of Shampoo and SOAP (strategist.optim._common)

def _preconditioned(name):
    from strategist.optim.shampoo import Shampoo
    from strategist.optim.soap import SOAP

    return {"Shampoo": lambda params, **kw: Shampoo(params, start_preconditioning_step=1, precondition_frequency=1,
                                                    **kw),
            "SOAP": lambda params, **kw: SOAP(params, precondition_frequency=1, **kw)}[name]


@pytest.mark.parametrize("name", ["Shampoo", "SOAP"])
def test_loaded_state_moves_to_the_parameter_device_in_its_saved_dtype(name):
    # The meta device stands in for an accelerator: every state tensor, nested in lists or not, must follow
    # the parameter there, and keep its own dtype (float64 factors of a float32 weight).
    make = _preconditioned(name)
    weight = torch.nn.Parameter(torch.randn(4, 3))
    opt = make([weight], factor_dtype=torch.float64)
    for _ in range(3):
        weight.grad = torch.randn(4, 3)
        opt.step()
    saved_state = opt.state_dict()
    target = torch.nn.Parameter(torch.zeros(4, 3, device="meta"))
    loaded = make([target], factor_dtype=torch.float64)
    loaded.load_state_dict(saved_state)
    state = loaded.state[target]
    tensors = list(_tensors(state))
    assert len(tensors) >= 5 and {t.device.type for t in tensors} == {"meta"}
    assert [t.dtype for t in _tensors(state)] == [t.dtype for t in _tensors(opt.state[weight])]
    assert any(t.dtype == torch.float64 for t in tensors) and state["exp_avg"].dtype == torch.float32


@pytest.mark.parametrize("name", ["Shampoo", "SOAP"])
def test_sparse_gradients_are_refused(name):
    weight = torch.nn.Parameter(torch.randn(4, 3))
    opt = _preconditioned(name)([weight])
    weight.grad = torch.randn(4, 3).to_sparse()
    with pytest.raises(ConfigurationError, match="sparse"):
        opt.step()


@pytest.mark.parametrize("name", ["Shampoo", "SOAP"])
def test_zero_learning_rate_is_allowed_and_moves_nothing(name):
    weight = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.float64))
    start = weight.detach().clone()
    opt = _preconditioned(name)([weight], lr=0.0, weight_decay=0.5)
    for _ in range(3):
        weight.grad = torch.randn(4, 3, dtype=torch.float64)
        opt.step()
    assert torch.equal(weight.detach(), start) and opt.state[weight]["step"] >= 2


@pytest.mark.parametrize("name", ["Shampoo", "SOAP"])
def test_weight_decay_of_one_is_applied(name):
    weight = torch.nn.Parameter(torch.randn(5, dtype=torch.float64))  # a vector: the plain Adam step
    start = weight.detach().clone()
    opt = _preconditioned(name)([weight], lr=0.1, weight_decay=1.0)
    weight.grad = torch.zeros(5, dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(weight.detach(), 0.9 * start, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["Shampoo", "SOAP"])
def test_a_huge_but_finite_float64_gradient_is_not_skipped(name):
    # ‖G‖ = 2e100 is finite in float64 (it would overflow float32).
    weight = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt = _preconditioned(name)([weight], lr=0.1, weight_decay=0.0)
    weight.grad = torch.full((4,), 1e100, dtype=torch.float64)
    opt.step()
    assert opt.health.skipped_updates == 0
    torch.testing.assert_close(weight.detach(), torch.full((4,), -0.1, dtype=torch.float64), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["Shampoo", "SOAP"])
def test_a_group_mixing_float32_and_float64_parameters_steps_each_like_alone(name):
    make = _preconditioned(name)
    gen = torch.Generator().manual_seed(3)
    single = torch.nn.Parameter(torch.randn(4, 3, generator=gen))
    double = torch.nn.Parameter(torch.randn(3, 2, generator=gen, dtype=torch.float64))
    alone = [torch.nn.Parameter(p.detach().clone()) for p in (single, double)]
    opt = make([single, double], lr=0.05)
    opts_alone = [make([p], lr=0.05) for p in alone]
    for _ in range(3):
        grads = [torch.randn(4, 3, generator=gen), torch.randn(3, 2, generator=gen, dtype=torch.float64)]
        for p, q, g in zip((single, double), alone, grads):
            p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        for o in opts_alone:
            o.step()
    assert opt.health.skipped_updates == 0
    for p, q in zip((single, double), alone):
        assert p.dtype == q.dtype
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["Shampoo", "SOAP"])
def test_both_moments_of_a_bfloat16_parameter_are_float32(name):
    weight = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.bfloat16))
    opt = _preconditioned(name)([weight])
    for _ in range(2):
        weight.grad = torch.randn(4, 3, dtype=torch.bfloat16)
        opt.step()
    state = opt.state[weight]
    assert state["exp_avg"].dtype == state["exp_avg_sq"].dtype == torch.float32
    assert weight.dtype == torch.bfloat16


def test_each_gradient_of_a_mixed_precision_group_is_checked_in_its_own_precision():
    """‖G‖ = 2e100 of a float64 gradient is finite although it overflows float32; a float32 gradient with an
    Inf in it is not, whatever the other parameters' dtypes."""
    from strategist.optim._common import finite_gradients

    huge = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    huge.grad = torch.full((4,), 1e100, dtype=torch.float64)
    plain = torch.nn.Parameter(torch.zeros(3))
    plain.grad = torch.ones(3)
    broken = torch.nn.Parameter(torch.zeros(2))
    broken.grad = torch.tensor([1.0, float("inf")])
    nan64 = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    nan64.grad = torch.tensor([float("nan"), 0.0], dtype=torch.float64)
    assert finite_gradients([huge, plain, broken, nan64]) == [True, True, False, False]
    assert finite_gradients([plain, huge]) == [True, True]
