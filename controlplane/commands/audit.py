"""`ecomctl audit [--json] [--limit N]`: decisions and actions, newest first (DESIGN 3.4)."""

from __future__ import annotations

from typing import Annotated

import typer

from controlplane.audit import AuditLog, db_path
from controlplane.commands.output import JSON_HELP, print_json, print_table
from controlplane.settings import load_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def audit(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
              limit: Annotated[int, typer.Option("--limit", min=1, help="At most N entries.")] = 50) -> None:
        """Decisions and actions, newest first."""
        log = AuditLog(db_path(load_settings()))
        log.start()
        entries = log.entries(limit)
        if as_json:
            print_json({"entries": [e.to_document() for e in entries]})
            return
        print_table("Audit (newest first)", ("at", "actor", "action", "target", "before", "after", "result",
                                             "reason"),
                    [(e.at, e.actor, e.action, e.target, _show(e.before), _show(e.after), e.result, e.reason)
                     for e in entries])


def _show(values: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items())
