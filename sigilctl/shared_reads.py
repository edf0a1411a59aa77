"""Work that many resolutions in one command share: job types, and the files jobs read.

``jobs``, ``check`` and ``verify --source`` resolve hundreds of jobs that mostly use the same
files (a brand's doctrine and context folder) and the same job types. Resolving each job alone
reads and hashes those files again per job and looks its job type up among the installed
entry points again; a ``SharedReads`` given to every ``resolve_job`` of one command does each
once. It is a snapshot of one command's moment: files are read once, at first use, and never
re-checked, so it must not outlive the command. ``resolve_job`` without one reads everything
afresh, as a run does.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigilctl.identity import sha256_hex
from sigilctl.pipelines import get_pipeline
from sigilctl.pipelines.base import Pipeline
from sigilctl.retrieval import tokenize
from sigilctl.workspace import Workspace, read_text


@dataclass(frozen=True)
class FileRead:
    """A text file as snapshots record it: root-relative path, sha256 and size of its bytes."""

    path: str
    sha256: str
    bytes: int
    text: str

    def entry(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes}


class SharedReads:
    """Memo of file reads and job types for one command (thread-safe; errors not memoized)."""

    def __init__(self) -> None:
        self._files: dict[Path, FileRead] = {}
        self._pipelines: dict[str, Pipeline[Any, Any]] = {}
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()

    def file(self, workspace: Workspace, path: Path, *, what: str) -> FileRead:
        """``path`` (already resolved inside the root) read as UTF-8 text, once."""
        found = self._files.get(path)
        if found is None:
            text = read_text(path, what=what)
            data = text.encode("utf-8")
            found = FileRead(workspace.relative(path), sha256_hex(data), len(data), text)
            with self._lock:
                self._files[path] = found
        return found

    def token_counts(self, files: Mapping[str, FileRead]) -> dict[str, Counter[str]]:
        """Each file's retrieval token counts (``Counter(tokenize(text))``), counted once."""
        found = {}
        for rel, read in files.items():
            counts = self._tokens.get(read.sha256)
            if counts is None:
                counts = Counter(tokenize(read.text))
                with self._lock:
                    self._tokens[read.sha256] = counts
            found[rel] = counts
        return found

    def pipeline(self, job_type: str, *, source: str) -> Pipeline[Any, Any]:
        """The job type's pipeline, loaded once (``source`` names the brief in errors)."""
        found = self._pipelines.get(job_type)
        if found is None:
            found = get_pipeline(job_type, source=source)
            with self._lock:
                self._pipelines[job_type] = found
        return found

    def pipeline_snapshot(self, pipeline: Pipeline[Any, Any]) -> dict[str, Any]:
        """The ``pipeline`` snapshot of a job type (its JSON Schema is built once)."""
        found = self._snapshots.get(pipeline.name)
        if found is None:
            found = pipeline.snapshot()
            with self._lock:
                self._snapshots[pipeline.name] = found
        return found
