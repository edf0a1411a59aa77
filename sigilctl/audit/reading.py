"""The audit tools' door to run files: ``sigilctl.run_files`` for a run's own files, and a walk
of a whole folder (a run with its history, for ``export``) that never follows a link.

Every refusal is an ``UnsafeRunFile`` naming the path inside the run.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sigilctl.errors import SigilError
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.run_files import UnsafeRunPath, is_plain_path
from sigilctl.run_files import read_run_file as _read_in_run

MAX_FILE_BYTES = 256 * 1024 * 1024
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UnsafeRunFile(SigilError):
    """A file of a run cannot be read without leaving the run (a link, an escape, a special
    file), or does not exist. The message names the path inside the run."""

    exit_code = 1


def is_run_path(rel: str) -> bool:
    """The paths a run may name: its manifest, or a plain path under inputs/ or outputs/."""
    return rel == MANIFEST_NAME or is_plain_path(rel, "inputs") or is_plain_path(rel, "outputs")


def read_run_file(run_dir: Path, rel: str, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``rel`` inside ``run_dir``, opened component by component without links."""
    if not is_run_path(rel):
        raise UnsafeRunFile(f"{rel} is not a plain relative path under inputs/ or outputs/")
    try:
        return _read_in_run(run_dir, rel, limit=limit)
    except UnsafeRunPath as exc:
        raise UnsafeRunFile(exc.message) from None


def _refusal(rel: str, exc: OSError) -> str:
    if exc.errno in (getattr(os, "ELOOP", 40), getattr(os, "ENOTDIR", 20)):
        return f"{rel} is (or passes through) a symbolic link; it is never followed"
    return f"{rel} cannot be read ({exc.strerror or exc})"


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a folder walked without following links: ``kind`` is file, link or other."""

    rel: str
    kind: str
    size: int


def walk_tree(root: Path) -> Iterator[TreeEntry]:
    """Every entry under ``root`` (sorted, depth first), never descending through a link.

    ``root`` itself must be a real folder (not a link).
    """
    try:
        mode = os.lstat(root).st_mode
    except OSError as exc:
        raise UnsafeRunFile(f"{root} cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(mode):
        raise UnsafeRunFile(f"{root} is not a folder (a link is never followed)")
    yield from _walk(root, "")


def _walk(folder: Path, prefix: str) -> Iterator[TreeEntry]:
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(Path(entry.path), rel + "/")
        elif stat.S_ISREG(info.st_mode):
            yield TreeEntry(rel, "file", info.st_size)
        else:
            yield TreeEntry(rel, "link" if stat.S_ISLNK(info.st_mode) else "other", 0)


def read_tree_file(root: Path, rel: str, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """A file found by ``walk_tree`` (any plain relative path), opened without following links."""
    parts = rel.split("/")
    if not rel or "" in parts or "." in parts or ".." in parts or "\x00" in rel:
        raise UnsafeRunFile(f"{rel} is not a plain relative path")
    return _read(root, rel, limit)


def _read(root: Path, rel: str, limit: int) -> bytes:
    """Open ``root`` then every component of ``rel`` with O_NOFOLLOW, and read the file."""
    parts = rel.split("/")
    fds: list[int] = []
    try:
        try:
            fds.append(os.open(root, _DIR_FLAGS))
            for part in parts[:-1]:
                fds.append(os.open(part, _DIR_FLAGS, dir_fd=fds[-1]))
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fds[-1])
        except FileNotFoundError:
            raise UnsafeRunFile(f"{rel} does not exist in {root}") from None
        except OSError as exc:
            raise UnsafeRunFile(_refusal(rel, exc)) from None
        with open(fd, "rb", buffering=0) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise UnsafeRunFile(f"{rel} is not a regular file")
            if info.st_size > limit:
                raise UnsafeRunFile(f"{rel} is {info.st_size} bytes, over the {limit}-byte limit")
            return handle.read(limit + 1)[:limit]
    finally:
        for opened in fds:
            os.close(opened)
