"""Two gloo processes train the neural model to the same weights as one process on the same global batch."""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist

from ddp_support import spawn_on_localhost  # noqa: E402 (tests/ is on the path)

from .conftest import TINY, planted_table

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="needs torch.distributed with gloo")
CFG = dict(TINY, max_steps=6, eval_every=3, dropout=0.0, player_dropout=0.0, batch_size=16)


def _data():
    from strategist.opponent.split import select, split_matches

    table = planted_table(matches=8, rallies=10)
    split = split_matches(table, test_fraction=0.0)
    return select(table, split.train), select(table, split.valid)


def _worker(rank: int, port: int, out_path: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    from strategist.opponent import NeuralModel

    train, valid = _data()
    model = NeuralModel(**CFG).fit(train, valid=valid)
    assert model.metrics_["world_size"] == 2
    if rank == 0:
        torch.save({k: v.clone() for k, v in model.net.state_dict().items()}, out_path)



@pytest.mark.slow  # two fresh interpreters importing torch
def test_two_processes_equal_one(tmp_path):
    from strategist.opponent import NeuralModel

    out = tmp_path / "ddp.pt"
    spawn_on_localhost(_worker, (str(out),), nprocs=2)
    assert not dist.is_initialized()
    train, valid = _data()
    single = NeuralModel(**CFG).fit(train, valid=valid)
    assert single.metrics_["world_size"] == 1
    distributed = torch.load(out)
    for k, v in single.net.state_dict().items():
        torch.testing.assert_close(distributed[k], v, rtol=1e-4, atol=1e-5)
