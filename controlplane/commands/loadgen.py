"""`ecomctl loadgen`: simulated shoppers against one gateway or the weighted ingest record."""

from __future__ import annotations

import typer

from controlplane.settings import load_settings
from ingest.loadgen.cli import Defaults, make_command
from ingest.loadgen.config import Route53Source


def settings_defaults() -> Defaults:
    settings = load_settings()
    source = Route53Source(endpoint_url=settings.route53_url, region=settings.aws_region,
                           hosted_zone=settings.hosted_zone, record=settings.ingest_record)
    return Defaults(route53=source, api_key=settings.ingest_api_keys[0])


def register(app: typer.Typer) -> None:
    app.command("loadgen")(make_command(settings_defaults))
