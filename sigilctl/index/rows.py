"""Rows of the index: what a manifest becomes on the way in, and what a query gives back.

The index stores ``run_dir`` relative to the artifacts root (``<job_id>/<run_id>``), so the tree
can move, or be mounted at different paths on different machines, without a reindex; readers
join it back onto the artifacts root they were given. Timestamps are stored normalized to UTC
(``YYYY-MM-DDTHH:MM:SS.mmmZ``) so they sort and compare as text in any backend.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from sigilctl.index.schema import RUN_COLUMNS
from sigilctl.index.walk import Place
from sigilctl.manifest import Manifest

Row = tuple[Any, ...]
_NORMAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


class ManifestProblem(Exception):
    """A run directory the index cannot hold; ``reason`` is one sentence, the run is skipped."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class RunRows:
    """One execution as rows of the three tables."""

    run: Row
    snapshots: list[Row]
    artifacts: list[Row]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.run[0], self.run[1], self.run[2]


def normalize_timestamp(value: str | None) -> str | None:
    """An ISO 8601 timestamp as UTC with milliseconds and ``Z``; None if absent or unreadable."""
    if not value:
        return None
    if _NORMAL.fullmatch(value):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


EXECUTION_ID = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$")


def derive_execution_id(
    started_at: str | None, manifest_bytes: bytes, folder_mtime: float = 0.0
) -> str:
    """The execution id of a manifest written before executions had one (SPEC §8 form).

    ``YYYYMMDDTHHMMSS.mmmZ`` from ``started_at`` in UTC (the run folder's mtime when there is
    none), ``-``, then the first 8 hex characters of the SHA-256 of the manifest's bytes: stable
    for one file, so a reindex gives the same id, and the history folder of a moved old run can
    carry it (the same rule as the history module's).
    """
    moment = normalize_timestamp(started_at) or normalize_timestamp(
        datetime.fromtimestamp(folder_mtime, UTC).isoformat()
    )
    stamp = str(moment).replace("-", "").replace(":", "")
    return f"{stamp}-{hashlib.sha256(manifest_bytes).hexdigest()[:8]}"


def _mtime(folder: Path) -> float:
    try:
        return os.lstat(folder).st_mtime
    except OSError:
        return 0.0


def relative_run_dir(run_dir: Path, artifacts: Path) -> str:
    """``<job_id>/<run_id>`` (or a history path) under the artifacts root, else the full path."""
    try:
        return run_dir.relative_to(artifacts).as_posix()
    except ValueError:
        return run_dir.as_posix()


def _nanousd(total: float | None) -> int | None:
    """Cost in whole nano-dollars: sums of integers agree across backends, float sums do not."""
    return None if total is None else round(total * 1_000_000_000)


def rows_from_manifest(
    manifest: Manifest, execution_id: str, current: bool, stored_run_dir: str
) -> RunRows:
    m = manifest
    key = (m.job_id, m.run_id, execution_id)
    usage = m.usage
    provider = m.provider
    cost = m.cost.total if m.cost is not None else None
    run: Row = (
        *key,
        int(current),
        m.inputs_hash,
        m.job_type,
        m.brand,
        m.status,
        normalize_timestamp(m.started_at),
        normalize_timestamp(m.finished_at),
        m.duration_ms,
        provider.name if provider else None,
        provider.model if provider else None,
        int(provider.offline) if provider else None,
        usage.prompt_tokens if usage else None,
        usage.completion_tokens if usage else None,
        usage.total_tokens if usage else None,
        cost,
        _nanousd(cost),
        m.langfuse_trace_id,
        m.langfuse_host,
        m.queue_job_id,
        m.error,
        m.schema_version,
        m.sigilctl_version,
        m.pipeline_version,
        stored_run_dir,
    )
    snapshots = [(*key, name, e.path, e.sha256, e.bytes) for name, e in m.input_snapshots.items()]
    artifacts = [(*key, a.path, a.sha256, a.bytes) for a in m.artifacts]
    return RunRows(run, snapshots, artifacts)


def parse_rows(data: bytes, place: Place, manifest: str | Path) -> RunRows:
    """Validate manifest bytes found at ``place``; problems name the file."""
    try:
        parsed = Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        reason = f"is not a valid manifest ({where}: {first['msg']})"
        raise ManifestProblem(Path(manifest), reason) from None
    if parsed.job_id != place.job or parsed.run_id != place.run:
        raise ManifestProblem(
            Path(manifest),
            f"names job '{parsed.job_id}' run '{parsed.run_id}' but lives in {place.run_path}",
        )
    recorded = parsed.execution_id if EXECUTION_ID.match(parsed.execution_id or "") else None
    if place.execution is None:
        execution_id = recorded or derive_execution_id(
            parsed.started_at, data, _mtime(Path(manifest).parent)
        )
    else:
        execution_id = recorded or place.execution
        if execution_id != place.execution:
            raise ManifestProblem(
                Path(manifest),
                f"names execution '{execution_id}' but lives in {place.relative}",
            )
    return rows_from_manifest(parsed, execution_id, place.execution is None, place.relative)


@dataclass(frozen=True)
class RunRecord:
    """One execution as the index holds it; ``as_json`` is the one serializer every command
    shares (``runs --json``, the API's ``/runs``, ``jobs``)."""

    values: dict[str, Any]
    run_dir: Path

    @classmethod
    def from_row(cls, row: Row, artifacts: Path) -> RunRecord:
        values = dict(zip(RUN_COLUMNS, row, strict=True))
        stored = PurePosixPath(values["run_dir"])
        run_dir = Path(stored) if stored.is_absolute() else artifacts / stored
        return cls(values, run_dir)

    def __getitem__(self, column: str) -> Any:
        return self.values[column]

    @property
    def current(self) -> bool:
        return bool(self.values["is_current"])

    @property
    def key(self) -> tuple[str, str, str]:
        v = self.values
        return v["job_id"], v["run_id"], v["execution_id"]

    def as_json(self) -> dict[str, Any]:
        v = self.values
        return {
            "run_id": v["run_id"],
            "job_id": v["job_id"],
            "execution_id": v["execution_id"],
            "current": self.current,
            "brand": v["brand"],
            "job_type": v["job_type"],
            "status": v["status"],
            "started_at": v["started_at"],
            "finished_at": v["finished_at"],
            "duration_ms": v["duration_ms"],
            "inputs_hash": v["inputs_hash"],
            "provider": v["provider"],
            "model": v["model"],
            "offline": None if v["offline"] is None else bool(v["offline"]),
            "usage": {
                "prompt_tokens": v["prompt_tokens"],
                "completion_tokens": v["completion_tokens"],
                "total_tokens": v["total_tokens"],
            },
            "cost_usd": v["cost_usd"],
            "langfuse_trace_id": v["langfuse_trace_id"],
            "langfuse_host": v["langfuse_host"],
            "queue_job_id": v["queue_job_id"],
            "error": v["error"],
            "run_dir": str(self.run_dir),
        }
