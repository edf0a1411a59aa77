"""Reading a run's files without ever leaving the run folder.

Every command that reads runs (``show``, ``verify``, ``reindex``, and ``diff``, ``replay``,
``export`` and the HTTP API) opens a run's files here and nowhere else. A run file is named by a
relative POSIX path: ``manifest.json``, or a path under ``inputs/`` or ``outputs/`` with no
``..``, ``.``, empty part, backslash or NUL. It is opened one component at a time from directory
descriptors with ``O_NOFOLLOW``, starting above the job folder, so a symbolic link anywhere (the
job folder, the run folder, ``inputs/``, a sub-folder, the file itself) is refused, never
followed, and swapping a name between a check and the open cannot redirect the read. A run that
holds such a link or names such a path is tampered: ``verify`` names it, readers refuse it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sigilctl import nesting
from sigilctl.errors import SigilError
from sigilctl.manifest import MANIFEST_NAME

TOPS = ("inputs", "outputs")
HISTORY_DIR = ".history"  # artifacts/<job_id>/.history/<run_id>/<execution>/ (SPEC §8)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class PathIssue(StrEnum):
    """Why a run path was not opened."""

    ESCAPE = "escape"  # absolute, or climbs out with ..
    MISPLACED = "misplaced"  # not a plain relative path under the expected top folder
    SYMLINK = "symlink"  # a symbolic link on the way (folder or file)
    NOT_FILE = "not_file"  # a FIFO, device or folder where a file is expected


class UnsafeRunPath(SigilError):
    """A run names or holds a path that would leave it; nothing was read through it.

    Exit 1: the run is not ok (tampered). ``rel`` is the offending path inside the run (``.``
    for the run folder itself, ``..`` for its job folder).
    """

    exit_code = 1

    def __init__(self, issue: PathIssue, rel: str, message: str) -> None:
        super().__init__(message)
        self.issue = issue
        self.rel = rel


class EntryKind(StrEnum):
    FILE = "file"
    LINK = "link"
    OTHER = "other"


def is_plain_path(path: str, top: str) -> bool:
    """A relative POSIX path under ``top``/ with no empty, ``.`` or ``..`` part: safe to open."""
    parts = path.split("/")
    return (
        parts[0] == top
        and len(parts) > 1
        and "" not in parts
        and "." not in parts
        and ".." not in parts
        and "\\" not in path
        and "\x00" not in path
    )


def check_path(path: str, top: str | None = None) -> str:
    """Return ``path`` when it is a plain run path (under ``top``, or any top when None).

    Raises UnsafeRunPath: ESCAPE for absolute paths, drive letters and ``..``; MISPLACED for
    anything else that is not a plain relative path under the top folder.
    """
    if top is None:
        if path == MANIFEST_NAME:
            return path
        head = path.split("/", 1)[0]
        if head in TOPS and is_plain_path(path, head):
            return path
    elif is_plain_path(path, top):
        return path
    if path.startswith("/") or _DRIVE.match(path) or ".." in path.split("/"):
        raise UnsafeRunPath(
            PathIssue.ESCAPE, path, f"path '{path}' escapes the run directory; it was not followed"
        )
    where = f"{top}/" if top else "inputs/ or outputs/"
    raise UnsafeRunPath(
        PathIssue.MISPLACED, path, f"path '{path}' must be a plain relative path under {where}"
    )


def _run_chain(run_dir: Path) -> tuple[str, list[str]]:
    """The trusted folder above the job folder, and the names from there down to the run.

    ``<artifacts>/<job_id>/<run_id>`` or ``<artifacts>/<job_id>/.history/<run_id>/<execution>``:
    everything from the job folder down is the run's and is never followed; the artifacts
    folder above is the operator's setting and may be a link.
    """
    parts = os.path.abspath(run_dir).split(os.sep)
    depth = 4 if len(parts) > 3 and parts[-3] == HISTORY_DIR else 2
    depth = min(depth, len(parts) - 1)
    return os.sep.join(parts[:-depth]) or os.sep, parts[-depth:]


def _refusal_for_folder(names: list[str], index: int) -> UnsafeRunPath:
    below = len(names) - 1 - index
    name = names[index]
    if below == 0:
        return UnsafeRunPath(
            PathIssue.SYMLINK,
            ".",
            f"the run folder {name} is a symbolic link; a run is never read through one",
        )
    what = "job folder" if index == 0 else "folder"
    return UnsafeRunPath(
        PathIssue.SYMLINK,
        "/".join([".."] * below),
        f"the {what} {name} above the run is a symbolic link; a run is never read through one",
    )


class RunFolder:
    """One run folder, opened without following a link; its files open relative to it."""

    def __init__(self, run_dir: Path, fd: int) -> None:
        self.run_dir = run_dir
        self._fd = fd
        self._dirs: dict[str, int] = {"": fd}

    @classmethod
    def open(cls, run_dir: Path) -> RunFolder:
        """Open ``run_dir``; UnsafeRunPath when it or a folder up to its job folder is a link.

        FileNotFoundError / NotADirectoryError / OSError when it is not there or not a folder.
        """
        anchor, names = _run_chain(run_dir)
        # The job folder by its full path: O_NOFOLLOW applies to its last component only, so
        # the (trusted) folders above may be links and the job folder may not.
        try:
            fd = os.open(os.path.join(anchor, names[0]), _DIR_FLAGS)
        except OSError as exc:
            if _is_link(None, os.path.join(anchor, names[0]), exc):
                raise _refusal_for_folder(names, 0) from None
            raise
        try:
            for index, name in enumerate(names[1:], start=1):
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if _is_link(fd, name, exc):
                        raise _refusal_for_folder(names, index) from None
                    raise
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return cls(Path(run_dir), fd)

    def close(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _dir(self, rel: str) -> int:
        """The descriptor of folder ``rel`` inside the run (cached), reached without links."""
        if rel in self._dirs:
            return self._dirs[rel]
        parent, _, name = rel.rpartition("/")
        parent_fd = self._dir(parent)
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except OSError as exc:
            if _is_link(parent_fd, name, exc):
                raise UnsafeRunPath(
                    PathIssue.SYMLINK,
                    rel,
                    f"{rel}/ is a symbolic link; nothing is read through it",
                ) from None
            raise
        self._dirs[rel] = fd
        return fd

    def check_file(self, rel: str) -> None:
        """Refuse ``rel`` unless it is a plain path to a regular file (or nothing) in the run.

        Raises UnsafeRunPath (escape, misplaced, a link on the way, not a regular file); a
        missing file or folder is not this check's business and passes.
        """
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            self._check_regular(rel)

    def _check_regular(self, rel: str) -> None:
        check_path(rel)
        parent, _, name = rel.rpartition("/")
        info = os.stat(name, dir_fd=self._dir(parent), follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            raise UnsafeRunPath(PathIssue.SYMLINK, rel, f"{rel} is a symbolic link; not followed")
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeRunPath(PathIssue.NOT_FILE, rel, f"{rel} is not a regular file")

    def open_file(self, rel: str) -> io.FileIO:
        """A regular file of the run, opened for reading; ``rel`` is checked first.

        Raises UnsafeRunPath (escape, misplaced, a link on the way, not a regular file),
        FileNotFoundError when it is missing, OSError when it cannot be read.
        """
        check_path(rel)
        parent, _, name = rel.rpartition("/")
        parent_fd = self._dir(parent)
        try:  # non-blocking, then checked with fstat: a FIFO or device is never read
            fd = os.open(name, _FILE_FLAGS, dir_fd=parent_fd)
        except OSError as exc:
            if _is_link(parent_fd, name, exc):
                raise UnsafeRunPath(
                    PathIssue.SYMLINK, rel, f"{rel} is a symbolic link; not followed"
                ) from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafeRunPath(PathIssue.NOT_FILE, rel, f"{rel} is not a regular file")
        return open(fd, "rb", buffering=0)

    def read(self, rel: str, *, limit: int | None = None) -> bytes:
        """The bytes of a run file (at most ``limit`` bytes when given)."""
        with self.open_file(rel) as handle:
            return handle.read() if limit is None else handle.read(limit)

    def read_json(self, rel: str) -> Any:
        """A JSON file of the run; orjson.JSONDecodeError / nesting.NestingError when bad."""
        return nesting.loads(self.read(rel))

    def tree(self, top: str) -> Tree:
        """Every entry under ``top``/ (inputs or outputs), without following a single link."""
        tree = Tree(top)
        try:
            self._dir(top)
        except FileNotFoundError:
            return tree
        except UnsafeRunPath:
            tree.top_kind = EntryKind.LINK
            return tree
        except NotADirectoryError:
            tree.top_kind = EntryKind.OTHER
            return tree
        except OSError as exc:
            tree.unreadable.append((top, exc.strerror or str(exc)))
            return tree
        stack = [top]
        while stack:
            rel = stack.pop()
            try:
                for name, kind in _entries(self._dir(rel)):
                    child = f"{rel}/{name}"
                    if kind is None:
                        stack.append(child)
                    else:
                        tree.files[child] = kind
            except UnsafeRunPath:  # swapped for a link since it was listed
                tree.files[rel] = EntryKind.LINK
            except OSError as exc:
                tree.unreadable.append((rel, exc.strerror or str(exc)))
        return tree


@dataclass
class Tree:
    """What ``RunFolder.tree`` found: files by run path, and folders that could not be listed.

    ``top_kind`` is set when ``top`` itself is not a folder (a link, or something else).
    """

    top: str
    files: dict[str, EntryKind] = field(default_factory=dict)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    top_kind: EntryKind | None = None


def _entries(fd: int) -> Iterator[tuple[str, EntryKind | None]]:
    """(name, kind) of a folder's entries; kind None for a sub-folder to descend into."""
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield entry.name, None
            elif entry.is_file(follow_symlinks=False):
                yield entry.name, EntryKind.FILE
            else:
                yield entry.name, EntryKind.LINK if entry.is_symlink() else EntryKind.OTHER


def _is_link(dir_fd: int | None, name: str, exc: OSError) -> bool:
    """Did opening ``name`` fail because it is a symbolic link (O_NOFOLLOW)?"""
    if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return False
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def open_run_file(run_dir: Path, rel: str) -> io.FileIO:
    """Open one file of a run (see RunFolder.open and RunFolder.open_file for the errors)."""
    with RunFolder.open(run_dir) as folder:
        return folder.open_file(rel)


def read_run_file(run_dir: Path, rel: str, *, limit: int | None = None) -> bytes:
    with RunFolder.open(run_dir) as folder:
        return folder.read(rel, limit=limit)
