"""Fixtures shared by every test package."""

from pathlib import Path

import pytest

#: The real data sets beside the repository (read-only; absent on some machines).
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that use it are skipped when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED


@pytest.fixture(scope="session")
def shared_data_or_none() -> Path | None:
    """``../shared/data``, or None when it is absent (for tests that check more when it is there)."""
    return SHARED if SHARED.is_dir() else None
