"""Muon: Newton–Schulz against the SVD, the step against torch.optim.Muon, and the Muon/AdamW routing."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from strategist.errors import ConfigurationError
from strategist.optim.muon import (Muon, MuonWithAdamW, muon_update, newton_schulz_dtype,
                                   zeropower_via_newtonschulz5)
from strategist.optim.routing import (BIAS_AND_GAIN, EMBEDDING, HEAD, HIDDEN, RECURRENT, build_muon_optimizer,
                                      muon_param_groups, route_parameters)

A, B, C = 3.4445, -4.7750, 2.0315


@pytest.fixture(autouse=True)
def _one_thread():
    """Small matrices: one thread avoids OpenMP contention on a shared 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _matrix_with_spectrum(rows: int, cols: int, singular_values: torch.Tensor, seed: int):
    gen = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(rows, rows, generator=gen, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(cols, cols, generator=gen, dtype=torch.float64))
    r = min(rows, cols)
    return u[:, :r] @ torch.diag(singular_values) @ v[:, :r].T, u[:, :r], v[:, :r]


@pytest.mark.parametrize("shape", [(16, 32), (32, 16), (24, 24), (64, 8)])
def test_newton_schulz_is_u_s_prime_v_transpose_within_band(shape):
    rows, cols = shape
    r = min(shape)
    sigma = torch.logspace(-1, 1, r, dtype=torch.float64)  # condition number 100
    matrix, u, v = _matrix_with_spectrum(rows, cols, sigma, seed=rows * cols)
    ortho = zeropower_via_newtonschulz5(matrix)
    assert ortho.dtype == torch.float64 and ortho.shape == matrix.shape
    # Same singular vectors: U^T O V is diagonal.
    core = u.T @ ortho @ v
    off_diagonal = core - torch.diag(torch.diagonal(core))
    assert off_diagonal.abs().max() < 1e-10
    # Its diagonal is the scalar quintic applied 5 times to sigma / (||M||_F + 1e-7), an independent recursion.
    x = sigma / (torch.linalg.norm(matrix) + 1e-7)
    for _ in range(5):
        x = A * x + B * x**3 + C * x**5
    torch.testing.assert_close(torch.diagonal(core), x, rtol=1e-9, atol=1e-9)
    # Singular values in the known band around 1, and close to the SVD's U V^T in spectral norm.
    assert x.min() > 0.5 and x.max() < 1.5
    assert torch.linalg.matrix_norm(ortho - u @ v.T, ord=2) < 0.5


def test_newton_schulz_dtype_follows_device_and_precision():
    assert newton_schulz_dtype(torch.zeros(2, 2)) == torch.float32
    assert newton_schulz_dtype(torch.zeros(2, 2, dtype=torch.float64)) == torch.float64
    assert newton_schulz_dtype(torch.zeros(2, 2, dtype=torch.bfloat16)) == torch.float32
    assert zeropower_via_newtonschulz5(torch.randn(3, 5)).dtype == torch.float32
    assert zeropower_via_newtonschulz5(torch.zeros(3, 5)).abs().max() == 0  # zero stays zero (eps)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_newton_schulz_runs_in_bfloat16_on_cuda():
    matrix = torch.randn(32, 64, device="cuda")
    assert newton_schulz_dtype(matrix) == torch.bfloat16
    ortho = zeropower_via_newtonschulz5(matrix).float()
    s = torch.linalg.svdvals(ortho)
    assert s.min() > 0.4 and s.max() < 1.6


