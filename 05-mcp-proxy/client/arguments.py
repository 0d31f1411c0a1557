"""Turn `key=value` words from the command line into tool arguments.

A shell only has strings; a tool wants numbers, booleans and lists. The tool's
input schema (from `tools/list`) says which type each argument has, so the
client converts by that, and leaves anything it cannot convert as a string for
the server to reject with its own validation message.
"""

import json
from typing import Any


def schema_types(property_schema: dict[str, Any]) -> set[str]:
    """The JSON types a property accepts: {"type": ...} or each branch of anyOf/oneOf."""
    kind = property_schema.get("type")
    types = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    for branch in property_schema.get("anyOf", []) + property_schema.get("oneOf", []):
        types |= schema_types(branch)
    return types


def convert(raw: str, property_schema: dict[str, Any]) -> Any:
    types = schema_types(property_schema)
    if not types or "string" in types:
        return raw
    try:
        return json.loads(raw)  # 2 -> 2, 2.5 -> 2.5, true -> True, [1,2] -> [1, 2]
    except json.JSONDecodeError:
        return raw


def parse_arguments(pairs: list[str], input_schema: dict[str, Any]) -> dict[str, Any]:
    properties = input_schema.get("properties", {})
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{pair!r} is not KEY=VALUE")
        arguments[key] = convert(raw, properties.get(key, {}))
    return arguments
