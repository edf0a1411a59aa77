"""``sigilctl run``: the run sequence of SPEC §5, in its normative order.

1 load brief → 2 resolve inputs → 3 freeze canonical snapshots → 4 hash → 5 inputs_hash →
6 run_id — the tracing boundary — 7 cache hit? → 8 start trace → 9 execute → 10 write outputs,
finalize the trace, write manifest.json, publish. Snapshot bytes are frozen in memory at step 3
and are the first files written into the run's build directory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sigilctl import __version__
from sigilctl.errors import StorageError
from sigilctl.identity import Identity, compute_identity, sha256_hex, snapshot_path
from sigilctl.manifest import (
    MANIFEST_NAME,
    ArtifactEntry,
    Manifest,
    ProviderRecord,
    SnapshotEntry,
    UsageRecord,
    read_manifest,
    utc_now,
)
from sigilctl.pipelines.base import OutputError
from sigilctl.providers import get_provider
from sigilctl.providers.base import GenerationRequest, GenerationResult, Provider, ProviderError
from sigilctl.resolve import ResolvedJob, resolve_job
from sigilctl.steps import IdentityDerived, SnapshotFrozen, StepRecord
from sigilctl.store import RunStore
from sigilctl.workspace import Workspace, brief_path_for


@dataclass(frozen=True)
class RunOptions:
    force: bool = False
    provider: str | None = None
    trace: bool = True


@dataclass
class RunOutcome:
    job_id: str
    run_id: str
    inputs_hash: str
    status: str
    cached: bool
    run_dir: Path
    langfuse_trace_id: str | None = None
    error: str | None = None
    trace_warning: str | None = None
    events: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "inputs_hash": self.inputs_hash,
            "status": self.status,
            "cached": self.cached,
            "run_dir": str(self.run_dir),
            "langfuse_trace_id": self.langfuse_trace_id,
            "error": self.error,
        }


def freeze(job: ResolvedJob) -> Identity:
    """Steps 3–6: canonical snapshot bytes, their hashes, inputs_hash, run_id."""
    with job.steps.step("create_snapshots") as parent:
        identity = compute_identity(job.snapshots)
        for name, data in identity.snapshots.items():
            job.steps.records.append(
                StepRecord(
                    f"snapshot_{name}",
                    parent.start_ns,
                    time.time_ns(),
                    output=SnapshotFrozen(
                        snapshot_path(name), identity.snapshot_hashes[name], len(data)
                    ),
                    parent="create_snapshots",
                )
            )
        parent.output = IdentityDerived(identity.inputs_hash, identity.run_id)
    job.steps.event("snapshots_frozen")
    job.steps.event("inputs_hash")
    job.steps.event("run_id")
    return identity


def is_reusable(run_dir: Path) -> bool:
    """A cache hit needs a succeeded run whose files still verify."""
    from sigilctl.verify import verify_run

    if not (run_dir / MANIFEST_NAME).is_file():
        return False
    report = verify_run(run_dir)
    return report.ok and report.status == "succeeded"


def run_job(job_ref: str, workspace: Workspace, options: RunOptions | None = None) -> RunOutcome:
    """Run one job end to end and return what happened (never raises for a failed LLM call)."""
    options = options or RunOptions()
    started_at = utc_now()
    clock = time.monotonic()
    job = resolve_job(
        brief_path_for(job_ref, workspace), workspace, provider_override=options.provider
    )
    provider = get_provider(job.snapshots["model_config"]["provider"])
    provider.check_ready()
    identity = freeze(job)
    brief = job.brief
    store = RunStore(workspace.artifacts)
    final = store.run_dir(brief.job_id, identity.run_id)
    with store.lock(brief.job_id, identity.run_id):
        for restored in store.clean_stale(brief.job_id, held_run_id=identity.run_id):
            from sigilctl.index import record_run  # a cache: warns, never fails the run

            record_run(store.artifacts, restored)
        if not options.force and is_reusable(final):
            cached = read_manifest(final)
            return RunOutcome(
                brief.job_id,
                identity.run_id,
                identity.inputs_hash,
                cached.status,
                True,
                final,
                cached.langfuse_trace_id,
                events=job.steps.events,
            )
        outcome = _execute(job, identity, provider, store, options, started_at, clock)
    return outcome


def _execute(
    job: ResolvedJob,
    identity: Identity,
    provider: Provider,
    store: RunStore,
    options: RunOptions,
    started_at: str,
    clock: float,
) -> RunOutcome:
    from sigilctl import observability

    brief = job.brief
    staging = store.staging_dir(brief.job_id, identity.run_id)
    obs = observability.RunObservability(None)
    try:
        _write_snapshots(staging, identity)
        settings = brief.observability
        obs = observability.start_run(
            observability.GovernanceIds(
                brief.job_id, identity.run_id, brief.job_type, brief.brand, identity.inputs_hash
            ),
            enabled=options.trace and (settings.enabled if settings else True),
            sample_rate=settings.sample_rate if settings else None,
            started_at=started_at,
            artifacts=store.artifacts,
            measured=job.steps.records,
        )
        if obs.traced:
            job.steps.event("trace_started")
        with obs.active():
            result, parsed, error = _generate(job, identity, provider)
            artifacts: list[ArtifactEntry] = []
            if parsed is not None:
                with observability.trace_step("generate_outputs") as step:
                    written = job.pipeline.write_outputs(parsed, staging / "outputs")
                    artifacts = [_artifact_entry(staging, path) for path in sorted(written)]
                    step.update(
                        files=[a.path for a in artifacts], bytes=sum(a.bytes for a in artifacts)
                    )
        status = "succeeded" if error is None else "failed"
        obs.finalize(status, error, [a.path for a in artifacts])
        trace_id = obs.trace_id
        manifest = _manifest(
            job, identity, provider, result, status, error, artifacts, trace_id, started_at
        )
        manifest.langfuse_host = obs.host
        manifest.duration_ms = int((time.monotonic() - clock) * 1000)
        (staging / MANIFEST_NAME).write_bytes(manifest.to_bytes())
        final = store.run_dir(brief.job_id, identity.run_id)
        store.publish(staging, final)
        from sigilctl.index import record_run  # a cache: warns, never fails the run

        record_run(store.artifacts, final)
    except OSError as exc:
        store.discard(staging)
        obs.abort(exc)
        raise StorageError(f"cannot write the run under {staging.parent}: {exc.strerror}") from None
    except BaseException as exc:
        store.discard(staging)
        obs.abort(exc)
        raise
    warning = obs.deliver()
    return RunOutcome(
        brief.job_id,
        identity.run_id,
        identity.inputs_hash,
        status,
        False,
        final,
        trace_id,
        error,
        warning,
        job.steps.events,
    )


def _generate(
    job: ResolvedJob, identity: Identity, provider: Provider
) -> tuple[GenerationResult | None, BaseModel | None, str | None]:
    """Call the provider; a provider or output failure becomes the run's error, not a crash."""
    snapshots = job.snapshots
    request = job.pipeline.build_request(
        params=job.params,
        brand=job.brief.brand,
        doctrine=snapshots["doctrine"],
        context=snapshots["context"],
        model_config=snapshots["model_config"],
        inputs_hash=identity.inputs_hash,
    )
    from sigilctl import observability

    result: GenerationResult | None = None
    try:
        with observability.trace_step(
            "generate_captions", model=request.model, provider=request.provider
        ):
            called_at = time.time_ns()
            try:
                result = provider.generate(request)
            except ProviderError as exc:
                _trace_generation(request, exc.result, called_at, error=exc.message)
                raise
            _trace_generation(request, result, called_at)
            parsed = job.pipeline.parse_reply(result.text, job.params)
    except ProviderError as exc:
        return result or exc.result, None, exc.message
    except OutputError as exc:
        return result, None, str(exc)
    return result, parsed, None


