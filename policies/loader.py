"""Policy files (DESIGN 3.5): read and validate at load.

A policy file is ``{"policies": [ {kind: ..., name: ..., ...}, ... ]}``. Each entry is validated by
the model of its ``kind`` (see ``policies.kinds.KINDS``); an unknown kind is an error. Every error
names the file, the policy (by name and index, or by index when it has no name), the field and the
offending value. Names are unique across all the files loaded together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies.config import AnyPolicyConfig
from policies.kinds import KINDS


@dataclass(frozen=True, slots=True)
class PolicyError:
    """One problem in one policy file."""

    file: str
    policy: str | None  # "'name'" or "#index"; None for file-level problems
    field: str | None
    value: Any
    message: str

    def __str__(self) -> str:
        where = self.file if self.policy is None else f"{self.file}: policy {self.policy}"
        if self.field is None:
            return f"{where}: {self.message}"
        return f"{where}: field '{self.field}' value {self.value!r}: {self.message}"


class PolicyFileError(Exception):
    def __init__(self, errors: Sequence[PolicyError]) -> None:
        super().__init__("invalid policy files:\n  " + "\n  ".join(str(e) for e in errors))
        self.errors = tuple(errors)


def _policy_label(index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"'{name}' (#{index})" if isinstance(name, str) and name else f"#{index}"


def _validation_errors(file: str, label: str, exc: ValidationError) -> list[PolicyError]:
    errors = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or None
        message = err["msg"].removeprefix("Value error, ")
        errors.append(PolicyError(file, label, field, err.get("input"), message))
    return errors


def _parse_entry(file: str, index: int, entry: Any) -> tuple[AnyPolicyConfig | None, list[PolicyError]]:
    label = _policy_label(index, entry)
    if not isinstance(entry, dict):
        return None, [PolicyError(file, label, None, None, f"expected a mapping, got {type(entry).__name__}")]
    kind = entry.get("kind")
    known_kind = KINDS.get(kind) if isinstance(kind, str) else None
    if known_kind is None:
        known = ", ".join(sorted(KINDS))
        return None, [PolicyError(file, label, "kind", kind, f"unknown kind; expected one of {known}")]
    try:
        return known_kind.model.model_validate(entry), []
    except ValidationError as exc:
        return None, _validation_errors(file, label, exc)


def parse_policy_document(file: str, document: Any) -> tuple[list[AnyPolicyConfig], list[PolicyError]]:
    """Validate one parsed YAML document; returns the valid policies and every error found."""
    if not isinstance(document, dict) or not isinstance(document.get("policies"), list):
        return [], [PolicyError(file, None, "policies", None, "expected a top-level 'policies:' list")]
    extra = sorted(set(document) - {"policies"})
    errors = [PolicyError(file, None, key, document[key], "unknown top-level key") for key in extra]
    policies: list[AnyPolicyConfig] = []
    for index, entry in enumerate(document["policies"]):
        policy, entry_errors = _parse_entry(file, index, entry)
        errors.extend(entry_errors)
        if policy is not None:
            policies.append(policy)
    return policies, errors


def check_policy_files(paths: Iterable[Path]) -> tuple[list[AnyPolicyConfig], list[PolicyError]]:
    """Load every file, collecting all errors (also names used twice across the files)."""
    policies: list[AnyPolicyConfig] = []
    errors: list[PolicyError] = []
    seen: dict[str, str] = {}
    for path in paths:
        file = str(path)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            errors.append(PolicyError(file, None, None, None, f"cannot read: {exc.strerror or exc}"))
            continue
        except yaml.YAMLError as exc:
            errors.append(PolicyError(file, None, None, None, f"not valid YAML: {exc}"))
            continue
        found, file_errors = parse_policy_document(file, document)
        errors.extend(file_errors)
        for policy in found:
            if policy.name in seen:
                errors.append(PolicyError(file, f"'{policy.name}'", "name", policy.name,
                                          f"name already used in {seen[policy.name]}"))
                continue
            seen[policy.name] = file
            policies.append(policy)
    return policies, errors


def load_policy_files(paths: Iterable[Path]) -> tuple[AnyPolicyConfig, ...]:
    """Load and validate; raises PolicyFileError listing every error (startup refuses bad files)."""
    policies, errors = check_policy_files(paths)
    if errors:
        raise PolicyFileError(errors)
    return tuple(policies)


DEFAULT_POLICY_FILES: tuple[Path, ...] = tuple(sorted(Path(__file__).parent.glob("*.yaml")))
