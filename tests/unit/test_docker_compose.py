"""docker-compose.yml: valid for Debian's docker-compose (no engine needed), and every command of the
project's image parses its arguments."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"


def services() -> dict[str, dict[str, object]]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="make setup-test installs docker-compose")
def test_compose_file_is_valid() -> None:
    answer = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert answer.returncode == 0, answer.stderr


def test_mounted_files_exist() -> None:
    for name, service in services().items():
        for volume in service.get("volumes", []):  # type: ignore[attr-defined]
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"


@pytest.mark.parametrize(
    "name", [n for n, s in services().items() if s.get("image") == "ecomctl:local"], ids=str
)
def test_project_service_commands_parse(name: str) -> None:
    command = [str(c) for c in services()[name]["command"]]  # type: ignore[union-attr]
    program = (
        [sys.executable, *command[1:]]
        if command[0] == "python"
        else [str(REPO / ".venv/bin/ecomctl"), *command[1:]]
    )
    answer = subprocess.run(
        [*program, "--help"], capture_output=True, text=True, check=False, cwd=REPO, timeout=60
    )
    assert answer.returncode == 0, f"{name}: {answer.stderr[-500:]}"
    for option in (c for c in command if c.startswith("--")):
        assert option in answer.stdout, f"{name}: {option} is not an option of {command[:3]}"
