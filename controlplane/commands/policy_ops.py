"""`ecomctl policy list|pause NAME|resume NAME [--json]`, added to the `policy` group of policy.py.

Pause and resume are read by the running loop on its next tick (state store), and audited.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer

from controlplane.commands.operator import UserOption, actor_name, operations, report
from controlplane.commands.output import JSON_HELP, CommandError, print_json, print_table
from controlplane.settings import Settings, load_settings


def live_state(settings: Settings) -> dict[str, Any] | None:
    """The running control plane's view (last decision per policy), or None when none answers."""
    try:
        response = httpx.get(f"{settings.controlplane_url}/api/state", timeout=2.0)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def register_policy_commands(sub: typer.Typer) -> None:
    @sub.command("list")
    def list_(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Loaded policies, paused or not, and the last decision of each (when the control plane runs)."""
        ops = operations()
        state = ops.state.read()
        live = live_state(load_settings()) or {}
        last = {p["name"]: p.get("last") for p in live.get("policies", []) if isinstance(p, dict)}
        policies: list[dict[str, Any]] = [
            {"name": p.name, "kind": p.kind, "target": p.target, "priority": p.priority,
             "paused": state.is_paused(p.name, p.paused), "dry_run": p.dry_run, "last": last.get(p.name)}
            for p in ops.policies]
        document = {"policies": policies, "paused_all": state.paused_all, "dry_run": state.dry_run,
                    "controlplane_running": bool(live)}
        if as_json:
            print_json(document)
            return
        print_table("Policies", ("name", "kind", "target", "paused", "last verdict", "reason"),
                    [(p["name"], p["kind"], p["target"], p["paused"],
                      (p["last"] or {}).get("verdict"), (p["last"] or {}).get("reason")) for p in policies])
        if state.paused_all or state.dry_run:
            typer.echo(f"all paused: {state.paused_all}; dry run: {state.dry_run}")

    @sub.command()
    def pause(name: Annotated[str | None, typer.Argument(help="Policy name.")] = None,
              all_: Annotated[bool, typer.Option("--all", help="Pause every policy.")] = False,
              user: UserOption = None,
              as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Pause a policy (or --all): it keeps observing, but holds instead of acting."""
        report(operations().pause(actor_name(user), _which(name, all_)), as_json)

    @sub.command()
    def resume(name: Annotated[str | None, typer.Argument(help="Policy name.")] = None,
               all_: Annotated[bool, typer.Option("--all", help="Lift the global pause.")] = False,
               user: UserOption = None,
               as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
        """Resume a paused policy (or --all: lift the global pause)."""
        report(operations().resume(actor_name(user), _which(name, all_)), as_json)


def _which(name: str | None, all_: bool) -> str | None:
    if (name is None) == (not all_):
        raise CommandError("give a policy NAME or --all (not both)")
    return name