@pytest.mark.parametrize("shape", [(16, 32), (48, 16)])
@pytest.mark.parametrize("ns_dtype", [torch.bfloat16, None])
def test_matches_torch_optim_muon(shape, ns_dtype):
    # torch.optim.Muon: B <- lerp(B, G, 1 - mu), U = lerp(G, B, mu), NS5 in bfloat16, lr scaled by
    # sqrt(max(1, rows/cols)) with adjust_lr_fn="original", weight decay with the unscaled lr: the same
    # conventions as ours. Remaining differences are bfloat16 rounding (torch always iterates in bfloat16;
    # ours does on CUDA, in float32 on CPU by default): ~1e-2 relative, asserted below 3e-2, while a wrong
    # convention (no sqrt(3) shape scaling, no Nesterov) is off by 20% or more.
    torch.manual_seed(0)
    start = torch.randn(*shape)
    ours, theirs = nn.Parameter(start.clone()), nn.Parameter(start.clone())
    opt_ours = Muon([ours], lr=0.02, momentum=0.95, weight_decay=0.1, ns_dtype=ns_dtype)
    opt_theirs = torch.optim.Muon([theirs], lr=0.02, momentum=0.95, weight_decay=0.1, adjust_lr_fn="original")
    for _ in range(3):
        grad = torch.randn(*shape)
        ours.grad, theirs.grad = grad.clone(), grad.clone()
        opt_ours.step()
        opt_theirs.step()
    moved_ours, moved_theirs = ours.detach() - start, theirs.detach() - start
    assert torch.linalg.norm(moved_ours - moved_theirs) / torch.linalg.norm(moved_theirs) < 0.03


def test_match_rms_adamw_convention_is_a_learning_rate_rescaling():
    # torch's adjust_lr_fn="match_rms_adamw" scales the step by 0.2 sqrt(max(rows, cols)) instead of
    # sqrt(max(1, rows/cols)); with no weight decay our Muon at the rescaled lr takes the same step.
    torch.manual_seed(1)
    rows, cols = 12, 40
    start = torch.randn(rows, cols)
    lr = 0.01
    ours, theirs = nn.Parameter(start.clone()), nn.Parameter(start.clone())
    ratio = 0.2 * max(rows, cols) ** 0.5 / max(1.0, rows / cols) ** 0.5
    opt_ours = Muon([ours], lr=lr * ratio, weight_decay=0.0, ns_dtype=torch.bfloat16)
    opt_theirs = torch.optim.Muon([theirs], lr=lr, weight_decay=0.0, adjust_lr_fn="match_rms_adamw")
    grad = torch.randn(rows, cols)
    ours.grad, theirs.grad = grad.clone(), grad.clone()
    opt_ours.step()
    opt_theirs.step()
    moved_ours, moved_theirs = ours.detach() - start, theirs.detach() - start
    assert torch.linalg.norm(moved_ours - moved_theirs) / torch.linalg.norm(moved_theirs) < 0.05


def test_step_is_nesterov_momentum_orthogonalised_and_scaled(float64):
    torch.manual_seed(2)
    rows, cols, lr, mu, wd = 30, 10, 0.05, 0.9, 0.1
    param = nn.Parameter(torch.randn(rows, cols))
    expected = param.detach().clone()
    opt = Muon([param], lr=lr, momentum=mu, weight_decay=wd)
    buffer = torch.zeros(rows, cols)
    for _ in range(3):
        grad = torch.randn(rows, cols)
        param.grad = grad.clone()
        opt.step()
        buffer = mu * buffer + (1 - mu) * grad
        update = grad + mu * (buffer - grad)
        expected = expected * (1 - lr * wd) - lr * (rows / cols) ** 0.5 * zeropower_via_newtonschulz5(update)
    torch.testing.assert_close(param.detach(), expected, rtol=1e-12, atol=1e-12)


def test_zero_gradient_leaves_only_weight_decay(float64):
    param = nn.Parameter(torch.randn(6, 4))
    start = param.detach().clone()
    opt = Muon([param], lr=0.1, weight_decay=0.5)
    param.grad = torch.zeros_like(param)
    opt.step()
    torch.testing.assert_close(param.detach(), start * (1 - 0.1 * 0.5))


def test_convolution_weights_are_flattened(float64):
    torch.manual_seed(3)
    conv = nn.Parameter(torch.randn(8, 4, 3, 3))
    flat = nn.Parameter(conv.detach().reshape(8, 36).clone())
    grad = torch.randn(8, 4, 3, 3)
    conv.grad, flat.grad = grad.clone(), grad.reshape(8, 36).clone()
    Muon([conv]).step()
    Muon([flat]).step()
    torch.testing.assert_close(conv.detach().reshape(8, 36), flat.detach())


