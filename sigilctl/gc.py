"""``sigilctl gc``: delete history executions, and only those its flags name (SPEC §8).

A current run is never touched. ``--keep N`` keeps the N newest history executions of each
run_id; ``--older-than DAYS`` keeps those younger than DAYS; given both, an execution goes only
when both allow it. An execution whose age cannot be told from its folder name is kept. Each
deletion is atomic: the folder is first renamed to a hidden ``.trash-`` name (so no reader ever
sees half an execution), then removed; a crash in between leaves a hidden folder the next
``gc`` removes.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sigilctl.errors import InputError, StorageError
from sigilctl.history import HISTORY_DIR, execution_time, history_dirs, summarize
from sigilctl.index import record_run
from sigilctl.workspace import Workspace, check_job_id

TRASH_PREFIX = ".trash-"


@dataclass(frozen=True)
class GcEntry:
    """One history execution that ``gc`` deletes (or would delete, with ``--dry-run``)."""

    job_id: str
    run_id: str
    execution_id: str
    status: str | None
    started_at: str | None
    bytes: int
    path: Path

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "execution_id": self.execution_id,
            "status": self.status,
            "started_at": self.started_at,
            "bytes": self.bytes,
            "path": str(self.path),
        }


@dataclass
class GcResult:
    dry_run: bool
    deleted: list[GcEntry] = field(default_factory=list)
    kept: int = 0

    @property
    def bytes(self) -> int:
        return sum(entry.bytes for entry in self.deleted)

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "deleted": [entry.as_json() for entry in self.deleted],
            "deleted_count": len(self.deleted),
            "bytes": self.bytes,
            "kept": self.kept,
        }


@dataclass(frozen=True)
class GcRequest:
    keep: int | None = None
    older_than_days: float | None = None
    job_id: str | None = None
    dry_run: bool = False

    def checked(self) -> GcRequest:
        if self.keep is None and self.older_than_days is None:
            raise InputError(
                "gc deletes only what its flags name: give --keep N and/or --older-than DAYS"
            )
        if self.keep is not None and self.keep < 0:
            raise InputError(f"--keep must be 0 or more, not {self.keep}")
        if self.older_than_days is not None and not self.older_than_days >= 0:
            raise InputError(f"--older-than must be 0 or more days, not {self.older_than_days}")
        if self.job_id is not None:
            check_job_id(self.job_id, source="--job")
        return self


def gc(workspace: Workspace, request: GcRequest, *, now: datetime | None = None) -> GcResult:
    """Delete (or list, with ``dry_run``) the history executions the request names."""
    request = request.checked()
    cutoff = None
    if request.older_than_days is not None:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=request.older_than_days)
    result = GcResult(request.dry_run)
    touched: list[Path] = []
    for job_dir, run_id in _run_ids(workspace.artifacts, request.job_id):
        executions = history_dirs(job_dir, run_id)
        doomed = _doomed(executions, request.keep, cutoff)
        result.kept += len(executions) - len(doomed)
        for path in doomed:
            summary = summarize(path, current=False)
            entry = GcEntry(
                job_dir.name,
                run_id,
                path.name,
                summary.status,
                summary.started_at,
                _size(path),
                path,
            )
            if not request.dry_run:
                _delete(path)
            result.deleted.append(entry)
        if not request.dry_run:
            _remove_trash(job_dir / HISTORY_DIR / run_id)
        if doomed and not request.dry_run and (job_dir / run_id).is_dir():
            touched.append(job_dir / run_id)
    # Re-sync each run_id whose history shrank (a cache: it warns, never fails).
    record_run(workspace.artifacts, *touched, configured=workspace.index)
    return result


def _run_ids(artifacts: Path, job_id: str | None) -> Iterable[tuple[Path, str]]:
    if not artifacts.is_dir():
        raise InputError(f"artifacts tree {artifacts} does not exist or is not a directory")
    jobs = [artifacts / job_id] if job_id else sorted(artifacts.iterdir())
    for job_dir in jobs:
        history = job_dir / HISTORY_DIR
        if job_dir.name.startswith(".") or not history.is_dir() or history.is_symlink():
            continue
        for run in sorted(history.iterdir()):
            if not run.name.startswith(".") and run.is_dir() and not run.is_symlink():
                yield job_dir, run.name


def _doomed(executions: list[Path], keep: int | None, cutoff: datetime | None) -> list[Path]:
    """The executions (oldest first) that both flags allow to delete; undated ones stay."""
    dated = [p for p in executions if execution_time(p.name) is not None]
    candidates = dated if keep is None else dated[: max(0, len(dated) - keep)]
    if cutoff is not None:
        candidates = [p for p in candidates if (execution_time(p.name) or cutoff) < cutoff]
    return candidates


def _size(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def _delete(path: Path) -> None:
    trash = path.parent / f"{TRASH_PREFIX}{path.name}-{secrets.token_hex(4)}"
    try:
        os.rename(path, trash)  # gone for every reader at once
    except OSError as exc:
        raise StorageError(f"cannot delete {path}: {exc.strerror or exc}") from None
    shutil.rmtree(trash, ignore_errors=True)


def _remove_trash(folder: Path) -> None:
    """Hidden leftovers of a gc killed between its rename and its removal."""
    try:
        leftovers = [p for p in folder.iterdir() if p.name.startswith(TRASH_PREFIX)]
    except OSError:
        return
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
