"""Compatibility of JSON Schema versions, with Confluent Schema Registry's meaning of each mode.

:func:`diff` walks two schemas side by side and names every difference the way Schema Registry's
JSON Schema provider does (``TYPE_NARROWED``, ``MAX_LENGTH_DECREASED``,
``REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL``...). It answers the BACKWARD question: does
every document valid under ``original`` stay valid under ``update``? A difference is compatible
when its kind is in :data:`COMPATIBLE_CHANGES`. FORWARD is the same question with the arguments
swapped, FULL is both; ``_TRANSITIVE`` modes check a new version against every earlier one, the
others against the previous one only.

Schemas are first read into a small model, close to the one Schema Registry uses: ``type`` lists
become ``anyOf``, a schema mixing e.g. ``type`` and ``enum`` becomes an ``allOf`` of both, local
``$ref``s are followed. Draft-07 and draft 2020-12 (``prefixItems``, ``unevaluated*``,
``$defs``, ``dependentRequired``/``dependentSchemas``) are both understood.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ingest.contracts import SCHEMAS_DIR, ContractLoadError, SchemaVersion, load_schema_files

COMPATIBILITY_FILE = "compatibility.yaml"


class Mode(StrEnum):
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))


# Difference kinds after which data valid under the original schema is still valid under the update.
COMPATIBLE_CHANGES: frozenset[str] = frozenset(
    {
        "SCHEMA_REMOVED",
        "TYPE_EXTENDED",
        "MAX_LENGTH_INCREASED",
        "MAX_LENGTH_REMOVED",
        "MIN_LENGTH_DECREASED",
        "MIN_LENGTH_REMOVED",
        "PATTERN_REMOVED",
        "FORMAT_REMOVED",
        "MAXIMUM_INCREASED",
        "MAXIMUM_REMOVED",
        "MINIMUM_DECREASED",
        "MINIMUM_REMOVED",
        "EXCLUSIVE_MAXIMUM_INCREASED",
        "EXCLUSIVE_MAXIMUM_REMOVED",
        "EXCLUSIVE_MINIMUM_DECREASED",
        "EXCLUSIVE_MINIMUM_REMOVED",
        "MULTIPLE_OF_REDUCED",
        "MULTIPLE_OF_REMOVED",
        "REQUIRED_ATTRIBUTE_REMOVED",
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        "DEPENDENCY_ARRAY_NARROWED",
        "DEPENDENCY_ARRAY_REMOVED",
        "DEPENDENCY_SCHEMA_REMOVED",
        "MAX_PROPERTIES_INCREASED",
        "MAX_PROPERTIES_REMOVED",
        "MIN_PROPERTIES_DECREASED",
        "MIN_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
        "ADDITIONAL_PROPERTIES_EXTENDED",
        "PROPERTY_NAMES_REMOVED",
        "PATTERN_PROPERTY_REMOVED_IS_COVERED",
        "PATTERN_PROPERTY_ADDED_IS_COVERED",
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "MAX_ITEMS_INCREASED",
        "MAX_ITEMS_REMOVED",
        "MIN_ITEMS_DECREASED",
        "MIN_ITEMS_REMOVED",
        "UNIQUE_ITEMS_REMOVED",
        "CONTAINS_REMOVED",
        "MIN_CONTAINS_DECREASED",
        "MIN_CONTAINS_REMOVED",
        "MAX_CONTAINS_INCREASED",
        "MAX_CONTAINS_REMOVED",
        "ADDITIONAL_ITEMS_ADDED",
        "ADDITIONAL_ITEMS_EXTENDED",
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ENUM_ARRAY_EXTENDED",
        "COMBINED_TYPE_EXTENDED",
        "PRODUCT_TYPE_NARROWED",
        "SUM_TYPE_EXTENDED",
        "NOT_TYPE_NARROWED",
    }
)


class SchemaModelError(ValueError):
    """A schema this checker cannot read (e.g. a ``$ref`` outside the file)."""


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    path: str

    @property
    def compatible(self) -> bool:
        return self.kind in COMPATIBLE_CHANGES

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


# ---------------------------------------------------------------------------------------------
# The schema model


@dataclass(eq=False)
class Node:
    raw: Any


@dataclass(eq=False)
class Empty(Node):
    """``true`` or ``{}``: anything is valid."""


@dataclass(eq=False)
class Nothing(Node):
    """``false``: nothing is valid."""


@dataclass(eq=False)
class Ref(Node):
    resolve: Callable[[], Node] = field(repr=False, default=lambda: Empty(True))


@dataclass(eq=False)
class Typed(Node):
    """A schema for one JSON type; ``requires`` is False when ``type`` was not given."""

    json_type: str = ""
    requires: bool = True
    keywords: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class NumberNode(Typed):
    integer: bool = False


@dataclass(eq=False)
class ObjectNode(Typed):
    properties: dict[str, Node] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    defaults: frozenset[str] = frozenset()
    pattern_properties: dict[str, Node] = field(default_factory=dict)
    additional: Node | None = None  # None: absent, the content model is open
    dependent_required: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dependent_schemas: dict[str, Node] = field(default_factory=dict)
    property_names: Node | None = None


@dataclass(eq=False)
class ArrayNode(Typed):
    prefix: list[Node] = field(default_factory=list)
    rest: Node | None = None  # items after the prefix; None: absent, open
    rest_key: str = "items"  # the keyword that gave ``rest``, for paths
    contains: Node | None = None


@dataclass(eq=False)
class EnumNode(Node):
    values: tuple[Any, ...] = ()
    keyword: str = "enum"


@dataclass(eq=False)
class NotNode(Node):
    sub: Node = field(default_factory=lambda: Empty(True))


@dataclass(eq=False)
class Combined(Node):
    criterion: str = "allOf"  # allOf | anyOf | oneOf
    subs: list[Node] = field(default_factory=list)


_STRING_KEYS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_OBJECT_KEYS = (
    "properties", "required", "additionalProperties", "patternProperties", "minProperties",
    "maxProperties", "dependencies", "dependentRequired", "dependentSchemas", "propertyNames",
    "unevaluatedProperties",
)  # fmt: skip
_ARRAY_KEYS = (
    "items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains",
    "minContains", "maxContains", "unevaluatedItems",
)  # fmt: skip
_FAMILIES: dict[str, tuple[str, ...]] = {
    "object": _OBJECT_KEYS,
    "array": _ARRAY_KEYS,
    "string": _STRING_KEYS,
    "number": _NUMBER_KEYS,
}
_TYPES = ("string", "number", "integer", "boolean", "null", "object", "array")


class _Reader:
    """Reads one schema document into the model, following local ``$ref``s lazily (cycles are fine)."""

    def __init__(self, root: Any) -> None:
        self.root = root
        dialect = str(root.get("$schema", "")) if isinstance(root, dict) else ""
        self.modern = "2019-09" in dialect or "2020-12" in dialect
        self._refs: dict[str, Node] = {}

    def read(self, schema: Any, where: str = "#") -> Node:
        if schema is True:
            return Empty(schema)
        if schema is False:
            return Nothing(schema)
        if not isinstance(schema, dict):
            raise SchemaModelError(f"{where}: a schema must be an object or a boolean, got {schema!r}")
        if "$ref" in schema:
            return self._ref(schema["$ref"], where)
        parts: list[Node] = []
        declared = schema.get("type")
        if declared is not None:
            types = [declared] if isinstance(declared, str) else list(declared)
            for name in types:
                if name not in _TYPES:
                    raise SchemaModelError(f"{where}/type: unknown type {name!r}")
            typed: list[Node] = [self._typed(schema, name, True, where) for name in types]
            parts.append(typed[0] if len(typed) == 1 else Combined({"type": types}, "anyOf", typed))
        else:
            for family, keys in _FAMILIES.items():
                if any(key in schema for key in keys):
                    parts.append(self._typed(schema, family, False, where))
        if "enum" in schema:
            parts.append(EnumNode({"enum": schema["enum"]}, tuple(schema["enum"])))
        if "const" in schema:
            parts.append(EnumNode({"const": schema["const"]}, (schema["const"],), "const"))
        if "not" in schema:
            parts.append(NotNode({"not": schema["not"]}, self.read(schema["not"], f"{where}/not")))
        for criterion in ("allOf", "anyOf", "oneOf"):
            if criterion in schema:
                subs = [self.read(s, f"{where}/{criterion}/{i}") for i, s in enumerate(schema[criterion])]
                parts.append(Combined({criterion: schema[criterion]}, criterion, subs))
        if not parts:
            return Empty(schema)
        if len(parts) == 1:
            parts[0].raw = schema
            return parts[0]
        return Combined(schema, "allOf", parts)

    def _ref(self, ref: Any, where: str) -> Node:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaModelError(
                f"{where}/$ref: only references within the file are supported, got {ref!r}"
            )
        if ref not in self._refs:
            self._refs[ref] = Ref({"$ref": ref}, lambda: self._target(ref, where))
        return self._refs[ref]

    def _target(self, ref: str, where: str) -> Node:
        target: Any = self.root
        for token in ref[1:].lstrip("/").split("/") if ref not in ("#", "#/") else []:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and token in target:
                target = target[token]
            elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
                target = target[int(token)]
            else:
                raise SchemaModelError(f"{where}/$ref: {ref} does not resolve within the file")
        return self.read(target, ref)

    def _typed(self, schema: dict[str, Any], name: str, requires: bool, where: str) -> Typed:
        if name in ("number", "integer"):
            keywords = {k: schema[k] for k in _NUMBER_KEYS if k in schema}
            _draft4_exclusive(keywords)
            return NumberNode(schema, "number", requires, keywords, integer=name == "integer")
        if name == "string":
            return Typed(schema, "string", requires, {k: schema[k] for k in _STRING_KEYS if k in schema})
        if name == "object":
            return self._object(schema, requires, where)
        if name == "array":
            return self._array(schema, requires, where)
        return Typed(schema, name, requires)

    def _object(self, schema: dict[str, Any], requires: bool, where: str) -> ObjectNode:
        properties = {
            k: self.read(v, f"{where}/properties/{k}") for k, v in schema.get("properties", {}).items()
        }
        defaults = frozenset(
            k for k, v in schema.get("properties", {}).items() if isinstance(v, dict) and "default" in v
        )
        additional_raw = schema.get("additionalProperties", schema.get("unevaluatedProperties"))
        dependent_required = {k: tuple(v) for k, v in schema.get("dependentRequired", {}).items()}
        dependent_schemas = {
            k: self.read(v, f"{where}/dependentSchemas/{k}")
            for k, v in schema.get("dependentSchemas", {}).items()
        }
        for k, v in schema.get("dependencies", {}).items():
            if isinstance(v, list):
                dependent_required[k] = tuple(v)
            else:
                dependent_schemas[k] = self.read(v, f"{where}/dependencies/{k}")
        return ObjectNode(
            schema,
            "object",
            requires,
            {k: schema[k] for k in ("minProperties", "maxProperties") if k in schema},
            properties=properties,
            required=frozenset(schema.get("required", ())),
            defaults=defaults,
            pattern_properties={
                p: self.read(v, f"{where}/patternProperties/{p}")
                for p, v in schema.get("patternProperties", {}).items()
            },
            additional=None
            if additional_raw is None
            else self.read(additional_raw, f"{where}/additionalProperties"),
            dependent_required=dependent_required,
            dependent_schemas=dependent_schemas,
            property_names=(
                self.read(schema["propertyNames"], f"{where}/propertyNames")
                if "propertyNames" in schema
                else None
            ),
        )

    def _array(self, schema: dict[str, Any], requires: bool, where: str) -> ArrayNode:
        items = schema.get("items")
        if self.modern or "prefixItems" in schema:
            prefix_raw = schema.get("prefixItems", [])
            rest_key = "items" if items is not None else "unevaluatedItems"
        elif isinstance(items, list):
            prefix_raw, rest_key = items, "additionalItems"
        else:
            prefix_raw = []
            rest_key = "items" if items is not None else "additionalItems"
        rest_raw = schema.get(rest_key)
        return ArrayNode(
            schema,
            "array",
            requires,
            {
                k: schema[k]
                for k in ("minItems", "maxItems", "uniqueItems", "minContains", "maxContains")
                if k in schema
            },
            prefix=[self.read(s, f"{where}/items/{i}") for i, s in enumerate(prefix_raw)],
            rest=None if rest_raw is None else self.read(rest_raw, f"{where}/{rest_key}"),
            rest_key=rest_key,
            contains=self.read(schema["contains"], f"{where}/contains") if "contains" in schema else None,
        )


def _draft4_exclusive(keywords: dict[str, Any]) -> None:
    """Draft-04 booleans ``exclusiveMinimum: true`` become the draft-06+ numeric form."""
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(keywords.get(exclusive), bool):
            if keywords.pop(exclusive) and bound in keywords:
                keywords[exclusive] = keywords.pop(bound)


# ---------------------------------------------------------------------------------------------
# The comparison


class _Context:
    def __init__(self, visiting: set[tuple[int, int]] | None = None) -> None:
        self.changes: list[Change] = []
        self.visiting = visiting if visiting is not None else set()

    def add(self, kind: str, path: str) -> None:
        self.changes.append(Change(kind, path))

    def sub(self) -> _Context:
        return _Context(self.visiting)

    @property
    def compatible(self) -> bool:
        return all(change.compatible for change in self.changes)


def diff(original: Any, update: Any) -> list[Change]:
    """Every difference between two schema documents, in BACKWARD terms (see the module doc)."""
    ctx = _Context()
    _compare(ctx, _Reader(original).read(original), _Reader(update).read(update), "#")
    return ctx.changes


def is_backward_compatible(original: Any, update: Any) -> bool:
    return all(change.compatible for change in diff(original, update))


def _unref(node: Node) -> Node:
    seen = 0
    while isinstance(node, Ref):
        node = node.resolve()
        seen += 1
        if seen > 100:
            raise SchemaModelError("$ref chain does not end")
    return node


def _key(node: Node) -> str:
    return json.dumps(node.raw, sort_keys=True, default=str)


def _compare(ctx: _Context, original: Node, update: Node, path: str) -> None:
    pair = (id(original), id(update))
    if pair in ctx.visiting:  # a recursive schema compared with itself further down: assume it holds
        return
    ctx.visiting.add(pair)
    try:
        _compare_nodes(ctx, _unref(original), _unref(update), path)
    finally:
        ctx.visiting.discard(pair)


def _compare_nodes(ctx: _Context, original: Node, update: Node, path: str) -> None:
    if isinstance(original, Nothing) or isinstance(update, Empty):
        return
    if not isinstance(original, Combined) and isinstance(update, Combined):
        if _into_combined(ctx, original, update, path):
            return
    if isinstance(original, Combined) and not isinstance(update, Combined):
        if _out_of_combined(ctx, original, update, path):
            return
    if type(original) is not type(update) or (
        isinstance(original, Typed) and isinstance(update, Typed) and original.json_type != update.json_type
    ):
        ctx.add("TYPE_CHANGED", path)
        return
    if isinstance(original, Typed) and isinstance(update, Typed):
        if original.requires != update.requires:
            ctx.add("TYPE_EXTENDED" if original.requires else "TYPE_NARROWED", path)
    if isinstance(original, NumberNode) and isinstance(update, NumberNode):
        _compare_numbers(ctx, original, update, path)
    elif isinstance(original, ObjectNode) and isinstance(update, ObjectNode):
        _compare_objects(ctx, original, update, path)
    elif isinstance(original, ArrayNode) and isinstance(update, ArrayNode):
        _compare_arrays(ctx, original, update, path)
    elif isinstance(original, Typed) and isinstance(update, Typed) and original.json_type == "string":
        _compare_strings(ctx, original, update, path)
    elif isinstance(original, EnumNode) and isinstance(update, EnumNode):
        _compare_enums(ctx, original, update, path)
    elif isinstance(original, NotNode) and isinstance(update, NotNode):
        # not A -> not B keeps old data valid when B accepts no more than A: the swapped question.
        sub = ctx.sub()
        _compare(sub, update.sub, original.sub, f"{path}/not")
        ctx.add("NOT_TYPE_NARROWED" if sub.compatible else "NOT_TYPE_EXTENDED", f"{path}/not")
    elif isinstance(original, Combined) and isinstance(update, Combined):
        _compare_combined(ctx, original, update, path)


def _compatible(ctx: _Context, original: Node, update: Node, path: str) -> _Context:
    sub = ctx.sub()
    _compare(sub, original, update, path)
    return sub


def _into_combined(ctx: _Context, original: Node, update: Combined, path: str) -> bool:
    """A plain schema that became a combination; True when settled here."""
    if update.criterion == "allOf":
        subs = [_compatible(ctx, original, s, f"{path}/allOf/{i}") for i, s in enumerate(update.subs)]
        if all(sub.compatible for sub in subs):
            for sub in subs:
                ctx.changes.extend(sub.changes)
            return True
        ctx.add("TYPE_CHANGED", path)
        return True
    for i, candidate in enumerate(update.subs):
        sub = _compatible(ctx, original, candidate, f"{path}/{update.criterion}/{i}")
        if sub.compatible:
            ctx.changes.extend(sub.changes)
            if len(update.subs) > 1:
                ctx.add("SUM_TYPE_EXTENDED", path)
            return True
    return False


def _out_of_combined(ctx: _Context, original: Combined, update: Node, path: str) -> bool:
    """A combination that became a plain schema; True when settled here."""
    if original.criterion == "allOf":
        for i, candidate in enumerate(original.subs):
            sub = _compatible(ctx, candidate, update, f"{path}/allOf/{i}")
            if sub.compatible:
                ctx.changes.extend(sub.changes)
                if len(original.subs) > 1:
                    ctx.add("PRODUCT_TYPE_NARROWED", path)
                return True
        return False
    subs = [
        _compatible(ctx, s, update, f"{path}/{original.criterion}/{i}") for i, s in enumerate(original.subs)
    ]
    if all(sub.compatible for sub in subs):
        for sub in subs:
            ctx.changes.extend(sub.changes)
        return True
    if len(original.subs) > 1:
        ctx.add("SUM_TYPE_NARROWED", path)
        return True
    return False


def _criteria(original: Combined, update: Combined, n_original: int, n_update: int) -> str | None:
    if original.criterion == update.criterion:
        return None
    if update.criterion == "anyOf":
        return "COMBINED_TYPE_EXTENDED"
    if update.criterion == "oneOf" and (original.criterion == "allOf" or n_original == 1):
        return "COMBINED_TYPE_EXTENDED"
    if n_original == 1 and n_update == 1:
        return "COMBINED_TYPE_EXTENDED"
    return "COMBINED_TYPE_CHANGED"


def _unique(nodes: list[Node]) -> list[Node]:
    seen: dict[str, Node] = {}
    for node in nodes:
        seen.setdefault(_key(node), node)
    return list(seen.values())


def _compare_combined(ctx: _Context, original: Combined, update: Combined, path: str) -> None:
    olds, news = _unique(original.subs), _unique(update.subs)
    criteria = _criteria(original, update, len(olds), len(news))
    if criteria is not None:
        ctx.add(criteria, path)
        if criteria == "COMBINED_TYPE_CHANGED":
            return
    if len(olds) < len(news):
        ctx.add("PRODUCT_TYPE_EXTENDED" if update.criterion == "allOf" else "SUM_TYPE_EXTENDED", path)
    elif len(olds) > len(news):
        ctx.add("PRODUCT_TYPE_NARROWED" if original.criterion == "allOf" else "SUM_TYPE_NARROWED", path)
    results: dict[tuple[int, int], _Context] = {}
    for i, old in enumerate(olds):
        for j, new in enumerate(news):
            results[(i, j)] = _compatible(ctx, old, new, f"{path}/{update.criterion}/{j}")
    pairing = _max_matching(len(olds), len(news), lambda i, j: results[(i, j)].compatible)
    if len(pairing) < min(len(olds), len(news)):
        ctx.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED", path)
        return
    for i, j in sorted(pairing.items()):
        ctx.changes.extend(results[(i, j)].changes)


def _max_matching(n_left: int, n_right: int, fits: Callable[[int, int], bool]) -> dict[int, int]:
    """Maximum bipartite matching (augmenting paths); subschema lists are short."""
    right_of: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in range(n_right):
            if j not in seen and fits(i, j):
                seen.add(j)
                if j not in right_of or augment(right_of[j], seen):
                    right_of[j] = i
                    return True
        return False

    for i in range(n_left):
        augment(i, set())
    return {i: j for j, i in right_of.items()}


def _bound(
    ctx: _Context, kw: Mapping[str, Any], ku: Mapping[str, Any], key: str, upper: bool, path: str
) -> None:
    """An upper bound may grow or go, a lower bound may shrink or go; anything else narrows."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper()
    old, new = kw.get(key), ku.get(key)
    if old == new or isinstance(old, bool) or isinstance(new, bool):
        return
    where = f"{path}/{key}"
    if new is None:
        ctx.add(f"{name}_REMOVED", where)
    elif old is None:
        ctx.add(f"{name}_ADDED", where)
    elif (new > old) == upper:
        ctx.add(f"{name}_INCREASED" if upper else f"{name}_DECREASED", where)
    else:
        ctx.add(f"{name}_DECREASED" if upper else f"{name}_INCREASED", where)


