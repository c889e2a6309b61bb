"""K-FAC in a torch user's hands: the plain loop, wrong arguments, add_param_group, a class axis that is not
last, non-finite gradients on every parameter, and fallbacks that say so."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from strategist.errors import ConfigurationError, StrategistError
from strategist.optim.kfac import KFAC, _stored_bases, rotate_back


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def _weights(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_the_plain_torch_loop_is_refused_on_the_first_step_with_the_loop_to_use():
    model = _mlp()
    opt = KFAC(model)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    before = _weights(model)
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    with pytest.raises(ConfigurationError, match=r"opt\.backward\(loss, outputs\)") as info:
        opt.step()
    assert "with opt.capture()" in str(info.value)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


def test_a_capture_whose_factors_were_never_updated_is_refused():
    model = _mlp()
    opt = KFAC(model)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    opt.zero_grad()
    with opt.capture():
        out = model(x)
    F.cross_entropy(out, y).backward()  # loss.backward() instead of opt.backward(loss, out)
    with pytest.raises(ConfigurationError, match="never updated"):
        opt.step()


def test_parameters_instead_of_the_model_are_refused():
    model = _mlp()
    for wrong in (model.parameters(), list(model.parameters()), [{"params": model.parameters()}]):
        with pytest.raises(ConfigurationError, match=r"KFAC\(model"):
            KFAC(wrong)
    assert issubclass(ConfigurationError, StrategistError)


def test_add_param_group_is_refused_clearly_and_the_optimizer_keeps_working():
    model = _mlp()
    opt = KFAC(model, loss_type="cross_entropy")
    with pytest.raises(ConfigurationError, match="parameter groups are fixed"):
        opt.add_param_group({"params": [nn.Parameter(torch.zeros(2))]})
    assert len(opt.param_groups) == 2
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    opt.zero_grad()
    with opt.capture():
        out = model(x)
    opt.backward(F.cross_entropy(out, y), out)
    opt.step()


class _Tagger(nn.Module):
    """Per-position logits laid out (N, C, T), as F.cross_entropy takes them."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(5, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x).transpose(1, 2)  # (N, T, C) -> (N, C, T)


def test_a_class_axis_that_is_not_last_is_refused_and_the_documented_fix_works():
    torch.manual_seed(1)
    model = _Tagger()
    opt = KFAC(model)
    x, y = torch.randn(6, 7, 5), torch.randint(0, 4, (6, 7))
    opt.zero_grad()
    with opt.capture():
        logits = model(x)
    with pytest.raises(ConfigurationError, match="last axis"):
        opt.backward(F.cross_entropy(logits, y), logits)
    opt.zero_grad()
    with opt.capture():
        logits = model(x).movedim(1, -1)
    opt.backward(F.cross_entropy(logits.reshape(-1, 4), y.reshape(-1)), logits)
    opt.step()
    assert opt.state[model.layer.weight]["S"].shape == (4, 4)


class _Embedded(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.norm = nn.LayerNorm(4)
        self.head = nn.Linear(4, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.embed(tokens)))


@pytest.mark.parametrize("where, bad", [("embed.weight", float("nan")), ("norm.bias", float("inf")),
                                        ("head.weight", float("nan"))])
def test_a_non_finite_gradient_is_skipped_and_counted_on_every_parameter(where, bad):
    torch.manual_seed(2)
    model = _Embedded()
    opt = KFAC(model, lr=0.1)
    tokens, labels = torch.randint(0, 10, (8,)), torch.randint(0, 3, (8,))

    def forward_backward():
        opt.zero_grad()
        with opt.capture():
            out = model(tokens)
        opt.backward(F.cross_entropy(out, labels), out)

    forward_backward()
    opt.step()
    params = dict(model.named_parameters())

    def state_of(p):
        """The parameter's state tensors; K-FAC's momentum in the original coordinates (it is kept in the
        eigenbasis, which every step refreshes from the finite Fisher pass)."""
        state = {k: v.clone() for k, v in opt.state[p].items() if torch.is_tensor(v) and not k.startswith(("A", "S"))}
        if "kfac_momentum" in state:
            bases = _stored_bases(opt.state[p])
            state["kfac_momentum"] = rotate_back(state["kfac_momentum"], *bases)
        return state

    state_before = {name: state_of(p) for name, p in params.items()}
    weight_before = params[where].detach().clone()
    forward_backward()
    params[where].grad.view(-1)[0] = bad
    opt.step()
    assert torch.equal(params[where].detach(), weight_before)
    for key, value in state_of(params[where]).items():
        torch.testing.assert_close(value, state_before[where][key], rtol=1e-5, atol=1e-7, msg=key)
    assert opt.health.skipped_updates == 1
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_layer_without_factors_warns_once_and_counts_its_fallback_steps():
    model = _mlp()
    opt = KFAC(model, loss_type="cross_entropy")
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with pytest.warns(UserWarning, match="no factors yet"):
        for _ in range(2):
            opt.zero_grad()
            with opt.capture(enabled=False):
                out = model(x)
            opt.backward(F.cross_entropy(out, y), out)
            opt.step()
    assert opt.health.fallback_updates == 2 * 2  # two layers, two steps
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.zero_grad()
        with opt.capture():
            out = model(x)
        opt.backward(F.cross_entropy(out, y), out)
        opt.step()
    assert opt.health.fallback_updates == 4


def test_linear_and_gru_layers_left_out_are_named_in_a_warning():
    model = nn.ModuleDict({"small": nn.Linear(3, 3), "big": nn.Linear(3, 50),
                           "bi": nn.GRU(3, 2, bidirectional=True)})
    with pytest.warns(UserWarning, match=r"big \(a factor of size 50.*bi \(bidirectional"):
        opt = KFAC(model, max_factor_dim=20)
    assert opt.preconditioned_layers == ["small"]
