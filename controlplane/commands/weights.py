"""`ecomctl weights [--json]` and `ecomctl weights set primary=70 secondary=30`: the ingest record's
Route 53 weights."""

from __future__ import annotations

from typing import Annotated

import typer

from controlplane.actuators.base import WEIGHT_MAX, WEIGHT_MIN, ActuatorError
from controlplane.commands.operator import UserOption, actor_name, operations, report
from controlplane.commands.output import JSON_HELP, CommandError, print_json, print_table


def parse_weights(items: list[str]) -> dict[str, int]:
    """``NAME=WEIGHT`` items; the error names the bad item."""
    weights: dict[str, int] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise CommandError(f"bad item {item!r}: expected NAME=WEIGHT, e.g. primary=70")
        try:
            weight = int(raw)
        except ValueError:
            raise CommandError(f"bad item {item!r}: weight {raw!r} is not an integer "
                               f"{WEIGHT_MIN}..{WEIGHT_MAX}") from None
        if not WEIGHT_MIN <= weight <= WEIGHT_MAX:
            raise CommandError(f"bad item {item!r}: weight {weight} outside {WEIGHT_MIN}..{WEIGHT_MAX}")
        if name in weights:
            raise CommandError(f"bad item {item!r}: {name} given twice")
        weights[name] = weight
    if not weights:
        raise CommandError("no weights given: expected NAME=WEIGHT items, e.g. primary=70 secondary=30")
    return weights


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Route 53 weights of the ingest record.", invoke_without_command=True)
    app.add_typer(sub, name="weights")

    @sub.callback()
    def show(ctx: typer.Context,
             as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Route 53 weights of the ingest record."""
        if ctx.invoked_subcommand is not None:
            return
        ops = operations()
        try:
            weights = ops.weights()
        except ActuatorError as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            print_json({"record": ops.record, "weights": weights})
            return
        total = sum(weights.values()) or 1
        print_table(f"Route 53 weights of {ops.record}", ("set", "weight", "share"),
                    [(name, w, f"{100 * w / total:.0f}%") for name, w in sorted(weights.items())])

    @sub.command("set")
    def set_(items: Annotated[list[str], typer.Argument(help="NAME=WEIGHT (0..255), e.g. primary=70.")],
             user: UserOption = None,
             as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Set weights in one change (unnamed sets keep theirs); audited as the user."""
        wanted = parse_weights(items)
        report(operations().set_weights(actor_name(user), wanted), as_json)