def _same_or_removed(
    ctx: _Context, kw: Mapping[str, Any], ku: Mapping[str, Any], key: str, path: str
) -> None:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper()
    old, new = kw.get(key), ku.get(key)
    if old == new:
        return
    if new is None:
        ctx.add(f"{name}_REMOVED", f"{path}/{key}")
    elif old is None:
        ctx.add(f"{name}_ADDED", f"{path}/{key}")
    else:
        ctx.add(f"{name}_CHANGED", f"{path}/{key}")


def _compare_strings(ctx: _Context, original: Typed, update: Typed, path: str) -> None:
    _bound(ctx, original.keywords, update.keywords, "maxLength", True, path)
    _bound(ctx, original.keywords, update.keywords, "minLength", False, path)
    _same_or_removed(ctx, original.keywords, update.keywords, "pattern", path)
    _same_or_removed(ctx, original.keywords, update.keywords, "format", path)


def _compare_numbers(ctx: _Context, original: NumberNode, update: NumberNode, path: str) -> None:
    if original.integer != update.integer:
        ctx.add("TYPE_EXTENDED" if original.integer else "TYPE_NARROWED", path)
    for key, upper in (
        ("maximum", True),
        ("minimum", False),
        ("exclusiveMaximum", True),
        ("exclusiveMinimum", False),
    ):
        _bound(ctx, original.keywords, update.keywords, key, upper, path)
    old, new = original.keywords.get("multipleOf"), update.keywords.get("multipleOf")
    if old != new:
        where = f"{path}/multipleOf"
        if new is None:
            ctx.add("MULTIPLE_OF_REMOVED", where)
        elif old is None:
            ctx.add("MULTIPLE_OF_ADDED", where)
        elif new != 0 and (old / new) == int(old / new):
            ctx.add("MULTIPLE_OF_REDUCED", where)  # every multiple of the old step is one of the new
        else:
            ctx.add("MULTIPLE_OF_CHANGED", where)


