"""The report's charts, drawn with matplotlib (Agg) from a :class:`~strategist.report.build.Report`'s numbers.

Each function returns a figure or ``None`` when its section has nothing to draw; :func:`svg` and :func:`png`
turn a figure into inline SVG text (for the HTML: no fonts or links outside it) or PNG bytes (for the PDF).
"""

from __future__ import annotations

import io
import re
import textwrap
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
import numpy as np  # noqa: E402

from strategist.scout.text import rally_words  # noqa: E402

PLAYER, OPPONENT, EQUILIBRIUM = "#1f6fb2", "#d1495b", "#8c8c8c"
plt.rcParams.update({"svg.hashsalt": "strategist-report", "svg.fonttype": "none", "font.size": 8,
                     "axes.titlesize": 9, "axes.spines.top": False, "axes.spines.right": False})
#: At most this many rallies get their own panel in the win-probability chart.
RALLY_PANELS = 8


def svg(fig) -> str:
    """The figure as an ``<svg>`` element without XML prologue, metadata or external namespace links."""
    buf = io.StringIO()
    if fig.get_layout_engine() is None:     # labels inside the figure: cheaper than a tight bounding box
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fig.tight_layout(pad=0.3)
        fig.set_layout_engine(None)         # laid out: savefig need not draw the figure twice
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    return text.replace("xlink:href", "href")


