"""Fixtures of the app's tests."""

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    """A fresh match log and upload folder; ../shared/data (when present) is the data root."""
    monkeypatch.setenv("STRATEGIST_MATCHLOG", str(tmp_path / "matches.sqlite"))
    monkeypatch.setenv("STRATEGIST_DATA_ROOTS", str(SHARED))
    monkeypatch.setenv("STRATEGIST_UPLOAD_DIR", str(tmp_path / "uploads"))
