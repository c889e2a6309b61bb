"""A parameter's update in its own precision, and the finiteness check of gradients that live on different
devices."""

from __future__ import annotations

import pytest
import torch

from strategist.optim._common import apply_update, finite_gradients

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_a_bfloat16_parameter_steps_by_the_direction_rounded_to_bfloat16():
    # The direction arrives in the optimizer's float32 state; the step is taken in the parameter's precision.
    # d = -(2^-8 + 2^-20) rounds to -2^-8 in bfloat16 (8 significant bits), so W = 1 - 1·d lands on 1 + 2^-8,
    # halfway between the bfloat16 neighbours 1 and 1 + 2^-7, and rounds to the even one: 1. Added in float32
    # first, 1 + 2^-8 + 2^-20 would be past the halfway point and round up to 1 + 2^-7.
    direction = torch.tensor([-(2.0**-8 + 2.0**-20)], dtype=torch.float32)
    param = torch.ones(1, dtype=torch.bfloat16)
    apply_update(param, direction, lr=1.0, weight_decay=0.0)
    assert param.dtype == torch.bfloat16
    assert param.item() == 1.0

    # the same as stepping by a direction given in bfloat16 in the first place
    rounded = torch.ones(1, dtype=torch.bfloat16)
    apply_update(rounded, direction.to(torch.bfloat16), lr=1.0, weight_decay=0.0)
    assert torch.equal(param, rounded)


@needs_cuda
def test_gradients_on_two_devices_are_each_checked_and_gathered():
    # One group holding a CPU and a GPU parameter (two (dtype, device) pairs): the flags come back in order.
    on_cpu = torch.nn.Parameter(torch.zeros(3))
    on_gpu = torch.nn.Parameter(torch.zeros(3, device="cuda"))
    on_cpu.grad = torch.ones(3)
    on_gpu.grad = torch.tensor([1.0, float("inf"), 0.0], device="cuda")
    assert finite_gradients([on_cpu, on_gpu]) == [True, False]
    assert finite_gradients([on_gpu, on_cpu]) == [False, True]