def _canonical(value: Any) -> str:
    # JSON equality: 1 and 1.0 are equal, true and 1 are not.
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(float(value))
    return json.dumps(value, sort_keys=True)


def _compare_enums(ctx: _Context, original: EnumNode, update: EnumNode, path: str) -> None:
    old = {_canonical(v) for v in original.values}
    new = {_canonical(v) for v in update.values}
    where = f"{path}/{update.keyword}"
    if old == new:
        return
    if old < new:
        ctx.add("ENUM_ARRAY_EXTENDED", where)
    elif new < old:
        ctx.add("ENUM_ARRAY_NARROWED", where)
    else:
        ctx.add("ENUM_ARRAY_CHANGED", where)


def _covering(node: ObjectNode, name: str) -> Node:
    """The schema ``node`` applies to a property it does not declare."""
    for pattern, schema in node.pattern_properties.items():
        if re.search(pattern, name):
            return schema
    return node.additional if node.additional is not None else Empty(True)


def _is(node: Node | None, kind: type[Node]) -> bool:
    return node is not None and isinstance(_unref(node), kind)


def _compare_objects(ctx: _Context, original: ObjectNode, update: ObjectNode, path: str) -> None:
    _bound(ctx, original.keywords, update.keywords, "maxProperties", True, path)
    _bound(ctx, original.keywords, update.keywords, "minProperties", False, path)
    for name in sorted(original.properties.keys() | update.properties.keys()):
        where = f"{path}/properties/{name}"
        old, new = original.properties.get(name), update.properties.get(name)
        if old is not None and new is not None:
            _compare(ctx, old, new, where)
        elif new is not None:
            _property_added(ctx, original, update, name, new, where)
        elif old is not None:
            _property_removed(ctx, update, name, old, where)
    for name in sorted(original.required - update.required):
        ctx.add("REQUIRED_ATTRIBUTE_REMOVED", f"{path}/required/{name}")
    # Newly declared properties were judged above. Unlike Schema Registry, requiring a name that no
    # version declares is flagged too: old data need not carry it (2 of its 263 cases differ here).
    for name in sorted(update.required - original.required):
        if name in original.properties or name not in update.properties:
            with_default = name in update.defaults
            ctx.add(
                "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED" if with_default else "REQUIRED_ATTRIBUTE_ADDED",
                f"{path}/required/{name}",
            )
    _compare_open_part(
        ctx, original.additional, update.additional, "ADDITIONAL_PROPERTIES", f"{path}/additionalProperties"
    )
    for pattern in sorted(original.pattern_properties.keys() | update.pattern_properties.keys()):
        where = f"{path}/patternProperties/{pattern}"
        old, new = original.pattern_properties.get(pattern), update.pattern_properties.get(pattern)
        if old is not None and new is not None:
            _compare(ctx, old, new, where)
        elif new is not None:
            # Old data may hold matching names only where the old model let them in.
            cover = original.additional if original.additional is not None else Empty(True)
            covered = _compatible(ctx, cover, new, where).compatible
            ctx.add("PATTERN_PROPERTY_ADDED_IS_COVERED" if covered else "PATTERN_PROPERTY_ADDED", where)
        elif old is not None:
            cover = update.additional if update.additional is not None else Empty(True)
            covered = _compatible(ctx, old, cover, where).compatible
            ctx.add("PATTERN_PROPERTY_REMOVED_IS_COVERED" if covered else "PATTERN_PROPERTY_REMOVED", where)
    for name in sorted(original.dependent_required.keys() | update.dependent_required.keys()):
        where = f"{path}/dependencies/{name}"
        old_deps, new_deps = original.dependent_required.get(name), update.dependent_required.get(name)
        if old_deps is None:
            ctx.add("DEPENDENCY_ARRAY_ADDED", where)
        elif new_deps is None:
            ctx.add("DEPENDENCY_ARRAY_REMOVED", where)
        elif set(new_deps) < set(old_deps):
            ctx.add("DEPENDENCY_ARRAY_NARROWED", where)
        elif set(new_deps) > set(old_deps):
            ctx.add("DEPENDENCY_ARRAY_EXTENDED", where)
        elif set(new_deps) != set(old_deps):
            ctx.add("DEPENDENCY_ARRAY_CHANGED", where)
    for name in sorted(original.dependent_schemas.keys() | update.dependent_schemas.keys()):
        where = f"{path}/dependencies/{name}"
        old, new = original.dependent_schemas.get(name), update.dependent_schemas.get(name)
        if old is not None and new is not None:
            _compare(ctx, old, new, where)
        else:
            ctx.add("DEPENDENCY_SCHEMA_ADDED" if old is None else "DEPENDENCY_SCHEMA_REMOVED", where)
    if original.property_names is not None and update.property_names is not None:
        _compare(ctx, original.property_names, update.property_names, f"{path}/propertyNames")
    elif update.property_names is not None:
        ctx.add("PROPERTY_NAMES_ADDED", f"{path}/propertyNames")
    elif original.property_names is not None:
        ctx.add("PROPERTY_NAMES_REMOVED", f"{path}/propertyNames")


