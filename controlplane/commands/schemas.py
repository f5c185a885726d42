"""`ecomctl schemas check`: compatibility of every event type's schema version chain."""

from __future__ import annotations

from pathlib import Path

import typer

from controlplane.commands.output import JSON_HELP, CommandError, print_json
from ingest.compatibility import check_dir
from ingest.contracts import SCHEMAS_DIR, ContractLoadError


def register(app: typer.Typer) -> None:
    sub = typer.Typer(no_args_is_help=True, help="Event schemas (ingest/schemas).")
    app.add_typer(sub, name="schemas")

    @sub.command()
    def check(
        directory: Path = typer.Option(SCHEMAS_DIR, "--dir", help="Schemas directory to check."),  # noqa: B008
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Check every version chain against its mode in compatibility.yaml; non-zero exit if any breaks."""
        try:
            reports = check_dir(directory)
        except ContractLoadError as exc:
            raise CommandError(str(exc)) from exc
        if as_json:
            print_json(
                {
                    "compatible": all(r.compatible for r in reports),
                    "event_types": {
                        r.event_type: {
                            "mode": r.mode.value,
                            "versions": list(r.versions),
                            "compatible": r.compatible,
                            "incompatibilities": [
                                {
                                    "version": i.version,
                                    "against": i.against,
                                    "direction": i.direction,
                                    "rule": i.rule,
                                    "path": i.path,
                                    "message": i.message,
                                }
                                for i in r.incompatibilities
                            ],
                        }
                        for r in reports
                    },
                }
            )
        else:
            for report in reports:
                state = "compatible" if report.compatible else f"{len(report.incompatibilities)} incompatible"
                span = f"v{report.versions[0]}..v{report.versions[-1]}"
                print(f"{report.event_type}: {span} {report.mode.value} {state}")
                for incompatibility in report.incompatibilities:
                    print(f"  {incompatibility.message}")
        if not all(r.compatible for r in reports):
            raise typer.Exit(1)
