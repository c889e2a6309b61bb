"""SOAP against torch.optim.AdamW and an independent float64 implementation of the reference algorithm."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from strategist.errors import ConfigurationError
from strategist.optim import _linalg, soap
from strategist.optim.soap import SOAP


def make_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()


def train(model: torch.nn.Module, opt: torch.optim.Optimizer, steps: int, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(32, 6, generator=gen, dtype=torch.float64)
        y = torch.randn(32, 3, generator=gen, dtype=torch.float64)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()


HYPER = dict(lr=0.02, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)


def test_without_rotated_axes_soap_is_adamw():
    ours, ref = make_model(), make_model()
    opt = SOAP(ours.parameters(), max_precond_dim=0, **HYPER)
    train(ours, opt, 12)
    train(ref, torch.optim.AdamW(ref.parameters(), **HYPER), 12)
    for a, b in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert all(f is None for f in opt.state[ours[0].weight]["factors"])


def test_vectors_take_the_adamw_step_from_the_first_gradient():
    gen = torch.Generator().manual_seed(0)
    ours = torch.nn.Parameter(torch.randn(7, generator=gen, dtype=torch.float64))
    ref = torch.nn.Parameter(ours.detach().clone())
    opt, torch_opt = SOAP([ours], **HYPER), torch.optim.AdamW([ref], **HYPER)
    for _ in range(6):
        ours.grad = torch.randn(7, generator=gen, dtype=torch.float64)
        ref.grad = ours.grad.clone()
        opt.step()
        torch_opt.step()
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)


def orthogonal(n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))[0]


@pytest.mark.parametrize("kind", ["identity", "random"])
def test_fixed_basis_soap_is_adamw_in_the_rotated_coordinates(monkeypatch, kind):
    """With Q_L, Q_R frozen, SOAP on W is AdamW on W' = Q_L^T W Q_R with gradients Q_L^T G Q_R."""
    m, n = 5, 4
    q_left, q_right = ((torch.eye(m, dtype=torch.float64), torch.eye(n, dtype=torch.float64)) if kind == "identity"
                       else (orthogonal(m, 1), orthogonal(n, 2)))
    fixed = {m: q_left, n: q_right}
    monkeypatch.setattr(soap, "initial_basis", lambda factor: fixed[factor.shape[0]].clone())
    monkeypatch.setattr(soap, "refresh_basis", lambda factor, basis: (basis, torch.arange(basis.shape[0])))

    gen = torch.Generator().manual_seed(3)
    weight = torch.nn.Parameter(torch.randn(m, n, generator=gen, dtype=torch.float64))
    rotated = torch.nn.Parameter(q_left.T @ weight.detach() @ q_right)
    opt = SOAP([weight], precondition_frequency=2, **HYPER)
    adamw = torch.optim.AdamW([rotated], **HYPER)
    weight.grad = torch.randn(m, n, generator=gen, dtype=torch.float64)
    opt.step()  # builds the factors and bases only
    assert opt.state[weight]["step"] == 0
    for _ in range(8):
        grad = torch.randn(m, n, generator=gen, dtype=torch.float64)
        weight.grad = grad.clone()
        rotated.grad = q_left.T @ grad @ q_right
        opt.step()
        adamw.step()
    torch.testing.assert_close(weight.detach(), q_left @ rotated.detach() @ q_right.T, rtol=1e-11, atol=1e-13)