def _property_added(
    ctx: _Context, original: ObjectNode, update: ObjectNode, name: str, new: Node, where: str
) -> None:
    required = name in update.required
    cover = _covering(original, name)
    if _is(cover, Empty):
        if _is(new, Empty):
            ctx.add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL", where)
        else:
            ctx.add("REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL" if required else
                    "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", where)  # fmt: skip
        return
    if not _is(cover, Nothing):
        sub = _compatible(ctx, cover, new, where)
        ctx.changes.extend(sub.changes)
        ctx.add(
            "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            if sub.compatible
            else "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            where,
        )
    if not required:
        ctx.add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", where)
    elif name in update.defaults:
        ctx.add("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL", where)
    else:
        ctx.add("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", where)


def _property_removed(ctx: _Context, update: ObjectNode, name: str, old: Node, where: str) -> None:
    cover = _covering(update, name)
    if _is(cover, Empty):
        ctx.add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", where)
    elif _is(cover, Nothing):
        ctx.add(
            "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            if _is(old, Nothing)
            else "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            where,
        )
    else:
        sub = _compatible(ctx, old, cover, where)
        ctx.changes.extend(sub.changes)
        ctx.add(
            "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            if sub.compatible
            else "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            where,
        )


def _compare_open_part(ctx: _Context, old: Node | None, new: Node | None, name: str, where: str) -> None:
    """additionalProperties / items after the prefix: absent or true is open, false closed."""
    old_open = old is None or _is(old, Empty)
    new_open = new is None or _is(new, Empty)
    old_closed, new_closed = _is(old, Nothing), _is(new, Nothing)
    if old_open and new_open:
        return
    if new_open:
        ctx.add(f"{name}_ADDED", where)
    elif old_open:
        ctx.add(f"{name}_REMOVED" if new_closed else f"{name}_NARROWED", where)
    elif old_closed and not new_closed:
        ctx.add(f"{name}_EXTENDED", where)
    elif new_closed and not old_closed:
        ctx.add(f"{name}_NARROWED", where)
    elif old is not None and new is not None and not old_closed:
        _compare(ctx, old, new, where)


