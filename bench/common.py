"""Shared by the benchmarks: a stack of real parts on free ports, and the JSON line format."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from controlplane.settings import Settings
from controlplane.stack.ports import free_stack_ports
from controlplane.stack.stack import LocalStack

BENCH_API_KEY = "bench-key"


@contextmanager
def bench_stack(components: tuple[str, ...]) -> Iterator[LocalStack]:
    """Start ``components`` in a temporary state dir on free ports; stop them by pid afterwards."""
    with tempfile.TemporaryDirectory(prefix="ecomctl-bench-") as tmp:
        settings = Settings(
            state_dir=Path(tmp) / ".ecomctl", ports=free_stack_ports(), ingest_api_keys=(BENCH_API_KEY,)
        )
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
