"""Plotly figures as plain dicts: built straight from the matrix, no figure-object validation.

An hour of 5 s samples is 720 points per series; building ``go.Figure`` objects (or a DataFrame for
plotly.express) on every refresh costs far more than the data does, so figures are the JSON plotly.js
reads. x values are epoch milliseconds on a date axis (UTC); NaN becomes a gap.
"""

from __future__ import annotations

import math
from typing import Any

from controlplane.console.metrics import FigureSpec, Matrix

TEXT = "#c8c8c8"
GRID = "rgba(255,255,255,0.08)"
COLORWAY = ["#4dabf7", "#ffa94d", "#69db7c", "#f783ac", "#b197fc", "#ffd43b", "#63e6be", "#ff8787"]

BASE_LAYOUT: dict[str, Any] = {
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"color": TEXT, "size": 12},
    "colorway": COLORWAY,
    "margin": {"l": 60, "r": 16, "t": 64, "b": 40},
    "height": 300,
    "hovermode": "x unified",
    # Legend left, just above the plot: the top-right corner belongs to plotly's mode bar.
    "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "xanchor": "left"},
    "uirevision": "keep",  # keep zoom and hidden series across refreshes
}


def _value(raw: Any, scale: float) -> float | None:
    value = float(raw)
    return None if math.isnan(value) or math.isinf(value) else value * scale


def build(spec: FigureSpec, matrix: Matrix) -> dict[str, Any]:
    traces = []
    for series in sorted(matrix, key=lambda s: spec.legend(s["metric"])):
        points = series["values"]
        traces.append({
            "type": "scatter",
            "mode": "lines",
            "name": spec.legend(series["metric"]),
            "x": [t * 1000.0 for t, _ in points],
            "y": [_value(v, spec.scale) for _, v in points],
            "line": {"shape": spec.shape, "width": 2},
            "hovertemplate": f"%{{y:{spec.hover}}}{spec.suffix}",
        })
    layout = dict(BASE_LAYOUT)
    layout["title"] = {"text": spec.title, "x": 0.01, "y": 0.97, "yanchor": "top", "font": {"size": 14}}
    layout["xaxis"] = {"type": "date", "title": {"text": "time (UTC)"}, "gridcolor": GRID,
                       "hoverformat": "%H:%M:%S"}
    layout["yaxis"] = {"title": {"text": spec.axis}, "gridcolor": GRID, "rangemode": "tozero"}
    if spec.hover.endswith("d"):  # counts: whole ticks, never "500m" replicas
        peak = max((y for t in traces for y in t["y"] if y is not None), default=0.0)
        layout["yaxis"].update({"dtick": 1} if peak <= 8 else {"tickformat": "~s"})
    if not traces:
        layout["annotations"] = [{"text": "no data in the last hour", "showarrow": False,
                                  "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                                  "font": {"size": 14, "color": TEXT}}]
    return {"data": traces, "layout": layout}


def unavailable(spec: FigureSpec, why: str) -> dict[str, Any]:
    """The figure's frame with the reason its data could not be read."""
    figure = build(spec, [])
    figure["layout"]["annotations"][0]["text"] = f"Prometheus unavailable: {why[:120]}"
    return figure
