"""The artifacts tree: run directories, their atomic publication, their history, their locks.

A run is built in a hidden sibling (``.tmp-<run_id>-...``), every file and folder fsynced, then
renamed into place, so a run directory appears whole or not at all (SPEC §8). Nothing that was
published is ever deleted or edited here: an execution that stops being current is renamed
whole into ``.history/<run_id>/<execution_id>/``.

Replacing the current execution C by a new one N takes three renames, each atomic:

1. the finished build → ``.swap-<run_id>-<N's execution_id>`` (N is complete from here on);
2. ``renameat2(RENAME_EXCHANGE)`` of the swap folder and ``<run_id>/``: N is current, and C
   now sits under the swap name;
3. the swap folder (C) → ``.history/<run_id>/<C's execution_id>/``.

Without ``renameat2`` steps 2–3 become C → history, then swap (N) → ``<run_id>/``. A crash at
any point leaves what :meth:`RunStore.repair` finishes, under the run_id's lock: a ``.swap-``
folder whose manifest names the execution id in its folder name is N (published: put in place,
rolling the replacement forward); any other is C (moved to history). ``.tmp-`` builds were never
published and are removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson

from sigilctl import run_lock
from sigilctl.durable import fsync_path
from sigilctl.errors import StorageError
from sigilctl.history import execution_id_of, history_root
from sigilctl.manifest import MANIFEST_NAME

TEMP_PREFIX = ".tmp-"
SWAP_PREFIX = ".swap-"
TRASH_PREFIX = ".trash-"  # the old run of a fallback replace by sigilctl before history existed
LOCK_DIR = ".locks"
_RENAME_EXCHANGE = 2
_PENDING = (TEMP_PREFIX, SWAP_PREFIX, TRASH_PREFIX)


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def fsync_tree(root: Path) -> None:
    """fsync every file, then every directory bottom-up, so a rename publishes durable bytes."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fsync_path(Path(folder, name))
        fsync_path(Path(folder))


def _storage_error(action: str, path: Path, exc: OSError) -> StorageError:
    reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return StorageError(f"cannot {action} {path}: {reason}")


def _pending_run_id(name: str) -> str:
    """The run_id in ``.tmp-<run_id>-…``, ``.swap-<run_id>-…`` or ``.trash-<run_id>-…``."""
    parts = name.split("-", 2)
    return parts[1] if len(parts) == 3 else ""


