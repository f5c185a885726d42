"""`ecomctl`: the command line of DESIGN.md 3.4.

Each command group lives in ``controlplane/commands/<name>.py`` and exposes ``register(app)``;
this module only wires them up, in one place.
"""

from __future__ import annotations

import sys

import typer

from controlplane.commands import COMMAND_MODULES
from controlplane.commands.output import CommandError
from controlplane.settings import SettingsError

app = typer.Typer(
    name="ecomctl",
    help="Control plane of the ecommerce event platform on Kafka.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in COMMAND_MODULES:
    module.register(app)


def main() -> None:
    try:
        app()
    except (CommandError, SettingsError) as exc:
        typer.secho(f"ecomctl: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(getattr(exc, "exit_code", 2))


if __name__ == "__main__":
    main()
