"""Render every ``<name>.dashboard.py`` and the rules to ``generated/``, or check them for drift.

A dashboard file defines a module-level ``dashboard`` (a grafanalib Dashboard). Its file name is not
an importable module name, so it is run with ``runpy``. Output is deterministic (sorted keys, ids
assigned in layout order, trailing newline) so a committed copy can be compared byte for byte.
"""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafanalib import core as G
from grafanalib._gen import DashboardEncoder

from dashboards import rules

SOURCE_DIR = Path(__file__).resolve().parent
GENERATED_DIR = SOURCE_DIR / "generated"
RULES_SUBDIR = "rules"
SUFFIX = ".dashboard.py"


class DashboardDefinitionError(Exception):
    """A dashboard file that does not define a usable ``dashboard``."""


@dataclass(frozen=True)
class Drift:
    """One generated file that differs from what the code produces."""

    path: Path
    problem: str  # "differs", "missing", "extra"

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def dashboard_sources(source_dir: Path) -> list[Path]:
    return sorted(source_dir.glob(f"*{SUFFIX}"))


def load_dashboard(path: Path) -> G.Dashboard:
    namespace = runpy.run_path(str(path))
    dashboard = namespace.get("dashboard")
    if not isinstance(dashboard, G.Dashboard):
        raise DashboardDefinitionError(
            f"{path}: must define 'dashboard' as a grafanalib Dashboard, got {type(dashboard).__name__}"
        )
    return dashboard


def load_dashboards(source_dir: Path) -> dict[str, Any]:
    """Dashboard name (file name without ``.dashboard.py``) -> its JSON model as plain data."""
    models: dict[str, Any] = {}
    for path in dashboard_sources(source_dir):
        name = path.name[: -len(SUFFIX)]
        models[name] = json.loads(json.dumps(load_dashboard(path).to_json_data(), cls=DashboardEncoder))
    return models


def render_json(model: Any) -> str:
    return json.dumps(model, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_all(source_dir: Path) -> dict[str, str]:
    """Relative output path -> file content, for every dashboard and rule file."""
    files = {f"{name}.json": render_json(model) for name, model in load_dashboards(source_dir).items()}
    files.update({f"{RULES_SUBDIR}/{name}": text for name, text in rules.rendered().items()})
    return files


def _existing(out_dir: Path) -> set[str]:
    found = {p.name for p in out_dir.glob("*.json")}
    found |= {f"{RULES_SUBDIR}/{p.name}" for p in (out_dir / RULES_SUBDIR).glob("*.yml")}
    return found


def build(source_dir: Path = SOURCE_DIR, out_dir: Path = GENERATED_DIR) -> list[Path]:
    """Write every generated file and remove stale ones; returns the paths written."""
    files = render_all(source_dir)
    (out_dir / RULES_SUBDIR).mkdir(parents=True, exist_ok=True)
    for stale in sorted(_existing(out_dir) - files.keys()):
        (out_dir / stale).unlink()
    written = []
    for relative, content in sorted(files.items()):
        path = out_dir / relative
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def check(source_dir: Path = SOURCE_DIR, out_dir: Path = GENERATED_DIR) -> list[Drift]:
    """Every generated file that differs from the code, is missing, or should not be there."""
    files = render_all(source_dir)
    stale = _existing(out_dir) - files.keys()
    drift = [Drift(out_dir / name, "extra: no source generates it") for name in stale]
    for relative, content in files.items():
        path = out_dir / relative
        if not path.is_file():
            drift.append(Drift(path, "missing"))
        elif path.read_text(encoding="utf-8") != content:
            drift.append(Drift(path, "differs from what the code generates"))
    return sorted(drift, key=lambda d: str(d.path))


def rule_files(out_dir: Path = GENERATED_DIR) -> list[Path]:
    """The rule files Prometheus should load (``rule_files`` of the generated prometheus.yml)."""
    return [out_dir / RULES_SUBDIR / name for name in sorted(rules.RULE_FILES)]
