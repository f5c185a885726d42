"""Prometheus file-based discovery of one worker: ``<sd_dir>/consumer-<group>-<pid>.json``."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import psutil


def sd_file(sd_dir: Path, group: str, pid: int) -> Path:
    return sd_dir / f"consumer-{group}-{pid}.json"


def publish(sd_dir: Path, group: str, pid: int, address: str) -> Path:
    """Write the target file atomically (Prometheus may read it at any moment)."""
    sd_dir.mkdir(parents=True, exist_ok=True)
    path = sd_file(sd_dir, group, pid)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps([{"targets": [address], "labels": {"group": group}}]))
    os.replace(tmp, path)
    return path


def remove_stale(sd_dir: Path, group: str, alive: Callable[[int], bool] = psutil.pid_exists) -> list[Path]:
    """Remove the files of this group's workers that died without cleaning up; returns what went."""
    pattern = re.compile(rf"^consumer-{re.escape(group)}-(\d+)\.json$")
    removed: list[Path] = []
    if not sd_dir.is_dir():
        return removed
    for path in sorted(sd_dir.iterdir()):
        match = pattern.match(path.name)
        if match and not alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
