"""`ecomctl consumers [--json]` (replicas per group) and `ecomctl scale GROUP N` (bounded by partitions)."""

from __future__ import annotations

from typing import Annotated

import typer

from controlplane.actuators.base import ActuatorError
from controlplane.commands.operator import UserOption, actor_name, operations, report
from controlplane.commands.output import JSON_HELP, CommandError, print_json, print_table


def register(app: typer.Typer) -> None:
    @app.command()
    def consumers(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Replicas and partitions per consumer group (from the scaling backend)."""
        try:
            groups = operations().consumers()
        except ActuatorError as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            print_json({"groups": groups})
            return
        print_table("Consumer groups", ("group", "replicas", "partitions"),
                    [(g, v["replicas"], v["partitions"]) for g, v in groups.items()])

    @app.command()
    def scale(group: Annotated[str, typer.Argument(help="Consumer group.")],
              replicas: Annotated[int, typer.Argument(help="Replicas, 0..partitions.")],
              user: UserOption = None,
              as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Set the replicas of GROUP (refused above its partition count); audited as the user."""
        report(operations().scale(actor_name(user), group, replicas), as_json)
