"""The SRE console: a Dash app (dash-bootstrap-components, Bootswatch Slate) behind a login.

Pages: Overview, Lag, Traffic, Consumers, Policies, Audit. One ``dcc.Interval`` drives the refresh:
each page's figures are rebuilt in one callback (their range queries run concurrently), its tables
in another, from the control plane's state. Overrides (weights, scale, pause/resume, dry run) carry
the logged-in user's name into the audit log.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from flask import Flask
from flask_login import current_user

from controlplane.console import auth, figures, views
from controlplane.console.client import ControlPlaneClient, ControlPlaneError, StateView
from controlplane.console.metrics import SPECS, STEP_S, Matrix, RangeSource, window

log = logging.getLogger(__name__)

REFRESH_MS = 5000
AUDIT_LIMIT = 200

# path -> (navigation label, figure keys shown on the page)
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "/": ("Overview", ("ingest-rate", "error-ratio", "latency", "weights", "replicas", "spool")),
    "/lag": ("Lag", ("group-lag", "group-lag-seconds")),
    "/traffic": ("Traffic", ("weights", "gateway-traffic", "error-ratio", "gateway-p99")),
    "/consumers": ("Consumers", ("replicas", "consumer-rate", "consumer-latency", "members")),
    "/policies": ("Policies", ()),
    "/audit": ("Audit", ()),
}


def _graph(key: str) -> dbc.Col:
    return dbc.Col(dbc.Card(dcc.Graph(id={"type": "metric", "key": key}, config={"displaylogo": False},
                                      style={"height": "300px"}),
                            body=True, className="shadow-sm p-1"), lg=6, className="mb-3")


def _section(title: str, ident: str, note: str = "") -> html.Div:
    return html.Div([html.H5(title, className="mt-2 mb-1"),
                     html.Div(note, className="small text-muted mb-2") if note else None,
                     html.Div(id=ident)], className="mb-3")


def _weights_form(groups: list[str]) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H6("Set Route 53 weights", className="card-title"),
        dbc.Row([
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("primary"),
                                    dbc.Input(id="weight-primary", type="number", min=0, max=255, step=1)])),
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("secondary"),
                                    dbc.Input(id="weight-secondary", type="number", min=0, max=255,
                                              step=1)])),
            dbc.Col(dbc.Button("Apply weights", id="weights-apply", color="primary"), width="auto"),
        ], className="g-2"),
        html.Div(id="weights-feedback", className="mt-2"),
    ]), className="shadow-sm mb-3")


def _scale_form(groups: list[str]) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H6("Scale a consumer group", className="card-title"),
        dbc.Row([
            dbc.Col(dbc.Select(id="scale-group", options=[{"label": g, "value": g} for g in groups],
                               value=groups[0] if groups else None)),
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("replicas"),
                                    dbc.Input(id="scale-replicas", type="number", min=0, step=1)])),
            dbc.Col(dbc.Button("Scale", id="scale-apply", color="primary"), width="auto"),
        ], className="g-2"),
        html.Div(id="scale-feedback", className="mt-2"),
    ]), className="shadow-sm mb-3")


def _user() -> str:
    # Dash also calls the layout once, unauthenticated, on the first request of any kind (/healthz).
    return str(getattr(current_user, "id", ""))


def create_app(client: ControlPlaneClient, source: RangeSource, credentials: Mapping[str, str],
               secret_key: str | None = None, refresh_ms: int = REFRESH_MS,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Dash:
    server = Flask("controlplane.console")
    # Per process unless given: a restart signs everyone out, which is acceptable for a console.
    server.secret_key = secret_key or secrets.token_hex(32)
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         REMEMBER_COOKIE_HTTPONLY=True)
    auth.install(server, credentials)
    # Dash's annotations omit a Flask server and None (no "Updating..." title) though both are documented.
    app = Dash("controlplane.console", server=server,  # type: ignore[arg-type]
               external_stylesheets=[auth.THEME_PATH], suppress_callback_exceptions=True,
               title="ecomctl console", update_title=None,  # type: ignore[arg-type]
               serve_locally=True)
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="console-query")

    def read_state() -> tuple[StateView | None, str]:
        try:
            return client.state(), ""
        except ControlPlaneError as exc:
            return None, str(exc)

    def read_lag() -> tuple[dict[str, Any] | None, str]:
        try:
            return client.lag(), ""
        except ControlPlaneError as exc:
            return None, str(exc)

    def query(key: str) -> dict[str, Any]:
        spec = SPECS[key]
        start, end = window(clock())
        try:
            matrix: Matrix = source.query_range(spec.query, start, end, STEP_S)
        except Exception as exc:  # noqa: BLE001 - any failure of the source shows in the figure
            log.warning("range query for %s failed: %s", key, exc)
            return figures.unavailable(spec, str(exc))
        return figures.build(spec, matrix)

    def navbar() -> dbc.Navbar:
        links = [dbc.NavItem(dbc.NavLink(label, href=path, active="exact", id=f"nav-{label.lower()}"))
                 for path, (label, _) in PAGES.items()]
        return dbc.Navbar(dbc.Container([
            dbc.NavbarBrand([html.Span("ecomctl", className="fw-bold"), html.Span(" · SRE console",
                                                                                 className="text-muted")],
                            href="/"),
            dbc.Nav(links, navbar=True, className="me-auto"),
            html.Span(["signed in as ", html.B(_user(), id="whoami")], className="text-muted me-3"),
            dbc.Button("Sign out", href="/logout", external_link=True, color="secondary", size="sm",
                       outline=True),
        ], fluid=True), color="dark", dark=True, className="mb-3 border-bottom border-secondary")

    def shell() -> html.Div:
        return html.Div([
            dcc.Location(id="url"),
            navbar(),
            dbc.Container(id="page", fluid=True),
            dcc.Interval(id="tick", interval=refresh_ms),
        ])

    app.layout = shell

    def page(path: str) -> list[Any]:
        label, keys = PAGES.get(path, PAGES["/"])
        graphs = dbc.Row([_graph(k) for k in keys])
        content: list[Any] = [html.H3(label, className="mb-3", id="page-title")]
        if path == "/":
            content += [dbc.Row(id="overview-cards", className="g-3 mb-3"), graphs]
        elif path == "/lag":
            content += [graphs, _section("Per group and partition", "lag-table",
                                         "the control plane's latest lag round (same as ecomctl lag --json)")]
        elif path == "/traffic":
            content += [_weights_form([]), graphs]
        elif path == "/consumers":
            state, _ = read_state()
            groups = sorted(state.replicas) if state else []
            lag, _ = read_lag()
            groups = sorted(set(groups) | {g["group"] for g in (lag or {}).get("groups", [])})
            content += [_scale_form(groups), _section("Groups", "consumers-table"), graphs]
        elif path == "/policies":
            content += [html.Div(id="engine-bar"), html.Div(id="policy-feedback"),
                        html.Div(id="policy-cards")]
        elif path == "/audit":
            content += [_section("Decisions and actions, newest first", "audit-table",
                                 f"the last {AUDIT_LIMIT} entries of the audit log")]
        return content

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(path: str | None) -> list[Any]:
        return page(path or "/")

    @app.callback(Output({"type": "metric", "key": ALL}, "figure"), Input("tick", "n_intervals"),
                  State({"type": "metric", "key": ALL}, "id"))
    def refresh_figures(_: int | None, ids: list[dict[str, str]]) -> list[dict[str, Any]]:
        return list(pool.map(query, [i["key"] for i in ids]))

    @app.callback(Output("overview-cards", "children"), Input("tick", "n_intervals"))
    def refresh_overview(_: int | None) -> list[Any]:
        state, state_error = read_state()
        lag, lag_error = read_lag()
        return views.overview_cards(state, lag, state_error, lag_error)

    @app.callback(Output("lag-table", "children"), Input("tick", "n_intervals"))
    def refresh_lag(_: int | None) -> Any:
        lag, error = read_lag()
        return views.lag_table(lag) if lag is not None else views.problem(error)

    @app.callback(Output("consumers-table", "children"), Input("tick", "n_intervals"))
    def refresh_consumers(_: int | None) -> Any:
        state, state_error = read_state()
        lag, _lag_error = read_lag()
        if state is None and lag is None:
            return views.problem(state_error)
        return views.consumers_table(state, lag)

    @app.callback(Output("engine-bar", "children"), Output("policy-cards", "children"),
                  Input("tick", "n_intervals"))
    def refresh_policies(_: int | None) -> tuple[Any, Any]:
        state, error = read_state()
        if state is None:
            return None, views.problem(error)
        return views.engine_bar(state), views.policy_cards(state.policies)

    @app.callback(Output("audit-table", "children"), Input("tick", "n_intervals"))
    def refresh_audit(_: int | None) -> Any:
        return views.audit_table(client.audit(AUDIT_LIMIT))

    # ----------------------------------------------------------------------------------- overrides
    @app.callback(Output("policy-feedback", "children"),
                  Output("engine-bar", "children", allow_duplicate=True),
                  Output("policy-cards", "children", allow_duplicate=True),
                  Input({"type": "pause", "policy": ALL}, "n_clicks"),
                  Input({"type": "resume", "policy": ALL}, "n_clicks"),
                  Input({"type": "dry-run", "to": ALL}, "n_clicks"), prevent_initial_call=True)
    def policy_override(pauses: list[int | None], resumes: list[int | None],
                        dry_runs: list[int | None]) -> tuple[Any, Any, Any]:
        trigger = ctx.triggered_id
        # Cards are re-rendered every tick; a new button (no clicks) is not a click.
        if not isinstance(trigger, Mapping) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update, no_update, no_update
        user = _user()
        if trigger["type"] == "pause":
            result = client.pause(user, trigger["policy"])
        elif trigger["type"] == "resume":
            result = client.resume(user, trigger["policy"])
        else:
            result = client.set_dry_run(user, trigger["to"] == "on")
        state, error = read_state()
        if state is None:
            return views.action_feedback(result), None, views.problem(error)
        return views.action_feedback(result), views.engine_bar(state), views.policy_cards(state.policies)

    @app.callback(Output("weights-feedback", "children"), Input("weights-apply", "n_clicks"),
                  State("weight-primary", "value"), State("weight-secondary", "value"),
                  prevent_initial_call=True)
    def set_weights(clicks: int | None, primary: Any, secondary: Any) -> Any:
        if not clicks:
            return no_update
        wanted = {"primary": primary, "secondary": secondary}
        bad = [f"{k}={v!r}" for k, v in wanted.items() if not isinstance(v, int) or not 0 <= v <= 255]
        if bad:
            return views.problem(f"weights must be whole numbers 0..255, got {', '.join(bad)}")
        return views.action_feedback(client.set_weights(_user(), wanted))

    @app.callback(Output("scale-feedback", "children"), Input("scale-apply", "n_clicks"),
                  State("scale-group", "value"), State("scale-replicas", "value"), prevent_initial_call=True)
    def scale(clicks: int | None, group: str | None, replicas: Any) -> Any:
        if not clicks:
            return no_update
        if not group or not isinstance(replicas, int) or replicas < 0:
            return views.problem(f"pick a group and a whole number of replicas >= 0, got {replicas!r}")
        return views.action_feedback(client.scale(_user(), group, replicas))

    return app
