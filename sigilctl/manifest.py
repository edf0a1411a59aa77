"""The run manifest (SPEC §6, schema_version 1.2.0): written last, read by every other command.

Readers ignore unknown fields and accept older manifests, whose optional fields may be absent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sigilctl.errors import InputError

SCHEMA_VERSION = "1.2.0"
MANIFEST_NAME = "manifest.json"
RunStatus = Literal["succeeded", "failed", "partial"]
RUN_STATUSES: tuple[str, ...] = ("succeeded", "failed", "partial")


class SnapshotEntry(BaseModel):
    """Exactly path, sha256, bytes: nothing else may ride along (e.g. a trace id)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class ArtifactEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class UsageRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class ProviderRecord(BaseModel):
    """Which provider produced the outputs. ``offline: true`` marks demo/CI output clearly."""

    model_config = ConfigDict(extra="ignore")

    name: str
    model: str
    offline: bool
    endpoint: str | None = None
    attempts: int | None = None


class CostRecord(BaseModel):
    """What the model calls of a run cost (SPEC §12); ``total`` is null with a ``reason`` when a
    price is unknown, never a made-up 0."""

    model_config = ConfigDict(extra="ignore")

    currency: str = "USD"
    input: float | None = None
    output: float | None = None
    total: float | None = None
    source: str | None = None
    reason: str | None = None


class Manifest(BaseModel):
    """Fields after ``pipeline_version`` are all outside the identity (root level, optional):
    older manifests lack them and still read."""

    model_config = ConfigDict(extra="ignore")

    schema_version: str = SCHEMA_VERSION
    job_id: str
    run_id: str
    inputs_hash: str
    job_type: str | None = None
    brand: str | None = None
    status: RunStatus
    input_snapshots: dict[str, SnapshotEntry]
    artifacts: list[ArtifactEntry] = Field(default_factory=list)
    langfuse_trace_id: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_ms: int | None = None
    sigilctl_version: str | None = None
    error: str | None = None
    usage: UsageRecord | None = None
    provider: ProviderRecord | None = None
    pipeline_version: str | None = None
    # One execution of the run_id (SPEC §8): sorts by start time; names its history folder.
    execution_id: str | None = None
    # Where the trace was sent: the Langfuse base URL without credentials (SPEC §9).
    langfuse_host: str | None = None
    # The queue task that executed the run (SPEC §10).
    queue_job_id: str | None = None
    cost: CostRecord | None = None
    # sha256 of the exact prompt text sent to the provider (replay compares it, SPEC §12).
    prompt_sha256: str | None = None
    # The retrieval score of each context document the run used, by path (``show`` lists them
    # with their ranks from the context snapshot). Outside the identity: scores never enter a
    # snapshot.
    context_scores: dict[str, float] | None = None

    def to_bytes(self) -> bytes:
        """Pretty, key-sorted JSON with a trailing newline: stable and readable in diffs."""
        document = self.model_dump(mode="json")
        return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_manifest(run_dir: Path) -> Manifest:
    """Read and validate a run's manifest, never through a link (``sigilctl.run_files``).

    A missing or unreadable manifest is one InputError sentence; a linked one is an
    UnsafeRunPath (the run is tampered, exit 1)."""
    from sigilctl.nesting import NestingError
    from sigilctl.run_files import RunFolder

    path = run_dir / MANIFEST_NAME
    try:
        with RunFolder.open(run_dir) as folder:
            raw = folder.read_json(MANIFEST_NAME)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{run_dir} is not a run directory (no {MANIFEST_NAME})") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc})") from None
    except NestingError as exc:
        raise InputError(f"{path} is not a manifest: {exc}") from None
    return parse_manifest(raw, path)


def parse_manifest(raw: object, path: Path) -> Manifest:
    """A manifest document read from ``path`` as the typed model; one InputError if it is not."""
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"{path} does not match the manifest schema ({where}: {first['msg']})"
        ) from None
