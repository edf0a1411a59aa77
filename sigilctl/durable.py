"""Writes that survive a crash or a power cut: fsync of files and folders, and files written
whole or not at all (built beside their final name, fsynced, renamed in, the folder fsynced).

The one place that knows the recipe; the run store, the trace spool and the audit tools use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_INFIX = ".tmp-"


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder's fsync makes the names in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_temp(name: str) -> bool:
    """A name ``atomic_file`` writes to before the rename (left behind only by a crash)."""
    return name.startswith(".") and TEMP_INFIX in name


@contextlib.contextmanager
def atomic_file(path: Path, *, mode: int | None = None, replace: bool = True) -> Iterator[BinaryIO]:
    """Yield a file to write; on success it becomes ``path`` in one rename, durably.

    ``mode`` None lets the umask decide (as for every artifact); a mode is applied exactly
    (a private key's 0o600). ``replace=False`` refuses to overwrite an existing ``path``
    (FileExistsError), even one created while the file was being written. On any error the
    partial file is removed.
    """
    temp = path.parent / f".{path.name}{TEMP_INFIX}{os.getpid()}-{secrets.token_hex(4)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode or 0o666)
    try:
        if mode is not None:
            os.fchmod(fd, mode)  # exactly this mode, whatever the umask
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _rename_in(temp, path, replace=replace)
        fsync_path(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_atomic(path: Path, data: bytes, *, mode: int | None = None, replace: bool = True) -> None:
    with atomic_file(path, mode=mode, replace=replace) as handle:
        handle.write(data)


def _rename_in(temp: Path, path: Path, *, replace: bool) -> None:
    """The one step that makes the whole, fsynced file visible under its name."""
    if replace:
        os.replace(temp, path)
    else:
        os.link(temp, path)  # fails if path exists: never overwrites
        os.unlink(temp)
