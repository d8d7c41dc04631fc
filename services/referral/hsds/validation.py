"""Validation of HSDS 3.1 records against the standard's own JSON schemas (shipped in `schema/`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).parent / "schema"
# The schemas refer to each other by bare file name ("service_capacity.json"): each is registered under
# its file name, so every reference resolves to the copy shipped here, never to the network.
RECORD_SCHEMAS = {
    "organizations": "organization.json",
    "services": "service.json",
    "locations": "location.json",
    "service_at_locations": "service_at_location.json",
}


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(schema_file: str) -> Draft202012Validator:
    """A validator for one HSDS object, formats (uuid, date-time, email, uri) checked where a checker exists."""
    return Draft202012Validator({"$ref": schema_file}, registry=_registry(), format_checker=FormatChecker())


def _message(error: ValidationError) -> str:
    """Says what is wrong without repeating the value sent (it may be personal data)."""
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        return "is required"
    if kind == "enum":
        return "must be one of: " + ", ".join(map(str, expected))
    if kind == "type":
        return f"must be of type {expected}"
    if kind == "format":
        return f"must be a valid {expected}"
    return f"does not satisfy the HSDS 3.1 schema ({kind})"


def record_errors(schema_file: str, record: Any, where: str) -> Iterator[dict[str, str]]:
    """One `{field, message}` per problem of this record; `where` names the record (e.g. `body.services.3`)."""
    for error in sorted(validator(schema_file).iter_errors(record), key=lambda e: list(map(str, e.absolute_path))):
        path = [where, *map(str, error.absolute_path)]
        if error.validator == "required":
            # One error per missing property; its message starts with the property's name (the schema's, not sent).
            path.append(error.message.split(" is a required property")[0].strip("'\""))
        yield {"field": ".".join(path)[:200], "message": _message(error)}