def test_row_blocks_orthogonalise_each_gate_separately(float64):
    torch.manual_seed(4)
    hidden, inputs = 5, 7
    stacked = nn.Parameter(torch.randn(3 * hidden, inputs))
    gates = [nn.Parameter(block.clone()) for block in stacked.detach().split(hidden)]
    grad = torch.randn(3 * hidden, inputs)
    stacked.grad = grad.clone()
    for gate, g in zip(gates, grad.split(hidden)):
        gate.grad = g.clone()
    Muon([stacked], row_blocks=3).step()
    Muon(gates).step()
    torch.testing.assert_close(stacked.detach(), torch.cat([g.detach() for g in gates]))
    whole = nn.Parameter(stacked.detach().clone())
    with pytest.raises(ConfigurationError):
        Muon([whole], row_blocks=4)


def test_rejects_vectors_and_bad_options():
    with pytest.raises(ConfigurationError, match="route biases"):
        Muon([nn.Parameter(torch.zeros(5))])
    with pytest.raises(ConfigurationError, match="momentum"):
        Muon([nn.Parameter(torch.zeros(2, 2))], momentum=1.5)
    with pytest.raises(ConfigurationError, match="use_muon"):
        MuonWithAdamW([{"params": [nn.Parameter(torch.zeros(2, 2))]}])
    with pytest.raises(ConfigurationError, match="route biases"):
        MuonWithAdamW([{"params": [nn.Parameter(torch.zeros(3))], "use_muon": True}])
    bias = nn.Parameter(torch.zeros(3))
    opt = MuonWithAdamW([{"params": [bias], "use_muon": False}])
    assert (opt.param_groups[0]["lr"], opt.param_groups[0]["betas"]) == (3e-4, (0.9, 0.95))


class _SequenceModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(12, 8)
        self.gru = nn.GRU(8, 16, num_layers=2, batch_first=True)
        self.mix = nn.Linear(16, 16)
        self.norm = nn.LayerNorm(16)
        self.conv = nn.Conv1d(16, 16, 3, padding=1)
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
        self.out = nn.Linear(16, 12)
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h, _ = self.gru(self.embed(tokens))
        h = self.norm(torch.relu(self.mix(h)))
        h = self.conv(h.transpose(1, 2)).transpose(1, 2)
        h = h + self.attn(h, h, h, need_weights=False)[0]
        return self.scale * self.out(h)


def test_routing_gives_every_parameter_one_role():
    model = _SequenceModel()
    routes = route_parameters(model)
    by_name = {r.name: r for r in routes}
    assert len(by_name) == len(routes) == len(list(model.parameters()))
    assert {id(r.param) for r in routes} == {id(p) for p in model.parameters()}
    expected = {
        "embed.weight": (EMBEDDING, 1),
        "gru.weight_ih_l0": (RECURRENT, 3), "gru.weight_hh_l0": (RECURRENT, 3),
        "gru.weight_ih_l1": (RECURRENT, 3), "gru.weight_hh_l1": (RECURRENT, 3),
        "gru.bias_ih_l0": (BIAS_AND_GAIN, 1), "gru.bias_hh_l1": (BIAS_AND_GAIN, 1),
        "mix.weight": (HIDDEN, 1), "mix.bias": (BIAS_AND_GAIN, 1),
        "norm.weight": (BIAS_AND_GAIN, 1), "norm.bias": (BIAS_AND_GAIN, 1),
        "conv.weight": (HIDDEN, 1), "conv.bias": (BIAS_AND_GAIN, 1),
        "attn.in_proj_weight": (HIDDEN, 3), "attn.out_proj.weight": (HIDDEN, 1),
        "out.weight": (HEAD, 1), "out.bias": (BIAS_AND_GAIN, 1), "scale": (BIAS_AND_GAIN, 1),
    }
    for name, (role, blocks) in expected.items():
        assert (by_name[name].role, by_name[name].row_blocks) == (role, blocks), name
    assert not route_parameters(model, split_stacked=False)[1].row_blocks > 1


