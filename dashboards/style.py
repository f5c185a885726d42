"""House style for ecomctl dashboards: colours, units, panel helpers and layout.

A dashboard file only says *what* to show (title, query, unit); this module decides how it looks, so
every dashboard has the same datasource variable, legend, colours and grid. Panels come from
grafanalib; where grafanalib still emits a pre-v8 shape (BarGauge, Heatmap) the helpers add the
modern field config through ``extraJson`` so units and thresholds survive Grafana's migration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import attr
from grafanalib import core as G

# Grafana migrates older dashboards on load; we emit the v36 shape (datasource refs by uid).
SCHEMA_VERSION = 36

DATASOURCE_VAR = "datasource"
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": f"${{{DATASOURCE_VAR}}}"}

# Units: Grafana unit ids. Every panel passes one of these explicitly.
PER_S = "ops"  # events, decisions or rounds per second: the panel title says which
REQUESTS_PER_S = "reqps"
SECONDS = "s"
BYTES = "bytes"
RATIO = "percentunit"
MESSAGES = "short"
COUNT = "short"
WEIGHT = "short"
STATE = "none"  # enumerations shown through value mappings

# Colours: one meaning, one colour, on every dashboard.
GOOD = "green"
WARN = "orange"
BAD = "red"
NEUTRAL = "blue"
SERIES_COLOURS: dict[str, str] = {
    "accepted": GOOD,
    "rejected": BAD,
    "applied": GOOD,
    "dry-run": NEUTRAL,
    "held": WARN,
    "failed": BAD,
    "primary": NEUTRAL,
    "secondary": "purple",
    "p50": NEUTRAL,
    "p99": WARN,
}

# LagStatus codes of kafka_consumergroup_status (docs/METRICS.md).
LAG_STATUS: tuple[tuple[int, str, str], ...] = (
    (0, "OK", GOOD),
    (1, "WARN", WARN),
    (2, "STALL", BAD),
    (3, "STOP", BAD),
    (4, "REWIND", WARN),
    (5, "ERR", BAD),
)

FULL_WIDTH = 24
DEFAULT_HEIGHT = 8
STAT_HEIGHT = 4


@dataclass(frozen=True)
class Query:
    """One PromQL query of a panel; ``legend`` uses Grafana's ``{{label}}`` syntax."""

    expr: str
    legend: str = ""
    instant: bool = False


def q(expr: str, legend: str = "") -> Query:
    return Query(expr=expr, legend=legend)


def steps(*pairs: tuple[str, float | None]) -> list[dict[str, Any]]:
    """Threshold steps, lowest first; the first has value None (the base colour)."""
    return [{"color": colour, "value": value} for colour, value in pairs]


def zero_fill(expr: str, like: str) -> str:
    """``expr``, or zero for every series of ``like``: a counter that never moved yet still plots 0."""
    return f"({expr}) or ({like}) * 0"


def _targets(queries: Sequence[Query], table: bool = False) -> list[G.Target]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if not queries:
        raise ValueError("a panel needs at least one query")
    return [
        G.Target(
            expr=query.expr,
            legendFormat=query.legend,
            refId=letters[index],
            datasource=DATASOURCE,
            instant=query.instant or table,
            format=G.TABLE_TARGET_FORMAT if table else G.TIME_SERIES_TARGET_FORMAT,
            intervalFactor=1,
        )
        for index, query in enumerate(queries)
    ]


def _colour_overrides() -> list[dict[str, Any]]:
    return [
        {
            "matcher": {"id": "byName", "options": name},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}],
        }
        for name, colour in sorted(SERIES_COLOURS.items())
    ]


def _status_mappings() -> list[dict[str, Any]]:
    return [
        {
            "type": "value",
            "options": {
                str(code): {"text": text, "color": colour, "index": code} for code, text, colour in LAG_STATUS
            },
        }
    ]


def timeseries(
    title: str,
    queries: Sequence[Query],
    unit: str,
    description: str = "",
    stacked: bool = False,
    width: int | None = None,
    axis_label: str = "",
    min_value: int | None = 0,
    thresholds: list[dict[str, Any]] | None = None,
) -> G.TimeSeries:
    return G.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets(queries),
        unit=unit,
        axisLabel=axis_label,
        fillOpacity=25 if stacked else 10,
        stacking={"mode": "normal", "group": "A"} if stacked else {},
        legendDisplayMode="table",
        legendPlacement="bottom",
        legendCalcs=["lastNotNull", "max"],
        tooltipMode="multi",
        tooltipSort="desc",
        showPoints="never",
        valueMin=min_value,
        overrides=_colour_overrides(),
        thresholdsStyleMode="line" if thresholds else "off",
        thresholds=thresholds or steps((GOOD, None)),
        span=width,
    )


def stat(
    title: str,
    query: Query,
    unit: str,
    thresholds: list[dict[str, Any]],
    description: str = "",
    width: int | None = None,
    decimals: int | None = None,
    status: bool = False,
) -> G.Stat:
    return G.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets([query]),
        format=unit,
        decimals=decimals,
        color={"mode": "thresholds"},
        colorMode="background",
        graphMode="none" if status else "area",
        reduceCalc="lastNotNull",
        noValue="no data",
        thresholds=thresholds,
        mappings=_status_mappings() if status else [],
        span=width,
    )


