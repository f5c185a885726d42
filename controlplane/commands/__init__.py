"""The command groups of `ecomctl`, registered in one place (see controlplane/cli.py)."""

from __future__ import annotations

from types import ModuleType

from controlplane.commands import (
    audit,
    chaos,
    consumers,
    dashboards,
    lag,
    loadgen,
    metrics,
    policy,
    schemas,
    stack,
    topics,
    weights,
)

# One line per command module; each exposes register(app: typer.Typer).
COMMAND_MODULES: tuple[ModuleType, ...] = (stack, dashboards, loadgen, schemas, policy, lag, metrics,
                                           weights, consumers, audit, chaos, topics)
