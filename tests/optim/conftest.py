"""Fixtures shared by the optimizer tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def float64():
    """Run the test with float64 as torch's default dtype."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def random_spd(n: int, eigenvalues: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Q diag(eigenvalues) Q^T with a random orthogonal Q (float64); returns (matrix, Q)."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    lam = eigenvalues.to(torch.float64)
    return (q * lam) @ q.T, q


@pytest.fixture
def spd():
    return random_spd


@pytest.fixture(autouse=True)
def one_thread():
    """The models here are tiny: extra threads only contend for the CPU."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
