"""Steps 1–6 of a run (SPEC §5): what would run, and under which run_id — nothing written.

``prepare`` loads and resolves the job, checks its provider can be driven, and freezes the
canonical snapshots into an identity. It takes no lock, starts no trace and writes no file, so
``check``, ``run --dry-run`` and the HTTP API (which answers with the run_id before queueing)
call it as ``run`` does.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sigilctl.identity import Identity, compute_identity, snapshot_path
from sigilctl.providers import get_provider
from sigilctl.providers.base import Provider
from sigilctl.providers.progress import OnCall
from sigilctl.resolve import ResolvedJob, resolve_job
from sigilctl.run_lock import DEFAULT_LOCK_TIMEOUT_S, RunLock
from sigilctl.shared_reads import SharedReads
from sigilctl.steps import IdentityDerived, SnapshotFrozen, StepRecord
from sigilctl.workspace import Workspace, brief_path_for


@dataclass(frozen=True)
class RunOptions:
    """How to run a job. ``params`` merge key by key over the brief's params (they are part of
    the brief snapshot, so of the run_id); ``expected_run_id`` makes a queued run refuse to
    execute a job whose inputs changed since it was queued; ``queue_job_id`` is recorded in the
    manifest and the trace; ``lock_timeout`` bounds the wait for a concurrent run (None: no
    bound); ``run_lock`` adds a cross-machine lock (the service's lease); ``on_call`` hears
    about the model call in flight (attempts, waits)."""

    force: bool = False
    provider: str | None = None
    trace: bool = True
    params: Mapping[str, Any] | None = None
    expected_run_id: str | None = None
    queue_job_id: str | None = None
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT_S
    # An extra cross-machine lock around the kernel flock (see run_lock.RunLock).
    run_lock: RunLock | None = None
    # Told what the model call is doing while it is in flight (the CLI's spinner).
    on_call: OnCall | None = None


@dataclass(frozen=True)
class Identified:
    """A resolved job and its frozen identity (SPEC §5 steps 1–6)."""

    job: ResolvedJob
    identity: Identity

    @property
    def run_id(self) -> str:
        return self.identity.run_id

    @property
    def inputs_hash(self) -> str:
        return self.identity.inputs_hash


@dataclass(frozen=True)
class Prepared(Identified):
    """A resolved job, its frozen identity, and its provider, ready to be called."""

    provider: Provider

    @property
    def job_id(self) -> str:
        return self.job.brief.job_id


def freeze(job: ResolvedJob) -> Identity:
    """Steps 3–6: canonical snapshot bytes, their hashes, inputs_hash, run_id."""
    with job.steps.step("create_snapshots") as parent:
        identity = compute_identity(job.snapshots)
        job.steps.event("snapshots_frozen")
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
        job.steps.event("inputs_hash")
        job.steps.event("run_id")
        parent.output = IdentityDerived(identity.inputs_hash, identity.run_id)
    return identity


def identify(
    job_ref: str,
    workspace: Workspace,
    options: RunOptions | None = None,
    *,
    reads: SharedReads | None = None,
) -> Identified:
    """Steps 1–6 without the provider: what run_id a job would get (the API answers with it
    before anything is queued; the worker that executes it checks its own provider).
    ``reads`` shares file reads with the other jobs of one command (``check``)."""
    options = options or RunOptions()
    job = resolve_job(
        brief_path_for(job_ref, workspace),
        workspace,
        provider_override=options.provider,
        params_override=options.params,
        reads=reads,
    )
    return Identified(job, freeze(job))


def prepare(job_ref: str, workspace: Workspace, options: RunOptions | None = None) -> Prepared:
    """Steps 1–6 for ``job_ref`` (a job id, job folder or brief path), and a ready provider.
    Raises InputError."""
    identified = identify(job_ref, workspace, options)
    job = identified.job
    provider = get_provider(job.snapshots["model_config"]["provider"])
    provider.check_ready()
    return Prepared(job, identified.identity, provider)
