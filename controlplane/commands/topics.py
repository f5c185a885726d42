"""`ecomctl topics diff|apply` and `ecomctl bootstrap`: declared config against the live platform."""

from __future__ import annotations

from typing import Annotated

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from controlplane.commands.output import JSON_HELP, CommandError, print_json, print_table
from controlplane.settings import load_settings
from controlplane.stack.stack import bootstrap
from controlplane.stack.topics import apply_topics, diff_topics


def _admin() -> AdminClient:
    return AdminClient({"bootstrap.servers": load_settings().kafka_bootstrap, "log_level": 2})


def register(app: typer.Typer) -> None:
    topics = typer.Typer(
        help="Declared topics (ingest/topics.yaml) against the live cluster.", no_args_is_help=True
    )
    app.add_typer(topics, name="topics")

    @topics.command("diff")
    def diff(json_: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Show every difference; exit 1 when the cluster drifted from the declaration."""
        try:
            drifts = diff_topics(_admin())
        except KafkaException as exc:
            raise CommandError(
                f"cannot read topics from Kafka at {load_settings().kafka_bootstrap}: {exc}"
            ) from None
        if json_:
            print_json({"drift": [d.__dict__ for d in drifts]})
        elif drifts:
            rows = [(d.topic, d.field, d.declared, "(missing)" if d.live is None else d.live) for d in drifts]
            print_table("topic drift", ("topic", "field", "declared", "live"), rows)
        else:
            typer.echo("topics match ingest/topics.yaml")
        if drifts:
            raise typer.Exit(1)

    @topics.command("apply")
    def apply() -> None:
        """Create missing topics, add partitions, set declared configs (never deletes or shrinks)."""
        try:
            created = apply_topics(_admin())
        except (KafkaException, TimeoutError) as exc:
            raise CommandError(f"applying topics failed: {exc}") from None
        typer.echo(f"topics applied ({len(created)} created: {', '.join(created) or 'none'})")

    @app.command("bootstrap", hidden=True)
    def bootstrap_command() -> None:
        """Topics and the weighted Route 53 record on an already running platform (docker-compose)."""
        try:
            bootstrap(load_settings(), on_progress=typer.echo)
        except (KafkaException, TimeoutError) as exc:
            raise CommandError(f"bootstrap failed: {exc}") from None
