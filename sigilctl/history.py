"""Executions of a run_id (SPEC §8): the current one, and every other one kept in history.

``artifacts/<job_id>/<run_id>/`` holds the current execution; each execution that stopped being
current was moved whole to ``artifacts/<job_id>/.history/<run_id>/<execution_id>/``. An
execution id is ``YYYYMMDDTHHMMSS.mmmZ-<8 hex>`` from the execution's UTC start, so names sort
by start time. Manifests written before execution ids existed get one derived from their
``started_at`` and the first 8 hex of the sha256 of the manifest bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sigilctl.manifest import MANIFEST_NAME

HISTORY_DIR = ".history"
EXECUTION_ID = re.compile(r"^(\d{8}T\d{6}\.\d{3}Z)-([0-9a-f]{8})$")
_STAMP_FORMAT = "%Y%m%dT%H%M%S"


def _stamp(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment.strftime(_STAMP_FORMAT)}.{moment.microsecond // 1000:03d}Z"


def _parse_iso(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_execution_id(started_at: str) -> str:
    """A fresh id for an execution that started at ``started_at`` (ISO 8601, UTC)."""
    moment = _parse_iso(started_at) or datetime.now(UTC)
    return f"{_stamp(moment)}-{secrets.token_hex(4)}"


def execution_time(execution_id: str) -> datetime | None:
    """When the execution named ``execution_id`` started (None if it is no execution id)."""
    match = EXECUTION_ID.match(execution_id)
    if not match:
        return None
    return datetime.strptime(match.group(1)[:-5], _STAMP_FORMAT).replace(
        microsecond=int(match.group(1)[-4:-1]) * 1000, tzinfo=UTC
    )


def _read_manifest(run_dir: Path) -> tuple[bytes, dict[str, Any]]:
    """The manifest's bytes and object, tolerating anything (a damaged run has an id too)."""
    try:
        fd = os.open(run_dir / MANIFEST_NAME, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return b"", {}
    with open(fd, "rb") as handle:
        data = handle.read()
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data, {}
    return data, document if isinstance(document, dict) else {}


def execution_id_of(run_dir: Path) -> str:
    """The execution id of the execution in ``run_dir``: its manifest's, else a derived one."""
    data, manifest = _read_manifest(run_dir)
    recorded = manifest.get("execution_id")
    if isinstance(recorded, str) and EXECUTION_ID.match(recorded):
        return recorded
    moment = _parse_iso(manifest.get("started_at"))
    if moment is None:
        try:
            moment = datetime.fromtimestamp(os.lstat(run_dir).st_mtime, UTC)
        except OSError:
            moment = datetime.fromtimestamp(0, UTC)
    return f"{_stamp(moment)}-{hashlib.sha256(data).hexdigest()[:8]}"


def is_history_dir(path: Path) -> bool:
    """True for ``.../.history/<run_id>/<execution_id>``."""
    return path.parent.parent.name == HISTORY_DIR


def history_root(job_dir: Path, run_id: str) -> Path:
    return job_dir / HISTORY_DIR / run_id


def history_dirs(job_dir: Path, run_id: str) -> list[Path]:
    """The history executions of one run_id, oldest first (hidden names are never executions)."""
    root = history_root(job_dir, run_id)
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    names = (e for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False))
    return sorted(Path(e.path) for e in names)


def iter_history(artifacts: Path, job_id: str | None = None) -> Iterator[Path]:
    """Every history execution under ``artifacts`` (one job's when ``job_id`` is given)."""
    if not artifacts.is_dir():
        return
    jobs = [artifacts / job_id] if job_id else sorted(artifacts.iterdir())
    for job_dir in jobs:
        if job_dir.name.startswith(".") or not (job_dir / HISTORY_DIR).is_dir():
            continue
        for run in sorted((job_dir / HISTORY_DIR).iterdir()):
            if not run.name.startswith(".") and run.is_dir() and not run.is_symlink():
                yield from history_dirs(job_dir, run.name)


def executions_seen(job_dir: Path, run_id: str) -> dict[str, Path]:
    """Every execution of ``run_id`` present now, current and history: execution id → folder."""
    seen = {path.name: path for path in history_dirs(job_dir, run_id)}
    current = job_dir / run_id
    if current.is_dir():
        seen[execution_id_of(current)] = current
    return seen


@dataclass(frozen=True)
class ExecutionSummary:
    """One execution as ``show --history`` lists it."""

    execution_id: str
    run_dir: Path
    current: bool
    status: str | None
    started_at: str | None
    finished_at: str | None
    provider: str | None
    model: str | None
    error: str | None
    trace_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "current": self.current,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "provider": self.provider,
            "model": self.model,
            "error": self.error,
            "langfuse_trace_id": self.trace_id,
            "run_dir": str(self.run_dir),
        }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def summarize(run_dir: Path, *, current: bool) -> ExecutionSummary:
    _data, manifest = _read_manifest(run_dir)
    provider = manifest.get("provider")
    provider = provider if isinstance(provider, dict) else {}
    return ExecutionSummary(
        execution_id=execution_id_of(run_dir),
        run_dir=run_dir,
        current=current,
        status=_text(manifest.get("status")),
        started_at=_text(manifest.get("started_at")),
        finished_at=_text(manifest.get("finished_at")),
        provider=_text(provider.get("name")),
        model=_text(provider.get("model")),
        error=_text(manifest.get("error")),
        trace_id=_text(manifest.get("langfuse_trace_id")),
    )


def list_executions(job_dir: Path, run_id: str) -> list[ExecutionSummary]:
    """Every execution of ``run_id``, oldest first; the current one is marked."""
    found = [summarize(path, current=False) for path in history_dirs(job_dir, run_id)]
    current = job_dir / run_id
    if current.is_dir():
        found.append(summarize(current, current=True))
    return sorted(found, key=lambda s: (s.execution_id, s.current))


def executions_of(run_dir: Path) -> list[ExecutionSummary]:
    """Every execution of the run_id ``run_dir`` holds (``run_dir`` current or history)."""
    if is_history_dir(run_dir):
        return list_executions(run_dir.parent.parent.parent, run_dir.parent.name)
    return list_executions(run_dir.parent, run_dir.name)