def png(fig, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _short(name: str, width: int = 18) -> str:
    return "\n".join(textwrap.wrap(str(name), width)) or str(name)


def rally_lengths(report):
    s = report.summary
    bands = s.get("by_length") or []
    if not bands:
        return None
    fig, ax = plt.subplots(figsize=(6.2, 2.3))
    x = np.arange(len(bands))
    p = [b["player_won"] for b in bands]
    o = [b["opponent_won"] for b in bands]
    ax.bar(x, p, color=PLAYER, label=f"won by {report.meta['player']}")
    ax.bar(x, o, bottom=p, color=OPPONENT, label=f"won by {report.meta['opponent']}")
    ax.set_xticks(x, [b["band"] + " strokes" for b in bands])
    many = rally_words(report.meta["sport"])[1]
    ax.set_ylabel(many)
    ax.set_title(f"{many.capitalize()} by length and winner")
    ax.legend(frameon=False, fontsize=7)
    return fig


def _chosen_rallies(report) -> list[dict]:
    series = report.win_probability.get("rallies") or []
    by_id = {r["rally_id"]: r for r in series}
    picked = []
    for d in report.decisions.get("costliest", []):
        if d["rally_id"] in by_id and by_id[d["rally_id"]] not in picked:
            picked.append(by_id[d["rally_id"]])
    for r in sorted(series, key=lambda r: -r["strokes"]):
        if len(picked) >= RALLY_PANELS:
            break
        if r not in picked:
            picked.append(r)
    return picked[:RALLY_PANELS]


def _value(pt: dict) -> float:
    """The point's P(win), or NaN (a gap) where nothing stands behind it: an empirical value with no rally."""
    if pt["source"] != "rally game" and not pt.get("rallies"):
        return float("nan")
    return pt["p"]


#: The win-probability chart is drawn when at least this share of the strokes have a value.
MIN_SHOWN = 0.5


def enough_values(points: list[dict]) -> bool:
    return sum(np.isfinite(_value(pt)) for pt in points) >= MIN_SHOWN * len(points)


def win_probability(report):
    series = report.win_probability.get("rallies") or []
    if not series or not enough_values([pt for r in series for pt in r["points"]]):
        return None
    picked = _chosen_rallies(report)
    ncol = 4
    nrow = 1 + (len(picked) + ncol - 1) // ncol
    fig = plt.figure(figsize=(7.2, 1.9 * nrow + 0.3))
    grid = fig.add_gridspec(nrow, ncol, hspace=0.75, wspace=0.3)
    ax = fig.add_subplot(grid[0, :])
    lines, colors = [], []
    for r in series:
        p = [_value(pt) for pt in r["points"]] + ([r["outcome"]] if r["outcome"] is not None else [])
        lines.append(np.column_stack([np.arange(len(p)), p]))
        colors.append(EQUILIBRIUM if r["outcome"] is None else (PLAYER if r["outcome"] == 1 else OPPONENT))
    ax.add_collection(LineCollection(lines, colors=colors, alpha=0.35, lw=0.8))   # one artist for all rallies
    ax.autoscale_view()
    ax.axhline(0.5, color="k", lw=0.5, ls=":")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("strokes played")
    ax.set_ylabel(f"P({report.meta['player']} wins)")
    one, many = rally_words(report.meta["sport"])
    ax.set_title(f"Every {one}, to its outcome (blue: won, red: lost); below: single {many}, zoomed")
    for k, r in enumerate(picked):
        a = fig.add_subplot(grid[1 + k // ncol, k % ncol])
        pts = r["points"]
        x = np.arange(len(pts))
        m = np.array([_value(pt) for pt in pts])
        if all(pt["lower"] is not None for pt in pts) and np.isfinite(m).all():
            a.fill_between(x, [pt["lower"] for pt in pts], [pt["upper"] for pt in pts], color=PLAYER, alpha=0.15,
                           lw=0)
        a.plot(x, m, color=PLAYER, lw=1)
        colors = [PLAYER if h == "player" else OPPONENT for h in r["hitters"]]
        a.scatter(x, m, c=colors, s=8, zorder=3)
        # zoomed on the rally's own values (the outcome is in the title): small swings stay visible
        shown = [(pt, v) for pt, v in zip(pts, m) if np.isfinite(v)]
        lows = [pt["lower"] if pt["lower"] is not None else v for pt, v in shown] or [0.0]
        highs = [pt["upper"] if pt["upper"] is not None else v for pt, v in shown] or [1.0]
        lo, hi = max(min(lows) - 0.03, 0.0), min(max(highs) + 0.03, 1.0)
        if lo <= 0.5 <= hi:
            a.axhline(0.5, color="k", lw=0.5, ls=":")
        a.set_ylim(lo, hi)
        result = "won" if r["outcome"] == 1 else "lost" if r["outcome"] == 0 else "winner unknown"
        a.set_title(f"set {r['set']}, {one} {r['rally']}: {result}", fontsize=7)
        a.tick_params(labelsize=6)
    return fig


def mixes(report, states: int = 4):
    """Per situation with the most assessed decisions: the share of each shot the player played in this match
    against the recommended mix (with its basis)."""
    from strategist.data.states import describe_situation

    per = [e for e in report.decisions.get("per_state", []) if e.get("rows") and e["assessed"]][:states]
    if not per:
        return None
    ncol = 2
    nrow = (len(per) + 1) // 2
    heights = [max(len(e["rows"]) for e in per[i * 2:i * 2 + 2]) for i in range(nrow)]
    height = sum(0.22 * h + 0.9 for h in heights) + 0.3      # 0.3 in above the panels: the legend
    fig, axes = plt.subplots(nrow, ncol, figsize=(7.2, height), gridspec_kw={"height_ratios": heights},
                             squeeze=False, layout="constrained")
    for ax in axes.flat[len(per):]:
        ax.axis("off")
    for k, (ax, e) in enumerate(zip(axes.flat, per)):
        y = np.arange(len(e["rows"]))
        played = np.array(e["played"], float)
        share = played / played.sum() if played.sum() else played
        ax.barh(y - 0.2, share, height=0.4, color=PLAYER, label="played in this match")
        ax.barh(y + 0.2, e["equilibrium"], height=0.4, color=EQUILIBRIUM, label="recommended mix")
        ax.set_yticks(y, e["row_names"])
        ax.set_ylim(heights[k // ncol] - 0.5, -0.5)          # panels of a row on one scale, bars from the top
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_title(f"{describe_situation(e['state'])}\n({e['assessed']} decisions; recommended: "
                     f"{e.get('basis', '')})", fontsize=7.5)
        ax.tick_params(labelsize=6.5)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    labels = [f"{report.meta['player']}: {labels[0]}", labels[1]]
    fig.legend(handles, labels, frameon=False, fontsize=7.5, ncol=2, loc="outside upper center")
    return fig


#: Where the receiver stood, in words (a column of a situation's game).
WHERE = {"front": "at the front", "middle": "in the middle", "back": "at the back"}


def heatmap(report, state: str | None = None):
    """The game of the most frequent situation that has one (or ``state``'s): P(player wins the rally) of each
    shot against where the opponent stood at contact, with the pairing's strokes behind each cell."""
    from strategist.data.states import describe_situation

    per = [e for e in report.decisions.get("per_state", []) if e.get("rows")]
    if state is not None:
        per = [e for e in per if e["state"] == state]
    if not per:
        return None
    e = heatmap_state(per)
    mean = np.array(e["mean"])
    counts = np.array(e["counts"])
    m, n = mean.shape
    fig, ax = plt.subplots(figsize=(min(2.6 + 1.0 * n, 7.2), 1.0 + 0.3 * m))
    im = ax.imshow(mean, cmap="RdBu", vmin=0.2, vmax=0.8, aspect="auto")
    for i in range(m):
        for j in range(n):
            ax.text(j, i, f"{mean[i, j]:.2f} ({counts[i, j]})", ha="center", va="center", fontsize=6,
                    color="white" if abs(mean[i, j] - 0.5) > 0.2 else "black")
    ax.set_xticks(np.arange(n), [WHERE.get(str(c), str(c)) for c in e["columns"]], fontsize=6.5)
    ax.set_yticks(np.arange(m), e["row_names"], fontsize=6.5)
    ax.set_xlabel(f"where {report.meta['opponent']} stood at contact" if n > 1 else
                  f"where {report.meta['opponent']} stood is not recorded", fontsize=7)
    one = rally_words(report.meta["sport"])[0]
    ax.set_title(_short(f"P({report.meta['player']} wins the {one}) {describe_situation(e['state'])} "
                        f"({e['decisions']} decisions in this match); cell: estimate (strokes of the pairing)", 70),
                 fontsize=8)
    fig.colorbar(im, ax=ax, fraction=0.05, pad=0.03)
    return fig


def heatmap_state(per: list[dict]) -> dict:
    """The situation the heat-map shows: the most frequent one where the opponent's position varies (more than
    one column), else the most frequent one."""
    return next((e for e in per if len(e["columns"]) > 1), per[0])


def court_maps(report, columns: int = 4):
    """The scouting section's court maps (:func:`strategist.scout.figures.map_figure`), ``columns`` a row."""
    from strategist.report.scouting import court_maps as maps_of
    from strategist.scout.figures import map_figure

    maps = maps_of(report.scouting or {})
    if not maps:
        return None
    rows = -(-len(maps) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(7.2, 4.2 * rows), squeeze=False, layout="constrained")
    for ax, court_map in zip(axes.ravel(), maps):
        map_figure(court_map, report.meta["sport"], ax=ax)
        for mesh in ax.collections:          # the heat grid as one image, not a path per cell (SVG size)
            mesh.set_rasterized(True)
        ax.title.set_fontsize(6.5)
        ax.xaxis.label.set_fontsize(5.5)
        for text in ax.texts:
            text.set_fontsize(5.5)
    for ax in axes.ravel()[len(maps):]:
        ax.axis("off")
    return fig


def opponent_change(report):
    change = report.opponent.get("change") or {}
    segs = [s for s in change.get("segments", []) if s.get("mix")]
    if not segs:
        return None
    groups = sorted({g for s in segs for g in s["mix"]})
    fig, ax = plt.subplots(figsize=(5.5, 0.5 + 0.4 * len(segs)))
    left = np.zeros(len(segs))
    palette = ["#d1495b", "#edae49", "#00798c", "#30638e", "#003d5b", "#66a182", "#8d96a3"]
    for k, g in enumerate(groups):
        vals = np.array([s["mix"].get(g, 0.0) for s in segs])
        ax.barh(np.arange(len(segs)), vals, left=left, color=palette[k % len(palette)], label=g)
        for y, (l, v) in enumerate(zip(left, vals)):
            if v > 0.07:
                ax.text(l + v / 2, y, f"{v:.0%}", ha="center", va="center", fontsize=6.5, color="white")
        left += vals
    ax.set_yticks(np.arange(len(segs)), [s["segment"] for s in segs])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.set_title(f"{report.meta['opponent']}'s shots by {change.get('grouping')} group")
    ax.legend(frameon=False, fontsize=6.5, ncol=len(groups), loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return fig