def reference_soap(grads, w0, lr, betas, eps, weight_decay, freq, rotate_left=True, rotate_right=True):
    """The reference SOAP loop on one matrix in float64 numpy (m kept in the eigenbasis and carried back and
    forth every step; v re-indexed with the sorted columns at each QR refresh). Returns the final weight and
    whether any refresh changed the column order."""
    beta1, beta2 = betas
    shampoo_beta = beta2
    w = w0.copy()
    m_rows, n_cols = w.shape
    left, right = np.zeros((m_rows, m_rows)), np.zeros((n_cols, n_cols))
    q_left = q_right = None
    exp_avg, exp_avg_sq = np.zeros_like(w), np.zeros_like(w)
    t, permuted = 0, False

    def refresh(factor, basis):
        estimate = np.diag(basis.T @ factor @ basis)
        order = np.argsort(-estimate, kind="stable")
        return np.linalg.qr(factor @ basis[:, order])[0], order

    def eig_desc(factor):
        # torch's eigh gives the same (sign-free) eigenvectors; the spectrum here has no repeated values.
        return np.linalg.eigh(factor)[1][:, ::-1]

    for g in grads:
        if q_left is None and q_right is None:
            left = (1 - shampoo_beta) * g @ g.T
            right = (1 - shampoo_beta) * g.T @ g
            q_left = eig_desc(left) if rotate_left else np.eye(m_rows)
            q_right = eig_desc(right) if rotate_right else np.eye(n_cols)
            continue
        g_rot = q_left.T @ g @ q_right
        t += 1
        exp_avg = beta1 * exp_avg + (1 - beta1) * g_rot
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g_rot**2
        step_rot = (exp_avg / (1 - beta1**t)) / (np.sqrt(exp_avg_sq / (1 - beta2**t)) + eps)
        w = w * (1 - lr * weight_decay) - lr * q_left @ step_rot @ q_right.T
        exp_avg = q_left @ exp_avg @ q_right.T
        left = shampoo_beta * left + (1 - shampoo_beta) * g @ g.T
        right = shampoo_beta * right + (1 - shampoo_beta) * g.T @ g
        if t % freq == 0:
            if rotate_left:
                q_left, order = refresh(left, q_left)
                exp_avg_sq = exp_avg_sq[order, :]
                permuted |= not np.array_equal(order, np.arange(m_rows))
            if rotate_right:
                q_right, order = refresh(right, q_right)
                exp_avg_sq = exp_avg_sq[:, order]
                permuted |= not np.array_equal(order, np.arange(n_cols))
        exp_avg = q_left.T @ exp_avg @ q_right
    return w, permuted


def drifting_gradients(shape, steps, seed):
    """Gradients whose row and column scales drift, so the order of the factors' eigenvalues changes."""
    gen = torch.Generator().manual_seed(seed)
    rows = torch.linspace(0.5, 2.0, shape[0], dtype=torch.float64)
    cols = torch.linspace(2.0, 0.5, shape[1], dtype=torch.float64)
    grads = []
    for t in range(steps):
        mix = t / (steps - 1)
        scale = torch.outer(rows * (1 - mix) + rows.flip(0) * mix, cols * (1 - mix) + cols.flip(0) * mix)
        grads.append(scale * torch.randn(shape, generator=gen, dtype=torch.float64))
    return grads


@pytest.mark.parametrize("shape, max_dim", [((5, 5), 10000), ((4, 6), 5)])
def test_matches_the_reference_algorithm_with_refreshes(shape, max_dim):
    grads = drifting_gradients(shape, 25, seed=sum(shape))
    w0 = torch.randn(shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    expected, permuted = reference_soap([g.numpy() for g in grads], w0.numpy(), freq=3,
                                        rotate_left=shape[0] <= max_dim, rotate_right=shape[1] <= max_dim,
                                        **HYPER)
    assert permuted, "the test must exercise a refresh that re-sorts the basis"
    weight = torch.nn.Parameter(w0.clone())
    opt = SOAP([weight], precondition_frequency=3, max_precond_dim=max_dim, **HYPER)
    for g in grads:
        weight.grad = g.clone()
        opt.step()
    np.testing.assert_allclose(weight.detach().numpy(), expected, rtol=1e-9, atol=1e-11)
    assert opt.health.failures == 0


def test_first_step_builds_a_sorted_eigenbasis_and_leaves_the_weight():
    gen = torch.Generator().manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(5, 3, generator=gen, dtype=torch.float64))
    before = weight.detach().clone()
    opt = SOAP([weight])
    weight.grad = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    opt.step()
    assert torch.equal(weight, before)
    state = opt.state[weight]
    assert state["step"] == 0 and not state["exp_avg"].any()
    for factor, basis in zip(state["factors"], state["bases"]):
        torch.testing.assert_close(basis.T @ basis, torch.eye(basis.shape[0], dtype=torch.float64))
        eigenvalues = torch.diag(basis.T @ factor @ basis)
        assert torch.all(eigenvalues[:-1] >= eigenvalues[1:] - 1e-12)
        torch.testing.assert_close(basis @ torch.diag(eigenvalues) @ basis.T, factor, rtol=1e-10, atol=1e-12)