def bargauge(
    title: str,
    query: Query,
    unit: str,
    thresholds: list[dict[str, Any]],
    max_value: float | None = None,
    description: str = "",
    width: int | None = None,
) -> G.BarGauge:
    return G.BarGauge(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets([query]),
        format=unit,
        calc="lastNotNull",
        displayMode=G.GAUGE_DISPLAY_MODE_GRADIENT,
        orientation=G.ORIENTATION_HORIZONTAL,
        min=0,
        max=max_value,
        thresholds=[],
        span=width,
        # grafanalib writes the pre-v7 `options.fieldOptions`; add the current field config too.
        extraJson={
            "fieldConfig": {
                "defaults": {
                    "unit": unit,
                    "min": 0,
                    "max": max_value,
                    "color": {"mode": "thresholds"},
                    "thresholds": {"mode": "absolute", "steps": thresholds},
                },
                "overrides": [],
            },
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        },
    )


def table(
    title: str,
    queries: Sequence[Query],
    columns: dict[str, tuple[str, str]],
    description: str = "",
    width: int | None = None,
    status_column: str | None = None,
) -> G.Table:
    """An instant table joining ``queries`` on their labels.

    ``columns`` maps a query's refId to (column title, unit); label columns Grafana adds on its own
    (``Time``, ``job``, ``instance``) are hidden.
    """
    overrides: list[dict[str, Any]] = []
    rename: dict[str, str] = {}
    for ref_id, (name, unit) in sorted(columns.items()):
        rename[f"Value #{ref_id}"] = name
        properties: list[dict[str, Any]] = [{"id": "unit", "value": unit}]
        if name == status_column:
            properties += [
                {"id": "mappings", "value": _status_mappings()},
                {"id": "custom.displayMode", "value": "color-background"},
            ]
        overrides.append({"matcher": {"id": "byName", "options": name}, "properties": properties})
    return G.Table(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets(queries, table=True),
        unit=COUNT,
        overrides=overrides,
        filterable=True,
        span=width,
        transformations=[
            {"id": "merge", "options": {}},
            {
                "id": "organize",
                "options": {
                    "excludeByName": {"Time": True, "job": True, "instance": True, "__name__": True},
                    "renameByName": rename,
                },
            },
        ],
    )


def heatmap(
    title: str,
    bucket_expr: str,
    unit: str,
    description: str = "",
    width: int | None = None,
) -> G.Heatmap:
    """A heatmap of Prometheus histogram buckets (``bucket_expr`` must keep the ``le`` label)."""
    target = G.Target(
        expr=bucket_expr,
        legendFormat="{{le}}",
        refId="A",
        datasource=DATASOURCE,
        format="heatmap",
        intervalFactor=1,
    )
    return G.Heatmap(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target],
        dataFormat="tsbuckets",
        hideZeroBuckets=True,
        yAxis=G.YAxis(format=unit, decimals=None),
        span=width,
        # The current heatmap panel reads these; the legacy fields above are for its migration.
        extraJson={
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {
                "calculate": False,
                "yAxis": {"unit": unit, "axisPlacement": "left"},
                "cellGap": 1,
                "color": {"mode": "scheme", "scheme": "Oranges", "exponent": 0.5, "steps": 64},
                "legend": {"show": True},
                "tooltip": {"show": True, "yHistogram": True},
                "rowsFrame": {"layout": "auto"},
            },
        },
    )


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[G.Panel, ...]
    height: int = DEFAULT_HEIGHT


def row(title: str, *panels: G.Panel, height: int = DEFAULT_HEIGHT) -> Row:
    return Row(title=title, panels=panels, height=height)


def _layout(rows: Sequence[Row]) -> list[G.Panel]:
    """Place rows top to bottom; panels share a row's width equally unless they set ``span``."""
    placed: list[G.Panel] = []
    y = 0
    for current in rows:
        placed.append(G.RowPanel(title=current.title, gridPos=G.GridPos(h=1, w=FULL_WIDTH, x=0, y=y)))
        y += 1
        fixed = sum(p.span for p in current.panels if p.span)
        flexible = [p for p in current.panels if not p.span]
        share = (FULL_WIDTH - fixed) // len(flexible) if flexible else 0
        x = 0
        for panel in current.panels:
            width = panel.span or share
            if x + width > FULL_WIDTH:
                x, y = 0, y + current.height
            grid = G.GridPos(h=current.height, w=width, x=x, y=y)
            placed.append(attr.evolve(panel, span=None, gridPos=grid))
            x += width
        y += current.height
    return placed


def _variable(name: str, label: str, query: str) -> G.Template:
    return G.Template(
        name=name,
        label=label,
        query=query,
        dataSource=DATASOURCE,
        includeAll=True,
        multi=True,
        allValue=".*",
        default="$__all",
        refresh=G.REFRESH_ON_TIME_RANGE_CHANGE,
    )


# Template variables a dashboard may ask for, with the query that lists their values.
VARIABLES: dict[str, tuple[str, str]] = {
    "gateway": ("Gateway", "label_values(ingest_ready, gateway)"),
    "group": ("Consumer group", "label_values(kafka_consumergroup_group_lag, group)"),
}


def dashboard(
    title: str,
    uid: str,
    description: str,
    rows: Sequence[Row],
    variables: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> G.Dashboard:
    """The house dashboard: Prometheus datasource variable, shared crosshair, UTC, 10 s refresh."""
    templates = [
        G.Template(
            name=DATASOURCE_VAR,
            label="Data source",
            query="prometheus",
            type="datasource",
            default=None,
        )
    ]
    templates += [_variable(name, *VARIABLES[name]) for name in variables]
    return G.Dashboard(
        title=title,
        uid=uid,
        description=description,
        tags=["ecomctl", *tags],
        editable=True,
        graphTooltip=G.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        refresh="10s",
        time=G.Time("now-30m", "now"),
        timezone=G.UTC,
        schemaVersion=SCHEMA_VERSION,
        templating=G.Templating(list=templates),
        panels=_layout(rows),
    ).auto_panel_ids()
