"""What ``verify`` found: typed results that the CLI renders and ``--json`` prints as is.

A problem names its ``kind`` (stable, for scripts), the ``path`` it concerns (relative to the run
directory) and one sentence. A run is ok when it has no problem; its status is reported, never
judged (a consistent ``failed`` run is clean).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigilctl.history import HISTORY_DIR
from sigilctl.text import printable

if TYPE_CHECKING:
    from sigilctl.audit.attest_check import AttestationReport


class CheckGroup(Enum):
    """The human-readable check rows of ``verify``, in the order they are shown."""

    MANIFEST = "manifest readable and well-formed"
    PATHS = "paths stay inside the run and are readable"
    SNAPSHOT_FILES = "snapshot files match their hash and size"
    CANONICAL = "snapshots are RFC 8785 canonical"
    SNAPSHOT_ENTRIES = "snapshot entries hold only path, sha256, bytes"
    INPUTS_HASH = "inputs_hash recomputed from snapshot hashes"
    RUN_ID = "run_id recomputed from inputs_hash"
    FOLDERS = "folders named <job_id>/<run_id>"
    ARTIFACTS = "artifacts match their hash and size"
    UNLISTED = "no unlisted files in inputs/ or outputs/"
    TRACE_IDS = "trace ids only at the manifest root"

    @property
    def label(self) -> str:
        return self.value


class Kind(StrEnum):
    """Every problem ``verify`` can name (stable strings, for scripts); each knows its group."""

    MANIFEST_MISSING = "manifest_missing"
    MANIFEST_UNREADABLE = "manifest_unreadable"
    MANIFEST_INVALID = "manifest_invalid"
    PATH_ESCAPE = "path_escape"
    PATH_MISPLACED = "path_misplaced"
    SYMLINK = "symlink"
    FILE_UNREADABLE = "file_unreadable"
    SNAPSHOT_MISSING = "snapshot_missing"
    SNAPSHOT_HASH_MISMATCH = "snapshot_hash_mismatch"
    SNAPSHOT_SIZE_MISMATCH = "snapshot_size_mismatch"
    SNAPSHOT_NOT_CANONICAL = "snapshot_not_canonical"
    SNAPSHOT_EXTRA_FIELD = "snapshot_extra_field"
    INPUTS_HASH_MISMATCH = "inputs_hash_mismatch"
    RUN_ID_MISMATCH = "run_id_mismatch"
    RUN_DIR_NAME_MISMATCH = "run_dir_name_mismatch"
    JOB_DIR_MISMATCH = "job_dir_mismatch"
    ARTIFACT_MISSING = "artifact_missing"
    ARTIFACT_HASH_MISMATCH = "artifact_hash_mismatch"
    ARTIFACT_SIZE_MISMATCH = "artifact_size_mismatch"
    ARTIFACT_EXTRA_FIELD = "artifact_extra_field"
    UNLISTED_FILE = "unlisted_file"
    TRACE_ID_MISPLACED = "trace_id_misplaced"

    @property
    def group(self) -> CheckGroup:
        return _GROUPS[self]

    @classmethod
    def of(cls, what: str, suffix: str) -> Kind:
        """``snapshot``/``artifact`` + ``missing``/``hash_mismatch``/... as one kind."""
        return cls(f"{what}_{suffix}")


_GROUPS: dict[Kind, CheckGroup] = {
    Kind.MANIFEST_MISSING: CheckGroup.MANIFEST,
    Kind.MANIFEST_UNREADABLE: CheckGroup.MANIFEST,
    Kind.MANIFEST_INVALID: CheckGroup.MANIFEST,
    Kind.PATH_ESCAPE: CheckGroup.PATHS,
    Kind.PATH_MISPLACED: CheckGroup.PATHS,
    Kind.SYMLINK: CheckGroup.PATHS,
    Kind.FILE_UNREADABLE: CheckGroup.PATHS,
    Kind.SNAPSHOT_MISSING: CheckGroup.SNAPSHOT_FILES,
    Kind.SNAPSHOT_HASH_MISMATCH: CheckGroup.SNAPSHOT_FILES,
    Kind.SNAPSHOT_SIZE_MISMATCH: CheckGroup.SNAPSHOT_FILES,
    Kind.SNAPSHOT_NOT_CANONICAL: CheckGroup.CANONICAL,
    Kind.SNAPSHOT_EXTRA_FIELD: CheckGroup.SNAPSHOT_ENTRIES,
    Kind.INPUTS_HASH_MISMATCH: CheckGroup.INPUTS_HASH,
    Kind.RUN_ID_MISMATCH: CheckGroup.RUN_ID,
    Kind.RUN_DIR_NAME_MISMATCH: CheckGroup.FOLDERS,
    Kind.JOB_DIR_MISMATCH: CheckGroup.FOLDERS,
    Kind.ARTIFACT_MISSING: CheckGroup.ARTIFACTS,
    Kind.ARTIFACT_HASH_MISMATCH: CheckGroup.ARTIFACTS,
    Kind.ARTIFACT_SIZE_MISMATCH: CheckGroup.ARTIFACTS,
    Kind.ARTIFACT_EXTRA_FIELD: CheckGroup.ARTIFACTS,
    Kind.UNLISTED_FILE: CheckGroup.UNLISTED,
    Kind.TRACE_ID_MISPLACED: CheckGroup.TRACE_IDS,
}


@dataclass(frozen=True)
class Problem:
    kind: Kind
    path: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "path": self.path, "message": self.message}


@dataclass(frozen=True)
class SourceReport:
    """Whether today's jobs/ would give the same snapshots as the run recorded (``--source``)."""

    state: str
    changed: list[str]  # the snapshots whose hash differs
    message: str
    current_run_id: str | None = None
    # What changed in them: files (``jobs/_brands/x/context/02.md``) and brief fields
    # (``brief: params.count``), see sigilctl.drift.
    changes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "changed": self.changed,
            "changes": self.changes,
            "message": self.message,
            "current_run_id": self.current_run_id,
        }


