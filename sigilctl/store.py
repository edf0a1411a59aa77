"""The artifacts tree: run directories, their atomic publication, and per-run locks.

A run is built in a hidden sibling (``.tmp-<run_id>-...``), every file and folder fsynced, then
renamed into place, so a run directory appears whole or not at all (SPEC §8). Replacing an
existing run (``--force`` or re-running a failed run) swaps the two directories atomically with
``renameat2(RENAME_EXCHANGE)`` where the kernel offers it. A per-run_id ``flock`` makes
concurrent runs of the same inputs execute once.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from sigilctl.errors import StorageError

TEMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
LOCK_DIR = ".locks"
_RENAME_EXCHANGE = 2


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file, then every directory bottom-up, so a rename publishes durable bytes."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fsync_path(Path(folder, name))
        fsync_path(Path(folder))


def _storage_error(action: str, path: Path, exc: OSError) -> StorageError:
    reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return StorageError(f"cannot {action} {path}: {reason}")


class RunStore:
    """Run directories under ``<artifacts>/<job_id>/<run_id>/``."""

    def __init__(self, artifacts: Path) -> None:
        self.artifacts = artifacts

    def run_dir(self, job_id: str, run_id: str) -> Path:
        return self.artifacts / job_id / run_id

    @contextlib.contextmanager
    def lock(self, job_id: str, run_id: str) -> Iterator[None]:
        """Hold the run_id's exclusive lock (waits for a concurrent run of the same inputs)."""
        folder = self.artifacts / job_id / LOCK_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / f"{run_id}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise _storage_error("create a run lock in", folder, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _try_lock(self, job_id: str, run_id: str) -> int | None:
        path = self.artifacts / job_id / LOCK_DIR / f"{run_id}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    def staging_dir(self, job_id: str, run_id: str) -> Path:
        """Create a fresh hidden build directory beside the run's final place."""
        parent = self.artifacts / job_id
        path = parent / f"{TEMP_PREFIX}{run_id}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            (path / "inputs").mkdir(parents=True)  # outputs/ appears only if a pipeline writes
        except OSError as exc:
            raise _storage_error("create a run directory in", parent, exc) from None
        return path

    def publish(self, staging: Path, final: Path) -> None:
        """Make ``staging`` visible as ``final`` in one step, replacing an older run if any."""
        try:
            fsync_tree(staging)
            if final.exists():
                self._replace(staging, final)
            else:
                os.rename(staging, final)
            fsync_path(final.parent)
            fsync_path(final.parent.parent)  # holds the job folder's name when it is new
        except OSError as exc:
            raise _storage_error("publish the run directory", final, exc) from None

    def _replace(self, staging: Path, final: Path) -> None:
        if _exchange(staging, final):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old run
            return
        trash = final.parent / f"{TRASH_PREFIX}{final.name}-{secrets.token_hex(4)}"
        os.rename(final, trash)
        os.rename(staging, final)
        shutil.rmtree(trash, ignore_errors=True)

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def clean_stale(self, job_id: str, *, held_run_id: str | None = None) -> list[Path]:
        """Remove build dirs left by crashed runs: those whose run_id lock nobody holds.

        ``held_run_id`` is a run_id whose lock the caller holds: its leftovers are stale too.
        Returns the run directories restored from a replace cut between its two renames (the
        old run, whole), so the caller can put them back in the index.
        """
        parent = self.artifacts / job_id
        restored: list[Path] = []
        if not parent.is_dir():
            return restored
        for entry in parent.iterdir():
            if not entry.name.startswith((TEMP_PREFIX, TRASH_PREFIX)) or not entry.is_dir():
                continue
            run_id = entry.name.split("-", 2)[1] if entry.name.count("-") >= 2 else ""
            held = bool(run_id) and run_id == held_run_id
            fd = None if held or not run_id else self._try_lock(job_id, run_id)
            if not held and fd is None:
                continue
            try:
                final = parent / run_id
                if entry.name.startswith(TRASH_PREFIX) and not final.exists():
                    os.rename(entry, final)  # a crash between the two renames: restore
                    restored.append(final)
                else:
                    shutil.rmtree(entry, ignore_errors=True)
            finally:
                if fd is not None:
                    os.close(fd)
        return restored

    def iter_run_dirs(self, job_id: str | None = None) -> Iterator[Path]:
        """Published run directories (hidden build/trash dirs skipped), sorted by path."""
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