def _compare_arrays(ctx: _Context, original: ArrayNode, update: ArrayNode, path: str) -> None:
    _bound(ctx, original.keywords, update.keywords, "maxItems", True, path)
    _bound(ctx, original.keywords, update.keywords, "minItems", False, path)
    _bound(ctx, original.keywords, update.keywords, "maxContains", True, path)
    _bound(ctx, original.keywords, update.keywords, "minContains", False, path)
    if original.keywords.get("uniqueItems") and not update.keywords.get("uniqueItems"):
        ctx.add("UNIQUE_ITEMS_REMOVED", f"{path}/uniqueItems")
    elif update.keywords.get("uniqueItems") and not original.keywords.get("uniqueItems"):
        ctx.add("UNIQUE_ITEMS_ADDED", f"{path}/uniqueItems")
    if original.contains is not None and update.contains is not None:
        _compare(ctx, original.contains, update.contains, f"{path}/contains")
    elif original.contains is not None:
        ctx.add("CONTAINS_REMOVED", f"{path}/contains")
    elif update.contains is not None:
        ctx.add("CONTAINS_ADDED", f"{path}/contains")
    old_rest = original.rest if original.rest is not None else Empty(True)
    new_rest = update.rest if update.rest is not None else Empty(True)
    for i in range(max(len(original.prefix), len(update.prefix))):
        where = f"{path}/items/{i}"
        if i < len(original.prefix) and i < len(update.prefix):
            _compare(ctx, original.prefix[i], update.prefix[i], where)
        elif i < len(update.prefix):
            new = update.prefix[i]
            if _is(old_rest, Empty):
                ctx.add("ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL" if _is(new, Empty)
                        else "ITEM_ADDED_TO_OPEN_CONTENT_MODEL", where)  # fmt: skip
            elif _is(old_rest, Nothing):
                ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", where)
            else:
                sub = _compatible(ctx, old_rest, new, where)
                ctx.changes.extend(sub.changes)
                ctx.add("ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if sub.compatible
                        else "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", where)  # fmt: skip
        else:
            old = original.prefix[i]
            if _is(new_rest, Empty):
                ctx.add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", where)
            elif _is(new_rest, Nothing):
                ctx.add("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL" if _is(old, Nothing)
                        else "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", where)  # fmt: skip
            else:
                sub = _compatible(ctx, old, new_rest, where)
                ctx.changes.extend(sub.changes)
                ctx.add("ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if sub.compatible
                        else "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", where)  # fmt: skip
    rest_key = update.rest_key if update.rest is not None else original.rest_key
    _compare_open_part(ctx, original.rest, update.rest, "ADDITIONAL_ITEMS", f"{path}/{rest_key}")


