"""Load the T1/T2 benchmark scripts as modules (their problem definitions live there)."""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1]
REPO = BENCHMARKS.parent


@lru_cache(maxsize=None)
def script(name: str):
    for path in (str(BENCHMARKS), str(REPO)):
        if path not in sys.path:
            sys.path.insert(0, path)
    spec = importlib.util.spec_from_file_location(f"_harness_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
