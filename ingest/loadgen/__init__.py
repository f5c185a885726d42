"""Traffic simulation: seeded ecommerce shoppers, arrival profiles, weighted (Route 53) routing."""

from ingest.loadgen.config import Funnel, LoadgenConfig, Route53Source
from ingest.loadgen.runner import Summary, run_loadgen

__all__ = ["Funnel", "LoadgenConfig", "Route53Source", "Summary", "run_loadgen"]
