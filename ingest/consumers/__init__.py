"""Idempotent consumer workers (one per consumer group of DESIGN.md 3.2) and their sinks.

A worker consumes a batch, applies it to its sink in one transaction that also records every
``event_id`` in ``processed_events`` (so redelivered events change nothing), then commits the Kafka
offsets. Run one with ``python -m ingest.consumers --group GROUP --bootstrap HOST:PORT``.
"""
