"""K-FAC's factor statistics: the distributed reduction runs on the layers' device, and a GRU's output
gradients are taken from the Fisher passes only, whatever backward ran before them."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.distributed as dist
from torch import nn

import strategist.optim.kfac as kfac
from strategist.optim.kfac import KFAC


class _Reduced(Exception):
    """Stops the fold at the collective (the meta device holds no values to read back)."""


def test_distributed_statistics_are_reduced_on_the_layers_device(monkeypatch):
    # The meta device stands in for an accelerator: NCCL reduces only tensors on the GPU, so the sums and the
    # counts (zeros here: nothing was captured) must be made on the layer's device, not on the CPU.
    layer = nn.Linear(3, 2, device="meta")
    opt = KFAC(layer, loss_type="mse", fisher="exact")
    seen = []

    def all_reduce(tensor, *args, **kwargs):
        seen.append((tensor.device.type, tensor.shape))
        raise _Reduced

    monkeypatch.setattr(kfac, "_distributed", lambda: True)
    monkeypatch.setattr(dist, "all_reduce", all_reduce)
    with pytest.raises(_Reduced):
        opt._fold_statistics(examples=5, passes=1)
    # one collective: A (4 x 4 with the bias), S (2 x 2), two counts and the examples
    assert seen == [("meta", torch.Size([16 + 4 + 3]))]


class _StateRegularised(nn.Module):
    """A GRU read by a head at its last step; the final state is returned too (a loss may penalise it)."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 3, batch_first=True)
        self.head = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, h_n = self.gru(x)
        return self.head(out[:, -1]), h_n


def _factors(model: _StateRegularised, x: torch.Tensor, y: torch.Tensor, backward_first: bool) -> dict:
    opt = KFAC(model, loss_type="mse", fisher="exact", factor_dtype=torch.float64)
    with opt.capture():
        outputs, h_n = model(x)
    loss = 0.5 * (outputs - y).square().sum(-1).mean() + h_n.square().mean()
    if backward_first:
        loss.backward(retain_graph=True)
        assert opt.update_factors(outputs)
    else:
        opt.backward(loss, outputs)
    return {name: (opt.state[p]["A"], opt.state[p]["S"]) for name, p in model.named_parameters()
            if "A" in opt.state[p]}


def test_a_backward_before_update_factors_leaves_the_gru_factors_unchanged(float64):
    # The loss also reaches the GRU's final state h_n, which the outputs do not use: the Fisher passes never
    # give h_n a gradient, so its output factor must not take the one the loss's backward gave it.
    torch.manual_seed(3)
    model = _StateRegularised()
    x, y = torch.randn(4, 5, 2), torch.randn(4, 2)
    usual = _factors(copy.deepcopy(model), x, y, backward_first=False)
    early = _factors(copy.deepcopy(model), x, y, backward_first=True)
    assert set(usual) == set(early) == {"gru.weight_ih_l0", "gru.weight_hh_l0", "head.weight"}
    for name, (a_factor, s_factor) in usual.items():
        torch.testing.assert_close(early[name][0], a_factor, rtol=1e-12, atol=1e-12, msg=name)
        torch.testing.assert_close(early[name][1], s_factor, rtol=1e-12, atol=1e-12, msg=name)
