"""`ecomctl up|down|status`: the local stack (filled in by the foundation work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def status() -> None:
        """Components, health and endpoints."""
        raise typer.Exit(1)
