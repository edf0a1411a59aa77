"""Resolve a brief into the five input snapshots (SPEC §4) without touching tracing or disk writes.

This is steps 1–2 of the run sequence, shared by ``run`` and ``verify --source`` so both see
exactly the same inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sigilctl.bounded_glob import WalkLimitError, WalkLimits, bounded_iglob
from sigilctl.brief import Brief, load_brief
from sigilctl.errors import InputError
from sigilctl.pipelines.base import Pipeline
from sigilctl.providers import PROVIDER_NAMES, interface_version
from sigilctl.retrieval import METHOD, bm25_rank
from sigilctl.shared_reads import FileRead, SharedReads
from sigilctl.steps import (
    BriefRequest,
    ContextRequest,
    ContextRetrieved,
    DoctrineLoaded,
    DoctrineRequest,
    StepLog,
)
from sigilctl.workspace import Workspace

MAX_CONTEXT_FILES = 1000
MAX_CONTEXT_BYTES = 8 * 1024 * 1024


@dataclass
class ResolvedJob:
    """A validated brief and everything that goes into its snapshots."""

    brief: Brief
    brief_path: Path
    pipeline: Pipeline[Any, Any]
    params: BaseModel
    snapshots: dict[str, Any]
    steps: StepLog = field(default_factory=StepLog)
    # The retrieval score of each chosen context document (outside the identity).
    context_scores: dict[str, float] = field(default_factory=dict)


def resolve_doctrine(
    brief: Brief, brief_path: Path, workspace: Workspace, reads: SharedReads | None = None
) -> dict[str, Any]:
    ref = brief.doctrine
    path = workspace.contain(brief_path.parent / ref.path, what="doctrine.path", source=brief_path)
    read = (reads or SharedReads()).file(workspace, path, what="doctrine file")
    return {"id": ref.id, "version": ref.version, **read.entry(), "text": read.text}


def _expand(
    pattern: str, brief_path: Path, workspace: Workspace, limits: WalkLimits | None = None
) -> list[Path]:
    if Path(pattern).is_absolute():
        raise InputError(f"{brief_path}: context.paths '{pattern}' must be relative to the brief")
    found: list[Path] = []
    base = brief_path.parent
    try:
        for match in bounded_iglob(pattern, str(base), limits):
            candidate = workspace.contain(base / match, what="context path", source=brief_path)
            if candidate.is_file():
                found.append(candidate)
                if len(found) > MAX_CONTEXT_FILES:
                    raise InputError(
                        f"{brief_path}: context.paths '{pattern}' matches more than "
                        f"{MAX_CONTEXT_FILES} files (the limit); narrow the glob"
                    )
    except WalkLimitError as exc:
        raise InputError(
            f"{brief_path}: context.paths '{pattern}' {exc}; narrow the glob or remove "
            "folder links that lead back into the tree"
        ) from None
    if not found:
        raise InputError(f"{brief_path}: context.paths '{pattern}' matches no file")
    return found


def resolve_context(
    brief: Brief, brief_path: Path, workspace: Workspace, reads: SharedReads | None = None
) -> tuple[dict[str, Any], dict[str, float]]:
    """The context snapshot, and the retrieval score of each chosen document (scores never
    enter the snapshot: the manifest records them, for ``show``)."""
    reads = reads or SharedReads()
    spec = brief.context
    files: dict[str, Path] = {}
    for pattern in spec.paths:
        for path in _expand(pattern, brief_path, workspace):
            files.setdefault(workspace.relative(path), path)
    if len(files) > MAX_CONTEXT_FILES:
        raise InputError(
            f"{brief_path}: context.paths match {len(files)} files, over the limit of "
            f"{MAX_CONTEXT_FILES}"
        )
    read: dict[str, FileRead] = {}
    texts: dict[str, str] = {}
    total = 0
    for rel in sorted(files):
        read[rel] = reads.file(workspace, files[rel], what="context file")
        texts[rel] = read[rel].text
        total += len(texts[rel])
        if total > MAX_CONTEXT_BYTES:
            raise InputError(
                f"{brief_path}: context files exceed {MAX_CONTEXT_BYTES} bytes in total; "
                "narrow context.paths"
            )
    scores: dict[str, float] = {}
    if spec.query:
        ranked = bm25_rank(list(texts.items()), spec.query, reads.token_counts(read))
        order = [r.path for r in ranked]
        scores = {r.path: r.score for r in ranked}
        method = METHOD
    else:
        order = sorted(texts)
        method = "all (sorted by path)"
    chosen = order[: spec.top_k] if spec.top_k else order
    documents = [
        {**read[rel].entry(), "rank": rank, "text": texts[rel]}
        for rank, rel in enumerate(chosen, start=1)
    ]
    snapshot = {
        "paths": list(spec.paths),
        "query": spec.query,
        "top_k": spec.top_k,
        "method": method,
        "documents": documents,
    }
    return snapshot, {rel: scores[rel] for rel in chosen if rel in scores}


def resolve_model_config(brief: Brief, provider_override: str | None) -> dict[str, Any]:
    provider = provider_override or brief.model.provider
    if provider not in PROVIDER_NAMES:
        raise InputError(f"unknown provider '{provider}' (known: {', '.join(PROVIDER_NAMES)})")
    spec = brief.model
    return {
        "provider": provider,
        "interface": interface_version(provider),
        "name": spec.name,
        "temperature": spec.temperature,
        "max_tokens": spec.max_tokens,
        "seed": spec.seed,
    }


def resolve_job(
    brief_path: Path,
    workspace: Workspace,
    *,
    provider_override: str | None = None,
    params_override: Mapping[str, Any] | None = None,
    reads: SharedReads | None = None,
) -> ResolvedJob:
    """Load the brief and resolve every input snapshot, measuring each step.

    ``params_override`` merges key by key over the brief's ``params``; the merged params are
    what the brief snapshot holds, so they are part of the run_id. ``reads`` shares file reads
    and job types with the other jobs one command resolves (sigilctl.shared_reads).
    """
    reads = reads or SharedReads()
    steps = StepLog()
    with steps.step("load_brief", BriefRequest(workspace.relative(brief_path))):
        brief = load_brief(brief_path)
        source = str(brief_path)
        if params_override:
            brief = brief.model_copy(update={"params": {**brief.params, **params_override}})
            source = f"{brief_path} with the given params"
        pipeline = reads.pipeline(brief.job_type, source=source)
        params = pipeline.parse_params(brief.params, source=source)
    with steps.step("load_doctrine", DoctrineRequest(brief.doctrine.id)) as record:
        doctrine = resolve_doctrine(brief, brief_path, workspace, reads)
        record.output = DoctrineLoaded(
            id=doctrine["id"],
            version=doctrine["version"],
            path=doctrine["path"],
            sha256=doctrine["sha256"],
            bytes=doctrine["bytes"],
        )
    with steps.step(
        "retrieve_context", ContextRequest(brief.context.query, brief.context.top_k)
    ) as record:
        context, scores = resolve_context(brief, brief_path, workspace, reads)
        record.output = ContextRetrieved(
            mode="retrieval" if brief.context.query else "explicit",
            method=context["method"],
            files=tuple(d["path"] for d in context["documents"]),
        )
    snapshots = {
        "brief": brief.identity_view(),
        "doctrine": doctrine,
        "context": context,
        "model_config": resolve_model_config(brief, provider_override),
        "pipeline": reads.pipeline_snapshot(pipeline),
    }
    steps.event("inputs_resolved")
    return ResolvedJob(brief, brief_path, pipeline, params, snapshots, steps, scores)
