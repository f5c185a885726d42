"""Schema compatibility: version chains judged under each Confluent mode, and `ecomctl schemas check`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ingest.compatibility import CompatibilityConfigError, Mode, check_dir, check_versions, load_modes
from ingest.contracts import SCHEMAS_DIR, ContractLoadError, ContractRegistry

REPO = Path(__file__).resolve().parents[2]
ECOMCTL = REPO / ".venv" / "bin" / "ecomctl"

Finding = tuple[int, int, str, str, str]  # version, against, direction, rule, path


def obj(
    properties: dict[str, Any], required: tuple[str, ...] = (), closed: bool = True, **extra: Any
) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def bad(rule: str, path: str, direction: str = "BACKWARD", version: int = 2, against: int = 1) -> Finding:
    return (version, against, direction, rule, path)


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
ITEM = obj({"sku": STR, "quantity": {"type": "integer", "minimum": 1}}, ("sku", "quantity"))
ITEM_MIN2 = obj({"sku": STR, "quantity": {"type": "integer", "minimum": 2}}, ("sku", "quantity"))
WITH_DEFS = {
    "type": "object",
    "properties": {"line": {"$ref": "#/definitions/line"}},
    "definitions": {"line": obj({"price": NUM}, ("price",))},
}
WITH_DEFS_INT = {**WITH_DEFS, "definitions": {"line": obj({"price": INT}, ("price",))}}
INLINED = {"type": "object", "properties": {"line": obj({"price": NUM}, ("price",))}}

CASES: list[tuple[str, Mode, list[dict[str, Any]], set[Finding]]] = [
    # BACKWARD: data written with the old schema must validate under the new one.
    ("optional added to closed", Mode.BACKWARD, [obj({"a": STR}), obj({"a": STR, "b": INT})], set()),
    (
        "required added to closed",
        Mode.BACKWARD,
        [obj({"a": STR}), obj({"a": STR, "b": INT}, ("b",))],
        {bad("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", "#/properties/b")},
    ),
    (
        "required with default added to closed",
        Mode.BACKWARD,
        [obj({"a": STR}), obj({"a": STR, "b": {"type": "integer", "default": 0}}, ("b",))],
        set(),
    ),
    (
        "optional added to open",
        Mode.BACKWARD,
        [obj({"a": STR}, closed=False), obj({"a": STR, "b": INT}, closed=False)],
        {bad("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", "#/properties/b")},
    ),
    (
        "property removed from closed",
        Mode.BACKWARD,
        [obj({"a": STR, "b": INT}), obj({"a": STR})],
        {bad("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "#/properties/b")},
    ),
    (
        "property removed from open",
        Mode.BACKWARD,
        [obj({"a": STR, "b": INT}, closed=False), obj({"a": STR}, closed=False)],
        set(),
    ),
    ("integer widened to number", Mode.BACKWARD, [obj({"q": INT}), obj({"q": NUM})], set()),
    (
        "number narrowed to integer",
        Mode.BACKWARD,
        [obj({"q": NUM}), obj({"q": INT})],
        {bad("TYPE_NARROWED", "#/properties/q")},
    ),
    (
        "string made nullable",
        Mode.BACKWARD,
        [obj({"u": STR}), obj({"u": {"type": ["string", "null"]}})],
        set(),
    ),
    (
        "nullable made string",
        Mode.BACKWARD,
        [obj({"u": {"type": ["string", "null"]}}), obj({"u": STR})],
        {bad("SUM_TYPE_NARROWED", "#/properties/u")},
    ),
    (
        "type changed",
        Mode.BACKWARD,
        [obj({"u": STR}), obj({"u": INT})],
        {bad("TYPE_CHANGED", "#/properties/u")},
    ),
    (
        "enum value added",
        Mode.BACKWARD,
        [obj({"e": {"enum": ["add", "remove"]}}), obj({"e": {"enum": ["add", "remove", "update"]}})],
        set(),
    ),
    (
        "enum value dropped",
        Mode.BACKWARD,
        [obj({"e": {"enum": ["add", "remove"]}}), obj({"e": {"enum": ["add"]}})],
        {bad("ENUM_ARRAY_NARROWED", "#/properties/e/enum")},
    ),
    (
        "const changed",
        Mode.BACKWARD,
        [obj({"k": {"const": 1}}), obj({"k": {"const": 2}})],
        {bad("ENUM_ARRAY_CHANGED", "#/properties/k/const")},
    ),
    (
        "maxLength decreased",
        Mode.BACKWARD,
        [obj({"s": {"type": "string", "maxLength": 64}}), obj({"s": {"type": "string", "maxLength": 32}})],
        {bad("MAX_LENGTH_DECREASED", "#/properties/s/maxLength")},
    ),
    (
        "maxLength increased",
        Mode.BACKWARD,
        [obj({"s": {"type": "string", "maxLength": 32}}), obj({"s": {"type": "string", "maxLength": 64}})],
        set(),
    ),
    (
        "minimum added",
        Mode.BACKWARD,
        [obj({"n": NUM}), obj({"n": {"type": "number", "minimum": 0}})],
        {bad("MINIMUM_ADDED", "#/properties/n/minimum")},
    ),
    (
        "exclusiveMaximum raised",
        Mode.BACKWARD,
        [
            obj({"n": {"type": "number", "exclusiveMaximum": 10}}),
            obj({"n": {"type": "number", "exclusiveMaximum": 20}}),
        ],
        set(),
    ),
    (
        "pattern changed",
        Mode.BACKWARD,
        [
            obj({"c": {"type": "string", "pattern": "^[A-Z]{3}$"}}),
            obj({"c": {"type": "string", "pattern": "^[A-Z]{2}$"}}),
        ],
        {bad("PATTERN_CHANGED", "#/properties/c/pattern")},
    ),
    ("required made optional", Mode.BACKWARD, [obj({"a": STR}, ("a",)), obj({"a": STR})], set()),
    (
        "optional made required",
        Mode.BACKWARD,
        [obj({"a": STR}), obj({"a": STR}, ("a",))],
        {bad("REQUIRED_ATTRIBUTE_ADDED", "#/required/a")},
    ),
    ("content model opened", Mode.BACKWARD, [obj({"a": STR}), obj({"a": STR}, closed=False)], set()),
    (
        "content model closed",
        Mode.BACKWARD,
        [obj({"a": STR}, closed=False), obj({"a": STR})],
        {bad("ADDITIONAL_PROPERTIES_REMOVED", "#/additionalProperties")},
    ),
    (
        "nested bound in array items",
        Mode.BACKWARD,
        [
            obj({"items": {"type": "array", "items": ITEM}}),
            obj({"items": {"type": "array", "items": ITEM_MIN2}}),
        ],
        {bad("MINIMUM_INCREASED", "#/properties/items/items/properties/quantity/minimum")},
    ),
    (
        "array items type changed",
        Mode.BACKWARD,
        [obj({"tags": {"type": "array", "items": STR}}), obj({"tags": {"type": "array", "items": INT}})],
        {bad("TYPE_CHANGED", "#/properties/tags/items")},
    ),
    (
        "minItems increased",
        Mode.BACKWARD,
        [obj({"l": {"type": "array", "minItems": 1}}), obj({"l": {"type": "array", "minItems": 2}})],
        {bad("MIN_ITEMS_INCREASED", "#/properties/l/minItems")},
    ),
    (
        "$ref target narrowed",
        Mode.BACKWARD,
        [WITH_DEFS, WITH_DEFS_INT],
        {bad("TYPE_NARROWED", "#/properties/line/properties/price")},
    ),
    ("inlined into a $ref unchanged", Mode.BACKWARD, [INLINED, WITH_DEFS], set()),
    (
        "annotations only",
        Mode.BACKWARD,
        [obj({"a": STR}), {**obj({"a": {**STR, "description": "x"}}), "title": "t"}],
        set(),
    ),
    # FORWARD: data written with the new schema must validate under the old one.
    (
        "FORWARD optional added to closed",
        Mode.FORWARD,
        [obj({"a": STR}), obj({"a": STR, "b": INT})],
        {bad("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "#/properties/b", "FORWARD")},
    ),
    (
        "FORWARD optional removed from closed",
        Mode.FORWARD,
        [obj({"a": STR, "b": INT}), obj({"a": STR})],
        set(),
    ),
    (
        "FORWARD enum value added",
        Mode.FORWARD,
        [obj({"e": {"enum": ["x"]}}), obj({"e": {"enum": ["x", "y"]}})],
        {bad("ENUM_ARRAY_NARROWED", "#/properties/e/enum", "FORWARD")},
    ),
    (
        "FORWARD maxLength decreased",
        Mode.FORWARD,
        [obj({"s": {"type": "string", "maxLength": 64}}), obj({"s": {"type": "string", "maxLength": 32}})],
        set(),
    ),
    (
        "FORWARD integer widened",
        Mode.FORWARD,
        [obj({"q": INT}), obj({"q": NUM})],
        {bad("TYPE_NARROWED", "#/properties/q", "FORWARD")},
    ),
    ("FORWARD optional made required", Mode.FORWARD, [obj({"a": STR}), obj({"a": STR}, ("a",))], set()),
    # FULL: both.
    (
        "FULL optional added to closed",
        Mode.FULL,
        [obj({"a": STR}), obj({"a": STR, "b": INT})],
        {bad("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "#/properties/b", "FORWARD")},
    ),
    (
        "FULL optional added to open",
        Mode.FULL,
        [obj({"a": STR}, closed=False), obj({"a": STR, "b": INT}, closed=False)],
        {bad("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", "#/properties/b")},
    ),
    (
        "FULL empty-schema property added to open",
        Mode.FULL,
        [obj({"a": STR}, closed=False), obj({"a": STR, "b": {}}, closed=False)],
        set(),
    ),
    (
        "FULL bound tightened",
        Mode.FULL,
        [obj({"n": {"type": "integer", "maximum": 9}}), obj({"n": {"type": "integer", "maximum": 5}})],
        {bad("MAXIMUM_DECREASED", "#/properties/n/maximum")},
    ),
    # NONE: anything goes.
    ("NONE type changed", Mode.NONE, [obj({"u": STR}), obj({"u": INT})], set()),
    # Transitive modes look at every earlier version, the others at the previous one only.
    (
        "BACKWARD checks the previous version only",
        Mode.BACKWARD,
        [obj({"a": STR}), obj({"a": STR}, ("a",)), obj({"a": STR}, ("a",))],
        {bad("REQUIRED_ATTRIBUTE_ADDED", "#/required/a")},
    ),
    (
        "BACKWARD_TRANSITIVE checks every earlier version",
        Mode.BACKWARD_TRANSITIVE,
        [obj({"a": STR}), obj({"a": STR}, ("a",)), obj({"a": STR}, ("a",))],
        {
            bad("REQUIRED_ATTRIBUTE_ADDED", "#/required/a"),
            bad("REQUIRED_ATTRIBUTE_ADDED", "#/required/a", version=3),
        },
    ),
    (
        "FORWARD_TRANSITIVE checks every earlier version",
        Mode.FORWARD_TRANSITIVE,
        [obj({"q": INT}), obj({"q": INT}), obj({"q": NUM})],
        {
            bad("TYPE_NARROWED", "#/properties/q", "FORWARD", 3, 1),
            bad("TYPE_NARROWED", "#/properties/q", "FORWARD", 3, 2),
        },
    ),
    (
        "FULL_TRANSITIVE compatible chain",
        Mode.FULL_TRANSITIVE,
        [obj({"a": STR}), obj({"a": {**STR, "title": "A"}}), obj({"a": {**STR, "description": "the a"}})],
        set(),
    ),
]


@pytest.mark.parametrize(("name", "mode", "chain", "expected"), CASES, ids=[case[0] for case in CASES])
def test_version_chain_verdicts(
    name: str, mode: Mode, chain: list[dict[str, Any]], expected: set[Finding]
) -> None:
    found = check_versions("t", dict(enumerate(chain, start=1)), mode)
    assert {(f.version, f.against, f.direction, f.rule, f.path) for f in found} == expected


def test_modes_know_their_directions() -> None:
    table = {mode: (mode.backward, mode.forward, mode.transitive) for mode in Mode}
    assert table == {
        Mode.BACKWARD: (True, False, False),
        Mode.BACKWARD_TRANSITIVE: (True, False, True),
        Mode.FORWARD: (False, True, False),
        Mode.FORWARD_TRANSITIVE: (False, True, True),
        Mode.FULL: (True, True, False),
        Mode.FULL_TRANSITIVE: (True, True, True),
        Mode.NONE: (False, False, False),
    }


def test_shipped_schemas_pass_under_their_modes() -> None:
    reports = {r.event_type: r for r in check_dir(SCHEMAS_DIR)}
    assert {t: r.mode for t, r in reports.items()} == {
        "page_view": Mode.BACKWARD,
        "cart": Mode.BACKWARD_TRANSITIVE,
        "purchase": Mode.FULL_TRANSITIVE,
    }
    assert all(r.compatible for r in reports.values()), [
        i.message for r in reports.values() for i in r.incompatibilities
    ]
    assert reports["page_view"].versions[-1] >= 2


def test_gateway_accepts_every_registered_page_view_version() -> None:
    registry = ContractRegistry.load()
    base = {
        "event_id": "0b5d6a2e-3c1f-4f7e-9a59-6f1d2b9c8e11",
        "event_type": "page_view",
        "occurred_at": "2026-11-24T10:00:00Z",
        "session_id": "s-1",
        "user_id": None,
        "payload": {"url": "/p/1", "referrer": None, "product_id": None},
    }
    assert registry.validate({**base, "schema_version": 1}).ok
    v2 = {**base, "schema_version": 2, "payload": {**base["payload"], "title": "Shoes", "duration_ms": 1200}}
    assert registry.validate(v2).ok
    v1_with_title = {**v2, "schema_version": 1}
    assert registry.validate(v1_with_title).message == "payload: unexpected property 'title', 'duration_ms'"


def copy_schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target)
    return target


def next_cart_version(root: Path, **new_properties: Any) -> Path:
    schema = json.loads((root / "cart" / "v1.json").read_text(encoding="utf-8"))
    schema["properties"]["schema_version"] = {"const": 2}
    payload = schema["definitions"]["payload"]
    payload["properties"].update(new_properties)
    payload["required"] = [*payload["required"], *new_properties]
    path = root / "cart" / "v2.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


def ecomctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ECOMCTL), *args], capture_output=True, text=True, timeout=60, check=False)


def test_cli_rejects_an_incompatible_new_version(tmp_path: Path) -> None:
    root = copy_schemas(tmp_path)
    next_cart_version(root, coupon={"type": "string", "maxLength": 32})
    result = ecomctl("schemas", "check", "--dir", str(root))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cart v2 vs v1 (BACKWARD): #/properties/payload/properties/coupon" in result.stdout
    assert "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL" in result.stdout
    as_json = json.loads(ecomctl("schemas", "check", "--dir", str(root), "--json").stdout)
    assert as_json["compatible"] is False
    [finding] = as_json["event_types"]["cart"]["incompatibilities"]
    assert (finding["rule"], finding["path"]) == (
        "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "#/properties/payload/properties/coupon",
    )


def test_cli_passes_the_shipped_schemas_with_one_line_per_type() -> None:
    result = ecomctl("schemas", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["cart", "page_view", "purchase"]
    assert all(line.endswith(" compatible") for line in lines)


def write_modes(root: Path, text: str) -> None:
    (root / "compatibility.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (
            lambda root: (root / "cart" / "v1.json").write_text("{oops", encoding="utf-8"),
            "cart/v1.json: not valid JSON",
        ),
        (
            lambda root: next_cart_version(root).rename(root / "cart" / "v3.json"),
            "version gap, missing v2.json",
        ),
        (
            lambda root: write_modes(
                root, "event_types:\n  page_view: SIDEWAYS\n  cart: NONE\n  purchase: FULL\n"
            ),
            "compatibility.yaml: event_types.page_view: Input should be 'BACKWARD'",
        ),
        (
            lambda root: write_modes(root, "event_types:\n  page_view: BACKWARD\n  cart: NONE\n"),
            "compatibility.yaml: event_types: no mode for purchase",
        ),
        (lambda root: write_modes(root, "modes: {}\n"), "compatibility.yaml: event_types: Field required"),
        (lambda root: write_modes(root, "event_types: [\n"), "compatibility.yaml: not valid YAML"),
    ],
)
def test_cli_bad_input_names_the_file(tmp_path: Path, breakage: Any, expected: str) -> None:
    root = copy_schemas(tmp_path)
    breakage(root)
    result = ecomctl("schemas", "check", "--dir", str(root))
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert str(root) in result.stderr


def test_unknown_mode_error_shows_field_and_value(tmp_path: Path) -> None:
    path = tmp_path / "compatibility.yaml"
    path.write_text("event_types:\n  cart: SIDEWAYS\n", encoding="utf-8")
    with pytest.raises(CompatibilityConfigError) as caught:
        load_modes(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: event_types.cart: ")
    assert "(got 'SIDEWAYS')" in message


def test_external_ref_is_a_clear_error(tmp_path: Path) -> None:
    root = copy_schemas(tmp_path)
    next_cart_version(root, note={"$ref": "https://example.com/other.json"})
    with pytest.raises(ContractLoadError, match=r"cart/v2.json: .*only references within the file"):
        check_dir(root)
