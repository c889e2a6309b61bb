"""Fixtures of the data tests: the shared real data (skipped when absent), each real file loaded once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

@pytest.fixture(scope="session")
def shuttleset_dir(shared_data) -> Path:
    return shared_data / "badminton_shuttleset"


@pytest.fixture(scope="session")
def shuttleset(shuttleset_dir):
    """``load_rallies`` of the real strokes.csv.gz (default, lenient mode)."""
    from strategist.data.load import load_rallies

    return load_rallies(shuttleset_dir / "strokes.csv.gz")


@pytest.fixture(scope="session")
def shuttleset_raw(shuttleset_dir) -> pd.DataFrame:
    """The real strokes file as plain strings, read independently of the loader."""
    return pd.read_csv(shuttleset_dir / "strokes.csv.gz", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def slam_pbp(shared_data):
    from strategist.data.load import load_rallies

    return load_rallies(shared_data / "tennis_slam_pbp")


@pytest.fixture(scope="session")
def mcp_sample_path(shared_data) -> Path:
    return shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv"


@pytest.fixture(scope="session")
def mcp_sample(mcp_sample_path):
    from strategist.data.load import load_rallies

    return load_rallies(mcp_sample_path)
