"""Two-process DDP (gloo, CPU) ends with the same parameters as one process on the same global batch.

Gradients reach the optimizer already averaged over the processes, so the optimizer must not (and does not)
do anything distributed itself; the test initialises the process group, the optimizers never do.
"""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ddp_support import spawn_on_localhost  # noqa: E402 (tests/ is on the path)

from ._cases import CASES, batches, make_model, regression_data

WORLD_SIZE, STEPS, GLOBAL_BATCH = 2, 8, 64

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="needs torch.distributed with gloo")


def available_cases() -> list:
    cases = []
    for case in CASES:
        try:
            importlib.import_module(case.module)
        except ModuleNotFoundError as exc:
            if exc.name != case.module:
                raise
            continue
        cases.append(case)
    return cases


def train(case, model, opt, rank: int = 0, world_size: int = 1) -> None:
    x, y = regression_data()
    for idx in batches(STEPS, batch_size=GLOBAL_BATCH):
        local = idx.chunk(world_size)[rank]
        case.train_step(model, opt, x[local], y[local])


def _worker(rank: int, port: int, out_path: str, names: list[str]) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE)
    try:
        results = {}
        for case in (c for c in CASES if c.name in names):
            model = make_model(unused_parameter=False)
            ddp = DistributedDataParallel(model)
            opt = case.make(model)
            train(case, ddp, opt, rank, WORLD_SIZE)
            results[case.name] = [p.detach().clone() for p in model.parameters()]
        if rank == 0:
            torch.save(results, out_path)
        dist.barrier()
    finally:
        dist.destroy_process_group()



@pytest.mark.slow  # about 10 s, most of it two fresh interpreters importing torch and DDP
def test_two_process_ddp_equals_one_process(tmp_path):
    cases = available_cases()
    assert {"Shampoo", "SOAP"} <= {c.name for c in cases}
    out_path = tmp_path / "ddp.pt"
    spawn_on_localhost(_worker, (str(out_path), [c.name for c in cases]), nprocs=WORLD_SIZE)
    distributed = torch.load(out_path)
    assert not dist.is_initialized()
    for case in cases:
        model = make_model(unused_parameter=False)
        opt = case.make(model)
        train(case, model, opt)
        start = list(make_model(unused_parameter=False).parameters())
        owned = {id(p) for group in opt.param_groups for p in group["params"]}
        for name_param, got, init in zip(model.named_parameters(), distributed[case.name], start):
            name, expected = name_param
            assert id(expected) not in owned or not torch.equal(expected, init), f"{case.name}: {name} never moved"
            torch.testing.assert_close(got, expected.detach(), rtol=1e-9, atol=1e-11,
                                       msg=lambda m: f"{case.name} {name}: {m}")