def _recorded_execution_id(run_dir: Path) -> str | None:
    """The execution id a manifest records, only if it is whole and readable."""
    try:
        document = orjson.loads((run_dir / MANIFEST_NAME).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    value = document.get("execution_id") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


class RunStore:
    """Run directories under ``<artifacts>/<job_id>/<run_id>/``, and their history."""

    def __init__(self, artifacts: Path) -> None:
        self.artifacts = artifacts

    def job_dir(self, job_id: str) -> Path:
        return self.artifacts / job_id

    def run_dir(self, job_id: str, run_id: str) -> Path:
        return self.artifacts / job_id / run_id

    def lock_path(self, job_id: str, run_id: str) -> Path:
        return self.artifacts / job_id / LOCK_DIR / f"{run_id}.lock"

    @contextlib.contextmanager
    def lock(
        self,
        job_id: str,
        run_id: str,
        *,
        timeout: float | None = run_lock.DEFAULT_LOCK_TIMEOUT_S,
        on_wait: run_lock.OnWait | None = None,
    ) -> Iterator[None]:
        """Hold the run_id's exclusive lock (waits for a concurrent run of the same inputs)."""
        with run_lock.hold(
            self.lock_path(job_id, run_id), run_id=run_id, timeout=timeout, on_wait=on_wait
        ):
            yield

    def staging_dir(self, job_id: str, run_id: str) -> Path:
        """Create a fresh hidden build directory beside the run's final place."""
        parent = self.artifacts / job_id
        path = parent / f"{TEMP_PREFIX}{run_id}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            (path / "inputs").mkdir(parents=True)  # outputs/ appears only if a pipeline writes
        except OSError as exc:
            raise _storage_error("create a run directory in", parent, exc) from None
        return path

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    # --- publication (the caller holds the run_id's lock) ----------------------------------

    def publish(self, staging: Path, final: Path) -> None:
        """Make ``staging`` visible as ``final`` in one step (no current execution exists)."""
        try:
            fsync_tree(staging)
            os.rename(staging, final)
            fsync_path(final.parent)
            fsync_path(final.parent.parent)  # holds the job folder's name when it is new
        except OSError as exc:
            raise _storage_error("publish the run directory", final, exc) from None

    def publish_replacing(self, staging: Path, final: Path, execution_id: str) -> Path:
        """Make ``staging`` (execution ``execution_id``) current; the old current goes to
        history, whole. Returns where the old execution now lives."""
        try:
            fsync_tree(staging)
            self._history_folder(final)
            swap = final.parent / f"{SWAP_PREFIX}{final.name}-{execution_id}"
            os.rename(staging, swap)
            fsync_path(final.parent)
            return self._swap_in(swap, final)
        except OSError as exc:
            raise _storage_error("publish the run directory", final, exc) from None

    def publish_to_history(self, staging: Path, final: Path, execution_id: str) -> Path:
        """Keep ``staging`` as a history execution of ``final``'s run_id; the current stays."""
        try:
            fsync_tree(staging)
            return self._to_history(staging, final, execution_id)
        except OSError as exc:
            raise _storage_error("keep the execution in the history of", final, exc) from None

    def _history_folder(self, final: Path) -> Path:
        """``.history/<run_id>/``, created and made durable before anything moves into it."""
        root = history_root(final.parent, final.name)
        if not root.is_dir():
            root.mkdir(parents=True, exist_ok=True)
            fsync_path(root.parent)
            fsync_path(final.parent)
        return root

    def _to_history(self, source: Path, final: Path, execution_id: str) -> Path:
        root = self._history_folder(final)
        target = root / execution_id
        while target.exists():  # only a derived id of two identical damaged copies collides
            target = root / f"{execution_id}.{secrets.token_hex(2)}"
        os.rename(source, target)
        fsync_path(root)
        fsync_path(source.parent)
        return target

    def _swap_in(self, swap: Path, final: Path) -> Path:
        """Steps 2–3 of a replacement: ``swap`` becomes current, the old current history."""
        old_id = execution_id_of(final)
        if _exchange(swap, final):
            fsync_path(final.parent)
            return self._to_history(swap, final, old_id)
        moved = self._to_history(final, final, old_id)
        os.rename(swap, final)
        fsync_path(final.parent)
        return moved

    # --- repair (the caller holds the lock of ``held_run_id``) -----------------------------

    def repair(self, job_id: str, *, held_run_id: str | None = None) -> list[Path]:
        """Finish what crashed runs left: remove unpublished builds, put a published execution
        left under a ``.swap-`` name in place or into history.

        Entries of a run_id are touched only under its lock (``held_run_id``'s is the
        caller's; others are taken if free, else left for later). Returns the run directories
        whose executions moved, so the caller can tell the index.
        """
        parent = self.artifacts / job_id
        changed: list[Path] = []
        try:
            entries = sorted(e for e in parent.iterdir() if e.name.startswith(_PENDING))
        except OSError:
            return changed
        for entry in entries:
            run_id = _pending_run_id(entry.name)
            if not run_id or not entry.is_dir() or entry.is_symlink():
                continue
            held = run_id == held_run_id
            fd = None if held else run_lock.try_hold(self.lock_path(job_id, run_id))
            if not held and fd is None:
                continue
            try:
                if self._repair_entry(entry, parent / run_id):
                    changed.append(parent / run_id)
            except OSError as exc:
                raise _storage_error("repair", entry, exc) from None
            finally:
                if fd is not None:
                    os.close(fd)
        return changed

    def _repair_entry(self, entry: Path, final: Path) -> bool:
        if entry.name.startswith(TEMP_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)  # a build that was never published
            return False
        if entry.name.startswith(TRASH_PREFIX):
            if final.exists():
                self._to_history(entry, final, execution_id_of(entry))
            else:
                os.rename(entry, final)
            return True
        named = entry.name.split("-", 2)[2]
        if _recorded_execution_id(entry) == named:  # the new execution: roll forward
            if final.exists():
                self._swap_in(entry, final)
            else:
                os.rename(entry, final)
                fsync_path(final.parent)
        else:  # the execution it replaced
            self._to_history(entry, final, execution_id_of(entry))
        return True

    def iter_run_dirs(self, job_id: str | None = None) -> Iterator[Path]:
        """Published current run directories (hidden folders skipped), sorted by path."""
        if not self.artifacts.is_dir():
            return
        jobs = [self.artifacts / job_id] if job_id else sorted(self.artifacts.iterdir())
        for job_dir in jobs:
            if is_hidden(job_dir.name) or not job_dir.is_dir():
                continue
            for run_dir in sorted(job_dir.iterdir()):
                if not is_hidden(run_dir.name) and run_dir.is_dir():
                    yield run_dir


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False if unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