def test_routing_with_named_head_tied_weights_and_frozen_parameters():
    model = _SequenceModel()
    routes = {r.name: r.role for r in route_parameters(model, head=["mix"])}
    assert routes["mix.weight"] == HEAD and routes["out.weight"] == HIDDEN
    assert {r.name: r.role for r in route_parameters(model, head=[])}["out.weight"] == HIDDEN
    with pytest.raises(ConfigurationError, match="decoder"):
        route_parameters(model, head="decoder")
    tied = _SequenceModel()
    tied.out = nn.Linear(16, 12, bias=False)
    tied.embed = nn.Embedding(12, 16)
    tied.out.weight = tied.embed.weight
    tied_routes = route_parameters(tied)
    assert [r.role for r in tied_routes if r.param is tied.embed.weight] == [EMBEDDING]
    model.mix.weight.requires_grad_(False)
    assert "mix.weight" not in {r.name for r in route_parameters(model)}


def test_param_groups_cover_the_model_once_with_the_documented_defaults():
    model = _SequenceModel()
    groups = muon_param_groups(model)
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    for group in groups:
        if group["use_muon"]:
            assert (group["lr"], group["momentum"], group["ns_steps"]) == (0.02, 0.95, 5)
        else:
            assert (group["lr"], group["betas"]) == (3e-4, (0.9, 0.95))
    assert {g["role"] for g in groups if not g["use_muon"]} == {EMBEDDING, HEAD, BIAS_AND_GAIN}
    assert sorted(g["row_blocks"] for g in groups if g["use_muon"]) == [1, 3]


def test_combined_optimizer_equals_muon_and_torch_adamw(float64):
    torch.manual_seed(5)
    model = _SequenceModel()
    reference = copy.deepcopy(model)
    opt = build_muon_optimizer(model, weight_decay=0.01, adamw_weight_decay=0.1)
    ref_groups = muon_param_groups(reference, weight_decay=0.01, adamw_weight_decay=0.1)
    ref_muon = [Muon(g["params"], lr=g["lr"], momentum=g["momentum"], weight_decay=g["weight_decay"],
                     row_blocks=g["row_blocks"]) for g in ref_groups if g["use_muon"]]
    ref_adamw = [torch.optim.AdamW(g["params"], lr=g["lr"], betas=g["betas"], eps=g["eps"],
                                   weight_decay=g["weight_decay"]) for g in ref_groups if not g["use_muon"]]
    tokens = torch.randint(0, 12, (4, 6))
    for _ in range(3):
        for net, optimizers in ((model, [opt]), (reference, ref_muon + ref_adamw)):
            for o in optimizers:
                o.zero_grad()
            net(tokens).square().mean().backward()
            for o in optimizers:
                o.step()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-12, msg=name)


