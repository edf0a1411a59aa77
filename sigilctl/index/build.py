"""``reindex``: rebuild the whole index from manifests alone, then swap it in atomically.

The new index is built in a temporary file beside the old one, so readers see the old index
until one ``os.replace`` shows them the new one, and a crash mid-build leaves the old one in
place. Runs published while the build was reading are caught by a second, cheap pass (a stat of
every manifest) taken under the writer lock just before the swap, so no run falls between the
scan and the swap. Unreadable manifests and in-flight build directories are skipped and named.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigilctl.errors import InputError, StorageError
from sigilctl.index import sqlite as backend
from sigilctl.index.rows import ManifestProblem, RunRows, parse_rows
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.run_files import UnsafeRunPath, open_run_file
from sigilctl.store import SWAP_PREFIX, TEMP_PREFIX, TRASH_PREFIX

Progress = Callable[[int, int], None]
Signature = tuple[int, int, int]
TEMP_INFIX = ".tmp-"


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class ReindexResult:
    db: Path
    indexed: int
    skipped: list[Skipped]
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "indexed": self.indexed,
            "skipped": len(self.skipped),
            "skipped_paths": [str(s.path) for s in self.skipped],
            "skipped_reasons": [{"path": str(s.path), "reason": s.reason} for s in self.skipped],
            "db": str(self.db),
            "seconds": round(self.seconds, 3),
        }


RunKey = tuple[str, str]  # (job folder, run folder)


@dataclass
class _Listing:
    runs: list[RunKey] = field(default_factory=list)
    hidden: list[Skipped] = field(default_factory=list)


def list_runs(artifacts: Path) -> _Listing:
    """Every run folder under ``<artifacts>/<job_id>/``; build dirs are listed as skipped.

    Plain strings and ``os.scandir`` here: this loop runs once per run, twice per reindex.
    """
    listing = _Listing()
    for job in sorted(os.scandir(artifacts), key=lambda e: e.name):
        if job.name.startswith(".") or not job.is_dir():
            continue
        for entry in sorted(os.scandir(job.path), key=lambda e: e.name):
            if not entry.is_dir():
                continue
            if entry.name.startswith((TEMP_PREFIX, SWAP_PREFIX, TRASH_PREFIX)):
                listing.hidden.append(
                    Skipped(Path(entry.path), "a run being built or replaced (not published)")
                )
            elif not entry.name.startswith("."):
                listing.runs.append((job.name, entry.name))
    return listing


class _Build:
    """The state of one rebuild: which manifests were read, what they gave, what was skipped."""

    def __init__(self, artifacts: Path) -> None:
        self.artifacts = artifacts
        self.root = os.fspath(artifacts)
        self.seen: dict[RunKey, Signature | None] = {}
        self.problems: dict[RunKey, Skipped] = {}
        self.indexed: set[RunKey] = set()

    def _manifest(self, key: RunKey) -> str:
        return f"{self.root}/{key[0]}/{key[1]}/{MANIFEST_NAME}"

    def signature(self, key: RunKey) -> Signature | None:
        try:
            st = os.stat(self._manifest(key))
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def read(self, key: RunKey) -> RunRows | None:
        self.problems.pop(key, None)
        self.indexed.discard(key)
        self.seen[key] = None
        path = self._manifest(key)
        try:
            # Never through a link: a planted run must not put outside bytes in the index.
            with open_run_file(Path(self.root, *key), MANIFEST_NAME) as handle:
                st = os.fstat(handle.fileno())
                self.seen[key] = (st.st_ino, st.st_mtime_ns, st.st_size)
                data = handle.read()
            rows = parse_rows(data, key[0], key[1], path)
        except UnsafeRunPath as exc:
            self.problems[key] = Skipped(Path(path).parent, f"not read: {exc.message}")
            return None
        except FileNotFoundError:
            self.problems[key] = Skipped(Path(path).parent, f"no {MANIFEST_NAME}")
            return None
        except OSError as exc:
            self.problems[key] = Skipped(Path(path), f"cannot be read ({exc.strerror})")
            return None
        except ManifestProblem as problem:
            self.problems[key] = Skipped(problem.path, problem.reason)
            return None
        self.indexed.add(key)
        return rows

    def first_pass(self, conn: sqlite3.Connection, progress: Progress | None) -> None:
        runs = list_runs(self.artifacts).runs
        batch: list[RunRows] = []
        for done, key in enumerate(runs, start=1):
            rows = self.read(key)
            if rows is not None:
                batch.append(rows)
            if progress is not None:
                progress(done, len(runs))
        with backend.transaction(conn):
            backend.insert_new(conn, batch)

    def catch_up(self, conn: sqlite3.Connection) -> list[Skipped]:
        """Index what changed since the first pass; return what is skipped now."""
        listing = list_runs(self.artifacts)
        current = set(listing.runs)
        with backend.transaction(conn):
            for gone in [key for key in self.seen if key not in current]:
                if gone in self.indexed:
                    backend.delete(conn, gone)
                self.indexed.discard(gone)
                self.problems.pop(gone, None)
                del self.seen[gone]
            for key in listing.runs:
                if key in self.seen and self.seen[key] == self.signature(key):
                    continue
                was_indexed = key in self.indexed
                rows = self.read(key)
                if rows is not None:
                    backend.upsert(conn, rows)
                elif was_indexed:
                    backend.delete(conn, key)
        return listing.hidden + sorted(self.problems.values(), key=lambda s: str(s.path))


def reindex(artifacts: Path, db: Path, progress: Progress | None = None) -> ReindexResult:
    """Rebuild ``db`` from every manifest under ``artifacts`` and swap it in atomically."""
    started = time.perf_counter()
    if not artifacts.is_dir():
        raise InputError(f"artifacts tree {artifacts} does not exist or is not a directory")
    if db.is_dir():
        raise InputError(f"index path {db} is a directory; give a file path with --db")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the index folder {db.parent}: {exc.strerror}") from None
    _remove_stale_temps(db)
    temp = db.with_name(f".{db.name}{TEMP_INFIX}{os.getpid()}-{secrets.token_hex(4)}")
    build = _Build(artifacts)
    try:
        conn = backend.open_build(temp)
        try:
            backend.migrate(conn)
            build.first_pass(conn, progress)
            with backend.writer_lock(db, backend.SWAP_TIMEOUT_S):
                skipped = build.catch_up(conn)
                backend.seal_build(conn, temp)
                backend.swap_in(temp, db)
        finally:
            conn.close()  # idempotent: seal_build closed it already on success
    except sqlite3.Error as exc:
        raise StorageError(f"cannot build the index {db}: {exc}") from None
    except OSError as exc:
        raise StorageError(f"cannot write the index {db}: {exc.strerror or exc}") from None
    finally:
        for path in (temp, backend.sidecar(temp, "-wal"), backend.sidecar(temp, "-shm")):
            path.unlink(missing_ok=True)
    return ReindexResult(db, len(build.indexed), skipped, time.perf_counter() - started)


def ensure_built(
    artifacts: Path, db: Path, progress: Progress | None = None
) -> ReindexResult | None:
    """Build the index whole when it does not exist yet (readers never see a partial one).

    Returns what the build did, or None when the index was already there.
    """
    if db.exists():
        return None
    return reindex(artifacts, db, progress)


def _remove_stale_temps(db: Path) -> None:
    """Delete temp files of rebuilds whose process is gone (a crash mid-reindex)."""
    prefix = f".{db.name}{TEMP_INFIX}"
    for path in db.parent.glob(f"{prefix}*"):
        pid_text = path.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
