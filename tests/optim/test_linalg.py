"""Matrix roots on matrices with known spectra, rank-deficient inputs and forced eigh failures."""

from __future__ import annotations

import pytest
import torch

from strategist.optim import _linalg
from strategist.optim._linalg import EighFailure, PreconditionerHealth, all_finite, inverse_root, robust_eigh


def closed_form_root(q: torch.Tensor, lam: torch.Tensor, p: float, eps: float = 0.0) -> torch.Tensor:
    return (q * (lam + eps).pow(-1.0 / p)) @ q.T


@pytest.mark.parametrize("p", [1, 2, 4, 6])
@pytest.mark.parametrize("n", [1, 5, 32])
def test_inverse_root_matches_closed_form_float64(spd, p, n):
    lam = torch.logspace(-3, 2, n, dtype=torch.float64)
    mat, q = spd(n, lam, seed=n + p)
    got = inverse_root(mat, p)
    expected = closed_form_root(q, lam, p)
    # Condition number 1e5: float64 leaves about 1e5 * 1e-16 relative error in the smallest eigenvalue.
    torch.testing.assert_close(got, expected, rtol=1e-8, atol=1e-9 * expected.abs().max().item())


def test_inverse_root_float32_is_float32_and_close(spd):
    lam = torch.linspace(0.5, 4.0, 16, dtype=torch.float64)
    mat, q = spd(16, lam, seed=3)
    got = inverse_root(mat.float(), 4)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got.double(), closed_form_root(q, lam, 4), rtol=1e-4, atol=1e-5)


