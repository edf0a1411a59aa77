"""What ``verify`` found: typed results that the CLI renders and ``--json`` prints as is.

A problem names its ``kind`` (stable, for scripts), the ``path`` it concerns (relative to the run
directory) and one sentence. A run is ok when it has no problem; its status is reported, never
judged (a consistent ``failed`` run is clean).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigilctl.text import printable

# Each human-readable check row groups the problem kinds it can raise, in the order shown.
CHECK_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "manifest readable and well-formed",
        ("manifest_missing", "manifest_unreadable", "manifest_invalid"),
    ),
    (
        "paths stay inside the run and are readable",
        ("path_escape", "path_misplaced", "symlink", "file_unreadable"),
    ),
    (
        "snapshot files match their hash and size",
        ("snapshot_missing", "snapshot_hash_mismatch", "snapshot_size_mismatch"),
    ),
    ("snapshots are RFC 8785 canonical", ("snapshot_not_canonical",)),
    ("snapshot entries hold only path, sha256, bytes", ("snapshot_extra_field",)),
    ("inputs_hash recomputed from snapshot hashes", ("inputs_hash_mismatch",)),
    ("run_id recomputed from inputs_hash", ("run_id_mismatch",)),
    ("folders named <job_id>/<run_id>", ("run_dir_name_mismatch", "job_dir_mismatch")),
    (
        "artifacts match their hash and size",
        (
            "artifact_missing",
            "artifact_hash_mismatch",
            "artifact_size_mismatch",
            "artifact_extra_field",
        ),
    ),
    ("no unlisted files in inputs/ or outputs/", ("unlisted_file",)),
    ("trace ids only at the manifest root", ("trace_id_misplaced",)),
)


@dataclass(frozen=True)
class Problem:
    kind: str
    path: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "message": self.message}


@dataclass(frozen=True)
class SourceReport:
    """Whether today's jobs/ would give the same snapshots as the run recorded (``--source``)."""

    state: str
    changed: list[str]
    message: str
    current_run_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "changed": self.changed,
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

    @property
    def ok(self) -> bool:
        """No integrity problem, and (when ``--source`` was asked) no drift either."""
        return not self.problems and (self.source is None or self.source.state == "current")

    def add(self, kind: str, path: str, message: str) -> None:
        """Record a problem; names taken from the run are escaped, never printed raw."""
        self.problems.append(Problem(kind, printable(path), printable(message)))

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "run_dir": str(self.run_dir),
            "run_id": self.run_id,
            "job_id": self.job_id,
            "ok": self.ok,
            "status": self.status,
            "problems": [p.as_json() for p in self.problems],
        }
        if self.source is not None:
            document["source"] = self.source.as_json()
        return document


@dataclass
class VerifyResult:
    """Every run verified by one command."""

    runs: list[RunReport]

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "runs": [run.as_json() for run in self.runs]}