# ---------------------------------------------------------------------------------------------
# Modes per event type and the check of every version chain


class CompatibilityConfigError(ContractLoadError):
    """compatibility.yaml is missing, malformed or disagrees with the schema directories."""


class _ModesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_types: dict[str, Mode]


@dataclass(frozen=True, slots=True)
class Incompatibility:
    event_type: str
    version: int
    against: int
    direction: str  # "BACKWARD" (old data, new schema) or "FORWARD" (new data, old schema)
    rule: str
    path: str

    @property
    def message(self) -> str:
        if self.direction == "BACKWARD":
            sense = f"data written with v{self.against} would not validate under v{self.version}"
        else:
            sense = f"data written with v{self.version} would not validate under v{self.against}"
        return (
            f"{self.event_type} v{self.version} vs v{self.against} ({self.direction}): "
            f"{self.path}: {self.rule} ({sense})"
        )


@dataclass(frozen=True, slots=True)
class TypeReport:
    event_type: str
    mode: Mode
    versions: tuple[int, ...]
    incompatibilities: tuple[Incompatibility, ...]

    @property
    def compatible(self) -> bool:
        return not self.incompatibilities


def load_modes(path: Path) -> dict[str, Mode]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompatibilityConfigError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CompatibilityConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return dict(_ModesFile.model_validate(document).event_types)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']} (got {e['input']!r})"
            for e in exc.errors()
        )
        raise CompatibilityConfigError(f"{path}: {problems}") from exc


