"""Court-map figures (matplotlib): a drawn court with its lines and a heat map of one map of the report.

:func:`map_figure` draws one map dict of the court-maps section (``report.to_dict()["sections"]
["court_maps"]["maps"][i]``), :func:`maps_figure` several side by side; :func:`save_maps` writes PNGs.
The court is seen from behind the hitter of the mapped strokes (their half at the bottom). Each map names its
n in its title; the share of its points in each zone of the half it is about is printed in that zone.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402

from strategist.data.court import CourtModel, court_model  # noqa: E402
from strategist.scout.coordinates import DEPTHS, SIDES  # noqa: E402

COURT_GREEN = "#2e7d4f"
LINE = "#ffffff"
OUTSIDE = ("net", "out long", "out wide")
FLOOR = "#e9e4da"
HEAT = LinearSegmentedColormap.from_list("scout_heat", ["#fff3b080", "#ffd15c", "#f28e2b", "#c0392b", "#6b0f1a"])


def draw_court(ax, court: CourtModel, *, margin: float = 1.0) -> None:
    """The court's surface, every line, and the net, in the figure frame (metres)."""
    w, h = court.width / 2, court.length / 2
    ax.add_patch(plt.Rectangle((-w, -h), 2 * w, 2 * h, facecolor=COURT_GREEN, edgecolor="none", zorder=0))
    for x0, y0, x1, y1 in court.lines:
        ax.plot([x0, x1], [y0, y1], color=LINE, linewidth=1.2, zorder=3, solid_capstyle="butt")
    ax.plot([-court.net_posts_x, court.net_posts_x], [0, 0], color="#222222", linewidth=2.4, zorder=4)
    ax.set_xlim(-w - margin, w + margin)
    ax.set_ylim(-h - margin, h + margin)
    ax.set_aspect("equal")
    ax.set_facecolor(FLOOR)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)


def _zone_centres(court: CourtModel, half: str) -> dict[str, tuple[float, float]]:
    """Figure-frame centre of each zone of the half a map is about (receiver: top, mirrored; hitter: bottom)."""
    third_y, third_x = court.half_length / 3, court.singles_width / 3
    out = {}
    for i, depth in enumerate(DEPTHS):
        for j, side in enumerate(SIDES):
            x_side, y_side = (j - 1) * third_x, (i + 0.5) * third_y
            out[f"{depth} {side}"] = (-x_side, y_side) if half == "receiver" else (x_side, -y_side)
    return out


def map_figure(court_map: dict, sport: str = "badminton", ax=None):
    """Draw one court map (a dict of the court-maps section); returns the figure."""
    court = court_model(sport)
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.4, 6.4), dpi=110, layout="constrained")
    else:
        fig = ax.figure
    draw_court(ax, court)
    counts = np.asarray(court_map["counts"], float)
    x_edges, y_edges = np.asarray(court_map["x_edges"]), np.asarray(court_map["y_edges"])
    if counts.sum() > 0:
        share = counts / counts.sum()
        ax.pcolormesh(x_edges, y_edges, np.ma.masked_equal(share, 0), cmap=HEAT, vmin=0, vmax=share.max(),
                      zorder=2, shading="flat")
    for zone, (x, y) in _zone_centres(court, court_map["half"]).items():
        rate = court_map["zones"].get(zone, {}).get("rate")
        if rate:
            ax.text(x, y, _pct(rate), ha="center", va="center", fontsize=7.5, color="#111111", zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "#ffffffcc", "edgecolor": "none"})
    title, _, n = court_map["title"].rpartition(" (")
    ax.set_title(f"{_wrap(title)}\n({n}", fontsize=8.5)
    outside = [f"{zone} {_pct(court_map['zones'][zone]['rate'])}" for zone in OUTSIDE
               if court_map["zones"].get(zone, {}).get("rate")]
    foot = f"{court_map['hitter']} hits from this end" + (f"\n{' · '.join(outside)}" if outside else "")
    ax.set_xlabel(foot, fontsize=6.5, color="#333333")
    return fig


def _pct(rate: float) -> str:
    return "<1%" if 0 < rate < 0.005 else f"{100 * rate:.0f}%"


def _wrap(title: str, width: int = 34) -> str:
    words, lines, line = title.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line])


def maps_figure(court_maps: list[dict], sport: str = "badminton", columns: int = 4):
    """Several maps side by side (rows of ``columns``)."""
    rows = max(1, -(-len(court_maps) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 6.4 * rows), dpi=100, squeeze=False,
                             layout="constrained")
    for ax, court_map in zip(axes.ravel(), court_maps):
        map_figure(court_map, sport, ax=ax)
    for ax in axes.ravel()[len(court_maps):]:
        ax.axis("off")
    return fig


def save_maps(report, folder, prefix: str = "scout") -> list[Path]:
    """Write each court map of ``report`` (a :class:`ScoutReport` or its dict) as ``<prefix>-<key>.png``."""
    data = report.to_dict() if hasattr(report, "to_dict") else report
    section = data["sections"]["court_maps"]
    folder = Path(folder)
    paths = []
    for court_map in section.get("maps", []):
        fig = map_figure(court_map, data["meta"]["sport"])
        path = folder / f"{prefix}-{court_map['key'].replace('_', '-')}.png"
        fig.savefig(path, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths
