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
from sigilctl.identity import sha256_hex
from sigilctl.pipelines import get_pipeline
from sigilctl.pipelines.base import Pipeline
from sigilctl.providers import PROVIDER_NAMES, interface_version
from sigilctl.retrieval import METHOD, bm25_rank
from sigilctl.steps import (
    BriefRequest,
    ContextRequest,
    ContextRetrieved,
    DoctrineLoaded,
    DoctrineRequest,
    StepLog,
)
from sigilctl.workspace import Workspace, read_text

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


def _file_entry(workspace: Workspace, path: Path, text: str) -> dict[str, Any]:
    data = text.encode("utf-8")
    return {"path": workspace.relative(path), "sha256": sha256_hex(data), "bytes": len(data)}


def resolve_doctrine(brief: Brief, brief_path: Path, workspace: Workspace) -> dict[str, Any]:
    ref = brief.doctrine
    path = workspace.contain(brief_path.parent / ref.path, what="doctrine.path", source=brief_path)
    text = read_text(path, what="doctrine file")
    entry = _file_entry(workspace, path, text)
    return {"id": ref.id, "version": ref.version, **entry, "text": text}


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


def resolve_context(brief: Brief, brief_path: Path, workspace: Workspace) -> dict[str, Any]:
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
    texts: dict[str, str] = {}
    total = 0
    for rel in sorted(files):
        texts[rel] = read_text(files[rel], what="context file")
        total += len(texts[rel])
        if total > MAX_CONTEXT_BYTES:
            raise InputError(
                f"{brief_path}: context files exceed {MAX_CONTEXT_BYTES} bytes in total; "
                "narrow context.paths"
            )
    if spec.query:
        order = [r.path for r in bm25_rank(list(texts.items()), spec.query)]
        method = METHOD
    else:
        order = sorted(texts)
        method = "all (sorted by path)"
    chosen = order[: spec.top_k] if spec.top_k else order
    documents = [
        {**_file_entry(workspace, files[rel], texts[rel]), "rank": rank, "text": texts[rel]}
        for rank, rel in enumerate(chosen, start=1)
    ]
    return {
        "paths": list(spec.paths),
        "query": spec.query,
        "top_k": spec.top_k,
        "method": method,
        "documents": documents,
    }


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
) -> ResolvedJob:
    """Load the brief and resolve every input snapshot, measuring each step.

    ``params_override`` merges key by key over the brief's ``params``; the merged params are
    what the brief snapshot holds, so they are part of the run_id.
    """
    steps = StepLog()
    with steps.step("load_brief", BriefRequest(workspace.relative(brief_path))):
        brief = load_brief(brief_path)
        source = str(brief_path)
        if params_override:
            brief = brief.model_copy(update={"params": {**brief.params, **params_override}})
            source = f"{brief_path} with the given params"
        pipeline = get_pipeline(brief.job_type, source=source)
        params = pipeline.parse_params(brief.params, source=source)
    with steps.step("load_doctrine", DoctrineRequest(brief.doctrine.id)) as record:
        doctrine = resolve_doctrine(brief, brief_path, workspace)
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
        context = resolve_context(brief, brief_path, workspace)
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
        "pipeline": pipeline.snapshot(),
    }
    steps.event("inputs_resolved")
    return ResolvedJob(brief, brief_path, pipeline, params, snapshots, steps)
