"""`python -m controlplane.console`: the SRE console on settings.host:settings.ports.console (waitress)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from waitress import serve

from controlplane.console.app import create_app
from controlplane.console.client import HttpControlPlane
from controlplane.console.metrics import PrometheusRangeSource
from controlplane.operations import build_operations
from controlplane.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m controlplane.console", description=__doc__)
    parser.add_argument("--host", help="address to bind (default: settings.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings.ports.console)")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    parser.add_argument("--users-file", type=Path,
                        help="file with the console users, name:password,... (else ECOMCTL_CONSOLE_USERS)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    overrides = {"console_users": args.users_file.read_text().strip()} if args.users_file else {}
    settings = load_settings(**overrides)
    operations = build_operations(settings)
    operations.start()
    app = create_app(HttpControlPlane(settings.controlplane_url, operations),
                     PrometheusRangeSource(settings.prometheus_url), settings.console_credentials)
    logging.getLogger(__name__).info("console on %s", settings.console_url)
    serve(app.server, host=args.host or settings.host, port=args.port or settings.ports.console,
          threads=args.threads, ident="ecomctl")


if __name__ == "__main__":
    main()
