"""Free loopback ports for stacks started on demand (tests, benchmarks)."""

from __future__ import annotations

import socket
from contextlib import ExitStack

from controlplane.settings import Ports


def free_loopback_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1 (all held open at once so none is handed out twice)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


def free_stack_ports() -> Ports:
    """A Ports value with every port of the stack free right now."""
    names = list(Ports.model_fields)
    return Ports(**dict(zip(names, free_loopback_ports(len(names)), strict=True)))
