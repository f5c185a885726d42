"""`ecomctl lag [--json]`: consumer lag per group, topic and partition.

Status and lag in seconds need history. The running control plane has it, so it is asked first;
without one, the command collects twice about a second apart: lag is exact, lag_seconds is mostly a
lower bound (flagged) and status is judged on that two-round window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer
from confluent_kafka.admin import AdminClient

from collectors.kafka_lag import AdminFactory, KafkaLagCollector
from collectors.settings import LagSettings, LagSettingsError, load_lag_settings
from controlplane.commands.output import JSON_HELP, CommandError, print_json, print_table
from controlplane.settings import Settings, load_settings

LOCAL_INTERVAL_S = 1.0


def fetch_from_controlplane(settings: Settings) -> dict[str, Any] | None:
    """The control plane's latest lag round, or None when no control plane answers."""
    try:
        response = httpx.get(f"{settings.controlplane_url}/api/lag", timeout=2.0)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return document if isinstance(document, dict) and "groups" in document else None


def collect_locally(bootstrap: str, lag_settings: LagSettings,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                    sleep: Callable[[float], None] = time.sleep,
                    admin_factory: AdminFactory = AdminClient) -> dict[str, Any]:
    """Two rounds, LOCAL_INTERVAL_S apart, judged on a window of those two."""
    collector = KafkaLagCollector(bootstrap, lag_settings.model_copy(update={"window": 2}), admin_factory)
    collector.start()
    collector.collect(clock())
    first = collector.latest()
    if first is None or "kafka" not in first.errors:  # an unreachable broker is not retried
        sleep(LOCAL_INTERVAL_S)
        collector.collect(clock())
    report = collector.latest()
    if report is None:
        raise CommandError("no lag round completed")
    return report.to_document()


def _seconds(value: float | None, lower_bound: bool) -> str:
    if value is None:
        return "-"
    return f">={value:.1f}" if lower_bound else f"{value:.1f}"


def print_lag_table(document: dict[str, Any]) -> None:
    rows: list[list[Any]] = []
    for g in document["groups"]:
        rows.append([g["group"], g["state"], g.get("members"), "(all)", "", "", "", g["lag"],
                     _seconds(g["lag_seconds"], g.get("lag_seconds_lower_bound", False)), g["status"]])
        for p in g["partitions"]:
            committed = p["committed"]
            if committed is None:
                committed = f"none ({p.get('missing_offset_rule')})"
            rows.append(["", "", "", p["topic"], p["partition"], committed, p["end_offset"], p["lag"],
                         _seconds(p["lag_seconds"], p.get("lag_seconds_lower_bound", False)), p["status"]])
    print_table("Consumer lag", ["Group", "State", "Members", "Topic", "Partition", "Committed", "End offset",
                                 "Lag", "Lag (s)", "Status"], rows)


def register(app: typer.Typer) -> None:
    @app.command()
    def lag(json_: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Per group/topic/partition: committed, end offset, lag, lag_seconds, status (exit 1 on errors)."""
        settings = load_settings()
        try:
            lag_settings = load_lag_settings()
        except LagSettingsError as exc:
            raise CommandError(str(exc)) from None
        document = fetch_from_controlplane(settings)
        if document is None:
            document = collect_locally(settings.kafka_bootstrap, lag_settings)
        errors = document.get("errors") or {}
        if "kafka" in errors and not document["groups"]:
            raise CommandError(f"cannot read consumer lag from Kafka at {settings.kafka_bootstrap}: "
                               f"{errors['kafka']}")
        if json_:
            print_json(document)
        else:
            print_lag_table(document)
            for source, message in errors.items():
                typer.echo(f"error ({source}): {message}", err=True)
        if errors:
            raise typer.Exit(1)
