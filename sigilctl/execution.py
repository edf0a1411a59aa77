"""Steps 8–10 up to publication: one execution of a run_id, built in a hidden folder.

Snapshots first (the bytes frozen by ``prepare``), then the trace (only now that run_id
exists), the model call, the outputs, and ``manifest.json`` last. Nothing here is visible until
the store publishes the folder; any failure removes it. A failed run keeps the provider's raw
reply as ``outputs/raw_response.json`` (``.txt`` when it is not JSON), listed in the manifest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from sigilctl import __version__, env
from sigilctl.errors import StorageError
from sigilctl.generation import Generation, generate
from sigilctl.history import new_execution_id
from sigilctl.identity import Identity, sha256_hex, snapshot_path
from sigilctl.manifest import (
    MANIFEST_NAME,
    ArtifactEntry,
    Manifest,
    ProviderRecord,
    SnapshotEntry,
    UsageRecord,
    utc_now,
)
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.prepare import Prepared, RunOptions
from sigilctl.store import RunStore

if TYPE_CHECKING:
    from sigilctl.observability import RunObservability

RAW_REPLY_STEM = "raw_response"


@dataclass(frozen=True)
class Execution:
    """A finished, unpublished execution: its build folder, its manifest and its trace."""

    staging: Path
    manifest: Manifest
    observability: RunObservability  # the run's trace (if traced), delivered after the lock

    @property
    def execution_id(self) -> str:
        assert self.manifest.execution_id is not None
        return self.manifest.execution_id

    @property
    def succeeded(self) -> bool:
        return self.manifest.status == "succeeded"


@dataclass(frozen=True)
class ExecutionRecord:
    """Everything the manifest of one execution says, as one typed value."""

    prepared: Prepared
    execution_id: str
    started_at: str
    finished_at: str
    duration_ms: int
    generation: Generation
    artifacts: list[ArtifactEntry]
    trace_id: str | None
    langfuse_host: str | None
    queue_job_id: str | None

    def manifest(self) -> Manifest:
        job, identity, provider = self.prepared.job, self.prepared.identity, self.prepared.provider
        result = self.generation.result
        usage = result.usage if result else None
        return Manifest(
            job_id=job.brief.job_id,
            run_id=identity.run_id,
            inputs_hash=identity.inputs_hash,
            job_type=job.brief.job_type,
            brand=job.brief.brand,
            status="succeeded" if self.generation.error is None else "failed",
            input_snapshots=_snapshot_entries(identity),
            artifacts=self.artifacts,
            langfuse_trace_id=self.trace_id,
            langfuse_host=self.langfuse_host,
            started_at=self.started_at,
            finished_at=self.finished_at,
            duration_ms=self.duration_ms,
            sigilctl_version=__version__,
            error=self.generation.error,
            usage=UsageRecord(**usage.as_dict()) if usage else None,
            provider=ProviderRecord(
                name=provider.name,
                model=result.model if result else job.snapshots["model_config"]["name"],
                offline=provider.offline,
                endpoint=provider.endpoint(),
                attempts=result.attempts if result else None,
            ),
            pipeline_version=job.pipeline.version,
            execution_id=self.execution_id,
            queue_job_id=self.queue_job_id,
            cost=self.generation.cost,
            prompt_sha256=self.generation.prompt_sha256,
            context_scores=job.context_scores or None,
        )


def execute(prepared: Prepared, store: RunStore, options: RunOptions) -> Execution:
    """Build one execution of ``prepared`` in a hidden folder (the caller holds the lock)."""
    from sigilctl.observability import RunObservability

    job, identity = prepared.job, prepared.identity
    started_at = utc_now()
    clock = time.monotonic()
    staging = store.staging_dir(prepared.job_id, prepared.run_id)
    obs = RunObservability(None)
    try:
        write_snapshots(staging, identity)
        obs = _start_trace(prepared, options, started_at, store)
        inputs = PipelineInputs.from_identity(identity)
        with obs.active():  # the pipeline's own trace_step/trace_function calls nest here
            generation = generate(job, inputs, prepared.provider, options.on_call)
            artifacts = _write_outputs(prepared, inputs, generation, staging)
        status = "succeeded" if generation.error is None else "failed"
        obs.finalize(status, generation.error, [a.path for a in artifacts])
        record = ExecutionRecord(
            prepared=prepared,
            execution_id=new_execution_id(started_at),
            started_at=started_at,
            finished_at=utc_now(),
            duration_ms=int((time.monotonic() - clock) * 1000),
            generation=generation,
            artifacts=artifacts,
            trace_id=obs.trace_id,
            langfuse_host=obs.host,
            queue_job_id=options.queue_job_id,
        )
        manifest = record.manifest()
        (staging / MANIFEST_NAME).write_bytes(manifest.to_bytes())
    except OSError as exc:
        store.discard(staging)
        obs.abort(exc)
        raise StorageError(f"cannot write the run under {staging.parent}: {exc.strerror}") from None
    except BaseException as exc:
        store.discard(staging)
        obs.abort(exc)
        raise
    return Execution(staging, manifest, obs)


def _start_trace(
    prepared: Prepared, options: RunOptions, started_at: str, store: RunStore
) -> RunObservability:
    """Step 8: start the trace (run_id exists now); record ``trace_started`` only if it did."""
    from sigilctl import observability

    job, identity = prepared.job, prepared.identity
    brief = job.brief
    settings = brief.observability
    obs = observability.start_run(
        observability.GovernanceIds(
            brief.job_id,
            identity.run_id,
            brief.job_type,
            brief.brand,
            identity.inputs_hash,
            options.queue_job_id,
        ),
        enabled=options.trace and (settings.enabled if settings else True),
        sample_rate=settings.sample_rate if settings else None,
        started_at=started_at,
        artifacts=store.artifacts,
        measured=job.steps.records,
    )
    if obs.traced:
        job.steps.event("trace_started")
    return obs


def write_snapshots(staging: Path, identity: Identity) -> None:
    for name, data in identity.snapshots.items():
        (staging / snapshot_path(name)).write_bytes(data)


def _write_outputs(
    prepared: Prepared, inputs: PipelineInputs, generation: Generation, staging: Path
) -> list[ArtifactEntry]:
    """The pipeline's outputs of a succeeded call, or the raw reply of a failed one."""
    from sigilctl.observability import trace_step

    outputs = staging / "outputs"
    if generation.parsed is None:
        if not generation.raw:
            return []
        return [_artifact_entry(staging, _write_raw_reply(outputs, generation.raw))]
    with trace_step("generate_outputs") as step:
        written = prepared.job.pipeline.write_outputs(generation.parsed, inputs, outputs)
        artifacts = [_artifact_entry(staging, path) for path in sorted(written)]
        step.update(files=[a.path for a in artifacts], bytes=sum(a.bytes for a in artifacts))
    return artifacts


def _write_raw_reply(outputs: Path, raw: str) -> Path:
    text = env.scrub(raw)
    try:
        orjson.loads(text)
        suffix = ".json"
    except orjson.JSONDecodeError:
        suffix = ".txt"
    outputs.mkdir(exist_ok=True)
    path = outputs / f"{RAW_REPLY_STEM}{suffix}"
    path.write_bytes(text.encode("utf-8"))
    return path


def _snapshot_entries(identity: Identity) -> dict[str, SnapshotEntry]:
    return {
        name: SnapshotEntry(
            path=snapshot_path(name), sha256=identity.snapshot_hashes[name], bytes=len(data)
        )
        for name, data in identity.snapshots.items()
    }


def _artifact_entry(run_dir: Path, path: Path) -> ArtifactEntry:
    data = path.read_bytes()
    return ArtifactEntry(
        path=path.relative_to(run_dir).as_posix(), sha256=sha256_hex(data), bytes=len(data)
    )
