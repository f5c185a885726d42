"""The signals the policies read from a ``Snapshot``: the contract with the collectors.

Collectors must produce exactly these ``Sample`` names and labels (one sample per label value):

=========================  ===========  ==========================================================
name                       label        value
=========================  ===========  ==========================================================
``ingest_error_ratio``     ``gateway``  share 0..1 of gateway requests answered 5xx (recent window)
``ingest_latency_p99_ms``  ``gateway``  p99 request latency in milliseconds (recent window)
``ingest_ready``           ``gateway``  1 when /readyz answers 200, else 0 (also 0 when unreachable)
``ingest_rate``            ``gateway``  requests per second (recent window); 0 means no traffic
``consumer_rate``          ``group``    events per second committed by the whole group (optional:
                                        only ``drain_within`` uses it)
=========================  ===========  ==========================================================

Consumer lag comes from ``Snapshot.groups`` (``GroupLag``), not from samples.

"No values found" (no traffic, so a ratio or a quantile is undefined) is reported by leaving the
sample out or giving it the value NaN: both read as *missing*, never as zero.

Staleness convention: ``Snapshot.stale`` holds ``"<signal>:<subject>"`` for one stale series, where
the subject is the value of the signal's label above (e.g. ``"ingest_error_ratio:primary"``,
``"kafka_consumergroup_group_lag:cart-processor"``), or the bare ``"<signal>"`` when every series of
that signal is stale. Lag of a group uses the signal name ``kafka_consumergroup_group_lag``.

Failures: ``Snapshot.errors`` is keyed by source. A policy holds when a source it needs failed:
``kafka`` for lag, ``prometheus`` for every sample above.
"""

from __future__ import annotations

import math

from collectors.model import Sample, Snapshot

INGEST_ERROR_RATIO = "ingest_error_ratio"
INGEST_LATENCY_P99_MS = "ingest_latency_p99_ms"
INGEST_READY = "ingest_ready"
INGEST_RATE = "ingest_rate"
CONSUMER_RATE = "consumer_rate"
GROUP_LAG = "kafka_consumergroup_group_lag"
GROUP_LAG_SECONDS = "kafka_consumergroup_group_lag_seconds"
GROUP_STATUS = "kafka_consumergroup_group_status"

GATEWAY_LABEL = "gateway"
GROUP_LABEL = "group"

# Every sample name the policies read, with the label that names its subject.
SIGNALS: tuple[tuple[str, str], ...] = (
    (INGEST_ERROR_RATIO, GATEWAY_LABEL),
    (INGEST_LATENCY_P99_MS, GATEWAY_LABEL),
    (INGEST_READY, GATEWAY_LABEL),
    (INGEST_RATE, GATEWAY_LABEL),
    (CONSUMER_RATE, GROUP_LABEL),
)

SOURCE_KAFKA = "kafka"
SOURCE_PROMETHEUS = "prometheus"


def stale_key(signal: str, subject: str) -> str:
    return f"{signal}:{subject}"


def is_stale(snapshot: Snapshot, signal: str, subject: str) -> bool:
    return signal in snapshot.stale or stale_key(signal, subject) in snapshot.stale


def latest(snapshot: Snapshot, signal: str, label: str, subject: str) -> Sample | None:
    """The newest usable sample of one series, or None when missing, NaN or stale."""
    if is_stale(snapshot, signal, subject):
        return None
    found = [s for s in snapshot.find(signal, **{label: subject}) if not math.isnan(s.value)]
    return max(found, key=lambda s: s.at) if found else None
