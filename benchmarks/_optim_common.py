"""Shared pieces of the optimizer benchmarks: schedule, seeds, learning-rate grids, summaries.

Every method in a comparison gets the same schedule (linear warm-up, then cosine decay to
``final_ratio`` of the peak), a learning-rate grid of the same size (log-spaced), the same seeds,
and is summarised by the median over seeds with the min–max spread.
"""

from __future__ import annotations

import math
import os
import platform
import random
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

INF = float("inf")


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, final_ratio: float = 0.0) -> float:
    """Multiplier of the peak learning rate at ``step`` (0-based).

    ``(step + 1) / warmup_steps`` during warm-up, then
    ``final_ratio + (1 - final_ratio) * (1 + cos(pi * p)) / 2`` with ``p`` the fraction of the
    post-warm-up steps already taken.
    """
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    decay = max(1, total_steps - warmup_steps)
    p = min(1.0, (step - warmup_steps) / decay)
    return final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + math.cos(math.pi * p))


def warmup_cosine_scheduler(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int,
                            final_ratio: float = 0.0) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` applying :func:`warmup_cosine` to every param group of ``optimizer``."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, total_steps, warmup_steps, final_ratio))


def lr_grid(low: float, high: float, n: int) -> list[float]:
    """``n`` log-spaced learning rates from ``low`` to ``high`` inclusive (rounded to 4 significant digits)."""
    if n < 1 or low <= 0 or high < low:
        raise ValueError(f"bad grid: low={low}, high={high}, n={n}")
    if n == 1:
        return [float(f"{math.sqrt(low * high):.4g}")]
    return [float(f"{v:.4g}") for v in np.geomspace(low, high, n)]


def lr_grid_around(center: float, n: int, factor: float) -> list[float]:
    """``n`` log-spaced values with ratio ``factor`` between neighbours, centred on ``center``."""
    half = (n - 1) / 2
    return lr_grid(center * factor ** (-half), center * factor ** half, n)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def median_spread(values: Iterable[float]) -> dict[str, float]:
    """Median, min and max of ``values``; ``inf`` entries (target never reached) are kept as ``inf``."""
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return {"median": math.nan, "min": math.nan, "max": math.nan}
    return {"median": float(np.median(arr)), "min": float(arr.min()), "max": float(arr.max())}


def best_by(candidates: Sequence[dict], primary: str, secondary: str) -> dict:
    """The candidate with the smallest ``primary`` value, ties broken by the smallest ``secondary``.

    NaN counts as worse than any number (a diverged run never wins).
    """
    def key(c: dict) -> tuple[float, float]:
        a, b = c[primary], c[secondary]
        return (INF if a is None or math.isnan(a) else a, INF if b is None or math.isnan(b) else b)

    return min(candidates, key=key)


def machine_info(device: str = "cpu") -> dict[str, object]:
    """Facts about the machine and library versions, for result files."""
    info: dict[str, object] = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["device_name"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    else:
        info["device_name"] = "cpu"
    return info


@dataclass
class Progress:
    """Prints ``label i/n elapsed, eta`` lines to stderr, at most every ``every_s`` seconds."""

    total: int
    label: str = ""
    every_s: float = 5.0
    stream: Callable[[str], object] = lambda s: print(s, file=sys.stderr, flush=True)

    def __post_init__(self) -> None:
        self.start = time.perf_counter()
        self._last = -INF
        self.done = 0

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last < self.every_s and self.done < self.total:
            return
        self._last = now
        elapsed = now - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else INF
        self.stream(f"{self.label} {self.done}/{self.total}  {elapsed:6.0f}s elapsed, ~{eta:5.0f}s left  {note}")
