"""What the operator commands share: the wired Operations, the acting user, and how a result prints."""

from __future__ import annotations

import getpass
from dataclasses import asdict
from typing import Annotated, Any

import typer

from controlplane.commands.output import CommandError, print_json
from controlplane.model import ActionResult, Result
from controlplane.operations import Operations, build_operations
from controlplane.settings import load_settings

UserOption = Annotated[str | None, typer.Option("--user", help="Audit as this user (default: the OS user).")]


def operations() -> Operations:
    ops = build_operations(load_settings())
    ops.start()
    return ops


def actor_name(user: str | None) -> str:
    return user or getpass.getuser()


def result_document(result: ActionResult) -> dict[str, Any]:
    return asdict(result) | {"at": result.at.isoformat(timespec="milliseconds"),
                             "result": result.result.value}


def report(result: ActionResult, as_json: bool) -> None:
    """Print the result; a failed or refused action exits 1 with its reason."""
    if as_json:
        print_json(result_document(result))
    if result.result is Result.FAILED:
        raise CommandError(result.reason, exit_code=1)
    if not as_json:
        typer.echo(f"{result.result.value}: {result.reason} ({result.target}: {_show(result.before)} -> "
                   f"{_show(result.after)})")


def _show(values: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items()) or "-"
