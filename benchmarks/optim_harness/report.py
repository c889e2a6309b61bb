"""Summaries, tables and result files: medians with their spread, markdown and text tables, JSON (with the
machine) for the record and back."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch


def fmt(value: Any, spec: str = ".3g") -> str:
    """A table cell: "—" for None, "not reached" for inf, "diverged" for nan, floats as ``spec``."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isinf(value):
            return "not reached"
        if math.isnan(value):
            return "diverged"
        return format(value, spec)
    return str(value)


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, a rule under the first row."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def spread(values: Iterable[float], finite: bool = False) -> dict[str, Any]:
    """Median, min and max; ``inf`` (never reached) is kept. ``finite``: of the finite values only, with their
    number ``n`` (None when there are none)."""
    vals = [v for v in values if not finite or (v is not None and math.isfinite(v))]
    if not vals:
        return dict(median=None, min=None, max=None, n=0) if finite else dict(median=math.nan, min=math.nan,
                                                                              max=math.nan)
    out = dict(median=float(statistics.median(vals)), min=float(min(vals)), max=float(max(vals)))
    return dict(out, n=len(vals)) if finite else out


def median_or_none(values: list[float | None]) -> float | None:
    """Median with None counted as infinite (never reached); None when that median is infinite."""
    med = statistics.median(math.inf if v is None else v for v in values)
    return med if math.isfinite(med) else None


def reach(steps: list[int], values: list[float], times: list[float], target: float
          ) -> tuple[float | None, float | None]:
    """Step (and time) at which a curve first gets to ``target``, interpolated linearly between the two
    evaluations around the crossing; None when it never does (or turns non-finite first)."""
    pts = list(zip(steps, values, times))
    for i, (s, v, t) in enumerate(pts):
        if not math.isfinite(v):
            return None, None
        if v <= target:
            if i == 0:
                return float(s), float(t)
            s0, v0, t0 = pts[i - 1]
            frac = (v0 - target) / (v0 - v) if v0 > v else 1.0
            return s0 + frac * (s - s0), t0 + frac * (t - t0)
    return None, None


def downsample(steps: list[int], values: list[float], points: int = 160) -> tuple[list[int], list[float]]:
    """Keep about ``points`` entries, log-spaced in step (the first steps matter most on a log plot)."""
    if len(steps) <= points:
        return steps, values
    want = np.unique(np.geomspace(1, len(steps), points).astype(int) - 1)
    want = np.unique(np.concatenate([[0], want, [len(steps) - 1]]))
    return [steps[i] for i in want], [values[i] for i in want]


def _version(pkg: str) -> str | None:
    from importlib import metadata
    for name in (pkg, pkg.replace("_", "-")):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def machine_info(device: str = "cpu", packages: tuple[str, ...] = ()) -> dict[str, Any]:
    """The machine and library versions (and those of ``packages``), for result files."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__,
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": device,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["device_name"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    else:
        info["device_name"] = "cpu"
    for pkg in packages:
        info[pkg] = _version(pkg)
    return info


def jsonable(obj: Any, nonfinite: Callable[[float], Any] = str) -> Any:
    """Plain JSON values: non-finite floats through ``nonfinite`` ("inf", "nan" by default; T2 writes None),
    tuples as lists, other objects as their repr."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, nonfinite) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return nonfinite(obj)
    if isinstance(obj, (int, float, str, bool)) or obj is None:
        return obj
    return repr(obj)


def from_json(obj: Any) -> Any:
    """Undo :func:`jsonable`'s strings for non-finite floats."""
    if isinstance(obj, dict):
        return {k: from_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_json(v) for v in obj]
    return float(obj) if obj in ("inf", "-inf", "nan") else obj


def write_json(path: Path, payload: dict[str, Any], nonfinite: Callable[[float], Any] = str) -> Path:
    """``payload`` as indented JSON, with the machine added when it has none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if "machine" not in payload:
        payload = dict(payload, machine=machine_info())
    path.write_text(json.dumps(jsonable(payload, nonfinite), indent=1))
    return path
