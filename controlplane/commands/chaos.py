"""`ecomctl chaos consumer-delay GROUP MS` and `ecomctl chaos gateway-fail NAME RATIO` (0 = off; audited)."""

from __future__ import annotations

from typing import Annotated

import typer

from controlplane.commands.operator import UserOption, actor_name, operations, report
from controlplane.commands.output import JSON_HELP
from controlplane.operations import CONSUMER_DELAY, GATEWAY_FAIL


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Game-day failure injection (every change is audited).", no_args_is_help=True)
    app.add_typer(sub, name="chaos")

    @sub.command("consumer-delay")
    def consumer_delay(group: Annotated[str, typer.Argument(help="Consumer group.")],
                       ms: Annotated[int, typer.Argument(help="Delay per event in ms (0 = off).")],
                       user: UserOption = None,
                       as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Slow every consumer of GROUP by MS per event."""
        report(operations().chaos(actor_name(user), CONSUMER_DELAY, group, ms), as_json)

    @sub.command("gateway-fail")
    def gateway_fail(name: Annotated[str, typer.Argument(help="Gateway: primary or secondary.")],
                     ratio: Annotated[float, typer.Argument(help="Share 0..1 of requests answered 503.")],
                     user: UserOption = None,
                     as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Gateway NAME answers RATIO of requests with 503."""
        report(operations().chaos(actor_name(user), GATEWAY_FAIL, name, ratio), as_json)
