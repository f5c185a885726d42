"""Page fragments rendered from the control plane's documents (pure: documents in, components out)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from controlplane.console.client import PolicyView, StateView

STATUS_COLOURS = {"OK": "success", "WARN": "warning", "STALL": "danger", "STOP": "danger",
                  "REWIND": "danger", "ERR": "danger"}
RESULT_COLOURS = {"applied": "success", "dry-run": "info", "held": "warning", "failed": "danger"}
VERDICT_COLOURS = {"act": "warning", "hold": "secondary", "noop": "success"}


def fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}" if abs(value) >= 1 else f"{value:.3g}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def status_badge(status: str) -> dbc.Badge:
    return dbc.Badge(status, color=STATUS_COLOURS.get(status, "secondary"), className="status-badge")


def problem(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="danger", className="mb-0")


def stat_card(title: str, body: Any, footer: str = "") -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.Div(title, className="text-uppercase text-muted small fw-bold"),
        html.Div(body, className="fs-4 mt-1"),
        html.Div(footer, className="small text-muted mt-1") if footer else None,
    ]), className="h-100 shadow-sm")


# --------------------------------------------------------------------------------------- overview
def overview_cards(state: StateView | None, lag: Mapping[str, Any] | None, state_error: str = "",
                   lag_error: str = "") -> list[dbc.Col]:
    if state is None:
        weights: Any = problem(state_error)
        replicas: Any = "-"
        engine: Any = "-"
    else:
        weights = " / ".join(f"{k} {v}" for k, v in sorted(state.weights.items())) or "-"
        replicas = " · ".join(f"{g} {n}" for g, n in sorted(state.replicas.items())) or "-"
        engine = [dbc.Badge("DRY RUN" if state.dry_run else "LIVE",
                            color="info" if state.dry_run else "success", className="me-2"),
                  dbc.Badge("PAUSED" if state.paused else "RUNNING",
                            color="warning" if state.paused else "success")]
    if lag is None:
        worst: Any = problem(lag_error)
    else:
        statuses = [g["status"] for g in lag.get("groups", [])]
        order = list(STATUS_COLOURS)
        worst = status_badge(max(statuses, key=order.index)) if statuses else "no groups"
    return [
        dbc.Col(stat_card("Route 53 weights", weights, "set identifier weight (0-255)"), md=3),
        dbc.Col(stat_card("Consumer replicas", html.Span(replicas, className="fs-6"), "per group"), md=3),
        dbc.Col(stat_card("Policy engine", engine, "mode of the control loop"), md=3),
        dbc.Col(stat_card("Worst lag status", worst, "across consumer groups"), md=3),
    ]


# -------------------------------------------------------------------------------------------- lag
def lag_table(document: Mapping[str, Any]) -> html.Div:
    header = html.Thead(html.Tr([html.Th(h) for h in (
        "Group", "State", "Members", "Topic", "Partition", "Committed", "End offset", "Lag (msgs)",
        "Lag (s)", "Status")]))
    rows = []
    for g in document.get("groups", []):
        rows.append(html.Tr([
            html.Td(g["group"], className="fw-bold"), html.Td(g.get("state", "")),
            html.Td(fmt(g.get("members"))), html.Td("all partitions", className="text-muted"), html.Td(""),
            html.Td(""), html.Td(""), html.Td(fmt(g["lag"]), className="lag"),
            html.Td(fmt(g.get("lag_seconds")), className="lag-seconds"), html.Td(status_badge(g["status"])),
        ], className="table-active group-row", **{"data-group": g["group"]}))
        for p in g.get("partitions", []):
            committed = fmt(p["committed"]) if p["committed"] is not None else "none"
            rows.append(html.Tr([
                html.Td(""), html.Td(""), html.Td(""), html.Td(p["topic"]), html.Td(str(p["partition"])),
                html.Td(committed), html.Td(fmt(p["end_offset"])), html.Td(fmt(p["lag"]), className="lag"),
                html.Td(fmt(p.get("lag_seconds")), className="lag-seconds"),
                html.Td(status_badge(p["status"])),
            ], className="partition-row", **{"data-group": g["group"], "data-topic": p["topic"],
                                              "data-partition": str(p["partition"])}))
    at: dict[str, Any] = {"data-at": str(document.get("at", ""))}
    errors = [problem(f"{source}: {message}") for source, message in (document.get("errors") or {}).items()]
    return html.Div([
        *errors,
        html.Div(f"Lag round at {document.get('at', '-')}", id="lag-at", className="small text-muted mb-2",
                 **at),
        dbc.Table([header, html.Tbody(rows)], bordered=False, hover=True, size="sm", striped=False,
                  className="align-middle", id="lag-table-rows"),
    ])


# -------------------------------------------------------------------------------------- consumers
def consumers_table(state: StateView | None, lag: Mapping[str, Any] | None) -> dbc.Table:
    groups = {g["group"]: g for g in (lag or {}).get("groups", [])}
    names = sorted(set(groups) | set(state.replicas if state else {}))
    body = [html.Tr([
        html.Td(name, className="fw-bold"),
        html.Td(fmt(state.replicas.get(name)) if state else "-"),
        html.Td(fmt(groups.get(name, {}).get("members"))),
        html.Td(str(len(groups.get(name, {}).get("partitions", [])) or "-")),
        html.Td(groups.get(name, {}).get("state", "-")),
        html.Td(fmt(groups.get(name, {}).get("lag"))),
        html.Td(status_badge(groups[name]["status"]) if name in groups else "-"),
    ]) for name in names]
    header = html.Thead(html.Tr([html.Th(h) for h in ("Group", "Replicas", "Members", "Partitions", "State",
                                                        "Lag (msgs)", "Status")]))
    return dbc.Table([header, html.Tbody(body)], hover=True, size="sm", className="align-middle")


# --------------------------------------------------------------------------------------- policies
def _gauge(policy: PolicyView) -> Any:
    if policy.value is None or policy.threshold is None or policy.threshold <= 0:
        return None
    share = min(policy.value / policy.threshold, 2.0) * 50  # the threshold sits at mid-bar
    colour = "danger" if policy.value > policy.threshold else "success"
    return dbc.Progress(value=share, color=colour, className="my-2", style={"height": "8px"})


def _relation(policy: PolicyView) -> str:
    if policy.value is None or policy.threshold is None or policy.value == policy.threshold:
        return "vs"
    return ">" if policy.value > policy.threshold else "<"


def policy_card(policy: PolicyView) -> html.Div:
    above = policy.value is not None and policy.threshold is not None and policy.value > policy.threshold
    badges = [dbc.Badge(policy.kind, color="dark", className="me-1")]
    if policy.verdict:
        colour = VERDICT_COLOURS.get(policy.verdict, "secondary")
        badges.append(dbc.Badge(policy.verdict.upper(), color=colour, className="me-1"))
    if policy.paused:
        badges.append(dbc.Badge("PAUSED", color="warning", className="me-1"))
    if policy.dry_run:
        badges.append(dbc.Badge("DRY RUN", color="info", className="me-1"))
    toggle = dbc.Button("Resume", id={"type": "resume", "policy": policy.name}, color="success", size="sm") \
        if policy.paused else \
        dbc.Button("Pause", id={"type": "pause", "policy": policy.name}, color="warning", size="sm",
                   outline=True)
    metric = policy.metric or "value"
    card = dbc.Card([
        dbc.CardHeader(html.Div([
            html.Div([html.Span(policy.name, className="fw-bold me-2"), *badges]),
            toggle,
        ], className="d-flex justify-content-between align-items-center")),
        dbc.CardBody([
            html.Div(["Target ", html.Code(policy.target)], className="small text-muted mb-2"),
            html.Div([
                html.Span(f"{metric} ", className="text-muted"),
                html.Span(fmt(policy.value), className="fs-5 fw-bold " + ("text-danger" if above else "")),
                html.Span(f" {_relation(policy)} threshold ", className="text-muted"),
                html.Span(fmt(policy.threshold), className="fs-5"),
            ], className="policy-value"),
            _gauge(policy),
            _breach_line(policy),
            html.Div([html.Span("Next ", className="text-muted"), html.Span(policy.next_action or "-")],
                     className="policy-next mt-1"),
            html.Div(policy.reason, className="small text-muted mt-2 policy-reason"),
        ]),
    ], className="h-100 shadow-sm")
    named: dict[str, Any] = {"data-policy": policy.name}
    return html.Div(card, className="h-100 policy-card", **named)


def engine_bar(state: StateView) -> html.Div:
    return html.Div([
        html.Span("Engine ", className="text-muted me-2"),
        dbc.Badge("DRY RUN" if state.dry_run else "LIVE", color="info" if state.dry_run else "success",
                  className="me-2", id="engine-mode"),
        dbc.Badge("ALL PAUSED", color="warning", className="me-3") if state.paused else None,
        dbc.Button("Turn dry run off" if state.dry_run else "Turn dry run on",
                   id={"type": "dry-run", "to": "off" if state.dry_run else "on"},
                   color="info", outline=True, size="sm"),
    ], className="d-flex align-items-center mb-3")


def policy_cards(policies: Sequence[PolicyView]) -> dbc.Row:
    return dbc.Row([dbc.Col(policy_card(p), lg=6, className="mb-3") for p in policies]
                   or [dbc.Col(html.Div("No policies loaded.", className="text-muted"))])


# ------------------------------------------------------------------------------------------ audit
def _change(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "-"


def audit_table(entries: Sequence[Mapping[str, Any]]) -> dbc.Table:
    header = html.Thead(html.Tr([html.Th(h) for h in ("When (UTC)", "Actor", "Action", "Target", "Before",
                                                        "After", "Result", "Reason")]))
    body = [html.Tr([
        html.Td(str(e["at"]).replace("T", " ")[:19], className="text-nowrap"),
        html.Td(dbc.Badge(e["actor"], color="primary" if str(e["actor"]).startswith("user:")
                          else "secondary"), className="actor"),
        html.Td(e["action"]), html.Td(html.Code(e["target"])), html.Td(_change(e["before"])),
        html.Td(_change(e["after"])),
        html.Td(dbc.Badge(e["result"], color=RESULT_COLOURS.get(e["result"], "secondary"))),
        html.Td(e["reason"], className="small"),
    ], className="audit-row") for e in entries]
    return dbc.Table([header, html.Tbody(body)], hover=True, size="sm", className="align-middle",
                     id="audit-rows")


def action_feedback(result: Any) -> dbc.Alert:
    ok = result.result.value in ("applied", "dry-run")
    text = f"{result.action} {result.target}: {result.result.value} — {result.reason}"
    return dbc.Alert(text, color="success" if ok else "danger", dismissable=True, className="py-2",
                     id="action-result")


def _breach_line(policy: PolicyView) -> html.Div:
    """Red only for a breach; the scale-in window (value below its threshold) is calm, not alarming."""
    if policy.breached_for_s and policy.condition == "below":
        label, text, colour = "Below scale-in threshold for ", duration(policy.breached_for_s), "text-info"
    elif policy.breached_for_s:
        label, text, colour = "Breached for ", duration(policy.breached_for_s), "text-danger"
    else:
        label, text, colour = "Breached for ", "not breached", "text-success"
    return html.Div([html.Span(label, className="text-muted"), html.Span(text, className=colour)],
                    className="policy-breach")