@dataclass
class RunReport:
    """The verdict on one run directory."""

    run_dir: Path
    run_id: str | None = None
    job_id: str | None = None
    status: str | None = None
    snapshot_count: int = 0
    artifact_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    source: SourceReport | None = None
    attestation: AttestationReport | None = None

    @property
    def history(self) -> bool:
        """An execution kept in history (``<job_id>/.history/<run_id>/<execution_id>``)."""
        return Path(os.path.abspath(self.run_dir)).parent.parent.name == HISTORY_DIR

    @property
    def ok(self) -> bool:
        """No integrity problem, no drift (``--source``), a good attestation (``--pubkey``)."""
        return (
            not self.problems
            and (self.source is None or self.source.state == "current")
            and (self.attestation is None or self.attestation.ok)
        )

    def add(self, kind: Kind, path: str, message: str) -> None:
        """Record a problem; names taken from the run are escaped, never printed raw."""
        self.problems.append(Problem(kind, printable(path), printable(message)))

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "run_dir": str(self.run_dir),
            "run_id": self.run_id,
            "job_id": self.job_id,
            "ok": self.ok,
            "status": self.status,
            "history": self.history,
            "problems": [p.as_json() for p in self.problems],
        }
        if self.source is not None:
            document["source"] = self.source.as_json()
        if self.attestation is not None:
            document["attestation"] = self.attestation.as_json()
        return document


@dataclass
class VerifyResult:
    """Every run verified by one command."""

    runs: list[RunReport]
    # ``--latest``: jobs that have no run at all (not ok: the gate wants a run of every job);
    # None when not asked.
    never_run: list[str] | None = None

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs) and not self.never_run

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"ok": self.ok, "runs": [run.as_json() for run in self.runs]}
        if self.never_run is not None:
            document["never_run"] = self.never_run
        return document
