"""``reindex``: rebuild the whole index from manifests alone, whatever the backend.

A rebuild fills a fresh copy (a temporary SQLite file, or a PostgreSQL build schema) and the
backend swaps it in atomically, so readers see the old index or the new one, never a half-built
one. Runs published, replaced, moved to history or deleted while the first pass was reading are
caught by a second look taken under the writer lock just before the swap: it reads again only
the folders whose mtime changed (``walk.relist``), so no run falls between the scan and the swap
and a quiet tree costs a few dozen ``stat`` calls. Unreadable manifests and in-flight build
folders are skipped and named, never fatal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sigilctl.index.rows import ManifestProblem, RunRows, parse_rows
from sigilctl.index.walk import Place, Tree, container_of, list_tree, relist
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.run_files import UnsafeRunPath, open_run_file

Progress = Callable[[int, int], None]
Signature = tuple[int, int, int]
ExecutionKey = tuple[str, str, str]


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class ReindexResult:
    db: str  # the index as shown to people: a path, or a URL without its password
    indexed: int
    skipped: list[Skipped]
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "indexed": self.indexed,
            "skipped": len(self.skipped),
            "skipped_paths": [str(s.path) for s in self.skipped],
            "skipped_reasons": [{"path": str(s.path), "reason": s.reason} for s in self.skipped],
            "db": self.db,
            "seconds": round(self.seconds, 3),
        }


class Sink(Protocol):
    """Where a rebuild writes: the backend's fresh copy (the caller holds its transaction)."""

    def insert_new(self, batch: Iterable[RunRows]) -> None: ...

    def upsert(self, rows: RunRows) -> None: ...

    def delete(self, key: ExecutionKey) -> None: ...


def read_manifest_file(folder: str) -> tuple[bytes, Signature]:
    """The bytes of one execution's manifest and its (inode, mtime, size), read through one
    open file that is never reached through a link (``sigilctl.run_files``): a planted run must
    not put bytes from outside it in the index.

    Every manifest the index reads comes through here (rebuilds and single-run syncs).
    """
    with open_run_file(Path(folder), MANIFEST_NAME) as handle:
        st = os.fstat(handle.fileno())
        return handle.read(), (st.st_ino, st.st_mtime_ns, st.st_size)


def load_place(
    artifacts: str, place: Place
) -> tuple[RunRows | None, Signature | None, Skipped | None]:
    """Read and validate one execution's manifest: its rows, or why it is skipped."""
    folder = f"{artifacts}/{place.relative}"
    path = f"{folder}/{MANIFEST_NAME}"
    try:
        data, signature = read_manifest_file(folder)
    except UnsafeRunPath as exc:
        return None, None, Skipped(Path(folder), f"not read: {exc.message}")
    except FileNotFoundError:
        return None, None, Skipped(Path(folder), f"no {MANIFEST_NAME}")
    except OSError as exc:
        return None, None, Skipped(Path(path), f"cannot be read ({exc.strerror or exc})")
    try:
        return parse_rows(data, place, path), signature, None
    except ManifestProblem as problem:
        return None, signature, Skipped(problem.path, problem.reason)


class Build:
    """The state of one rebuild: which manifests were read, what they gave, what was skipped."""

    def __init__(self, artifacts: Path) -> None:
        self.artifacts = artifacts
        self.root = os.fspath(artifacts)
        self.tree: Tree | None = None
        self.first_look_ns = 0
        self.seen: dict[Place, Signature | None] = {}
        self.keys: dict[Place, ExecutionKey] = {}  # places indexed, and the key of their row
        self.owners: dict[ExecutionKey, Place] = {}
        self.problems: dict[Place, Skipped] = {}

    @property
    def indexed(self) -> int:
        return len(self.keys)

    def _forget(self, place: Place) -> ExecutionKey | None:
        self.problems.pop(place, None)
        self.seen.pop(place, None)
        key = self.keys.pop(place, None)
        if key is not None:
            self.owners.pop(key, None)
        return key

    def _read(self, place: Place) -> RunRows | None:
        rows, signature, problem = load_place(self.root, place)
        self.seen[place] = signature
        if rows is None:
            self.problems[place] = problem  # type: ignore[assignment]
            return None
        owner = self.owners.get(rows.key)
        if owner is not None and owner != place:
            self.problems[place] = Skipped(
                Path(self.root, place.relative),
                f"holds execution '{rows.key[2]}' already indexed from {owner.relative}",
            )
            return None
        self.keys[place] = rows.key
        self.owners[rows.key] = place
        return rows

    def first_pass(self, sink: Sink, progress: Progress | None) -> None:
        """Read every manifest, handing rows to the sink as they come (it may stream them)."""
        self.first_look_ns = time.time_ns()
        self.tree = list_tree(self.root)
        places = self.tree.places()

        def rows() -> Iterator[RunRows]:
            for done, place in enumerate(places, start=1):
                found = self._read(place)
                if progress is not None:
                    progress(done, len(places))
                if found is not None:
                    yield found

        sink.insert_new(rows())

    def catch_up(self, sink: Sink) -> list[Skipped]:
        """Apply what changed since the first pass; return what is skipped now.

        The caller holds the writer lock and the sink's transaction.
        """
        if self.tree is None:
            raise RuntimeError("catch_up before first_pass")
        tree, changed = relist(self.tree, self.first_look_ns)
        now = tree.places()
        present = set(now)
        stale: set[ExecutionKey] = set()
        for place in [p for p in self.seen if p not in present]:
            key = self._forget(place)
            if key is not None:
                stale.add(key)
        todo = [
            place
            for place in now
            if place not in self.seen
            or (
                container_of(place) in changed
                and self.seen[place] != _signature(f"{self.root}/{place.relative}")
            )
        ]
        for place in todo:  # forget them all first: an execution may have moved between two
            key = self._forget(place)
            if key is not None:
                stale.add(key)
        fresh = [rows for place in todo if (rows := self._read(place)) is not None]
        for key in stale - {rows.key for rows in fresh}:
            sink.delete(key)
        for rows in fresh:
            sink.upsert(rows)
        self.tree = tree
        hidden = [Skipped(Path(self.root, rel), reason) for rel, reason in tree.skipped()]
        return hidden + sorted(self.problems.values(), key=lambda s: str(s.path))


def _signature(folder: str) -> Signature | None:
    try:
        st = os.stat(f"{folder}/{MANIFEST_NAME}")
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
