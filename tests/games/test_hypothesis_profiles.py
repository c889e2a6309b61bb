"""The property tests' Hypothesis profiles: deterministic with a fixed budget by default, random on request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

REPO = Path(__file__).resolve().parents[2]


def test_the_ci_profile_is_loaded_unless_another_is_named():
    expected = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    assert settings.get_profile(expected) == settings.default
    ci = settings.get_profile("ci")
    assert ci.derandomize is True and ci.database is None and ci.deadline is None and ci.max_examples == 50


def test_the_long_profile_is_random_and_takes_its_budget_from_the_environment():
    probe = ("import os, sys; sys.path.insert(0, 'tests'); import conftest; from hypothesis import settings; "
             "d = settings.default; print(d.derandomize, d.max_examples, d.deadline)")
    env = {**os.environ, "HYPOTHESIS_PROFILE": "long", "HYPOTHESIS_MAX_EXAMPLES": "1234"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "1234", "None"]