def test_long_axes_are_not_rotated_and_get_no_factor():
    weight = torch.nn.Parameter(torch.randn(20, 3))
    opt = SOAP([weight], max_precond_dim=10, precondition_frequency=1)
    for _ in range(4):
        weight.grad = torch.randn(20, 3)
        opt.step()
    factors, bases = opt.state[weight]["factors"], opt.state[weight]["bases"]
    assert factors[0] is None and bases[0] is None and factors[1].shape == (3, 3)
    assert torch.isfinite(weight).all()


def test_eigh_failure_in_float32_is_retried_in_float64(monkeypatch):
    real = torch.linalg.eigh
    seen = []

    def fails_in_float32(mat):
        seen.append(mat.dtype)
        if mat.dtype == torch.float32:
            raise RuntimeError("linalg.eigh: the algorithm failed to converge")
        return real(mat)

    monkeypatch.setattr(_linalg, "_eigh", fails_in_float32)
    weight = torch.nn.Parameter(torch.randn(4, 4))
    opt = SOAP([weight])
    weight.grad = torch.randn(4, 4)
    opt.step()
    assert seen == [torch.float32, torch.float64] * 2
    assert opt.health.failures == 0 and opt.health.refreshes == 2
    factor, basis = opt.state[weight]["factors"][0], opt.state[weight]["bases"][0]
    assert basis.dtype == torch.float32
    off_diagonal = basis.T @ factor @ basis - torch.diag(torch.diag(basis.T @ factor @ basis))
    assert off_diagonal.abs().max() < 1e-4 * factor.abs().max()


def test_eigh_failure_everywhere_keeps_identity_bases_and_counts(monkeypatch):
    def always_fails(mat):
        raise RuntimeError("linalg.eigh: the algorithm failed to converge")

    monkeypatch.setattr(_linalg, "_eigh", always_fails)
    weight = torch.nn.Parameter(torch.randn(4, 3))
    opt = SOAP([weight], precondition_frequency=100)
    for _ in range(3):
        weight.grad = torch.randn(4, 3)
        opt.step()
    assert opt.health.failures == 2 and opt.health.consecutive_failures == 2
    assert all(torch.equal(b, torch.eye(b.shape[0])) for b in opt.state[weight]["bases"])
    assert torch.isfinite(weight).all() and opt.state[weight]["step"] == 2
    assert opt.state_dict()["health"]["failures"] == 2


def test_non_finite_factor_at_refresh_keeps_the_basis():
    weight = torch.nn.Parameter(torch.randn(4, 3))
    opt = SOAP([weight], precondition_frequency=1)
    weight.grad = torch.randn(4, 3)
    opt.step()
    bases = [b.clone() for b in opt.state[weight]["bases"]]
    opt.state[weight]["factors"][0][0, 0] = float("nan")
    weight.grad = torch.randn(4, 3)
    opt.step()
    assert opt.health.failures == 1
    assert torch.equal(opt.state[weight]["bases"][0], bases[0])
    assert not torch.equal(opt.state[weight]["bases"][1], bases[1])
    assert torch.isfinite(weight).all()


def test_zero_and_rank_one_gradients_stay_finite():
    weight = torch.nn.Parameter(torch.randn(6, 4))
    start = weight.detach().clone()
    opt = SOAP([weight], weight_decay=0.0, precondition_frequency=1)
    for _ in range(4):
        weight.grad = torch.zeros(6, 4)
        opt.step()
    assert torch.equal(weight, start)
    for _ in range(4):
        weight.grad = torch.outer(torch.randn(6), torch.randn(4))
        opt.step()
    assert torch.isfinite(weight).all() and not torch.equal(weight, start)
    assert all(torch.isfinite(b).all() for b in opt.state[weight]["bases"])


@pytest.mark.parametrize("bad", [float("nan"), float("-inf")])
def test_non_finite_gradient_skips_the_update(bad):
    weight = torch.nn.Parameter(torch.randn(4, 3))
    opt = SOAP([weight], precondition_frequency=1)
    for _ in range(2):
        weight.grad = torch.randn(4, 3)
        opt.step()
    state = opt.state[weight]
    snapshot = (state["exp_avg"].clone(), state["exp_avg_sq"].clone(), [f.clone() for f in state["factors"]])
    before = weight.detach().clone()
    weight.grad = torch.randn(4, 3)
    weight.grad[0, 0] = bad
    opt.step()
    assert torch.equal(weight, before) and opt.health.skipped_updates == 1 and state["step"] == 1
    assert torch.equal(state["exp_avg"], snapshot[0]) and torch.equal(state["exp_avg_sq"], snapshot[1])
    assert all(torch.equal(a, b) for a, b in zip(state["factors"], snapshot[2]))


