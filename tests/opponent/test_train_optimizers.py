"""The optimizers a training run can use: AdamW's steps against its update rule written out in float64, and each
of ours built with the settings of the benchmark that chose the default learning rates (the per-group
settings the optimizer reports)."""

from __future__ import annotations

import pytest
import torch

from strategist import optim
from strategist.errors import ConfigurationError
from strategist.opponent.neural import NeuralConfig, RallyNet
from strategist.opponent.train import DEFAULT_LR, OPTIMIZERS, make_optimizer


def _net():
    torch.manual_seed(0)
    return RallyNet(5, 3, 2, NeuralConfig(hidden=4, d_shot=2, d_area=2, d_player=2, d_height=2))


def _settings(opt):
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


def test_adamw_takes_the_steps_of_its_update_rule():
    """Two steps on fixed gradients: decoupled weight decay, moments with betas (0.9, 0.999), bias-corrected,
    eps 1e-8 (float64 by hand)."""
    net = _net()
    lr, wd = 0.05, 0.02
    opt = make_optimizer("adamw", net, lr, wd)
    params = list(net.parameters())
    start = [p.detach().double().clone() for p in params]
    grads = [[torch.randn_like(p) for p in params] for _ in range(2)]
    for step in grads:
        for p, g in zip(params, step):
            p.grad = g.clone()
        opt.step()
    for k, p in enumerate(params):
        w, m, v = start[k].clone(), torch.zeros_like(start[k]), torch.zeros_like(start[k])
        for t, step in enumerate(grads, start=1):
            g = step[k].double()
            w = w * (1 - lr * wd)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            w = w - lr * (m / (1 - 0.9 ** t)) / ((v / (1 - 0.999 ** t)).sqrt() + 1e-8)
        torch.testing.assert_close(p.detach().double(), w, rtol=1e-5, atol=1e-6)


def test_each_optimizer_starts_from_its_default_learning_rate():
    for name in OPTIMIZERS:
        opt = make_optimizer(name, _net())
        assert max(g["lr"] for g in opt.param_groups) == pytest.approx(DEFAULT_LR[name]), name
        assert make_optimizer(name.upper(), _net(), lr=0.02).param_groups[0]["lr"] == pytest.approx(0.02)
    with pytest.raises(ConfigurationError, match=r"optimizer 'sgd'; expected one of \['soap', 'shampoo'"):
        make_optimizer("sgd", _net())


def test_soap_and_shampoo_use_the_benchmarks_settings():
    soap = make_optimizer("soap", _net(), 0.01, 0.03)
    assert isinstance(soap, optim.SOAP)
    assert all(s["betas"] == (0.95, 0.95) and s["weight_decay"] == 0.03 and s["precondition_frequency"] == 10
               and s["lr"] == 0.01 for s in _settings(soap))
    shampoo = make_optimizer("shampoo", _net(), 0.01, 0.03)
    assert isinstance(shampoo, optim.Shampoo)
    assert all(s["betas"] == (0.9, 0.999) and s["weight_decay"] == 0.03 and s["precondition_frequency"] == 10
               and s["start_preconditioning_step"] == 10 and s["lr"] == 0.01 for s in _settings(shampoo))


def test_muon_routes_matrices_to_muon_and_the_rest_to_adamw_at_a_sixth_of_the_rate():
    opt = make_optimizer("muon", _net(), 0.02, 0.03)
    groups = _settings(opt)
    muon = [g for g in groups if g["use_muon"]]
    adam = [g for g in groups if not g["use_muon"]]
    assert muon and adam
    assert all(g["lr"] == 0.02 and g["momentum"] == 0.95 for g in muon)
    assert all(g["lr"] == pytest.approx(0.15 * 0.02) and g["betas"] == (0.9, 0.999) and g["weight_decay"] == 0.03
               for g in adam)


def test_kfac_uses_the_benchmarks_settings_and_an_adamw_fallback():
    opt = make_optimizer("kfac", _net(), 0.02, 0.03)
    assert isinstance(opt, optim.KFAC) and opt.loss_type == "cross_entropy"
    kfac, fallback = _settings(opt)
    assert (kfac["lr"], kfac["momentum"], kfac["damping"], kfac["factor_decay"], kfac["inverse_every"],
            kfac["kl_clip"]) == (0.02, 0.9, 1e-2, 0.95, 10, None)
    assert fallback["algorithm"] == "adamw" and fallback["lr"] == pytest.approx(0.002)
    assert fallback["weight_decay"] == 0.03
