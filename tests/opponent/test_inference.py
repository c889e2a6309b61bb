"""The folded NumPy forward pass of one rally equals the network's own (torch) forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from strategist.opponent.inference import FoldedRallyNet
from strategist.opponent.neural import HEIGHTS, MAX_STROKE, N_CTX, N_NUM, NeuralConfig, NeuralModel, RallyNet


def _random_net(layers: int, seed: int = 0) -> RallyNet:
    torch.manual_seed(seed)
    net = RallyNet(n_shots=19, n_areas=10, n_players=5, cfg=NeuralConfig(hidden=24, d_shot=6, d_area=5,
                                                                          d_player=3, layers=layers))
    with torch.no_grad():                        # biases away from their initial values, every one of them
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return net.eval()


def _inputs(rng, t: int) -> dict:
    return {"shot": rng.integers(0, 21, t), "area": rng.integers(0, 11, t), "wing": rng.integers(0, 3, t),
            "height": rng.integers(0, len(HEIGHTS) + 1, t), "num": rng.normal(size=(t, N_NUM)).astype(np.float32),
            "player": int(rng.integers(0, 6)), "opponent": int(rng.integers(0, 6)),
            "stroke": int(rng.integers(1, MAX_STROKE + 1)), "ctx": rng.random(N_CTX).astype(np.float32)}


def _torch_last(net, x: dict) -> np.ndarray:
    b = {k: torch.as_tensor(np.asarray(x[k]))[None] for k in ("shot", "area", "wing", "height", "num")}
    b |= {k: torch.tensor([x[k]]) for k in ("player", "opponent", "stroke")}
    b["ctx"] = torch.as_tensor(x["ctx"])[None]
    with torch.no_grad():
        return net.last(b)[0].numpy()


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("steps", [1, 4, 30])
def test_folded_logits_equal_the_torch_forward_pass(layers, steps):
    net = _random_net(layers)
    folded = FoldedRallyNet(net)
    rng = np.random.default_rng(steps)
    for _ in range(5):
        x = _inputs(rng, steps)
        np.testing.assert_allclose(folded.logits(**x), _torch_last(net, x), rtol=1e-5, atol=1e-5)


def test_a_changed_weight_is_folded_again_before_the_next_prediction(untrained_neural):
    model = untrained_neural(players=["Ann", "Bea"])
    hist = {"player": "Ann", "opponent": "Bea"}
    before = model.predict_proba(None, hist).to_numpy()
    folded = model._folded
    assert folded is not None and folded.fresh(model.net)
    with torch.no_grad():
        model.net.out.bias[3] += 2.0                     # an edit in place ...
    assert folded.fresh(model.net)                       # ... is not seen until it is announced
    model.net.weights_changed()
    assert not folded.fresh(model.net)
    after = model.predict_proba(None, hist).to_numpy()
    assert after[3] > before[3] + 0.1
    torch_path = NeuralModel._torch_logits(model, np.array([1]), np.zeros(1, np.int64), np.zeros(1, np.int64),
                                           np.zeros(1, np.int64), np.zeros((1, N_NUM), np.float32), 1, 2, 1,
                                           np.array([0, 0, 1, 1], np.float32))   # no score; Ann serves
    e = np.exp(torch_path - torch_path.max())
    np.testing.assert_allclose(after, e / e.sum(), rtol=1e-5)


def _prefixed(rng, base: dict, last: int) -> dict:
    """``base`` with one more step (a different last stroke for each ``last``)."""
    step = _inputs(np.random.default_rng(1000 + last), 1)
    out = dict(base)
    for k in ("shot", "area", "wing", "height", "num"):
        out[k] = np.concatenate([np.asarray(base[k]), np.asarray(step[k])])
    return out


@pytest.mark.parametrize("layers", [1, 2])
def test_kept_states_give_the_logits_of_a_fresh_fold_bit_for_bit(layers):
    net = _random_net(layers)
    kept, fresh_each = FoldedRallyNet(net), lambda x: FoldedRallyNet(net, cache_size=0).logits(**x)
    rng = np.random.default_rng(7)
    base = _inputs(rng, 5)
    asked = [_prefixed(rng, base, k) for k in range(4)] + [base] + [_prefixed(rng, _prefixed(rng, base, 0), 9)]
    for order in (range(len(asked)), reversed(range(len(asked))), [1, 4, 1, 5, 0, 3]):
        for i in order:
            x = asked[i]
            np.testing.assert_array_equal(kept.logits(**x), fresh_each(x))
            np.testing.assert_allclose(kept.logits(**x), _torch_last(net, x), rtol=1e-5, atol=1e-5)


def test_a_rally_asked_with_another_last_stroke_runs_one_step(monkeypatch):
    import strategist.opponent.inference as inference

    net = _random_net(1)
    folded = FoldedRallyNet(net)
    rng = np.random.default_rng(3)
    base = _inputs(rng, 8)
    calls = []
    real = inference.expit
    monkeypatch.setattr(inference, "expit", lambda z: calls.append(1) or real(z))    # one call per GRU step
    folded.logits(**_prefixed(rng, base, 0))
    assert len(calls) == 9                               # the whole rally: eight steps and the last
    calls.clear()
    folded.logits(**_prefixed(rng, base, 1))
    assert len(calls) == 1                               # the eight steps' state was kept
    calls.clear()
    folded.logits(**base)
    assert len(calls) == 0
    folded.logits(**_prefixed(rng, base, 1))             # the very rally again: its own state was kept
    assert len(calls) == 0
    short = _inputs(rng, 1)                              # a rally of two steps: its first step's state kept
    folded.logits(**_prefixed(rng, short, 2))
    calls.clear()
    folded.logits(**_prefixed(rng, short, 3))
    assert len(calls) == 1
    folded.forget()                                      # forgotten: the whole rally again
    calls.clear()
    folded.logits(**_prefixed(rng, base, 1))
    assert len(calls) == 9


def test_the_kept_states_are_bounded_and_can_be_turned_off():
    net = _random_net(1)
    rng = np.random.default_rng(5)
    small, one, off = (FoldedRallyNet(net, cache_size=size) for size in (3, 1, 0))
    for _ in range(10):
        x = _inputs(rng, 4)
        np.testing.assert_array_equal(small.logits(**x), off.logits(**x))
        one.logits(**x)
        assert len(small._states) <= 3 and len(one._states) == 1 and len(off._states) == 0
