"""`ecomctl policy check FILE... [--json]`: validate policy files (DESIGN 3.5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from controlplane.commands.output import JSON_HELP, print_json, print_table
from controlplane.commands.policy_ops import register_policy_commands
from policies.loader import check_policy_files


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Policy files.", no_args_is_help=True)
    app.add_typer(sub, name="policy")
    register_policy_commands(sub)  # list, pause, resume (the operator's room)

    @sub.command()
    def check(
        files: Annotated[list[Path], typer.Argument(help="Policy files (YAML) to validate together.")],
        as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    ) -> None:
        """Validate policy files; print every error (file, policy, field, value); exit 1 on any."""
        policies, errors = check_policy_files(files)
        if as_json:
            print_json({
                "ok": not errors,
                "policies": [{"name": p.name, "kind": p.kind, "target": p.target, "priority": p.priority}
                             for p in policies],
                "errors": [{"file": e.file, "policy": e.policy, "field": e.field, "value": e.value,
                            "message": e.message, "text": str(e)} for e in errors],
            })
        else:
            for error in errors:
                typer.secho(str(error), err=True, fg=typer.colors.RED)
            if policies:
                print_table("valid policies", ("name", "kind", "target", "priority"),
                            [(p.name, p.kind, p.target, p.priority) for p in policies])
        if errors:
            raise typer.Exit(1)
