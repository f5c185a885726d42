"""`ecomctl up | down | status`: the local stack."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from controlplane.commands.output import JSON_HELP, CommandError, print_json, print_table
from controlplane.settings import load_settings
from controlplane.stack.errors import StackError
from controlplane.stack.stack import LocalStack
from controlplane.stack.supervisor import pid_alive
from policies.loader import PolicyFileError, load_policy_files


def _stack() -> LocalStack:
    """The stack as it runs now (the components `up` started), or as `up` would start it."""
    from controlplane.stack.components import default_components

    settings = load_settings()
    info = LocalStack(settings, ()).running()
    return LocalStack(settings, info.components if info else default_components(settings))


def register(app: typer.Typer) -> None:
    @app.command()
    def up(
        detach: Annotated[bool, typer.Option("--detach", help="Start in the background and return.")] = False,
        no_traffic: Annotated[bool, typer.Option("--no-traffic", help="Do not start demo traffic.")] = False,
        policies: Annotated[
            list[Path] | None, typer.Option("--policies", help="Policy file(s) to run.")
        ] = None,
    ) -> None:
        """Start the local stack; prints endpoints. Ctrl-C stops it (foreground)."""
        from controlplane.stack.components import default_components

        overrides: dict[str, object] = {}
        if policies:
            overrides["policies"] = tuple(policies)
        settings = load_settings(**overrides)
        _check_policies(settings.policies)
        started = time.monotonic()
        try:
            stack = LocalStack(settings, default_components(settings, traffic=not no_traffic))
            info = stack.start(on_progress=lambda msg: typer.echo(f"  {msg}"))
        except StackError as exc:
            raise CommandError(str(exc)) from None
        typer.echo(
            f"stack healthy in {time.monotonic() - started:.1f} s (supervisor pid {info.circusd_pid}):"
        )
        for name, endpoint in info.endpoints.items():
            typer.echo(f"  {name:<18} {endpoint}")
        typer.echo(f"  logs               {settings.state_dir / 'logs'}")
        if detach:
            typer.echo("running in the background; `ecomctl down` stops it")
            return
        typer.echo("press Ctrl-C to stop")
        _wait_for_signal(info.circusd_pid)
        typer.echo("stopping...")
        stack.stop()
        typer.echo("stopped")

    @app.command()
    def down() -> None:
        """Stop what `up --detach` started."""
        stack = _stack()
        try:
            pids = stack.stop()
        except StackError as exc:
            raise CommandError(str(exc)) from None
        left = [p for p in pids if pid_alive(p)]
        if left:
            raise CommandError(f"processes still alive after stop: {left}")
        typer.echo(f"stopped ({len(pids)} processes)")

    @app.command()
    def status(json_: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Components, health and endpoints. Exit 1 when any component is unhealthy."""
        try:
            stack = _stack()
            report = stack.status()
        except StackError as exc:
            raise CommandError(str(exc)) from None
        if json_:
            print_json({"components": report})
        else:
            rows = [
                (name, "healthy" if c["healthy"] else "DOWN", c["endpoint"]) for name, c in report.items()
            ]
            print_table("ecomctl status", ("component", "health", "endpoint"), rows)
        if not all(c["healthy"] for c in report.values()):
            raise typer.Exit(1)


def _check_policies(files: tuple[Path, ...]) -> None:
    """A bad policy file stops `up` before anything starts (the loop would refuse it later)."""
    if not files:
        return
    try:
        load_policy_files(list(files))
    except PolicyFileError as exc:
        raise CommandError(str(exc)) from None


def _wait_for_signal(circusd_pid: int) -> None:
    stop = False

    def _handler(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    while not stop:
        if not pid_alive(circusd_pid):
            typer.echo("the supervisor exited unexpectedly", err=True)
            sys.exit(1)
        time.sleep(0.5)
