"""Figures (matplotlib, imported on use): a curve per method as the median over seeds with the min–max band,
panels of such curves, and steps to target against a setting."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def band(ax, x, ys, label: str, alpha: float = 0.15, log_x: bool = False, fill: dict | None = None, **style):
    """Median over the rows of ``ys`` (one per seed) against ``x``, with the min–max band; NaN ignored."""
    x, ys = np.asarray(x, dtype=float), np.asarray(ys, dtype=float)
    keep = x > 0 if log_x else np.ones(len(x), dtype=bool)
    line, = ax.plot(x[keep], np.nanmedian(ys, 0)[keep], label=label, **style)
    ax.fill_between(x[keep], np.nanmin(ys, 0)[keep], np.nanmax(ys, 0)[keep], color=line.get_color(), alpha=alpha,
                    **(fill or {}))
    return line


def save(fig, path: Path, dpi: int, title: str | None = None) -> Path:
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def curves_by_setting(panels: dict[str, tuple[float, list[tuple[str, str | None, list, list]]]], path: Path,
                      ylabel: str, title: str) -> Path:
    """One log–log panel per setting (title -> (target, [(label, color, steps, [values per seed])])): each
    method's median curve with its min–max band, the target dashed."""
    fig, axes = pyplot().subplots(1, len(panels), figsize=(4.2 * len(panels), 3.9), sharey=True, squeeze=False)
    for ax, (name, (target, curves)) in zip(axes[0], panels.items()):
        for label, color, steps, values in curves:
            band(ax, steps, values, label, log_x=True, fill={"lw": 0}, color=color, lw=1.3)
        ax.axhline(target, color="k", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7, loc="lower left")
    return save(fig, path, 120, title)


def steps_by_setting(settings: list[float], rows: list[tuple[str, str | None, list[dict | None]]], budget: int,
                     path: Path, xlabel: str, title: str, reference: tuple[str, list[float]] | None = None) -> Path:
    """Steps to target (median, min–max bars) against the setting, one line per (label, color, [stat per
    setting]); a median not reached is drawn at the budget with an open triangle; ``reference``: a dotted
    line (label, values)."""
    fig, ax = pyplot().subplots(figsize=(6.4, 4.6))
    x = np.asarray(settings, dtype=float)
    cap = lambda v: v if math.isfinite(v) else budget  # noqa: E731
    for label, color, stats in rows:
        med = np.asarray([cap(st["median"]) if st else np.nan for st in stats])
        lo = np.asarray([cap(st["min"]) if st else np.nan for st in stats])
        hi = np.asarray([cap(st["max"]) if st else np.nan for st in stats])
        ax.errorbar(x, med, yerr=[med - lo, hi - med], color=color, marker="o", ms=4, capsize=3, label=label)
        for xx, st in zip(x, stats):
            if st and not math.isfinite(st["median"]):
                ax.plot([xx], [budget], marker="^", color=color, ms=9, mfc="none")
    if reference:
        ax.plot(x, reference[1], color="k", ls=":", marker="x", label=reference[0])
    ax.axhline(budget, color="k", lw=0.6, ls="--")
    ax.text(x[0], budget * 1.05, f"budget {budget} (▵: median not reached)", fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("steps to target distance (median, min–max)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return save(fig, path, 120)


def curve_panels(panels: list[list[tuple[str, dict]]], path: Path, size: tuple[float, float], dpi: int,
                 ylabel: str, title: str | None = None) -> Path:
    """A grid of linear-step, log-value panels: rows of (panel title, {"curves": [(label, steps, [values per
    seed], style)], "hline": (value, label) or None})."""
    rows, cols = len(panels), len(panels[0])
    fig, axes = pyplot().subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for r, row in enumerate(panels):
        for c, (name, panel) in enumerate(row):
            ax = axes[r][c]
            for label, steps, values, style in panel["curves"]:
                band(ax, steps, values, label, **style)
            if panel.get("hline"):
                ax.axhline(panel["hline"][0], color="k", ls=":", lw=1, label=panel["hline"][1])
            ax.set_yscale("log")
            ax.set_xlabel("step")
            ax.set_ylabel(ylabel)
            ax.set_title(name)
            ax.legend(fontsize=7)
    return save(fig, path, dpi, title)
