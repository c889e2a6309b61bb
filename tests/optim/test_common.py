"""Properties every optimizer of strategist.optim must have: exact resume from state_dict, on any device, with
a parameter that never gets a gradient; the scheduled learning rate; progress on a small regression problem."""

from __future__ import annotations

import copy
import io

import pytest
import torch

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