def test_state_dict_round_trip_continues_like_an_uninterrupted_run(float64):
    torch.manual_seed(6)
    model = _SequenceModel()
    model.scale.requires_grad_(True)
    tokens = torch.randint(0, 12, (4, 6))

    def train(net, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            net(tokens).square().mean().backward()
            net.scale.grad = None  # a parameter that never gets a gradient
            opt.step()

    uninterrupted = copy.deepcopy(model)
    opt_u = build_muon_optimizer(uninterrupted)
    train(uninterrupted, opt_u, 4)
    first = copy.deepcopy(model)
    opt_1 = build_muon_optimizer(first)
    train(first, opt_1, 2)
    resumed = copy.deepcopy(first)
    opt_2 = build_muon_optimizer(resumed)
    opt_2.load_state_dict(copy.deepcopy(opt_1.state_dict()))
    train(resumed, opt_2, 2)
    for p, q in zip(resumed.parameters(), uninterrupted.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_first_step_on_a_gru_orthogonalises_each_gate_block_at_its_own_scale(float64):
    """From zero momentum, U = G(1 − β²): each H-row gate block of a GRU weight moves by
    −lr·√max(1, H/in)·NS5(U_block); the embedding takes AdamW's first step, −lr·sign(G)."""
    torch.manual_seed(7)
    model = _SequenceModel()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    opt = build_muon_optimizer(model, lr=0.05, adamw_lr=3e-3)
    tokens = torch.randint(0, 12, (16, 10))
    targets = torch.roll(tokens, 1, dims=1)
    nn.functional.cross_entropy(model(tokens).reshape(-1, 12), targets.reshape(-1)).backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    opt.step()
    after = dict(model.named_parameters())
    for name, cols in (("gru.weight_ih_l0", 8), ("gru.weight_hh_l0", 16), ("gru.weight_ih_l1", 16)):
        blocks = (1 - 0.95**2) * grads[name].reshape(3, 16, cols)
        expected = torch.cat([zeropower_via_newtonschulz5(b, dtype=torch.float64) for b in blocks])
        scale = max(1.0, 16 / cols) ** 0.5
        torch.testing.assert_close(after[name] - before[name], -0.05 * scale * expected, rtol=1e-10, atol=1e-12)
    embed = grads["embed.weight"]
    expected = -3e-3 * embed / (embed.abs() + 1e-8)
    torch.testing.assert_close(after["embed.weight"] - before["embed.weight"], expected, rtol=1e-6, atol=1e-12)


def _ns5_reference(matrix: torch.Tensor, steps: int = 5, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The Newton–Schulz quintic written out: X = M/(‖M‖_F + 1e-7) (rows ≤ cols), X ← aX + (bA + cA²)X."""
    x = matrix.to(dtype)
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = x.mT
    x = x / (x.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for _ in range(steps):
        gram = x @ x.mT
        x = A * x + (B * gram + C * (gram @ gram)) @ x
    return x.mT if tall else x


def test_muon_defaults_are_the_documented_ones(float64):
    torch.manual_seed(8)
    param = nn.Parameter(torch.randn(6, 4))
    start = param.detach().clone()
    opt = Muon([param])
    group = opt.param_groups[0]
    assert {k: group[k] for k in ("lr", "momentum", "nesterov", "weight_decay", "ns_steps", "row_blocks",
                                  "ns_dtype")} == dict(lr=0.02, momentum=0.95, nesterov=True, weight_decay=0.0,
                                                        ns_steps=5, row_blocks=1, ns_dtype=None)
    grad = torch.randn(6, 4)
    param.grad = grad.clone()
    opt.step()
    # First step from a zero buffer: U = G(1 − 0.95²); lr 0.02, shape scale √(6/4), no weight decay.
    expected = start - 0.02 * 1.5**0.5 * _ns5_reference((1 - 0.95**2) * grad)
    torch.testing.assert_close(param.detach(), expected, rtol=1e-12, atol=1e-12)


def test_muon_update_defaults_are_nesterov_095_five_steps_one_block():
    torch.manual_seed(9)
    buffer = torch.zeros(6, 4, dtype=torch.float64)
    ref_buffer = buffer.clone()
    for _ in range(2):
        grad = torch.randn(6, 4, dtype=torch.float64)
        step = muon_update(grad, buffer)
        ref_buffer = 0.95 * ref_buffer + 0.05 * grad
        expected = 1.5**0.5 * _ns5_reference(grad + 0.95 * (ref_buffer - grad), steps=5)
        torch.testing.assert_close(buffer, ref_buffer, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(step, expected, rtol=1e-12, atol=1e-12)


def test_muon_update_without_nesterov_orthogonalises_the_buffer():
    torch.manual_seed(10)
    grad = torch.randn(4, 7, dtype=torch.float64)
    buffer = torch.randn(4, 7, dtype=torch.float64)
    expected_buffer = 0.8 * buffer + 0.2 * grad
    step = muon_update(grad, buffer, momentum=0.8, nesterov=False)
    torch.testing.assert_close(step, _ns5_reference(expected_buffer), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("steps", [1, 2])
def test_muon_update_runs_the_requested_number_of_iterations(steps):
    torch.manual_seed(11)
    grad = torch.randn(5, 8, dtype=torch.float64)
    step = muon_update(grad, torch.zeros_like(grad), momentum=0.0, ns_steps=steps)
    torch.testing.assert_close(step, _ns5_reference(grad, steps=steps), rtol=1e-12, atol=1e-12)


def test_ns_dtype_sets_the_iteration_precision_and_the_step_keeps_the_gradient_dtype():
    torch.manual_seed(12)
    grad = torch.randn(6, 10)
    step = muon_update(grad, torch.zeros_like(grad), ns_dtype=torch.bfloat16)
    assert step.dtype == torch.float32
    bf16 = _ns5_reference((1 - 0.95**2) * grad, dtype=torch.bfloat16).float()
    f32 = _ns5_reference((1 - 0.95**2) * grad, dtype=torch.float32)
    assert (bf16 - f32).abs().max() > 1e-3  # the two precisions are told apart
    torch.testing.assert_close(step, bf16, rtol=0, atol=1e-5)
    assert muon_update(grad, torch.zeros_like(grad), ns_dtype=torch.float64).dtype == torch.float32
    # The same through the optimizers: Muon's and MuonWithAdamW's ns_dtype reach the iteration.
    for make in (lambda p: Muon([p], lr=0.1, ns_dtype=torch.bfloat16),
                 lambda p: MuonWithAdamW([{"params": [p], "use_muon": True, "lr": 0.1,
                                           "ns_dtype": torch.bfloat16}])):
        param = nn.Parameter(torch.randn(6, 10))
        start = param.detach().clone()
        param.grad = grad.clone()
        make(param).step()
        torch.testing.assert_close(param.detach() - start, -0.1 * bf16, rtol=0, atol=1e-5)


def test_newton_schulz_result_dtype():
    matrix = torch.randn(3, 5)
    assert zeropower_via_newtonschulz5(matrix.bfloat16()).dtype == torch.float32  # CPU: float32 iteration
    assert zeropower_via_newtonschulz5(matrix, dtype=torch.float64).dtype == torch.float64
    torch.testing.assert_close(zeropower_via_newtonschulz5(matrix, dtype=torch.float64), _ns5_reference(matrix),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(12, 5), (2, 12, 5)])
def test_tall_matrices_are_iterated_as_their_wide_transpose(shape):
    # rows > cols: the iteration runs on Mᵀ (a cols × cols Gram matrix, not rows × rows), so the result is
    # exactly the transpose of the wide matrix's result, batched or not.
    torch.manual_seed(13)
    tall = torch.randn(*shape)
    torch.testing.assert_close(zeropower_via_newtonschulz5(tall), zeropower_via_newtonschulz5(tall.mT).mT,
                               rtol=0, atol=0)


def test_option_boundaries():
    weight = nn.Parameter(torch.randn(6, 4))
    for kwargs in (dict(lr=0.0), dict(momentum=0.0), dict(ns_steps=1)):
        Muon([weight], **kwargs)
        MuonWithAdamW([{"params": [weight], "use_muon": True, **kwargs}])
    for kwargs, match in ((dict(momentum=1.0), "momentum"), (dict(momentum=-0.1), "momentum"),
                          (dict(lr=-0.01), "lr"), (dict(weight_decay=-0.1), "weight_decay"),
                          (dict(ns_steps=0), "ns_steps"), (dict(ns_steps=2.5), "ns_steps"),
                          (dict(row_blocks=0), "row_blocks"), (dict(row_blocks=1.5), "row_blocks")):
        with pytest.raises(ConfigurationError, match=match):
            Muon([weight], **kwargs)
        with pytest.raises(ConfigurationError, match=match):
            MuonWithAdamW([{"params": [weight], "use_muon": True, **kwargs}])


def test_zero_lr_and_zero_momentum(float64):
    torch.manual_seed(14)
    param = nn.Parameter(torch.randn(4, 6))
    start = param.detach().clone()
    param.grad = torch.randn(4, 6)
    Muon([param], lr=0.0, weight_decay=0.5).step()
    torch.testing.assert_close(param.detach(), start, rtol=0, atol=0)
    grad = param.grad.clone()
    opt = Muon([param], lr=0.1, momentum=0.0)
    opt.step()
    opt.step()  # no momentum: each step is the gradient's own orthogonalisation
    torch.testing.assert_close(param.detach(), start - 0.2 * _ns5_reference(grad), rtol=1e-12, atol=1e-12)


def test_parameters_without_gradient_are_skipped_not_the_rest_of_the_group(float64):
    torch.manual_seed(15)
    frozen_w, live_w = nn.Parameter(torch.randn(4, 6)), nn.Parameter(torch.randn(4, 6))
    frozen_b, live_b = nn.Parameter(torch.randn(3)), nn.Parameter(torch.randn(3))
    ref_b = nn.Parameter(live_b.detach().clone())
    starts = [p.detach().clone() for p in (frozen_w, live_w, frozen_b)]
    grad_w = torch.randn(4, 6)
    live_w.grad = grad_w.clone()
    live_b.grad = torch.randn(3)
    ref_b.grad = live_b.grad.clone()
    opt = MuonWithAdamW([{"params": [frozen_w, live_w], "use_muon": True, "lr": 0.1},
                         {"params": [frozen_b, live_b], "use_muon": False, "lr": 0.01}])
    opt.step()
    torch.optim.AdamW([ref_b], lr=0.01, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0).step()
    for p, start in zip((frozen_w, frozen_b), (starts[0], starts[2])):
        torch.testing.assert_close(p.detach(), start, rtol=0, atol=0)
    torch.testing.assert_close(live_w.detach(), starts[1] - 0.1 * _ns5_reference((1 - 0.95**2) * grad_w),
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(live_b, ref_b, rtol=1e-12, atol=1e-14)
    # Plain Muon too.
    frozen, live = nn.Parameter(torch.randn(4, 6)), nn.Parameter(torch.randn(4, 6))
    live_start = live.detach().clone()
    live.grad = grad_w.clone()
    Muon([frozen, live], lr=0.1).step()
    torch.testing.assert_close(live.detach(), live_start - 0.1 * _ns5_reference((1 - 0.95**2) * grad_w),
                               rtol=1e-12, atol=1e-12)


def test_combined_optimizer_refuses_an_empty_or_non_dict_group_list():
    with pytest.raises(ConfigurationError, match="non-empty list"):
        MuonWithAdamW([])
    with pytest.raises(ConfigurationError, match="parameter-group dicts"):
        MuonWithAdamW([nn.Parameter(torch.zeros(2, 2))])


@pytest.mark.parametrize("use_muon", [True, False])
def test_group_params_may_be_one_tensor_or_a_generator(use_muon):
    weight = nn.Parameter(torch.randn(4, 6))
    other = nn.Parameter(torch.randn(4, 6))
    opt = MuonWithAdamW([{"params": weight, "use_muon": use_muon},
                         {"params": (p for p in [other]), "use_muon": use_muon}])
    assert [g["params"] for g in opt.param_groups] == [[weight], [other]]
    assert all(set(g) >= {"params", "use_muon", "lr"} and "XXparamsXX" not in g and "PARAMS" not in g
               for g in opt.param_groups)
    starts = [weight.detach().clone(), other.detach().clone()]
    weight.grad, other.grad = torch.ones(4, 6), torch.ones(4, 6)
    opt.step()
    assert not torch.equal(weight.detach(), starts[0]) and not torch.equal(other.detach(), starts[1])


def test_routing_a_model_without_any_linear_layer_has_no_head():
    model = nn.Sequential(nn.Embedding(5, 4), nn.Conv1d(4, 4, 3), nn.LayerNorm(2))
    roles = {r.name: r.role for r in route_parameters(model)}
    assert roles == {"0.weight": EMBEDDING, "1.weight": HIDDEN, "1.bias": BIAS_AND_GAIN, "2.weight": BIAS_AND_GAIN,
                     "2.bias": BIAS_AND_GAIN}


def test_head_named_by_parameter_including_a_tied_second_name():
    model = _SequenceModel()
    roles = {r.name: r.role for r in route_parameters(model, head="mix.weight")}
    assert roles["mix.weight"] == HEAD and roles["out.weight"] == HIDDEN
    # A weight shared by two layers is routed under its first name; its second name still picks it as head.
    tied = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.Linear(4, 2))
    tied[2].weight = tied[0].weight
    roles = {r.name: r.role for r in route_parameters(tied, head="2.weight")}
    assert roles["0.weight"] == HEAD and "2.weight" not in roles and roles["3.weight"] == HIDDEN


def test_a_frozen_weight_does_not_hide_the_rest_of_its_module():
    model = _SequenceModel()
    model.mix.weight.requires_grad_(False)
    names = {r.name for r in route_parameters(model)}
    assert "mix.weight" not in names and "mix.bias" in names
    assert names == {n for n, p in model.named_parameters() if p.requires_grad}


class _Custom(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight_main = nn.Parameter(torch.randn(6, 4))
        self.weight_ih = nn.Parameter(torch.randn(6, 4))  # named like a GRU stack, but not a recurrent layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ (self.weight_main + self.weight_ih).T


def test_stacked_blocks_only_for_recurrent_and_attention_stacks():
    model = nn.ModuleDict(dict(custom=_Custom(), lstm=nn.LSTM(4, 6, proj_size=3),
                               attn=nn.MultiheadAttention(6, 2, kdim=4, vdim=4), head=nn.Linear(6, 2)))
    split = {r.name: (r.role, r.row_blocks) for r in route_parameters(model)}
    assert split["custom.weight_main"] == split["custom.weight_ih"] == (HIDDEN, 1)
    assert split["lstm.weight_ih_l0"] == split["lstm.weight_hh_l0"] == (RECURRENT, 4)
    assert split["lstm.weight_hr_l0"] == (RECURRENT, 1)  # the projection is one map, not a stack
    assert split["attn.q_proj_weight"] == split["attn.k_proj_weight"] == (HIDDEN, 1)
    joint = {r.name: (r.role, r.row_blocks) for r in route_parameters(_SequenceModel(), split_stacked=False)}
    assert all(blocks == 1 for _, blocks in joint.values())
    assert joint["gru.weight_ih_l0"] == (RECURRENT, 1) and joint["attn.in_proj_weight"] == (HIDDEN, 1)


def test_param_groups_record_roles_defaults_and_options():
    model = _SequenceModel()
    groups = muon_param_groups(model)
    assert [(g["role"], g["use_muon"]) for g in groups] == [("hidden", True), ("hidden+recurrent", True),
                                                            (EMBEDDING, False), (HEAD, False),
                                                            (BIAS_AND_GAIN, False)]
    assert all(g["use_muon"] is False for g in groups[2:])
    assert all(g["weight_decay"] == 0.0 for g in groups)
    assert all((g["eps"], g["betas"]) == (1e-8, (0.9, 0.95)) for g in groups[2:])
    named = muon_param_groups(model, head=["mix"], split_stacked=False)
    by_role = {g["role"]: g for g in named}
    assert [g["row_blocks"] for g in named if g["use_muon"]] == [1]
    assert any(p is model.mix.weight for p in by_role[HEAD]["params"])
    assert any(p is model.out.weight for p in by_role["hidden+recurrent"]["params"])


def test_build_muon_optimizer_passes_every_option_on():
    model = _SequenceModel()
    opt = build_muon_optimizer(model, lr=0.03, momentum=0.9, weight_decay=0.01, ns_steps=3, adamw_lr=1e-3,
                               adamw_betas=(0.8, 0.9), adamw_eps=1e-6, adamw_weight_decay=0.2, head=["mix"],
                               split_stacked=False)
    groups = opt.param_groups
    muon = [g for g in groups if g["use_muon"]]
    adamw = [g for g in groups if not g["use_muon"]]
    assert [(g["lr"], g["momentum"], g["weight_decay"], g["ns_steps"], g["row_blocks"]) for g in muon] == [
        (0.03, 0.9, 0.01, 3, 1)]
    assert all((g["lr"], g["betas"], g["eps"], g["weight_decay"]) == (1e-3, (0.8, 0.9), 1e-6, 0.2) for g in adamw)
    head = next(g for g in adamw if g["role"] == HEAD)
    assert [id(p) for p in head["params"]] == [id(model.mix.weight)]
