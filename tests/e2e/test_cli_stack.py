"""`ecomctl up | status | down` as a user runs them, and every way `up` can be refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from controlplane.stack.supervisor import pid_alive
from tests.conftest import make_settings, settings_env

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
ECOMCTL = str(REPO / ".venv" / "bin" / "ecomctl")
JOBS = {"gateway", "consumer", "controlplane", "prometheus"}  # every scrape job of the stack


def run(
    args: list[str], env: dict[str, str], timeout: float = 180, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ECOMCTL, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def stack_pids(state_dir: Path) -> list[int]:
    info = json.loads((state_dir / "stack.json").read_text())
    return [info["circusd_pid"], *(p for pids in info["pids"].values() for p in pids)]


def test_up_status_down_leaves_no_process_behind(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / ".ecomctl")
    # As a user runs it: from a working directory, with the default relative state dir.
    env = {**settings_env(settings), "ECOMCTL_STATE_DIR": ".ecomctl"}
    up = run(["up", "--detach", "--no-traffic"], env, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    pids = stack_pids(settings.state_dir)
    try:
        status = run(["status", "--json"], env, cwd=tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        components = json.loads(status.stdout)["components"]
        for name, endpoint in [
            ("kafka", settings.kafka_bootstrap),
            ("prometheus", settings.prometheus_url),
            ("route53", settings.route53_url),
            ("gateway-primary", settings.gateway_url("primary")),
            ("gateway-secondary", settings.gateway_url("secondary")),
            ("controlplane", settings.controlplane_url),
            ("console", settings.console_url),
        ]:
            assert components[name] == {"healthy": True, "endpoint": endpoint}
        assert scraped_jobs(settings.prometheus_url) >= JOBS
        again = run(["up", "--detach"], env, cwd=tmp_path)
        assert again.returncode == 2
        assert "already up" in again.stderr
    finally:
        down = run(["down"], env, cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert [p for p in pids if pid_alive(p)] == []
    assert not (settings.state_dir / "stack.json").exists()
    status = run(["status", "--json"], env, cwd=tmp_path)
    assert status.returncode == 1
    assert not any(c["healthy"] for c in json.loads(status.stdout)["components"].values())
    # Straight back up: connections of the stopped stack still in TIME_WAIT must not block it.
    again = run(["up", "--detach", "--no-traffic"], env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert run(["down"], env, cwd=tmp_path).returncode == 0


def scraped_jobs(prometheus_url: str, timeout: float = 30) -> set[str]:
    """Jobs with at least one target up, once every discovered target has been scraped."""
    deadline = time.monotonic() + timeout
    jobs: set[str] = set()
    while time.monotonic() < deadline:
        result = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": "up == 1"}).json()["data"][
            "result"
        ]
        jobs = {r["metric"]["job"] for r in result}
        if JOBS <= jobs:
            break
        time.sleep(1)
    return jobs


def test_a_taken_port_is_named_and_nothing_starts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / ".ecomctl")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.ports.prometheus))
        squatter.listen()
        up = run(["up", "--detach", "--no-traffic"], settings_env(settings))
    assert up.returncode == 2
    assert f"port {settings.ports.prometheus} (prometheus)" in up.stderr
    assert "ECOMCTL_PORTS__PROMETHEUS" in up.stderr
    assert not (settings.state_dir / "stack.json").exists()
    assert not (settings.state_dir / "circus.ini").exists()


def test_java_missing_says_what_to_install(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / ".ecomctl")
    env = {**settings_env(settings), "PATH": str(tmp_path / "empty-bin")}
    up = run(["up", "--detach", "--no-traffic"], env)
    assert up.returncode == 2
    assert "java is not installed" in up.stderr and "Java 17" in up.stderr


def test_maven_missing_says_what_to_install(tmp_path: Path) -> None:
    # A PATH with everything the set-up script uses except mvn.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for tool in Path(directory).glob("*") if Path(directory).is_dir() else []:
            if tool.name != "mvn" and not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    env = {**os.environ, "PATH": str(bin_dir)}
    setup = subprocess.run(
        ["bash", "scripts/setup.sh"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert setup.returncode == 1
    assert "mvn is missing: install Maven" in setup.stderr


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda d: (d / "stack.json").write_text("{not json"), "stack.json is unreadable"),
        (
            lambda d: (
                (d / "kafka" / "data").mkdir(parents=True),
                (d / "kafka" / "data" / "x.log").write_text("x"),
            ),
            "has data but no meta.properties",
        ),
        (
            lambda d: (
                (d / "kafka" / "data").mkdir(parents=True),
                (d / "kafka" / "data" / "meta.properties").write_text("node.id=7\n"),
            ),
            "does not describe this single-node cluster",
        ),
    ],
    ids=["run-record", "kafka-data-without-meta", "kafka-meta-of-another-node"],
)
def test_a_corrupt_state_dir_is_reported_and_nothing_starts(
    tmp_path: Path, corrupt: object, message: str
) -> None:
    settings = make_settings(tmp_path / ".ecomctl")
    settings.state_dir.mkdir(parents=True)
    corrupt(settings.state_dir)  # type: ignore[operator]
    up = run(["up", "--detach", "--no-traffic"], settings_env(settings))
    assert up.returncode == 2
    assert "corrupt state dir" in up.stderr and message in up.stderr
    assert not (settings.state_dir / "circus.ini").exists()


def test_a_bad_policy_file_stops_up_before_anything_starts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / ".ecomctl")
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies:\n  - name: x\n    kind: consumer_lag_scaling\n    group: g\n    for: 30x\n")
    up = run(["up", "--detach", "--policies", str(bad)], settings_env(settings))
    assert up.returncode == 2
    assert str(bad) in up.stderr
    assert not (settings.state_dir / "circus.ini").exists()
