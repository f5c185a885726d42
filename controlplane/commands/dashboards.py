"""`ecomctl dashboards build [--check] [--out DIR] [--source DIR]`: dashboards and rules from code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from controlplane.commands.output import CommandError
from dashboards import build as builder

CHECK_HELP = "Write nothing; exit 1 naming each file in DIR that differs from what the code generates."


def register(app: typer.Typer) -> None:
    sub = typer.Typer(no_args_is_help=True, help="Grafana dashboards and Prometheus rules as code.")
    app.add_typer(sub, name="dashboards")

    @sub.command("build")
    def build(
        check: Annotated[bool, typer.Option("--check", help=CHECK_HELP)] = False,
        out: Annotated[Path, typer.Option("--out", help="Directory of the generated files.")] = (
            builder.GENERATED_DIR
        ),
        source: Annotated[Path, typer.Option("--source", help="Directory of the *.dashboard.py files.")] = (
            builder.SOURCE_DIR
        ),
    ) -> None:
        """Regenerate dashboards/generated/*.json and rules/*.yml; --check fails on drift."""
        if not builder.dashboard_sources(source):
            raise CommandError(f"no *{builder.SUFFIX} files in {source}")
        try:
            if check:
                drift = builder.check(source, out)
                if drift:
                    lines = "\n  ".join(str(d) for d in drift)
                    raise CommandError(
                        f"{len(drift)} generated file(s) out of date, run `ecomctl dashboards build`:"
                        f"\n  {lines}",
                        exit_code=1,
                    )
                typer.echo(f"{out}: up to date")
                return
            for path in builder.build(source, out):
                typer.echo(f"wrote {path}")
        except builder.DashboardDefinitionError as exc:
            raise CommandError(str(exc)) from exc
