"""What a finished run was given, as ``show`` presents it: the doctrine it was written under
and the context documents retrieval chose (rank from the context snapshot, score from the
manifest), read from the run's own ``inputs/`` (never from jobs/, which may have changed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sigilctl.errors import SigilError
from sigilctl.manifest import Manifest
from sigilctl.run_files import RunFolder, is_plain_path

# The context snapshot holds the documents' text: bounded, but generously.
MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Retrieved:
    """A context document a run used (or would use): rank, retrieval score (None without a
    query, or for a run recorded before scores were) and size."""

    path: str
    rank: int
    score: float | None
    bytes: int

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "rank": self.rank, "score": self.score, "bytes": self.bytes}


@dataclass(frozen=True)
class RunInputs:
    """The doctrine (id, version, path, sha256) and retrieved context of one run; empty when
    the run's snapshots cannot be read (``verify`` says why)."""

    doctrine: dict[str, Any] = field(default_factory=dict)
    context: list[Retrieved] = field(default_factory=list)
    method: str | None = None
    query: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "doctrine": self.doctrine or None,
            "context": [doc.as_json() for doc in self.context],
            "retrieval_method": self.method,
            "query": self.query,
        }


def read_snapshot(run_dir: Path, entry: Any, limit: int = MAX_SNAPSHOT_BYTES) -> Any:
    """One of a run's snapshots as JSON, read only from a plain path inside inputs/ and never
    through a link (``sigilctl.run_files``); None when it cannot be."""
    path = getattr(entry, "path", None) if not isinstance(entry, dict) else entry.get("path")
    if not isinstance(path, str) or not is_plain_path(path, "inputs"):
        return None
    try:
        with RunFolder.open(run_dir) as folder:
            return orjson.loads(folder.read(path, limit=limit))
    except (SigilError, OSError, orjson.JSONDecodeError):
        return None


def run_inputs(run_dir: Path, manifest: Manifest) -> RunInputs:
    """The doctrine and retrieved context the run's snapshots record."""
    doctrine = read_snapshot(run_dir, manifest.input_snapshots.get("doctrine"))
    context = read_snapshot(run_dir, manifest.input_snapshots.get("context"))
    scores = manifest.context_scores or {}
    documents: list[Retrieved] = []
    if isinstance(context, dict) and isinstance(context.get("documents"), list):
        for doc in context["documents"]:
            if isinstance(doc, dict) and isinstance(doc.get("path"), str):
                path = doc["path"]
                rank = doc.get("rank")
                size = doc.get("bytes")
                documents.append(
                    Retrieved(
                        path,
                        rank if isinstance(rank, int) else 0,
                        scores.get(path),
                        size if isinstance(size, int) else 0,
                    )
                )
    keys = ("id", "version", "path", "sha256")
    return RunInputs(
        {k: doctrine.get(k) for k in keys} if isinstance(doctrine, dict) else {},
        documents,
        context.get("method") if isinstance(context, dict) else None,
        context.get("query") if isinstance(context, dict) else None,
    )
