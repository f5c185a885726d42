"""Ingest and consumer signals read from Prometheus (queries and rules in ``collectors/signals.py``).

Every query of a round runs at once on a small thread pool, each bounded by ``timeout_s``, so one
round costs about one query's time. A failed query makes its signals stale and is named in
``Snapshot.errors["prometheus"]``; nothing raises out of ``collect``. Read-only: only ``/api/v1/query``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any, Protocol

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from collectors.model import Snapshot
from collectors.signals import QUERIES, Row, build_signals, parse_rows

# Three scrape intervals of the stack's Prometheus (5 s): one missed scrape is not yet staleness.
DEFAULT_MAX_AGE_S = 15.0
DEFAULT_TIMEOUT_S = 2.0
DEFAULT_WORKERS = 6


class QueryClient(Protocol):
    """The part of prometheus-api-client's PrometheusConnect the collector uses."""

    def custom_query(self, query: str, params: dict[str, Any] | None = None,
                     timeout: float | None = None) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


ClientFactory = Callable[[str], QueryClient]


def connect(url: str) -> QueryClient:
    # No retries: an unreachable Prometheus must cost one failed round, not urllib3's back-off.
    client: QueryClient = PrometheusConnect(url=url, retry=Retry(total=0))
    return client


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectionError):
        # requests nests the OS error deep in a long message; the errno text is what an SRE needs.
        found = re.search(r"\[Errno -?\d+\][^'\")]*", str(exc))
        return f"connection failed: {found.group(0) if found else exc.__class__.__name__}"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return f"{exc.__class__.__name__}: {exc}"[:300]


class PrometheusSignalCollector:
    """Reads the Prometheus signals; construction opens nothing, ``start()`` creates the client."""

    def __init__(self, url: str, *, max_age_s: float = DEFAULT_MAX_AGE_S,
                 timeout_s: float = DEFAULT_TIMEOUT_S, workers: int = DEFAULT_WORKERS,
                 client_factory: ClientFactory = connect) -> None:
        self.url = url
        self.max_age_s = max_age_s
        self.timeout_s = timeout_s
        self.workers = workers
        self._client_factory = client_factory
        self._client: QueryClient | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._client = self._client_factory(self.url)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="prometheus-query")

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _query(self, query: str) -> list[Row] | str:
        if self._client is None:
            raise RuntimeError("PrometheusSignalCollector.start() was not called")
        try:
            return parse_rows(self._client.custom_query(query, timeout=self.timeout_s))
        except (requests.RequestException, PrometheusApiClientException,
                ValueError, KeyError, TypeError) as exc:  # a malformed answer fails like a refused one
            return _describe(exc)

    def collect(self, now: datetime) -> Snapshot:
        """One round of every query; ``now`` is the time staleness is judged against."""
        if self._pool is None:
            raise RuntimeError("PrometheusSignalCollector.start() was not called")
        futures = {name: self._pool.submit(self._query, query) for name, query in QUERIES.items()}
        # Queued queries wait for a worker, so the round as a whole gets a little more than one timeout.
        wait(futures.values(), timeout=self.timeout_s * 2)
        results: dict[str, list[Row] | str] = {}
        for name, future in futures.items():
            if future.done():
                results[name] = future.result()
            else:
                future.cancel()
                results[name] = f"no answer within {self.timeout_s * 2:g}s"
        return build_signals(results, now, self.max_age_s)