def check_versions(event_type: str, schemas: Mapping[int, Any], mode: Mode) -> tuple[Incompatibility, ...]:
    """Each version against its predecessor (or all of them, transitive) in the directions of ``mode``."""
    found: list[Incompatibility] = []
    documents = {v: _without_version_constant(s) for v, s in schemas.items()}
    for version in sorted(documents)[1:]:
        if mode is Mode.NONE:
            break
        earlier = [v for v in sorted(documents) if v < version]
        for against in earlier if mode.transitive else earlier[-1:]:
            directions = [("BACKWARD", documents[against], documents[version])] if mode.backward else []
            if mode.forward:
                directions.append(("FORWARD", documents[version], documents[against]))
            for direction, original, update in directions:
                for change in diff(original, update):
                    if not change.compatible:
                        found.append(
                            Incompatibility(event_type, version, against, direction, change.kind, change.path)
                        )
    return tuple(found)


def check_dir(root: Path | None = None) -> list[TypeReport]:
    """Check every event type's version chain under its configured mode."""
    from ingest.contracts import ContractRegistry

    root = root or SCHEMAS_DIR
    versions = load_schema_files(root)
    ContractRegistry(versions)  # every version must also compile for the gateway
    modes_file = root / COMPATIBILITY_FILE
    modes = load_modes(modes_file)
    missing = sorted(versions.keys() - modes.keys())
    unknown = sorted(modes.keys() - versions.keys())
    if missing:
        raise CompatibilityConfigError(f"{modes_file}: event_types: no mode for {', '.join(missing)}")
    if unknown:
        raise CompatibilityConfigError(
            f"{modes_file}: event_types: {', '.join(unknown)} has no schema directory under {root}"
        )
    reports = []
    for event_type, by_version in sorted(versions.items()):
        try:
            found = check_versions(
                event_type, {v: sv.schema for v, sv in by_version.items()}, modes[event_type]
            )
        except SchemaModelError as exc:
            raise ContractLoadError(f"{_newest(by_version).path}: {exc}") from exc
        reports.append(TypeReport(event_type, modes[event_type], tuple(sorted(by_version)), found))
    return reports


def _newest(by_version: Mapping[int, SchemaVersion]) -> SchemaVersion:
    return by_version[max(by_version)]


def _without_version_constant(schema: Any) -> Any:
    """``schema_version`` differs by construction between versions (it is the dispatch key, so v1 data
    never reaches the v2 validator); comparing its ``const`` would flag every new version."""
    if not isinstance(schema, dict) or "schema_version" not in schema.get("properties", {}):
        return schema
    properties = {**schema["properties"], "schema_version": {"type": "integer", "minimum": 1}}
    return {**schema, "properties": properties}