def test_float64_factor_option_and_dtypes_survive_state_dict():
    weight = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.bfloat16))
    opt = SOAP([weight], factor_dtype=torch.float64)
    for _ in range(2):
        weight.grad = torch.randn(4, 3, dtype=torch.bfloat16)
        opt.step()
    clone = torch.nn.Parameter(weight.detach().clone())
    loaded = SOAP([clone], factor_dtype=torch.float64)
    loaded.load_state_dict(opt.state_dict())
    state = loaded.state[clone]
    assert state["factors"][0].dtype == torch.float64 and state["bases"][0].dtype == torch.float64
    assert state["exp_avg"].dtype == torch.float32
    assert torch.equal(state["bases"][1], opt.state[weight]["bases"][1])


@pytest.mark.parametrize("kwargs", [dict(lr=-1.0), dict(betas=(0.9, 1.0)), dict(eps=-1.0), dict(weight_decay=-1.0),
                                    dict(precondition_frequency=0), dict(max_precond_dim=-1),
                                    dict(shampoo_beta=1.0), dict(factor_dtype=torch.bfloat16)])
def test_bad_hyperparameters_raise_configuration_error(kwargs):
    with pytest.raises(ConfigurationError):
        SOAP([torch.nn.Parameter(torch.zeros(2, 2))], **kwargs)


def test_defaults_follow_the_reference():
    group = SOAP([torch.nn.Parameter(torch.zeros(2, 2))]).param_groups[0]
    assert group["lr"] == 3e-3 and group["betas"] == (0.95, 0.95) and group["eps"] == 1e-8
    assert group["weight_decay"] == 0.01 and group["precondition_frequency"] == 10
    assert group["max_precond_dim"] == 10000 and group["shampoo_beta"] == 0.95


