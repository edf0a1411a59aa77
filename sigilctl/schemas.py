"""JSON Schemas of the two documents sigilctl reads and writes, generated from their models."""

from __future__ import annotations

from typing import Any

from sigilctl.errors import InputError


def json_schema(name: str) -> dict[str, Any]:
    if name == "brief":
        from sigilctl.brief import Brief

        schema = Brief.model_json_schema()
        schema["$id"] = "https://sigilzero.dev/schemas/brief.json"
    elif name == "manifest":
        from sigilctl.manifest import SCHEMA_VERSION, Manifest

        schema = Manifest.model_json_schema()
        schema["$id"] = f"https://sigilzero.dev/schemas/manifest-{SCHEMA_VERSION}.json"
    else:
        raise InputError(f"unknown schema '{name}' (known: brief, manifest)")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
