"""The T1 benchmark's problem (benchmarks/optim_harness/t1.py): subspace distance, input covariance, data
stream, and the stylised update; and one run of benchmarks/optim_t1.py as its JSON records it."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import optim_t1  # noqa: E402
from optim_harness import t1  # noqa: E402
from optim_harness.runner import Job  # noqa: E402


def _scipy_distance(g: np.ndarray, g_star: np.ndarray) -> float:
    """sin of the largest principal angle between the row spaces, by scipy."""
    return float(np.sin(subspace_angles(g.T, g_star.T).max()))


@pytest.mark.parametrize("d, k, tilt", [(100, 8, 0.0), (100, 8, 0.03), (100, 8, 1.0), (12, 3, 0.3), (5, 5, 0.5)])
def test_subspace_distance_matches_scipy(d, k, tilt):
    rng = np.random.default_rng(d * 31 + k)
    basis = np.linalg.qr(rng.standard_normal((d, k)))[0]                  # d × k, row(G*) as columns
    mixing = rng.standard_normal((k, k)) + 3 * np.eye(k)                  # any basis of the same row space
    g = mixing @ (basis.T + tilt * rng.standard_normal((k, d)))
    ours = t1.subspace_distance(torch.tensor(g, dtype=torch.float32), torch.tensor(basis))
    assert ours == pytest.approx(_scipy_distance(g, basis.T), abs=2e-6)


def test_subspace_distance_extremes():
    rng = np.random.default_rng(0)
    q = np.linalg.qr(rng.standard_normal((20, 20)))[0]
    basis = q[:, :4]
    inside = rng.standard_normal((4, 4)) @ basis.T
    orthogonal = q[:, 4:8].T
    assert t1.subspace_distance(torch.tensor(inside), torch.tensor(basis)) < 1e-12
    assert t1.subspace_distance(torch.tensor(orthogonal), torch.tensor(basis)) == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(t1.subspace_distance(torch.full((4, 20), float("nan")), torch.tensor(basis)))


@pytest.mark.parametrize("kappa", [1, 10, 100, 1000])
def test_problem_construction(kappa):
    p = t1.make_problem(kappa, seed=3)
    sigma = p.sigma_x.numpy()
    assert np.allclose(sigma, sigma.T, atol=0)
    eig = np.sort(np.linalg.eigvalsh(sigma))[::-1]
    assert np.linalg.cond(sigma) == pytest.approx(kappa, rel=1e-8)
    assert np.allclose(eig, np.geomspace(1.0, 1.0 / kappa, p.d_x), rtol=1e-8)
    assert np.allclose(p.sigma_x_sqrt.numpy() @ p.sigma_x_sqrt.numpy(), sigma, atol=1e-12)
    assert np.allclose(p.g_star.numpy() @ p.g_star.numpy().T, np.eye(p.k), atol=1e-12)
    assert np.allclose(p.f_star.numpy().T @ p.f_star.numpy(), np.eye(p.k), atol=1e-12)
    assert p.target == (0.1 if kappa == 1000 else 0.05)
    again, other = t1.make_problem(kappa, seed=3), t1.make_problem(kappa, seed=4)
    assert torch.equal(again.sigma_x, p.sigma_x) and torch.equal(again.g_star, p.g_star)
    assert not torch.allclose(other.g_star, p.g_star)
    if kappa > 1:   # the rotation is random: Σx is not diagonal
        assert np.abs(sigma - np.diag(np.diag(sigma))).max() > 1e-3


def test_batch_stream_statistics():
    p = t1.make_problem(100, seed=1)
    stream = t1.BatchStream(p, batch=256, seed=1, device=torch.device("cpu"), dtype=torch.float64)
    xs, ys = zip(*(stream.next() for _ in range(120)))
    x, y = torch.cat(xs), torch.cat(ys)
    n = x.shape[0]
    cov = (x.T @ x / n).numpy()
    # Sampling error of a covariance with ~30k samples: a few percent in relative Frobenius norm.
    assert np.linalg.norm(cov - p.sigma_x.numpy()) / np.linalg.norm(p.sigma_x.numpy()) < 0.05
    residual = y - x @ (p.f_star @ p.g_star).T
    assert float(residual.std()) == pytest.approx(p.noise, rel=0.02)
    assert abs(float((residual.T @ x / n).abs().max())) < 5 * p.noise / math.sqrt(n)
    fresh = t1.BatchStream(p, batch=256, seed=1, device=torch.device("cpu"), dtype=torch.float64).next()[0]
    assert torch.equal(fresh, xs[0])                                    # same seed, same stream


def _tiny_run(kappa, step, steps, noise=0.0):
    """Distance after each of ``steps`` updates on a d_x = 20, k = 2, d_y = 4 instance."""
    p = t1.make_problem(kappa, seed=0, d_x=20, k=2, d_y=4, noise=noise)
    model = t1.make_model(p, seed=0, device=torch.device("cpu"))
    F, G = model.F.weight.detach().double(), model.G.weight.detach().double()
    stream = t1.BatchStream(p, batch=64, seed=0, device=torch.device("cpu"), dtype=torch.float64)
    out = []
    for _ in range(steps):
        x, y = stream.next()
        F, G = step(F, G, x, y)
        out.append(t1.subspace_distance(G, p.basis))
    return out


@pytest.mark.parametrize("kappa", [1, 1000])
def test_stylised_update_converges_independently_of_kappa(kappa):
    # Noise-free, nearly undamped eq. (5): one G step lands G in row(G*) whatever Σx is.
    dist = _tiny_run(kappa, lambda F, G, x, y: t1.stylised_step_reference(F, G, x, y, lr=1.0, damping=1e-10), 3)
    assert dist[0] < 1e-6 and dist[-1] < 1e-6
    # With the benchmark's damping and a partial step it still contracts geometrically at κ = 1000.
    dist = _tiny_run(kappa, lambda F, G, x, y: t1.stylised_step_reference(F, G, x, y, lr=0.5, damping=1e-3), 40)
    assert dist[-1] < 1e-2


def _gd_step(lr):
    def step(F, G, x, y):
        n = x.shape[0]
        residual = x @ G.T @ F.T - y
        return F - lr * residual.T @ (x @ G.T) / n, G - lr * F.T @ residual.T @ x / n
    return step


def test_gradient_descent_slows_with_kappa():
    # The problem is the one the stylised update is for: plain gradient steps stall at κ = 1000.
    well = _tiny_run(1, _gd_step(0.5), 300)
    ill = _tiny_run(1000, _gd_step(0.5), 300)
    assert well[-1] < 1e-3 < 0.05 < ill[-1]


def test_stylised_update_on_noisy_batches_reaches_target():
    dist = _tiny_run(100, lambda F, G, x, y: t1.stylised_step_reference(F, G, x, y, lr=0.1), 120, noise=0.1)
    assert min(dist) < 0.05


def test_run_one_records_hitting_step_and_curve():
    s = optim_t1.SweepSettings(kappas=[10.0], methods=["eq5_ref"], seeds=[0], steps=60, warmup=3, grid_size=1,
                               d_x=20, k=2, d_y=4, dense_until=20, eval_every=5)
    r = optim_t1.run_one((s, Job(10.0, "eq5_ref", 0.3, 0), True))
    assert r["curve_steps"] == [0] + list(range(1, 21)) + list(range(25, 61, 5))
    assert r["final_distance"] == r["curve"][-1]
    hit = r["steps_to_target"]
    assert math.isfinite(hit) and r["curve"][r["curve_steps"].index(hit)] <= 0.05
    assert all(d > 0.05 for s, d in zip(r["curve_steps"], r["curve"]) if s < hit)
    assert r["steps_to_stay"] >= hit


def test_a_diverging_run_stops_and_keeps_only_finite_distances():
    s = optim_t1.SweepSettings(kappas=[1000.0], methods=["sgd"], seeds=[0], steps=60, warmup=1, grid_size=1,
                               dense_until=60, eval_every=5)
    r = optim_t1.run_one((s, Job(1000.0, "sgd", 1e4, 0), True))
    assert r["diverged"] and math.isnan(r["final_distance"]) and r["steps_to_target"] == math.inf
    assert r["curve_steps"][-1] < 60 and all(math.isfinite(d) for d in r["curve"])
