"""Build the provider request of a run from its input snapshots alone.

This is what makes replay possible: the brief snapshot (with params), doctrine, context,
model_config and the pipeline snapshot (its prompt template text) are all a request needs.
The installed pipeline code is used for its logic only (templates and system prompt come from
the snapshot); if it no longer matches the run's pipeline snapshot (another version or reply
schema) replay says so rather than silently parsing something else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel

from sigilctl.canonical import canonical_bytes
from sigilctl.errors import SigilError
from sigilctl.identity import sha256_hex, snapshot_path
from sigilctl.pipelines.base import Pipeline
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.providers.base import GenerationRequest

REQUIRED = ("brief", "doctrine", "context", "model_config", "pipeline")


class ReplayError(SigilError):
    """The run cannot be rebuilt from its snapshots (exit 1): the message says why."""

    exit_code = 1


@dataclass(frozen=True)
class BuiltRequest:
    pipeline: Pipeline[Any, Any]
    inputs: PipelineInputs
    params: BaseModel
    request: GenerationRequest


def prompt_bytes(request: GenerationRequest) -> bytes:
    """The RFC 8785 bytes of ``{"system": ..., "prompt": ...}``: the exact text a provider is
    sent."""
    return canonical_bytes({"system": request.system, "prompt": request.prompt})


def prompt_sha256(request: GenerationRequest) -> str:
    """sha256 of ``prompt_bytes`` (recorded in the manifest as ``prompt_sha256``, outside the
    identity)."""
    return sha256_hex(prompt_bytes(request))


# What the installed code must still agree on: its version and the reply schema it parses.
# The templates and system prompt are read from the snapshot itself, so they may differ.
CODE_FIELDS = ("job_type", "version", "output_schema")


def load_pipeline(snapshots: Mapping[str, Any]) -> Pipeline[Any, Any]:
    """The installed pipeline of the run's job type, holding the run's own template text, and
    refused when its code no longer matches the run's pipeline snapshot."""
    from sigilctl import pipelines

    missing = [name for name in REQUIRED if not isinstance(snapshots.get(name), dict)]
    if missing:
        raise ReplayError(f"the run has no usable {', '.join(missing)} snapshot")
    recorded: dict[str, Any] = snapshots["pipeline"]
    job_type = recorded.get("job_type")
    where = snapshot_path("pipeline")
    if not isinstance(job_type, str):
        raise ReplayError(f"{where} names no job_type")
    pipeline = pipelines.get_pipeline(job_type, source=where)
    if recorded.get("version") != pipeline.version:
        raise ReplayError(
            f"the run was made by {job_type} {recorded.get('version')}; this sigilctl has "
            f"{job_type} {pipeline.version}, so it cannot rebuild the run faithfully"
        )
    current = orjson.loads(canonical_bytes(pipeline.snapshot()))
    differ = [k for k in CODE_FIELDS if current.get(k) != recorded.get(k)]
    if differ:
        raise ReplayError(
            f"the installed {job_type} {pipeline.version} differs from the run's pipeline "
            f"snapshot in: {', '.join(differ)}"
        )
    return pipeline


def build_run_request(snapshot_bytes: Mapping[str, bytes]) -> BuiltRequest:
    """The request a run sends, built from its snapshot bytes only (and the pipeline's logic)."""
    inputs = PipelineInputs.from_snapshots(snapshot_bytes)
    pipeline = load_pipeline({name: getattr(inputs, name) for name in REQUIRED})
    return build_with(pipeline, inputs)


def build_with(pipeline: Pipeline[Any, Any], inputs: PipelineInputs) -> BuiltRequest:
    """The pipeline-code half of ``build_run_request``: what replay runs inside its confinement.

    The same call the runner makes, so a run and its replay build the request identically."""
    request = pipeline.build_request(inputs)
    return BuiltRequest(pipeline, inputs, pipeline.params_of(inputs), request)
