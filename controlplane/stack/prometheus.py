"""Prometheus, the real server binary (Debian's package), with a generated config.

Targets come from file-based service discovery under ``<home>/sd/``: the stack writes the gateway
and control-plane files, each consumer process writes its own while it runs.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from controlplane.stack.errors import StackError

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_GLOB = REPO_ROOT / "dashboards" / "generated" / "rules" / "*.yml"
SCRAPE_INTERVAL = "5s"  # the control loop ticks every 5 s: it needs fresh samples
SD_JOBS = ("gateway", "consumer", "controlplane")


@dataclass(frozen=True)
class PrometheusServer:
    home: Path
    host: str
    port: int
    retention: str = "2d"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def sd_dir(self) -> Path:
        return self.home / "sd"

    @property
    def config_file(self) -> Path:
        return self.home / "prometheus.yml"

    def config(self) -> dict[str, object]:
        scrape_configs: list[dict[str, object]] = [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"{self.host}:{self.port}"]}]},
        ]
        for job in SD_JOBS:
            scrape_configs.append(
                {
                    "job_name": job,
                    "file_sd_configs": [
                        {"files": [str(self.sd_dir / f"{job}-*.json")], "refresh_interval": "5s"}
                    ],
                }
            )
        return {
            "global": {
                "scrape_interval": SCRAPE_INTERVAL,
                "evaluation_interval": SCRAPE_INTERVAL,
                "scrape_timeout": "4s",
            },
            "rule_files": [str(RULES_GLOB)],
            "scrape_configs": scrape_configs,
        }

    def prepare(self) -> None:
        if shutil.which("prometheus") is None:
            raise StackError(
                "prometheus is not installed: run `make setup` (Debian: apt-get install -y prometheus)"
            )
        self.sd_dir.mkdir(parents=True, exist_ok=True)
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(yaml.safe_dump(self.config(), sort_keys=False))

    def command(self) -> list[str]:
        binary = shutil.which("prometheus") or "prometheus"
        return [
            binary,
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.home / 'data'}",
            f"--storage.tsdb.retention.time={self.retention}",
            f"--web.listen-address={self.host}:{self.port}",
            "--web.enable-lifecycle",
            "--log.level=warn",
        ]

    def write_targets(self, name: str, targets: list[str], labels: dict[str, str]) -> Path:
        """Publish scrape targets for file-based discovery (atomically: Prometheus may read any time)."""
        job = name.split("-", 1)[0]
        if job not in SD_JOBS:
            raise ValueError(f"unknown scrape job {job!r} for {name!r}; known: {SD_JOBS}")
        return write_sd_file(self.sd_dir / f"{name}.json", targets, labels)

    def healthy(self, timeout: float = 2.0) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False


def write_sd_file(path: Path, targets: list[str], labels: dict[str, str]) -> Path:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([{"targets": targets, "labels": labels}]))
    tmp.replace(path)
    return path
