"""``glob.iglob(recursive=True)`` with a bounded walk: a brief cannot make ``run`` spin.

The standard glob follows directory links while expanding ``**``, so ``ln -s . a`` in a context
folder makes ``**`` walk ``a/a/a/…`` forever (two such links: exponentially). This is the same
algorithm (the same matches, in the same order, for every tree without a directory reached
twice) with three bounds:

- a folder already walked by ``**`` (same ``st_dev``/``st_ino``) is not walked again, so a link
  back to an ancestor or a sibling is listed once and never descended a second time;
- at most ``WalkLimits.folders`` folders listed and ``WalkLimits.entries`` entries seen;
- a time budget (``WalkLimits.seconds``).

Past a bound, WalkLimitError says which. Matches are yielded lazily, as ``glob.iglob`` does, so
a caller that stops at its own file limit stops the walk too. A folder reached through two
routes yields its files under the first route only; callers resolve matches to real paths, so
the set of files is the same.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class WalkLimits:
    """How much a single pattern may walk before it is refused."""

    folders: int = 10_000
    entries: int = 200_000
    seconds: float = 10.0


class WalkLimitError(Exception):
    """A pattern walked past a bound; the message is one clause without the pattern."""


class _Budget:
    def __init__(self, limits: WalkLimits) -> None:
        self.limits = limits
        self.folders = 0
        self.entries = 0
        self.deadline = time.monotonic() + limits.seconds

    def listed(self, entries: int) -> None:
        self.folders += 1
        self.entries += entries
        if self.folders > self.limits.folders:
            raise WalkLimitError(f"walks more than {self.limits.folders} folders (the limit)")
        if self.entries > self.limits.entries:
            raise WalkLimitError(f"sees more than {self.limits.entries} entries (the limit)")
        if time.monotonic() > self.deadline:
            raise WalkLimitError(f"takes more than {self.limits.seconds:g} s to expand (the limit)")


def bounded_iglob(pattern: str, root_dir: str, limits: WalkLimits | None = None) -> Iterator[str]:
    """Paths (relative to ``root_dir``) matching ``pattern``, ``**`` recursive, hidden names
    skipped by wildcards: ``glob.iglob(pattern, root_dir=root_dir, recursive=True)``, bounded.

    Raises WalkLimitError (while iterating) when the walk passes a bound.
    """
    budget = _Budget(limits or WalkLimits())
    matches = _iglob(pattern, root_dir, False, budget)
    if not pattern or pattern[:2] == "**":
        first = next(matches, None)  # glob skips the empty match of a leading "**"
        if first:
            yield first
    yield from matches


def _has_magic(text: str) -> bool:
    return _MAGIC.search(text) is not None


def _hidden(name: str) -> bool:
    return name[0] == "."


def _join(dirname: str, basename: str) -> str:
    return os.path.join(dirname, basename) if dirname and basename else dirname or basename


def _iglob(pathname: str, root_dir: str, dironly: bool, budget: _Budget) -> Iterator[str]:
    dirname, basename = os.path.split(pathname)
    if not _has_magic(pathname):
        if basename:
            if os.path.lexists(_join(root_dir, pathname)):
                yield pathname
        elif os.path.isdir(_join(root_dir, dirname)):  # "dir/" matches folders only
            yield pathname
        return
    if not dirname:
        if basename == "**":
            yield from _glob2(root_dir, dironly, budget)
        else:
            yield from _glob1(root_dir, basename, dironly, budget)
        return
    dirs: Iterator[str] | list[str]
    if dirname != pathname and _has_magic(dirname):
        dirs = _iglob(dirname, root_dir, True, budget)
    else:
        dirs = [dirname]
    for folder in dirs:
        here = _join(root_dir, folder)
        names: Iterator[str] | list[str]
        if not _has_magic(basename):
            names = _glob0(here, basename)
        elif basename == "**":
            names = _glob2(here, dironly, budget)
        else:
            names = _glob1(here, basename, dironly, budget)
        for name in names:
            yield os.path.join(folder, name)


def _glob0(dirname: str, basename: str) -> list[str]:
    if basename:
        return [basename] if os.path.lexists(_join(dirname, basename)) else []
    return [basename] if os.path.isdir(dirname) else []


def _glob1(dirname: str, pattern: str, dironly: bool, budget: _Budget) -> list[str]:
    names = [name for name, _ in _listdir(dirname, dironly, budget)]
    if not _hidden(pattern):
        names = [name for name in names if not _hidden(name)]
    return fnmatch.filter(names, pattern)


def _glob2(dirname: str, dironly: bool, budget: _Budget) -> Iterator[str]:
    yield ""
    yield from _rlistdir(dirname, dironly, budget)


def _listdir(dirname: str, dironly: bool, budget: _Budget) -> list[tuple[str, bool]]:
    """(name, is a folder, links followed) of a folder's entries; [] when it cannot be listed."""
    found: list[tuple[str, bool]] = []
    try:
        with os.scandir(dirname or os.curdir) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:  # a link loop or a vanished entry: glob lists it unless dironly
                    if dironly:
                        continue
                    is_dir = False
                if is_dir or not dironly:
                    found.append((entry.name, is_dir))
    except OSError:
        found = []
    budget.listed(len(found))
    return found


def _folder_id(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path or os.curdir)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _rlistdir(dirname: str, dironly: bool, budget: _Budget) -> Iterator[str]:
    """Every non-hidden path below ``dirname``, parents before children, as glob orders them;
    a folder already walked (a link back into the tree) is yielded but not walked again."""
    start = _folder_id(dirname)
    walked = {start} if start is not None else set()
    stack = [(dirname, "", iter(_listdir(dirname, dironly, budget)))]
    while stack:
        path, prefix, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name, is_dir = entry
        if _hidden(name):
            continue
        relative = _join(prefix, name)
        yield relative
        if not is_dir:
            continue
        child = _join(path, name)
        folder = _folder_id(child)
        if folder is None or folder in walked:
            continue
        walked.add(folder)
        stack.append((child, relative, iter(_listdir(child, dironly, budget))))
