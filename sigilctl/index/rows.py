"""Rows of the index: what a manifest becomes on the way in, and what a query gives back.

The index stores ``run_dir`` relative to the artifacts root (``<job_id>/<run_id>``), so the tree
can move, or be mounted at different paths on different machines, without a reindex; readers
join it back onto the artifacts root they were given. Timestamps are stored normalized to UTC
(``YYYY-MM-DDTHH:MM:SS.mmmZ``) so they sort and compare as text in any backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from sigilctl.index.schema import RUN_COLUMNS
from sigilctl.manifest import MANIFEST_NAME, Manifest

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
    """One run as rows of the three tables."""

    run: Row
    snapshots: list[Row]
    artifacts: list[Row]

    @property
    def key(self) -> tuple[str, str]:
        return self.run[0], self.run[1]


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


def relative_run_dir(run_dir: Path, artifacts: Path) -> str:
    """``<job_id>/<run_id>`` when the run lives under the artifacts root, else the full path."""
    try:
        return run_dir.relative_to(artifacts).as_posix()
    except ValueError:
        return run_dir.as_posix()


def rows_from_manifest(manifest: Manifest, stored_run_dir: str) -> RunRows:
    m = manifest
    key = (m.job_id, m.run_id)
    usage = m.usage
    provider = m.provider
    run: Row = (
        m.job_id,
        m.run_id,
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
        m.langfuse_trace_id,
        m.error,
        m.schema_version,
        m.sigilctl_version,
        m.pipeline_version,
        stored_run_dir,
    )
    snapshots = [(*key, name, e.path, e.sha256, e.bytes) for name, e in m.input_snapshots.items()]
    artifacts = [(*key, a.path, a.sha256, a.bytes) for a in m.artifacts]
    return RunRows(run, snapshots, artifacts)


def parse_rows(data: bytes, job_name: str, run_name: str, manifest: str | Path) -> RunRows:
    """Validate manifest bytes found at ``<job_name>/<run_name>/``; problems name the file."""
    try:
        parsed = Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        reason = f"is not a valid manifest ({where}: {first['msg']})"
        raise ManifestProblem(Path(manifest), reason) from None
    if parsed.job_id != job_name or parsed.run_id != run_name:
        raise ManifestProblem(
            Path(manifest),
            f"names job '{parsed.job_id}' run '{parsed.run_id}' but lives in {job_name}/{run_name}",
        )
    return rows_from_manifest(parsed, f"{job_name}/{run_name}")


def load_run_rows(run_dir: Path, artifacts: Path) -> RunRows:
    """Read and validate one run's manifest; any problem is a ManifestProblem naming it."""
    path = run_dir / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestProblem(run_dir, f"no {MANIFEST_NAME}") from None
    except OSError as exc:
        raise ManifestProblem(path, f"cannot be read ({exc.strerror})") from None
    rows = parse_rows(data, run_dir.parent.name, run_dir.name, path)
    stored = relative_run_dir(run_dir, artifacts)
    if stored == rows.run[-1]:
        return rows
    return RunRows((*rows.run[:-1], stored), rows.snapshots, rows.artifacts)


@dataclass(frozen=True)
class RunRecord:
    """One run as the index holds it; ``as_json`` is the one serializer every command shares."""

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

    def as_json(self) -> dict[str, Any]:
        v = self.values
        return {
            "run_id": v["run_id"],
            "job_id": v["job_id"],
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
            "langfuse_trace_id": v["langfuse_trace_id"],
            "error": v["error"],
            "run_dir": str(self.run_dir),
        }