def test_inverse_root_adds_eps_to_the_spectrum(spd):
    lam = torch.tensor([0.0, 1e-3, 0.5, 2.0, 7.0], dtype=torch.float64)
    mat, q = spd(5, lam, seed=1)
    got = inverse_root(mat, 4, eps=1e-2)
    torch.testing.assert_close(got, closed_form_root(q, lam, 4, eps=1e-2), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rank_deficient_and_zero_matrices_give_finite_roots(dtype):
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(12, 2, generator=gen, dtype=dtype)
    rank_two = g @ g.T
    for mat in (rank_two, torch.zeros(12, 12, dtype=dtype)):
        for eps in (0.0, 1e-12):
            root = inverse_root(mat, 4, eps)
            assert root.dtype == dtype
            assert torch.isfinite(root).all()
    # On the range of G the root is the closed form; eps keeps the null space finite.
    root = inverse_root(rank_two.double(), 2, eps=1e-6)
    vals, vecs = torch.linalg.eigh(rank_two.double())
    top = vecs[:, -2:]
    torch.testing.assert_close(root @ top, top * (vals[-2:] + 1e-6).pow(-0.5), rtol=1e-8, atol=1e-8)


def test_robust_eigh_symmetrises_and_sorts(spd):
    lam = torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64)
    mat, _ = spd(3, lam, seed=5)
    skew = torch.tensor([[0.0, 1e-9, 0.0], [-1e-9, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    vals, vecs = robust_eigh(mat + skew)
    torch.testing.assert_close(vals, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    torch.testing.assert_close(vecs @ torch.diag(vals) @ vecs.T, mat, rtol=1e-8, atol=1e-8)


def test_float32_failure_retries_in_float64(monkeypatch, spd):
    calls: list[torch.dtype] = []
    real = torch.linalg.eigh

    def fails_in_float32(mat):
        calls.append(mat.dtype)
        if mat.dtype == torch.float32:
            raise RuntimeError("linalg.eigh: the algorithm failed to converge")
        return real(mat)

    monkeypatch.setattr(_linalg, "_eigh", fails_in_float32)
    lam = torch.tensor([0.1, 1.0, 10.0, 100.0], dtype=torch.float64)
    mat, q = spd(4, lam, seed=7)
    root = inverse_root(mat.float(), 4)
    assert calls == [torch.float32, torch.float64]
    assert root.dtype == torch.float32
    torch.testing.assert_close(root.double(), closed_form_root(q, lam, 4), rtol=1e-5, atol=1e-6)


def test_non_finite_float32_result_also_retries(monkeypatch, spd):
    real = torch.linalg.eigh

    def nan_in_float32(mat):
        vals, vecs = real(mat)
        if mat.dtype == torch.float32:
            vals = vals.clone()
            vals[0] = float("nan")
        return vals, vecs

    monkeypatch.setattr(_linalg, "_eigh", nan_in_float32)
    mat, _ = spd(4, torch.tensor([1.0, 2.0, 3.0, 4.0]), seed=2)
    vals, _ = robust_eigh(mat.float())
    assert torch.isfinite(vals).all()


def test_failure_in_both_precisions_raises(monkeypatch):
    def always_fails(mat):
        raise RuntimeError("linalg.eigh: the algorithm failed to converge")

    monkeypatch.setattr(_linalg, "_eigh", always_fails)
    with pytest.raises(EighFailure):
        robust_eigh(torch.eye(3))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_factor_raises(bad):
    mat = torch.eye(3)
    mat[1, 2] = bad
    with pytest.raises(EighFailure):
        robust_eigh(mat)


def test_health_round_trip_and_counts():
    health = PreconditionerHealth()
    health.failure()
    health.failure()
    health.success()
    health.failure()
    health.skipped()
    assert health.as_dict() == {"refreshes": 1, "failures": 3, "consecutive_failures": 1, "skipped_updates": 1,
                                 "fallback_updates": 0}
    assert PreconditionerHealth.from_dict(health.as_dict()) == health
    assert PreconditionerHealth.from_dict({"failures": 2, "other": 9}) == PreconditionerHealth(failures=2)
    assert PreconditionerHealth.from_dict(None) == PreconditionerHealth()


def test_all_finite():
    assert all_finite(torch.ones(3), torch.zeros(2, 2))
    assert all_finite()
    assert not all_finite(torch.ones(3), torch.tensor([1.0, float("inf")]))


def test_inverse_root_of_a_batch_is_each_matrix_root(spd):
    lams = [torch.tensor([0.5, 1.0, 4.0], dtype=torch.float64), torch.tensor([0.1, 2.0, 9.0], dtype=torch.float64)]
    pairs = [spd(3, lam, seed=11 + i) for i, lam in enumerate(lams)]
    batch = torch.stack([mat for mat, _ in pairs])
    got = inverse_root(batch, 2)
    assert got.shape == (2, 3, 3)
    for i, ((_, q), lam) in enumerate(zip(pairs, lams)):
        torch.testing.assert_close(got[i], closed_form_root(q, lam, 2), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batched", [False, True])
def test_robust_eigh_diagonalises_the_symmetric_part_of_a_lopsided_matrix(spd, batched):
    # S + K with K skew: the symmetric part is S, whatever the (large) difference between the two triangles.
    lam = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
    sym, _ = spd(3, lam, seed=4)
    skew = torch.tensor([[0.0, 0.7, -0.4], [-0.7, 0.0, 0.9], [0.4, -0.9, 0.0]], dtype=torch.float64)
    mat = sym + skew
    if batched:
        vals, vecs = robust_eigh(torch.stack([mat, mat.T]))
        assert vals.shape == (2, 3)
        for i in range(2):
            torch.testing.assert_close(vals[i], lam, rtol=1e-10, atol=1e-12)
            torch.testing.assert_close(vecs[i] @ torch.diag(vals[i]) @ vecs[i].T, sym, rtol=1e-10, atol=1e-12)
    else:
        vals, vecs = robust_eigh(mat)
        torch.testing.assert_close(vals, lam, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(vecs @ torch.diag(vals) @ vecs.T, sym, rtol=1e-10, atol=1e-12)


def test_non_finite_eigenvectors_in_both_precisions_raise(monkeypatch):
    real = torch.linalg.eigh

    def nan_vectors(mat):
        vals, vecs = real(mat)
        return vals, torch.full_like(vecs, float("nan"))

    monkeypatch.setattr(_linalg, "_eigh", nan_vectors)
    with pytest.raises(EighFailure, match="non-finite"):
        robust_eigh(torch.eye(3))


def test_root_of_a_zero_factor_stays_finite_when_squared_or_applied_float32():
    # The floor sqrt(tiny) keeps floor^-1 ~ 1e19: a root of an all-zero float32 factor (eps 0) can be
    # squared, or applied to a gradient of size 1e3, without reaching Inf.
    zero = torch.zeros(4, 4)
    root = inverse_root(zero, 1)
    assert torch.isfinite(root @ root).all()
    assert torch.isfinite(root @ torch.full((4, 3), 1e3)).all()
    tiny = torch.finfo(torch.float32).tiny
    torch.testing.assert_close(torch.diagonal(root).double(), torch.full((4,), tiny ** -0.5, dtype=torch.float64),
                               rtol=1e-6, atol=0)


def test_health_counters_count_every_call():
    health = PreconditionerHealth()
    for _ in range(3):
        health.failure()
    assert (health.failures, health.consecutive_failures) == (3, 3)
    health.success()
    health.success()
    assert (health.refreshes, health.consecutive_failures) == (2, 0)
    health.skipped()
    health.skipped()
    health.fell_back()
    health.fell_back()
    health.fell_back()
    assert health.as_dict() == {"refreshes": 2, "failures": 3, "consecutive_failures": 0, "skipped_updates": 2,
                                "fallback_updates": 3}