@pytest.mark.parametrize("shape", [(4, 5), (3, 4, 5)])
def test_rotation_of_every_axis_matches_an_explicit_einsum_and_inverts(shape):
    from strategist.optim.soap import rotate, rotate_back

    gen = torch.Generator().manual_seed(11)
    tensor = torch.randn(*shape, generator=gen, dtype=torch.float64)
    bases = [torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))[0] for n in shape]
    bases[-1] = None  # an unrotated axis
    letters = "abc"[:len(shape)]
    expected = tensor
    for axis, basis in enumerate(bases):
        if basis is not None:  # contract axis with Q: T x_axis Q (= Q^T G for the first axis of a matrix)
            out = letters.replace(letters[axis], "z")
            expected = torch.einsum(f"{letters},{letters[axis]}z->{out}", expected, basis)
    rotated = rotate(tensor, bases)
    torch.testing.assert_close(rotated, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(rotate_back(rotated, bases), tensor, rtol=1e-12, atol=1e-12)


def upstream_soap(grads, w0, lr, betas, eps, weight_decay, freq, torch_eps=False, decoupled_decay=False):
    """nikhilvyas/SOAP's step on one matrix, transcribed in float64 numpy in its own form: m kept in the
    original space and projected every step, eps added to sqrt(v) *before* the bias correction, which
    multiplies the step size (lr sqrt(1 - b2^t) / (1 - b1^t)), and weight decay applied after the step to the
    updated weight (p <- p - lr wd p).

    Our two deliberate differences are flags: ``torch_eps`` (eps added to sqrt(v_hat), as torch.optim.AdamW)
    and ``decoupled_decay`` (W <- W (1 - lr wd) - lr D, as torch.optim.AdamW)."""
    beta1, beta2 = betas
    w = w0.copy()
    left = right = q_left = q_right = None
    exp_avg, exp_avg_sq = np.zeros_like(w), np.zeros_like(w)
    step = 0

    def project(t):
        return q_left.T @ t @ q_right

    def project_back(t):
        return q_left @ t @ q_right.T

    def update_preconditioner(g):
        nonlocal left, right, q_left, q_right, exp_avg_sq
        left = beta2 * left + (1 - beta2) * g @ g.T
        right = beta2 * right + (1 - beta2) * g.T @ g
        if q_left is None:
            q_left, q_right = (np.linalg.eigh(f)[1][:, ::-1] for f in (left, right))
        elif step > 0 and step % freq == 0:
            bases = []
            for axis, (f, q) in enumerate(((left, q_left), (right, q_right))):
                order = np.argsort(-np.diag(q.T @ f @ q), kind="stable")
                exp_avg_sq = np.take(exp_avg_sq, order, axis=axis)
                bases.append(np.linalg.qr(f @ q[:, order])[0])
            q_left, q_right = bases

    for g in grads:
        if q_left is None:
            left, right = np.zeros((g.shape[0],) * 2), np.zeros((g.shape[1],) * 2)
            update_preconditioner(g)
            continue
        g_proj = project(g)
        step += 1
        exp_avg = beta1 * exp_avg + (1 - beta1) * g
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g_proj**2
        bc1, bc2 = 1 - beta1**step, 1 - beta2**step
        if torch_eps:
            direction = project_back((project(exp_avg) / bc1) / (np.sqrt(exp_avg_sq / bc2) + eps))
        else:
            direction = project_back(project(exp_avg) / (np.sqrt(exp_avg_sq) + eps)) * (np.sqrt(bc2) / bc1)
        if decoupled_decay:
            w = w * (1 - lr * weight_decay) - lr * direction
        else:
            w = w - lr * direction
            w = w - lr * weight_decay * w
        update_preconditioner(g)
    return w


# Square: a non-square gradient's first larger factor is rank-deficient, and its null-space eigenvectors
# (picked by rounding) differ between numpy and torch.
@pytest.mark.parametrize("shape", [(5, 5), (3, 3)])
def test_upstream_soap_differs_only_by_the_two_documented_choices(shape):
    """Ours = upstream with torch's eps placement and decoupled decay; each choice alone changes the result."""
    grads = [g.numpy() for g in drifting_gradients(shape, 25, seed=sum(shape))]
    w0 = torch.randn(shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    hyper = dict(lr=0.02, betas=(0.9, 0.95), eps=1e-1, weight_decay=0.5)  # large eps and wd: visible effects
    weight = torch.nn.Parameter(w0.clone())
    opt = SOAP([weight], precondition_frequency=3, **hyper)
    for g in grads:
        weight.grad = torch.from_numpy(g.copy())
        opt.step()
    ours = weight.detach().numpy()
    same = upstream_soap(grads, w0.numpy(), freq=3, torch_eps=True, decoupled_decay=True, **hyper)
    np.testing.assert_allclose(ours, same, rtol=1e-9, atol=1e-11)
    for flags in (dict(torch_eps=False, decoupled_decay=True), dict(torch_eps=True, decoupled_decay=False)):
        other = upstream_soap(grads, w0.numpy(), freq=3, **flags, **hyper)
        assert np.abs(other - ours).max() > 1e-4, flags
    # Without eps and weight decay, upstream's own form and ours coincide.
    plain = dict(hyper, eps=0.0, weight_decay=0.0)
    weight = torch.nn.Parameter(w0.clone())
    opt = SOAP([weight], precondition_frequency=3, **plain)
    for g in grads:
        weight.grad = torch.from_numpy(g.copy())
        opt.step()
    np.testing.assert_allclose(weight.detach().numpy(), upstream_soap(grads, w0.numpy(), freq=3, **plain),
                               rtol=1e-9, atol=1e-11)


def _unfolding_products(grad: torch.Tensor) -> list[torch.Tensor]:
    """G_(a) G_(a)^T for every axis of a 3-axis gradient, written out as einsums."""
    return [torch.einsum("ijk,ljk->il", grad, grad), torch.einsum("ijk,ilk->jl", grad, grad),
            torch.einsum("ijk,ijl->kl", grad, grad)]


def _desc_eigenvectors(factor: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.linalg.eigh(factor.numpy())[1][:, ::-1].copy())


@pytest.mark.parametrize("param_dtype", [torch.float64, torch.float32])
def test_three_axis_weight_factors_and_first_rotated_step(param_dtype):
    # A (4, 3, 2) weight (a small convolution): one factor per axis, the mode-a unfolding products; the second
    # gradient takes Adam's first step in the eigenbases of those factors, G' = G x_1 Q_1 x_2 Q_2 x_3 Q_3.
    gen = torch.Generator().manual_seed(31)
    shape, lr, eps, wd, beta = (4, 3, 2), 0.05, 1e-8, 0.1, 0.6
    w0 = torch.randn(*shape, generator=gen, dtype=torch.float64)
    g1, g2 = (torch.randn(*shape, generator=gen, dtype=torch.float64) for _ in range(2))
    weight = torch.nn.Parameter(w0.to(param_dtype, copy=True))
    opt = SOAP([weight], lr=lr, betas=(0.9, 0.95), shampoo_beta=beta, eps=eps, weight_decay=wd,
               factor_dtype=torch.float64)
    weight.grad = g1.to(param_dtype)
    opt.step()
    first = [(1 - beta) * s for s in _unfolding_products(g1.to(param_dtype).double())]
    state = opt.state[weight]
    assert [f.dtype for f in state["factors"]] == [torch.float64] * 3
    for got, expected in zip(state["factors"], first):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    weight.grad = g2.to(param_dtype)
    opt.step()
    assert state["exp_avg"].dtype == state["exp_avg_sq"].dtype == param_dtype
    q = [_desc_eigenvectors(f) for f in first]
    rotated = torch.einsum("ijk,ia,jb,kc->abc", g2, *q)
    direction = torch.einsum("abc,ia,jb,kc->ijk", rotated / (rotated.abs() + eps), *q)  # sign-free in Q
    tol = dict(rtol=1e-10, atol=1e-12) if param_dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(weight.detach().double(), w0.to(param_dtype).double() * (1 - lr * wd) - lr * direction,
                               **tol)
    second = [beta * f + (1 - beta) * s for f, s in zip(first, _unfolding_products(g2.to(param_dtype).double()))]
    for got, expected in zip(state["factors"], second):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_rotation_keeps_the_tensor_dtype_with_float64_bases():
    from strategist.optim.soap import rotate, rotate_back

    gen = torch.Generator().manual_seed(12)
    tensor = torch.randn(3, 4, 2, generator=gen)
    bases = [orthogonal(3, 1), None, orthogonal(2, 2)]
    rotated = rotate(tensor, bases)
    assert rotated.dtype == torch.float32
    expected = torch.einsum("abc,az,cy->zby", tensor.double(), bases[0], bases[2])
    torch.testing.assert_close(rotated.double(), expected, rtol=1e-5, atol=1e-6)
    assert rotate_back(rotated, bases).dtype == torch.float32


def test_an_unrotated_first_axis_keeps_the_basis_of_the_second():
    gen = torch.Generator().manual_seed(32)
    weight = torch.nn.Parameter(torch.randn(20, 3, generator=gen, dtype=torch.float64))
    opt = SOAP([weight], max_precond_dim=10, shampoo_beta=0.5)
    grad = torch.randn(20, 3, generator=gen, dtype=torch.float64)
    weight.grad = grad
    opt.step()
    bases = opt.state[weight]["bases"]
    assert len(bases) == 2 and bases[0] is None and bases[1] is not None
    factor = 0.5 * grad.T @ grad
    # Same columns as the descending eigenvectors of G^T G, up to sign.
    torch.testing.assert_close((bases[1].T @ _desc_eigenvectors(factor)).abs(), torch.eye(3, dtype=torch.float64),
                               rtol=1e-10, atol=1e-10)


def test_identity_fallback_bases_take_the_factor_dtype(monkeypatch):
    def always_fails(mat):
        raise RuntimeError("linalg.eigh: the algorithm failed to converge")

    monkeypatch.setattr(_linalg, "_eigh", always_fails)
    weight = torch.nn.Parameter(torch.randn(4, 3))
    opt = SOAP([weight], factor_dtype=torch.float64)
    weight.grad = torch.randn(4, 3)
    opt.step()
    bases = opt.state[weight]["bases"]
    assert [b.dtype for b in bases] == [torch.float64, torch.float64]
    assert torch.equal(bases[0], torch.eye(4, dtype=torch.float64))
    weight.grad = torch.randn(4, 3)
    opt.step()
    assert torch.isfinite(weight).all() and opt.health.failures == 2


def test_state_and_fallback_bases_are_created_on_the_parameter_device(monkeypatch):
    # The meta device stands in for an accelerator (it holds no values, so the eigendecomposition is made to
    # fail and the identity fallback is used).
    from strategist.optim import _common

    def no_eigh(factor):
        raise _linalg.EighFailure("no values on the meta device")

    monkeypatch.setattr(_common, "finite_gradients", lambda params: [True] * len(params))
    monkeypatch.setattr(soap, "initial_basis", no_eigh)
    weight = torch.nn.Parameter(torch.zeros(4, 3, device="meta"))
    weight.grad = torch.zeros(4, 3, device="meta")
    opt = SOAP([weight])
    opt.step()
    state = opt.state[weight]
    tensors = [state["exp_avg"], state["exp_avg_sq"], *state["factors"], *state["bases"]]
    assert {t.device.type for t in tensors} == {"meta"}
    assert opt.health.failures == 2


def test_moments_of_a_channels_last_weight_are_kept_contiguous():
    # The moments live in rotated coordinates, which do not follow the weight's memory layout.
    weight = torch.nn.Parameter(torch.randn(4, 3, 2, 2).to(memory_format=torch.channels_last))
    opt = SOAP([weight])
    weight.grad = torch.randn(4, 3, 2, 2).to(memory_format=torch.channels_last)
    opt.step()
    state = opt.state[weight]
    assert state["exp_avg"].is_contiguous() and state["exp_avg_sq"].is_contiguous()


def test_beta2_one_is_refused_and_shampoo_beta_zero_keeps_only_the_last_statistics():
    with pytest.raises(ConfigurationError, match=r"betas\[1\] < 1"):
        SOAP([torch.nn.Parameter(torch.zeros(2, 2))], betas=(0.9, 1.0))
    gen = torch.Generator().manual_seed(33)
    weight = torch.nn.Parameter(torch.randn(4, 3, generator=gen, dtype=torch.float64))
    opt = SOAP([weight], shampoo_beta=0.0)
    assert opt.param_groups[0]["shampoo_beta"] == 0.0
    for _ in range(3):
        grad = torch.randn(4, 3, generator=gen, dtype=torch.float64)
        weight.grad = grad
        opt.step()
    left, right = opt.state[weight]["factors"]
    torch.testing.assert_close(left, grad @ grad.T, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(right, grad.T @ grad, rtol=1e-12, atol=1e-14)


def test_an_axis_as_long_as_max_precond_dim_is_rotated():
    weight = torch.nn.Parameter(torch.randn(4, 6))
    opt = SOAP([weight], max_precond_dim=4)
    weight.grad = torch.randn(4, 6)
    opt.step()
    factors = opt.state[weight]["factors"]
    assert factors[0] is not None and factors[0].shape == (4, 4) and factors[1] is None


def _row_major(tree):
    """A state as a checkpoint reads it back: every tensor a fresh row-major copy (strides are not saved)."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().clone().contiguous()
    if isinstance(tree, dict):
        return {k: _row_major(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_row_major(v) for v in tree)
    return tree


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_state_read_back_row_major_resumes_bit_for_bit(dtype):
    """Bases kept row-major: a run resumed from a state whose tensors were copied row-major (as the training
    checkpoint's tensor file gives them back) takes exactly the steps the uninterrupted run takes, basis
    refreshes included."""
    gen = torch.Generator().manual_seed(1)
    batches = [(torch.randn(32, 6, generator=gen, dtype=dtype), torch.randn(32, 3, generator=gen, dtype=dtype))
               for _ in range(12)]
    kwargs = dict(HYPER, precondition_frequency=3)

    def steps(model, opt, part):
        for x, y in part:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()

    whole, first, resumed = (make_model().to(dtype) for _ in range(3))
    steps(whole, SOAP(whole.parameters(), **kwargs), batches)
    opt = SOAP(first.parameters(), **kwargs)
    steps(first, opt, batches[:5])
    resumed.load_state_dict(first.state_dict())
    again = SOAP(resumed.parameters(), **kwargs)
    again.load_state_dict(_row_major(opt.state_dict()))
    steps(resumed, again, batches[5:])
    for a, b in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
