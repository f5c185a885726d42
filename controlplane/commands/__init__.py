"""The command groups of `ecomctl`, registered in one place (see controlplane/cli.py)."""

from __future__ import annotations

from types import ModuleType

from controlplane.commands import dashboards, lag, loadgen, metrics, policy, schemas, stack

# One line per command module; each exposes register(app: typer.Typer).
COMMAND_MODULES: tuple[ModuleType, ...] = (stack, dashboards, loadgen, schemas, policy, lag, metrics)
