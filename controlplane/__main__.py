"""``python -m controlplane [--host H] [--port P]``: the control loop and its API (see service.py).

Settings as for ``ecomctl`` (``ecomctl.yaml``, ``ECOMCTL_*``); lag settings from ``ECOMCTL_LAG__*``.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn
from prometheus_client import CollectorRegistry, disable_created_metrics

from collectors.settings import load_lag_settings
from controlplane.service import ControlPlane
from controlplane.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m controlplane", description=__doc__.splitlines()[0])
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    settings = load_settings()
    disable_created_metrics()  # *_created series only add noise to every scrape
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: max instances" each slow tick
    plane = ControlPlane(settings, load_lag_settings(), CollectorRegistry())
    uvicorn.run(plane, host=args.host or settings.host, port=args.port or settings.ports.controlplane,
                lifespan="on", access_log=False, log_level="warning", timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
