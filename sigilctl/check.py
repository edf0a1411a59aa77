"""``sigilctl check`` and ``run --dry-run``: what a run would do, without running it.

Steps 1–6 of SPEC §5 exactly as ``run`` takes them (``prepare.identify``), then what step 7
would decide (a cache hit, a first run, a retry, a refusal), and the prompt the provider would
be sent (built from the frozen snapshots, as the run builds it). Nothing is written: no run
folder, no lock, no index row, no trace, no spool, no cache-hit log line. The provider is only
asked whether it could be driven (an API key is set), never called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigilctl.decision import Action, decide, inspect_current
from sigilctl.errors import InputError, SigilError
from sigilctl.prepare import RunOptions, identify
from sigilctl.run_inputs import Retrieved
from sigilctl.shared_reads import SharedReads
from sigilctl.workspace import Workspace

VERDICTS = {
    Action.REUSE: "cache hit",
    Action.EXECUTE: "would run",
    Action.REFUSE: "would refuse",
}


@dataclass(frozen=True)
class CheckResult:
    """One job checked. ``error`` is set (and nothing else is known) when the job does not
    resolve; ``provider_problem`` when it resolves but its provider could not be driven."""

    job_ref: str
    job_id: str | None = None
    run_id: str | None = None
    inputs_hash: str | None = None
    verdict: str | None = None  # cache hit | would run | would refuse
    reason: str | None = None
    run_dir: Path | None = None
    provider: str | None = None
    model: str | None = None
    endpoint: str | None = None
    provider_problem: str | None = None
    doctrine: dict[str, Any] = field(default_factory=dict)
    context: list[Retrieved] = field(default_factory=list)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    system: str | None = None
    prompt: str | None = None
    error: str | None = None
    exit_code: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def cache_hit(self) -> bool:
        return self.verdict == "cache hit"

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "job_id": self.job_id if self.job_id is not None else self.job_ref,
            "ok": self.ok,
            "error": self.error,
        }
        if self.error is not None:
            return document
        document.update(
            {
                "run_id": self.run_id,
                "inputs_hash": self.inputs_hash,
                "cache_hit": self.cache_hit,
                "verdict": self.verdict,
                "reason": self.reason,
                "run_dir": str(self.run_dir),
                "provider": {
                    "name": self.provider,
                    "model": self.model,
                    "endpoint": self.endpoint,
                    "ready": self.provider_problem is None,
                    "problem": self.provider_problem,
                },
                "doctrine": self.doctrine,
                "context": [doc.as_json() for doc in self.context],
                "snapshots": self.snapshots,
            }
        )
        if self.prompt is not None:
            document["prompt"] = {"system": self.system, "prompt": self.prompt}
        return document


def check_job(
    job_ref: str,
    workspace: Workspace,
    options: RunOptions | None = None,
    *,
    with_prompt: bool = False,
    reads: SharedReads | None = None,
) -> CheckResult:
    """Everything ``run`` would decide about ``job_ref`` before calling the model; a job that
    does not resolve is a result with ``error`` (exit 2), not an exception."""
    options = options or RunOptions()
    try:
        identified = identify(job_ref, workspace, options, reads=reads)
    except SigilError as exc:
        return CheckResult(job_ref, error=exc.message, exit_code=exc.exit_code)
    job, identity = identified.job, identified.identity
    model_config = job.snapshots["model_config"]
    provider_name = str(model_config["provider"])
    endpoint, problem = _provider_readiness(provider_name)
    run_dir = workspace.artifacts / job.brief.job_id / identity.run_id
    decision = decide(inspect_current(run_dir), [], force=options.force)
    system = prompt = None
    if with_prompt:
        system, prompt = _prompt(job, identity)
    doctrine = job.snapshots["doctrine"]
    return CheckResult(
        job_ref,
        job_id=job.brief.job_id,
        run_id=identity.run_id,
        inputs_hash=identity.inputs_hash,
        verdict=VERDICTS.get(decision.action, decision.action.value),
        reason=decision.reason,
        run_dir=run_dir,
        provider=provider_name,
        model=str(model_config["name"]),
        endpoint=endpoint,
        provider_problem=problem,
        doctrine={k: doctrine[k] for k in ("id", "version", "path", "sha256")},
        context=[
            Retrieved(d["path"], d["rank"], job.context_scores.get(d["path"]), d["bytes"])
            for d in job.snapshots["context"]["documents"]
        ],
        snapshots={
            name: {"sha256": identity.snapshot_hashes[name], "bytes": len(data)}
            for name, data in identity.snapshots.items()
        },
        system=system,
        prompt=prompt,
        exit_code=2 if problem else (1 if decision.action is Action.REFUSE else 0),
    )


def _provider_readiness(name: str) -> tuple[str | None, str | None]:
    """Where the provider would send the request, and why it could not (None: it could)."""
    from sigilctl.providers import get_provider

    try:
        provider = get_provider(name)
        provider.check_ready()
        return provider.endpoint(), None
    except InputError as exc:
        return None, exc.message


def _prompt(job: Any, identity: Any) -> tuple[str, str]:
    """The system message and prompt a run would send, built from the frozen snapshots."""
    from sigilctl.pipelines.inputs import PipelineInputs

    request = job.pipeline.build_request(PipelineInputs.from_identity(identity))
    return request.system, request.prompt
