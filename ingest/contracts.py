"""Event contracts: load ``ingest/schemas/<event_type>/v<N>.json``, compile once, validate fast.

The gateway calls :meth:`ContractRegistry.validate` for every event, so the work per event is a
dispatch on ``event_type`` and ``schema_version`` followed by one precompiled fastjsonschema
validator. Every registered version of every type is accepted (producers move at their own pace).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import fastjsonschema

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"

RejectReason = Literal["envelope", "unknown_type", "unknown_version", "schema"]

# fastjsonschema knows no "uuid" format; RFC 4122 textual form, any version, either case.
_FORMATS: dict[str, str] = {
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.json$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*$")
# Rejection messages echo the offending value; keep them short whatever the producer sent.
_MAX_VALUE_CHARS = 80

Validator = Callable[[Any], Any]


class ContractLoadError(Exception):
    """A schema file or directory that cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class ValidationOutcome:
    """Either ok (``reason is None``) or a rejection with a category and a readable message.

    ``event_type``/``version`` are set whenever they were recognised, also on rejections, so
    that metrics and the DLQ can label them.
    """

    ok: bool
    event_type: str | None
    version: int | None
    reason: RejectReason | None = None
    message: str = ""

    @classmethod
    def accepted(cls, event_type: str, version: int) -> ValidationOutcome:
        return cls(True, event_type, version)

    @classmethod
    def rejected(
        cls, reason: RejectReason, message: str, event_type: str | None = None, version: int | None = None
    ) -> ValidationOutcome:
        return cls(False, event_type, version, reason, message)


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    event_type: str
    version: int
    path: Path
    schema: Mapping[str, Any]


class ContractRegistry:
    """Every registered schema version, compiled once."""

    def __init__(self, schemas: Mapping[str, Mapping[int, SchemaVersion]]) -> None:
        self._schemas = {etype: dict(sorted(by_version.items())) for etype, by_version in schemas.items()}
        self._validators: dict[str, dict[int, Validator]] = {}
        for etype, by_version in self._schemas.items():
            self._validators[etype] = {v: _compile(sv) for v, sv in by_version.items()}

    @classmethod
    def load(cls, path: Path | None = None) -> ContractRegistry:
        return cls(load_schema_files(path or SCHEMAS_DIR))

    def event_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._schemas))

    def versions(self, event_type: str) -> tuple[int, ...]:
        return tuple(self._schemas[event_type])

    def latest(self, event_type: str) -> int:
        return max(self._schemas[event_type])

    def schema(self, event_type: str, version: int) -> SchemaVersion:
        return self._schemas[event_type][version]

    def validate(self, event: object) -> ValidationOutcome:
        if not isinstance(event, dict):
            return ValidationOutcome.rejected(
                "envelope", f"event: must be a JSON object, got {_json_type(event)}"
            )
        event_type = event.get("event_type")
        if not isinstance(event_type, str):
            return ValidationOutcome.rejected(
                "envelope", f"event_type: must be a string, got {_show(event_type, 'event_type' in event)}"
            )
        by_version = self._validators.get(event_type)
        if by_version is None:
            known = ", ".join(sorted(self._validators))
            return ValidationOutcome.rejected(
                "unknown_type", f"event_type: unknown event type {_show(event_type)} (known: {known})"
            )
        version = event.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            return ValidationOutcome.rejected(
                "envelope",
                f"schema_version: must be an integer, got {_show(version, 'schema_version' in event)}",
                event_type,
            )
        validator = by_version.get(version)
        if validator is None:
            known = ", ".join(str(v) for v in by_version)
            return ValidationOutcome.rejected(
                "unknown_version",
                f"schema_version: {event_type} has no version {version} (registered: {known})",
                event_type,
            )
        try:
            validator(event)
        except fastjsonschema.JsonSchemaValueException as exc:
            return ValidationOutcome.rejected("schema", describe_error(exc), event_type, version)
        return ValidationOutcome.accepted(event_type, version)


def load_schema_files(root: Path) -> dict[str, dict[int, SchemaVersion]]:
    """Read ``<root>/<event_type>/v<N>.json``; versions of a type must run 1..N without gaps."""
    if not root.is_dir():
        raise ContractLoadError(f"{root}: schemas directory not found")
    schemas: dict[str, dict[int, SchemaVersion]] = {}
    for type_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if not _EVENT_TYPE.match(type_dir.name):
            raise ContractLoadError(
                f"{type_dir}: not a valid event type name (expected {_EVENT_TYPE.pattern})"
            )
        by_version: dict[int, SchemaVersion] = {}
        for file in sorted(type_dir.iterdir()):
            if file.name.startswith("."):
                continue
            match = _VERSION_FILE.match(file.name)
            if match is None:
                raise ContractLoadError(f"{file}: unexpected file, schema files are named v<N>.json")
            version = int(match.group(1))
            by_version[version] = SchemaVersion(type_dir.name, version, file, _read_schema(file))
        if not by_version:
            raise ContractLoadError(f"{type_dir}: no schema versions (expected v1.json)")
        expected = list(range(1, max(by_version) + 1))
        if sorted(by_version) != expected:
            missing = sorted(set(expected) - set(by_version))
            raise ContractLoadError(
                f"{type_dir / f'v{max(by_version)}.json'}: version gap, "
                f"missing {', '.join(f'v{m}.json' for m in missing)}"
            )
        for sv in by_version.values():
            _check_envelope_constants(sv)
            _check_local_refs(sv.path, sv.schema)
        schemas[type_dir.name] = by_version
    if not schemas:
        raise ContractLoadError(f"{root}: no event types (expected <event_type>/v1.json)")
    return schemas


