"""The console's page loads and refresh callbacks with an hour of 5 s data (720 points per series).

Runs the real Dash app (login, guard and all) through Flask's test client against the in-memory
control plane and an in-memory Prometheus holding one hour at 5 s steps for every figure's query.
- page load: GET the page + /_dash-layout + /_dash-dependencies + every callback the page fires on
  load (routing, figures, tables); budget 2 s per page (browser rendering is measured by the browser
  tests against the same budget).
- refresh callback: each interval-driven callback of each page; budget 300 ms.
- baseline: the same figures built the usual way (validated plotly graph objects with datetime x
  values and a named template, then serialised) against ours (plain dicts straight from the
  matrix); ratio = baseline / ours, so > 1 means ours is that many times faster.
Prints one JSON line: {"bench": "console", "figures": {...}, "baseline": {...}, "ratio": x}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from controlplane.console.app import PAGES, create_app
from controlplane.console.client import InMemoryControlPlane
from controlplane.console.figures import build
from controlplane.console.metrics import SPECS, InMemoryRangeSource
from tests.browser.fakes import REPLICAS, WEIGHTS, hour_matrices, lag_document, state_document

PAGE_BUDGET_S = 2.0
CALLBACK_BUDGET_S = 0.3
USER, PASSWORD = "bench", "bench-pw"
TABLES = {"/": "overview-cards.children", "/lag": "lag-table.children",
          "/consumers": "consumers-table.children",
          "/policies": "..engine-bar.children...policy-cards.children..", "/audit": "audit-table.children"}


def _outputs(key: str) -> list[dict[str, str]]:
    parts = [part.split(".") for part in key.strip(".").split("...")]
    return [{"id": ident, "property": prop} for ident, prop in parts]


def _post(client: Any, payload: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.post("/_dash-update-component", json=payload)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (payload["output"], response.status_code, response.data[:300])
    return elapsed


def figures_payload(keys: tuple[str, ...]) -> dict[str, Any]:
    ids = [{"key": k, "type": "metric"} for k in keys]
    return {"output": '{"key":["ALL"],"type":"metric"}.figure',
            "outputs": [{"id": i, "property": "figure"} for i in ids],
            "inputs": [{"id": "tick", "property": "n_intervals", "value": 1}],
            "state": [[{"id": i, "property": "id", "value": i} for i in ids]],
            "changedPropIds": ["tick.n_intervals"]}


def table_payload(key: str) -> dict[str, Any]:
    outputs = _outputs(key)
    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{"id": "tick", "property": "n_intervals", "value": 1}], "state": [],
            "changedPropIds": ["tick.n_intervals"]}


def route_payload(path: str) -> dict[str, Any]:
    return {"output": "page.children", "outputs": {"id": "page", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": path}], "state": [],
            "changedPropIds": ["url.pathname"]}


def measure(rounds: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    matrices = hour_matrices(now)
    plane = InMemoryControlPlane(state_document(), lag_document(now), WEIGHTS, REPLICAS)
    app = create_app(plane, InMemoryRangeSource(matrices), {USER: PASSWORD}, clock=lambda: now)
    client = app.server.test_client()
    assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 302
    pages: dict[str, float] = {}
    callbacks: dict[str, float] = {}
    for path, (label, keys) in PAGES.items():
        loads, refreshes, tables = [], [], []
        for _ in range(rounds):
            started = time.perf_counter()
            for url in (path, "/_dash-layout", "/_dash-dependencies"):
                assert client.get(url).status_code == 200, url
            _post(client, route_payload(path))
            figure_s = _post(client, figures_payload(keys)) if keys else 0.0
            table_s = _post(client, table_payload(TABLES[path])) if path in TABLES else 0.0
            loads.append(time.perf_counter() - started)
            refreshes.append(figure_s)
            tables.append(table_s)
        name = label.lower()
        pages[name] = round(statistics.median(loads), 4)
        if keys:
            callbacks[f"{name}.figures"] = round(statistics.median(refreshes), 4)
        if path in TABLES:
            callbacks[f"{name}.tables"] = round(statistics.median(tables), 4)
    ours, naive = {}, {}
    for key, spec in SPECS.items():
        matrix = matrices[spec.query]
        ours[key] = _best(rounds, lambda spec=spec, matrix=matrix: json.dumps(build(spec, matrix)))
        naive[key] = _best(rounds, lambda spec=spec, matrix=matrix: _naive(spec, matrix))
    return {"pages": pages, "callbacks": callbacks, "ours": ours, "naive": naive,
            "points_per_series": len(next(iter(matrices.values()))[0]["values"])}


def _best(rounds: int, work: Any) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def _naive(spec: Any, matrix: list[dict[str, Any]]) -> str:
    """The textbook way: validated graph objects, datetime x values, a named template."""
    figure = go.Figure(layout={"template": "plotly_dark", "title": spec.title,
                               "xaxis": {"title": "time (UTC)"}, "yaxis": {"title": spec.axis}})
    for series in matrix:
        figure.add_trace(go.Scatter(x=[datetime.fromtimestamp(t, UTC) for t, _ in series["values"]],
                                    y=[float(v) * spec.scale for _, v in series["values"]],
                                    name=spec.legend(series["metric"]), mode="lines"))
    return str(figure.to_json())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.rounds)
    ours_total, naive_total = sum(result["ours"].values()), sum(result["naive"].values())
    figures = {
        "points_per_series": result["points_per_series"],
        "page_load_s": result["pages"],
        "refresh_callback_s": result["callbacks"],
        "figure_build_s": {k: round(v, 5) for k, v in result["ours"].items()},
        "page_load_max_s": max(result["pages"].values()),
        "refresh_callback_max_s": max(result["callbacks"].values()),
        "within_budget": max(result["pages"].values()) < PAGE_BUDGET_S
        and max(result["callbacks"].values()) < CALLBACK_BUDGET_S,
    }
    baseline = {
        "what": "each figure as validated plotly graph objects, serialised; budgets per page and callback",
        "figure_build_s": {k: round(v, 5) for k, v in result["naive"].items()},
        "page_load_budget_s": PAGE_BUDGET_S,
        "refresh_callback_budget_s": CALLBACK_BUDGET_S,
    }
    print(json.dumps({"bench": "console", "figures": figures, "baseline": baseline,
                      "ratio": round(naive_total / ours_total, 2)}))


if __name__ == "__main__":
    main()
