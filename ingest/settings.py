"""Settings of the data-plane processes (gateways and consumers), read from ``ECOMCTL_INGEST_*``."""

from __future__ import annotations

from typing import Any


def split_csv(value: Any) -> Any:
    """Comma-separated strings (as environment variables hold them) become tuples of stripped items."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value
