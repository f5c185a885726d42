"""Shared by the benchmarks: a stack of real parts on free ports, and the JSON line format."""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from controlplane.settings import Ports, Settings
from controlplane.stack.stack import LocalStack

BENCH_API_KEY = "bench-key"


def free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


@contextmanager
def bench_stack(components: tuple[str, ...]) -> Iterator[LocalStack]:
    """Start ``components`` in a temporary state dir on free ports; stop them by pid afterwards."""
    with tempfile.TemporaryDirectory(prefix="ecomctl-bench-") as tmp:
        names = list(Ports.model_fields)
        ports = Ports(**dict(zip(names, free_ports(len(names)), strict=True)))
        settings = Settings(state_dir=Path(tmp) / ".ecomctl", ports=ports, ingest_api_keys=(BENCH_API_KEY,))
        stack = LocalStack(settings, components)
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


def report(name: str, figures: dict[str, Any], baseline: dict[str, Any], ratio: float, **extra: Any) -> None:
    """One JSON line per benchmark: the figure beside its baseline, measured in the same run."""
    print(
        json.dumps(
            {"bench": name, "figures": figures, "baseline": baseline, "ratio": round(ratio, 3), **extra}
        )
    )
