"""Fixtures shared by every test package."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: ``ci`` (the default) is deterministic with a fixed budget, so a run is reproducible and never
# flaky; ``long`` (HYPOTHESIS_PROFILE=long, used by benchmarks/fuzz.py) draws fresh random examples, as many as
# HYPOTHESIS_MAX_EXAMPLES says. A test's own ``@settings(max_examples=...)`` still sets its budget.
settings.register_profile("ci", derandomize=True, database=None, max_examples=50, deadline=None, print_blob=True)
settings.register_profile("long", derandomize=False, database=None, deadline=None, print_blob=True,
                          max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "2000")))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Loaded data sets and fitted opponent models are kept on disk by the commands (strategist.data.cache,
# strategist.opponent.cache): the tests keep theirs in folders of their own, never in the user's ~/.cache.
for _variable, _prefix in (("STRATEGIST_DATA_CACHE", "strategist-test-tables-"),
                           ("STRATEGIST_MODEL_CACHE", "strategist-test-models-")):
    if _variable not in os.environ:
        os.environ[_variable] = tempfile.mkdtemp(prefix=_prefix)
        atexit.register(shutil.rmtree, os.environ[_variable], ignore_errors=True)

#: The real data sets beside the repository (read-only; absent on some machines).
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that use it are skipped when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED


@pytest.fixture(scope="session")
def shuttleset_strokes() -> Path:
    """ShuttleSet's strokes file: the copy the package ships (``data/shuttleset``), present on every machine."""
    from strategist.data.shipped import shuttleset_path

    return shuttleset_path()


@pytest.fixture(scope="session")
def shared_data_or_none() -> Path | None:
    """``../shared/data``, or None when it is absent (for tests that check more when it is there)."""
    return SHARED if SHARED.is_dir() else None


@pytest.fixture()
def untrained_neural():
    """A maker of neural opponent models with seeded random weights (tiny, evaluation mode): for tests of the
    paths a prediction takes, where what the model learnt does not matter. ``table``: players and position
    normalisation from a canonical table; else ``players`` and unit normalisation."""

    def make(table=None, players=(), seed: int = 0):
        import torch

        from strategist.opponent import NeuralModel
        from strategist.opponent.neural import Encoder

        torch.manual_seed(seed)
        model = NeuralModel(hidden=16, d_shot=8, d_area=4, d_player=4)
        if table is not None:
            model.build(sorted(set(table["hitter"].astype(str))), Encoder.position_norm(table))
        else:
            model.build(list(players), {"mean": [0.0] * 4, "std": [1.0] * 4})
        model.net.eval()
        model.fitted_ = True
        return model

    return make