def describe_error(exc: fastjsonschema.JsonSchemaValueException) -> str:
    """``payload.quantity: must be >= 0, got -1`` from a fastjsonschema error."""
    path = _data_path(exc.name or "data")
    rule, limit, value = exc.rule, exc.rule_definition, exc.value
    if rule == "required" and isinstance(value, dict) and isinstance(limit, list):
        missing = [name for name in limit if name not in value]
        return f"{path}: missing required property {', '.join(repr(m) for m in missing)}"
    if rule == "additionalProperties" and isinstance(value, dict) and isinstance(exc.definition, dict):
        declared = exc.definition.get("properties", {})
        extra = [name for name in value if name not in declared]
        return f"{path}: unexpected property {', '.join(repr(_clip(str(e))) for e in extra)}"
    texts: dict[str, str] = {
        "type": f"must be of type {_types(limit)}, got {_json_type(value)}",
        "minimum": f"must be >= {limit}, got {_show(value)}",
        "maximum": f"must be <= {limit}, got {_show(value)}",
        "exclusiveMinimum": f"must be > {limit}, got {_show(value)}",
        "exclusiveMaximum": f"must be < {limit}, got {_show(value)}",
        "multipleOf": f"must be a multiple of {limit}, got {_show(value)}",
        "minLength": f"must be at least {limit} characters long, got {_length(value)}",
        "maxLength": f"must be at most {limit} characters long, got {_length(value)}",
        "minItems": f"must have at least {limit} items, got {_length(value)}",
        "maxItems": f"must have at most {limit} items, got {_length(value)}",
        "pattern": f"must match {limit}, got {_show(value)}",
        "format": f"must be a valid {limit}, got {_show(value)}",
        "enum": f"must be one of {_show(limit)}, got {_show(value)}",
        "const": f"must be {_show(limit)}, got {_show(value)}",
    }
    text = texts.get(rule or "")
    if text is None:
        text = exc.message.removeprefix(exc.name or "").strip() or exc.message
    return f"{path}: {text}"


def _compile(sv: SchemaVersion) -> Validator:
    try:
        # fastjsonschema rewrites $refs in the dict it is given: hand it a copy.
        # use_default=False: validation must never add fields to the producer's event.
        return fastjsonschema.compile(copy.deepcopy(dict(sv.schema)), formats=_FORMATS, use_default=False)
    except fastjsonschema.JsonSchemaDefinitionException as exc:
        raise ContractLoadError(f"{sv.path}: invalid JSON Schema: {exc}") from exc


def _read_schema(file: Path) -> dict[str, Any]:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractLoadError(f"{file}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ContractLoadError(f"{file}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ContractLoadError(f"{file}: a JSON Schema must be a JSON object, got {_json_type(document)}")
    return document


def _check_envelope_constants(sv: SchemaVersion) -> None:
    """The file's place (``<type>/v<N>.json``) and its envelope constants must agree (dispatch needs it)."""
    properties = sv.schema.get("properties")
    if not isinstance(properties, dict):
        raise ContractLoadError(f"{sv.path}: envelope schema has no 'properties'")
    for field, expected in (("event_type", sv.event_type), ("schema_version", sv.version)):
        got = properties.get(field, {}).get("const") if isinstance(properties.get(field), dict) else None
        if got != expected or isinstance(got, bool):
            raise ContractLoadError(
                f'{sv.path}: properties.{field} must be {{"const": {json.dumps(expected)}}}, got {got!r}'
            )


def _check_local_refs(path: Path, schema: Any, where: str = "#") -> None:
    """Only ``#...`` references: a remote one would make loading (and the gateway's start) fetch URLs."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        declares_names = where.endswith(("/properties", "/definitions", "/$defs", "/patternProperties"))
        if ref is not None and not declares_names and not (isinstance(ref, str) and ref.startswith("#")):
            raise ContractLoadError(
                f"{path}: {where}/$ref: only references within the file are supported, got {ref!r}"
            )
        for key, value in schema.items():
            _check_local_refs(path, value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            _check_local_refs(path, value, f"{where}/{index}")


def _data_path(name: str) -> str:
    path = name.removeprefix("data").lstrip(".")
    return path or "event"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _types(limit: object) -> str:
    if isinstance(limit, list):
        return " or ".join(str(t) for t in limit)
    return str(limit)


def _length(value: object) -> str:
    return str(len(value)) if isinstance(value, str | list) else _show(value)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _show(value: object, present: bool = True) -> str:
    if not present:
        return "nothing (missing)"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        text = repr(value)
    return _clip(text)
