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


# ---------------------------------------------------------------------------------------------------------
# update_factors without a capture, outputs and losses it refuses or takes

def test_update_factors_without_a_captured_forward_updates_nothing():
    model = _mlp()
    opt = KFAC(model)
    x = torch.randn(5, 4)
    assert opt.update_factors(model(x)) is False  # never captured
    with opt.capture():
        out = model(x)
    assert opt.update_factors(out) is True
    assert opt.update_factors(out) is False  # this capture was already folded in
    assert "A" in opt.state[model[0].weight]


def test_a_step_without_any_capture_names_the_missing_capture():
    model = _mlp()
    opt = KFAC(model)
    opt.zero_grad()
    F.cross_entropy(model(torch.randn(4, 4)), torch.randint(0, 3, (4,))).backward()
    with pytest.raises(ConfigurationError, match=r"without opt\.capture\(\) ever being used"):
        opt.step()


def test_one_unbatched_example_is_one_row_and_a_scalar_output_is_refused():
    torch.manual_seed(3)
    layer = nn.Linear(3, 2).double()
    opt = KFAC(layer, loss_type="mse", fisher="exact", factor_dtype=torch.float64)
    x = torch.randn(3, dtype=torch.float64)
    with opt.capture():
        out = layer(x)  # shape (2,): one example
    assert opt.update_factors(out)
    row = torch.cat([x, torch.ones(1, dtype=torch.float64)])
    torch.testing.assert_close(opt.state[layer.weight]["A"], torch.outer(row, row))
    torch.testing.assert_close(opt.state[layer.weight]["S"], torch.eye(2, dtype=torch.float64))
    with opt.capture():
        total = layer(x).sum()
    with pytest.raises(ConfigurationError, match="output tensor"):
        opt.update_factors(total)


def test_the_empirical_fisher_needs_the_scalar_loss():
    model = _mlp()
    opt = KFAC(model, fisher="empirical")
    x, y = torch.randn(5, 4), torch.randint(0, 3, (5,))
    for loss in (None, "per example"):
        with opt.capture():
            out = model(x)
        per_example = F.cross_entropy(out, y, reduction="none")
        with pytest.raises(ConfigurationError, match="scalar"):
            opt.update_factors(out, None if loss is None else per_example)


def test_the_class_axis_check_is_relative_to_the_size_of_the_loss_gradient():
    # A cross-entropy over (N, C, T) logits scaled down to a gradient of total size < 1 is still refused ...
    torch.manual_seed(4)
    model = _Tagger()
    opt = KFAC(model)
    x, y = torch.randn(6, 7, 5), torch.randint(0, 4, (6, 7))
    with opt.capture():
        logits = model(x)
    with pytest.raises(ConfigurationError, match="last axis"):
        opt.update_factors(logits, 0.1 * F.cross_entropy(logits, y))
    # ... and a gradient whose sums over the last axis are exactly 1 % of its total size is accepted:
    # ∂loss/∂out = [50.5, −49.5], total 100, sum 1.
    layer = nn.Linear(3, 2).double()
    opt = KFAC(layer)
    with opt.capture():
        out = layer(torch.randn(1, 1, 3, dtype=torch.float64))
    assert opt.update_factors(out, (out * torch.tensor([50.5, -49.5], dtype=torch.float64)).sum())


def test_sgd_fallback_without_momentum_is_plain_sgd_and_keeps_no_buffer():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2))
    norm = nn.LayerNorm(2)
    norm.load_state_dict(model[1].state_dict())
    opt = KFAC(model, lr=0.1, fallback="sgd", momentum=0.0)
    sgd = torch.optim.SGD(norm.parameters(), lr=0.1)
    y = torch.randn(8, 2)
    for _ in range(2):
        x = torch.randn(8, 3)
        opt.zero_grad()
        with opt.capture():
            out = model(x)
        loss = 0.5 * (out - y).square().sum(-1).mean()
        opt.backward(loss, out)
        hidden = model[0](x).detach()  # before the step: the LayerNorm saw this input
        opt.step()
        sgd.zero_grad()
        (0.5 * (norm(hidden) - y).square().sum(-1).mean()).backward()
        sgd.step()
    for p, q in zip(model[1].parameters(), norm.parameters()):
        torch.testing.assert_close(p, q)
        assert "momentum_buffer" not in opt.state[p]
