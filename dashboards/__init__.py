"""Grafana dashboards (grafanalib ``*.dashboard.py``) and Prometheus rules as code.

``ecomctl dashboards build`` renders them to ``dashboards/generated/`` (see ``dashboards.build``);
the local stack loads ``rule_files()`` into Prometheus; ``all_expressions()`` lists every query for
the live check.
"""

from __future__ import annotations

from dashboards.build import GENERATED_DIR, SOURCE_DIR, rule_files
from dashboards.queries import Expression, all_expressions

__all__ = ["GENERATED_DIR", "SOURCE_DIR", "Expression", "all_expressions", "rule_files"]
