"""Tables and bar charts as the pages show them, whatever columns a table has.

:func:`show` formats a column by what it holds: win probabilities and shares (floats within [0, 1]) in %,
differences of probabilities (exploitability, what was given up) in percentage points, counts as integers.
Share axes run from 0 to 100 % and never beyond; a bar of 0 % is not drawn.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from strategist.advice.prep import UNRECORDED
from strategist.app.text import pct, points

#: Columns holding a difference of win probabilities (shown in percentage points, not %).
DIFFERENCE_WORDS = ("exploitab", "given up", "given_up", "gap", "distance", "effect", "gain")
GROUP_COLOURS = {"attack": "#d62728", "neutral": "#7f7f7f", "defence": "#1f77b4", "serve": "#2ca02c",
                 "other": "#bcbd22", UNRECORDED: "#c7c7c7"}


def _is_difference(name) -> bool:
    return any(word in str(name).lower() for word in DIFFERENCE_WORDS)


def _is_probability(series: pd.Series) -> bool:
    if not pd.api.types.is_float_dtype(series) or series.dropna().empty:
        return False
    values = series.dropna().to_numpy(float)
    return bool(((values >= 0) & (values <= 1)).all())


def cell(name, value) -> str:
    """One value as a table shows it (see :func:`show`)."""
    if isinstance(value, (float, np.floating)):
        if _is_difference(name):
            return points(value)
        if 0 <= value <= 1:
            return pct(value)
        return f"{value:,.2f}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return str(value)


def formatted(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with its probability and difference columns as text (see the module docstring)."""
    shown = frame.copy()
    for column in shown.columns:
        series = shown[column]
        if _is_difference(column) and pd.api.types.is_float_dtype(series):
            shown[column] = series.map(points)
        elif _is_probability(series):
            shown[column] = series.map(pct)
    return shown


def show(frame: pd.DataFrame, index: bool = False) -> None:
    st.dataframe(formatted(frame), hide_index=not index, width="stretch")


def draw(chart) -> None:
    """Show an Altair chart across the page, as tall as its plot plus its axes (Streamlit's own sizing can
    squeeze a chart of two or three bars to a line)."""
    height = getattr(chart, "height", None)
    if isinstance(height, (int, float)):
        st.altair_chart(chart, width="stretch", height=int(height) + 70)
    else:
        st.altair_chart(chart, width="stretch")


def share_bars(tend: pd.DataFrame) -> alt.Chart:
    """Stacked bars of shares per stroke (columns stroke, share, n; shot and group when there): the axis stops
    at 100 %, bars of 0 % are dropped."""
    bars = tend[tend["share"] > 0].copy()
    bars["label"] = bars["stroke"].astype(str) + " (n=" + bars["n"].astype(str) + ")"
    color = alt.value("#1f77b4")
    if "group" in bars.columns:
        # a missing group would reach the chart's JSON as NaN, which the browser refuses to parse
        bars["group"] = bars["group"].astype(object).where(bars["group"].notna(), UNRECORDED).astype(str)
        present = set(bars["group"])
        domain = [g for g in GROUP_COLOURS if g in present] + sorted(present - set(GROUP_COLOURS))
        color = alt.Color("group:N", title="shot group", scale=alt.Scale(
            domain=domain, range=[GROUP_COLOURS.get(g, "#9467bd") for g in domain]))
    tips = [c for c in ("stroke", "shot", "group", "strokes", "n") if c in bars.columns]
    return alt.Chart(bars).mark_bar().encode(
        y=alt.Y("label:N", title="stroke of the rally", sort=None, axis=alt.Axis(labelLimit=250)),
        x=alt.X("share:Q", title="share of the opponent's shots", stack="zero",
                scale=alt.Scale(domain=[0, 1], nice=False, clamp=True), axis=alt.Axis(format="%")),
        color=color, tooltip=tips + [alt.Tooltip("share:Q", format=".0%")],
    ).properties(height=34 * bars["label"].nunique() + 40)


def probability_bars(frame: pd.DataFrame, label: str, value: str, title: str) -> alt.Chart:
    """Horizontal bars of probabilities (0 to 100 %, bars of 0 % dropped)."""
    bars = frame[frame[value] > 0]
    return alt.Chart(bars).mark_bar(color="#1f77b4").encode(
        x=alt.X(f"{value}:Q", title=title, scale=alt.Scale(domain=[0, 1], nice=False, clamp=True),
                axis=alt.Axis(format="%", tickCount=5)),
        y=alt.Y(f"{label}:N", sort=None, title=None, axis=alt.Axis(labelLimit=250)),
        tooltip=[label, alt.Tooltip(f"{value}:Q", format=".0%")],
    ).properties(height=28 * len(bars) + 40)


def points_bars(frame: pd.DataFrame, label: str, value: str, of: str = "rallies") -> alt.Chart:
    """Horizontal bars of a difference of probabilities in percentage points (bars of 0 dropped)."""
    bars = frame[frame[value] > 0].assign(points=lambda f: 100 * f[value])
    tips = [c for c in frame.columns if c not in (value,) and frame[c].dtype != float][:3]
    return alt.Chart(bars).mark_bar(color="#d62728").encode(
        y=alt.Y(f"{label}:N", sort=None, title=None, axis=alt.Axis(labelLimit=250)),
        x=alt.X("points:Q", title=f"{value} (percentage points of {of})"),
        tooltip=tips + [alt.Tooltip("points:Q", format=".1f")],
    ).properties(height=30 * len(bars) + 30)
