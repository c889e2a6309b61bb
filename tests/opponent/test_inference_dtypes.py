"""The folded forward pass computes in float32 whatever the network's weights and the inputs are typed."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from strategist.opponent.inference import FoldedRallyNet
from strategist.opponent.neural import HEIGHTS, MAX_STROKE, N_CTX, N_NUM, NeuralConfig, RallyNet


def _net(layers: int) -> RallyNet:
    torch.manual_seed(1)
    net = RallyNet(n_shots=7, n_areas=4, n_players=3, cfg=NeuralConfig(hidden=8, d_shot=4, d_area=3, d_player=2,
                                                                       layers=layers))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return net.eval()


def _inputs(t: int = 5) -> dict:
    rng = np.random.default_rng(t)
    return {"shot": rng.integers(0, 9, t), "area": rng.integers(0, 5, t), "wing": rng.integers(0, 3, t),
            "height": rng.integers(0, len(HEIGHTS) + 1, t), "num": rng.normal(size=(t, N_NUM)).astype(np.float32),
            "player": 1, "opponent": 2, "stroke": int(min(3, MAX_STROKE)),
            "ctx": [float(v) for v in rng.random(N_CTX)]}               # a plain list of Python floats


def _reference(net, x: dict) -> np.ndarray:
    """The network's own forward pass in float64."""
    net = copy.deepcopy(net).double()
    b = {k: torch.as_tensor(np.asarray(x[k]))[None] for k in ("shot", "area", "wing", "height")}
    b["num"] = torch.as_tensor(x["num"], dtype=torch.float64)[None]
    b |= {k: torch.tensor([x[k]]) for k in ("player", "opponent", "stroke")}
    b["ctx"] = torch.tensor(x["ctx"], dtype=torch.float64)[None]
    with torch.no_grad():
        return net.last(b)[0].numpy()


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_logits_are_float32_with_a_list_context_and_any_number_of_layers(layers):
    net = _net(layers)
    x = _inputs()
    out = FoldedRallyNet(net).logits(**x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _reference(net, x), rtol=1e-4, atol=1e-4)


def test_a_float64_network_is_folded_into_float32_tables():
    net = _net(2).double()
    folded = FoldedRallyNet(net)
    tables = [folded.shot, folded.area, folded.wing, folded.height, folded.num, folded.bias, folded.mid_h,
              folded.player, folded.opponent, folded.stroke, folded.ctx, folded.mid_bias, folded.out,
              folded.out_bias, *(w for layer in folded.layers for w in layer)]
    assert all(t.dtype == np.float32 for t in tables)
    x = _inputs()
    out = folded.logits(**x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _reference(net, x), rtol=1e-4, atol=1e-4)


def test_a_bfloat16_network_is_folded_from_its_weights_read_as_float32():
    net = _net(1).to(torch.bfloat16)
    x = _inputs()
    out = FoldedRallyNet(net).logits(**x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _reference(net.float(), x), rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_network_on_the_gpu_is_folded_into_host_tables():
    net = _net(2)
    x = _inputs()
    expected = FoldedRallyNet(net).logits(**x)
    out = FoldedRallyNet(net.to("cuda")).logits(**x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
