"""Every PromQL expression the dashboards and rules hold, runnable against a live Prometheus.

Panel queries use Grafana's macros and template variables; ``concrete()`` replaces them with values
Prometheus accepts on its own (``$__rate_interval`` -> ``1m``, a multi-value variable -> ``.*``), so
the queries can be checked without Grafana (and the rules without promtool).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dashboards import rules
from dashboards.build import SOURCE_DIR, load_dashboards

# Grafana macros and the value each stands for when a query runs outside Grafana.
MACROS: dict[str, str] = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
}
# Template variables are multi-valued with an "All" of ".*", so a regex matcher accepts ".*".
VARIABLE_VALUE = ".*"
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


@dataclass(frozen=True)
class Expression:
    """One query to run: where it comes from, the PromQL, and whether steady traffic must give data.

    An alert's full expression only has data while it fires, so it must run cleanly but need not
    return anything; its signal must.
    """

    source: str
    expr: str
    expect_data: bool = True


def concrete(expr: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return MACROS.get(name, VARIABLE_VALUE)

    return _VARIABLE.sub(replace, expr)


def _panels(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in model.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def panel_expressions(source_dir: Path = SOURCE_DIR) -> list[Expression]:
    found = []
    for name, model in sorted(load_dashboards(source_dir).items()):
        for panel in _panels(model):
            for target in panel.get("targets", []):
                found.append(
                    Expression(
                        source=f"{name}.json: {panel['title']} [{target['refId']}]",
                        expr=concrete(target["expr"]),
                    )
                )
    return found


def rule_expressions() -> list[Expression]:
    found = []
    for file_name, groups in sorted(rules.RULE_FILES.items()):
        for group in groups:
            for rule in group.rules:
                if isinstance(rule, rules.Recording):
                    found.append(Expression(f"rules/{file_name}: record {rule.record}", rule.expr))
                else:
                    where = f"rules/{file_name}: alert {rule.alert}"
                    found.append(Expression(f"{where} (signal)", rule.signal))
                    found.append(Expression(where, rule.expr, expect_data=False))
    return found


def all_expressions(source_dir: Path = SOURCE_DIR) -> list[Expression]:
    return panel_expressions(source_dir) + rule_expressions()


class Querier(Protocol):
    """What we need of prometheus_api_client.PrometheusConnect."""

    def custom_query(self, query: str, params: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class Outcome:
    expression: Expression
    series: int
    error: str | None = None


@dataclass(frozen=True)
class Report:
    outcomes: tuple[Outcome, ...]

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def expected(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.expression.expect_data]

    @property
    def empty(self) -> list[Outcome]:
        return [o for o in self.expected if o.error is None and o.series == 0]

    @property
    def data_ratio(self) -> float:
        expected = self.expected
        if not expected:
            return 0.0
        return (len(expected) - len(self.empty) - len([o for o in expected if o.error])) / len(expected)


def run(querier: Querier, expressions: Iterable[Expression]) -> Report:
    """Run each expression as an instant query; an error is recorded, not raised, so all are seen."""
    outcomes = []
    for expression in expressions:
        try:
            result = querier.custom_query(expression.expr)
        except Exception as exc:  # any failure of one query is reported with its source
            outcomes.append(Outcome(expression, 0, f"{type(exc).__name__}: {exc}"))
            continue
        # A scalar answer ([time, value]) counts as one series.
        series = len(result) if isinstance(result, list) and not _is_scalar(result) else 1
        outcomes.append(Outcome(expression, series))
    return Report(tuple(outcomes))


def _is_scalar(result: list[Any]) -> bool:
    return len(result) == 2 and not isinstance(result[0], dict)