def _trace_generation(
    request: GenerationRequest,
    result: GenerationResult | None,
    start_ns: int,
    error: str | None = None,
) -> None:
    """Record the LLM call as a generation, also when it failed (usage may still be known)."""
    from sigilctl import observability

    cost = result.cost_usd if result else None
    observability.trace_llm_call(
        name="caption_generation",
        model=result.model if result else request.model,
        prompt=request.prompt,
        response=result.text if result else None,
        usage=result.usage.as_dict() if result and result.usage else None,
        cost_details={"total": cost} if cost is not None else None,
        model_parameters={
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
        },
        error=error,
        start_ns=start_ns,
    )


def _write_snapshots(staging: Path, identity: Identity) -> None:
    for name, data in identity.snapshots.items():
        (staging / snapshot_path(name)).write_bytes(data)


def _artifact_entry(run_dir: Path, path: Path) -> ArtifactEntry:
    data = path.read_bytes()
    return ArtifactEntry(
        path=path.relative_to(run_dir).as_posix(), sha256=sha256_hex(data), bytes=len(data)
    )


def _manifest(
    job: ResolvedJob,
    identity: Identity,
    provider: Provider,
    result: GenerationResult | None,
    status: str,
    error: str | None,
    artifacts: list[ArtifactEntry],
    trace_id: str | None,
    started_at: str,
) -> Manifest:
    model_config = job.snapshots["model_config"]
    usage = result.usage if result else None
    return Manifest(
        job_id=job.brief.job_id,
        run_id=identity.run_id,
        inputs_hash=identity.inputs_hash,
        job_type=job.brief.job_type,
        brand=job.brief.brand,
        status=status,
        input_snapshots={
            name: SnapshotEntry(
                path=snapshot_path(name), sha256=identity.snapshot_hashes[name], bytes=len(data)
            )
            for name, data in identity.snapshots.items()
        },
        artifacts=artifacts,
        langfuse_trace_id=trace_id,
        started_at=started_at,
        finished_at=utc_now(),
        sigilctl_version=__version__,
        error=error,
        usage=UsageRecord(**usage.as_dict()) if usage else None,
        provider=ProviderRecord(
            name=provider.name,
            model=result.model if result else model_config["name"],
            offline=provider.offline,
            endpoint=provider.endpoint(),
            attempts=result.attempts if result else None,
        ),
        pipeline_version=job.pipeline.version,
    )
