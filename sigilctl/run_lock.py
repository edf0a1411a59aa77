"""The per-run_id lock: a kernel ``flock`` (released when its holder dies), plus who holds it.

The holder writes its pid, host and start time into the lock file once it has the lock; a
waiter reads them to say who it waits for. That note is advisory: the lock itself is only the
``flock``. Waiting polls a non-blocking ``flock`` so it can report progress and give up after
``timeout`` seconds (a stopped holder, e.g. SIGSTOP or a hung NFS call, keeps its lock forever).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from sigilctl.errors import SigilError, StorageError

DEFAULT_LOCK_TIMEOUT_S = 3600.0
REPORT_EVERY_S = 30.0
_FIRST_POLL_S = 0.01
_MAX_POLL_S = 0.2


@dataclass(frozen=True)
class LockHolder:
    """What the holder wrote about itself (any field may be unknown)."""

    pid: int | None = None
    host: str | None = None
    since: str | None = None

    def describe(self) -> str:
        if self.pid is None:
            return "another process"
        where = f" on host {self.host}" if self.host else ""
        since = f" since {self.since}" if self.since else ""
        return f"pid {self.pid}{where}{since}"


@dataclass(frozen=True)
class LockWait:
    """Reported to the caller while it waits: once at first, then every few seconds."""

    run_id: str
    holder: LockHolder
    waited_s: float
    timeout_s: float | None
    first: bool = False


class LockTimeout(SigilError):
    """The lock was not free within ``--lock-timeout`` seconds (exit 1: the run did not run)."""

    exit_code = 1


OnWait = Callable[[LockWait], None]
# A second, cross-machine lock a caller may add around the kernel flock (the service's Redis
# lease): entered before the flock, it yields a fence that the run calls right before it
# publishes, which raises if the lease was lost meanwhile (nothing is published then).
Fence = Callable[[], None]
RunLock = Callable[[str, str], contextlib.AbstractContextManager[Fence]]


def read_holder(path: Path) -> LockHolder:
    try:
        with open(path, "rb") as handle:
            note = orjson.loads(handle.read(4096))
    except (OSError, orjson.JSONDecodeError):
        return LockHolder()
    if not isinstance(note, dict):
        return LockHolder()
    pid, host, since = note.get("pid"), note.get("host"), note.get("since")
    return LockHolder(
        pid if isinstance(pid, int) else None,
        host if isinstance(host, str) else None,
        since if isinstance(since, str) else None,
    )


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _write_holder(fd: int) -> None:
    from sigilctl.manifest import utc_now

    note = {"pid": os.getpid(), "host": socket.gethostname(), "since": utc_now()}
    with contextlib.suppress(OSError):  # advisory: a full disk must not fail the run here
        os.ftruncate(fd, 0)
        os.pwrite(fd, orjson.dumps(note), 0)


def _wait(
    fd: int, path: Path, run_id: str, timeout: float | None, on_wait: OnWait | None, every: float
) -> None:
    started = time.monotonic()
    next_report = started
    reports = 0
    poll = _FIRST_POLL_S
    while True:
        now = time.monotonic()
        waited = now - started
        if now >= next_report:
            if on_wait is not None:
                on_wait(LockWait(run_id, read_holder(path), waited, timeout, first=reports == 0))
            reports += 1
            next_report = now + every
        if timeout is not None and waited >= timeout:
            holder = read_holder(path)
            raise LockTimeout(
                f"gave up after waiting {waited:.0f} s for run {run_id}: its lock "
                f"({path}) is held by {holder.describe()} (--lock-timeout {timeout:g})"
            )
        time.sleep(poll if timeout is None else min(poll, max(0.0, timeout - waited)))
        poll = min(poll * 2, _MAX_POLL_S)
        if _try_flock(fd):
            return


@contextlib.contextmanager
def hold(
    path: Path,
    *,
    run_id: str,
    timeout: float | None = DEFAULT_LOCK_TIMEOUT_S,
    on_wait: OnWait | None = None,
    report_every: float = REPORT_EVERY_S,
) -> Iterator[None]:
    """Hold the exclusive lock at ``path``, waiting at most ``timeout`` seconds (None: forever)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise StorageError(f"cannot create a run lock in {path.parent}: {reason}") from None
    try:
        if not _try_flock(fd):
            _wait(fd, path, run_id, timeout, on_wait, report_every)
        _write_holder(fd)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # still ours: the next holder writes its own note
    finally:
        os.close(fd)


def try_hold(path: Path) -> int | None:
    """Take the lock at ``path`` only if it is free; the caller closes the returned fd."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return None
    try:
        if _try_flock(fd):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None
