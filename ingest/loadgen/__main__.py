"""`python -m ingest.loadgen`: the same options as `ecomctl loadgen`, for supervised processes.

Defaults come from the environment the supervisor sets (``ECOMCTL_*``, the same names as the
control plane's settings) so the data plane never imports the control plane.
"""

from __future__ import annotations

import os

import typer

from ingest.loadgen.cli import Defaults, make_command
from ingest.loadgen.config import Route53Source
from ingest.settings import split_csv


def env_defaults() -> Defaults:
    keys = split_csv(os.environ.get("ECOMCTL_INGEST_API_KEYS", "dev-key")) or ("dev-key",)
    source = Route53Source(
        endpoint_url=os.environ.get("ECOMCTL_AWS_ENDPOINT_URL") or None,
        region=os.environ.get("ECOMCTL_AWS_REGION", "us-east-1"),
        hosted_zone=os.environ.get("ECOMCTL_HOSTED_ZONE", "ecommerce-domain.com"),
        record=os.environ.get("ECOMCTL_INGEST_RECORD", "events.ecommerce-domain.com"),
    )
    return Defaults(route53=source, api_key=keys[0])


def main() -> None:
    typer.run(make_command(env_defaults))


if __name__ == "__main__":
    main()
