"""JSON Schemas of the two documents sigilctl reads and writes, generated from their models.

The brief's schema describes each installed job type's ``params`` too: ``job_type`` is one of
the registered names, and an ``if job_type == X then params is X's params model`` clause per
type, so an editor (or any JSON Schema validator) checks a brief as fully as ``sigilctl run``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sigilctl.errors import InputError

if TYPE_CHECKING:
    from sigilctl.pipelines.registry import LoadedPipeline

DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class SchemaDocument:
    """A schema, and the job types left out of it because they cannot be loaded."""

    schema: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def schema_document(name: str) -> SchemaDocument:
    if name == "brief":
        from sigilctl.brief import Brief
        from sigilctl.pipelines.registry import load_all

        loaded = load_all()
        schema = with_job_types(Brief.model_json_schema(), loaded)
        schema["$id"] = "https://sigilzero.dev/schemas/brief.json"
        warnings = [item.error for item in loaded if item.error]
    elif name == "manifest":
        from sigilctl.manifest import SCHEMA_VERSION, Manifest

        schema = Manifest.model_json_schema()
        schema["$id"] = f"https://sigilzero.dev/schemas/manifest-{SCHEMA_VERSION}.json"
        warnings = []
    else:
        raise InputError(f"unknown schema '{name}' (known: brief, manifest)")
    schema["$schema"] = DIALECT
    return SchemaDocument(schema, warnings)


def json_schema(name: str) -> dict[str, Any]:
    return schema_document(name).schema


def params_schema(loaded: LoadedPipeline, ref_prefix: str = "") -> dict[str, Any]:
    """The JSON Schema of one usable job type's ``params``; nested models under ``ref_prefix``."""
    pipeline = loaded.pipeline
    if pipeline is None:
        raise InputError(f"job type '{loaded.name}' cannot be loaded: {loaded.error}")
    schema: dict[str, Any] = pipeline.params_model.model_json_schema(
        ref_template=f"#/$defs/{ref_prefix}{{model}}"
    )
    schema["description"] = (
        f"params of job type {pipeline.name} {pipeline.version} ({loaded.registration.origin})"
    )
    return schema


def with_job_types(brief: dict[str, Any], loaded: list[LoadedPipeline]) -> dict[str, Any]:
    """``brief`` with ``job_type`` limited to the usable job types and ``params`` per type."""
    usable = [item for item in loaded if item.pipeline is not None]
    defs: dict[str, Any] = brief.setdefault("$defs", {})
    clauses = []
    for item in usable:
        prefix = f"{item.name}."
        params = params_schema(item, prefix)
        for model, sub in params.pop("$defs", {}).items():
            defs[prefix + model] = sub
        defs[f"{item.name}.params"] = params
        clauses.append(
            {
                "if": {"properties": {"job_type": {"const": item.name}}, "required": ["job_type"]},
                "then": {"properties": {"params": {"$ref": f"#/$defs/{item.name}.params"}}},
            }
        )
    brief["properties"]["job_type"]["enum"] = [item.name for item in usable]
    if clauses:
        brief["allOf"] = clauses
    return brief
