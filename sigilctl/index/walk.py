"""The artifacts tree as the index sees it: where every execution's folder is, and what changed.

Current executions live at ``<job>/<run_id>/``, older ones at ``<job>/.history/<run_id>/<exec>/``
(SPEC §8). A listing records each folder that holds runs with its inode and mtime, taken before
it was read. Publishing, replacing, moving to history or deleting a run renames an entry in such
a folder, which changes the folder's mtime; so a second look (``relist``) reads again only the
folders whose mtime changed, plus any modified within ``RECENT_S`` of the first look (a change
in the same clock tick as the first look leaves the mtime equal). Manifests are never edited in
place by sigilctl; a hand edit in place is not seen until the next reindex.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from sigilctl.store import SWAP_PREFIX, TEMP_PREFIX, TRASH_PREFIX

HISTORY_DIR = ".history"
RECENT_S = 1.0
DirSig = tuple[int, int]  # (inode, mtime_ns)

# Levels of folders that hold runs: the root (job folders), a job (runs and .history),
# a job's .history (run_id folders), one run's history (execution folders).
_ROOT, _JOB, _HISTORY, _RUN_HISTORY = range(4)


@dataclass(frozen=True)
class Place:
    """Where one execution lives: ``execution`` is None for the current one."""

    job: str
    run: str
    execution: str | None = None

    @property
    def run_path(self) -> str:
        return f"{self.job}/{self.run}"

    @property
    def relative(self) -> str:
        if self.execution is None:
            return self.run_path
        return f"{self.job}/{HISTORY_DIR}/{self.run}/{self.execution}"


@dataclass
class Folder:
    sig: DirSig
    leaves: list[str] = field(default_factory=list)  # run or execution folders
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    subdirs: list[str] = field(default_factory=list)  # folders that hold runs, one level down


@dataclass
class Tree:
    root: str
    folders: dict[str, Folder] = field(default_factory=dict)  # relative path ("" = root)

    def places(self) -> list[Place]:
        """Every execution folder: per job, current runs first, then its history."""
        found: list[Place] = []
        for rel, folder in self.folders.items():
            parts = rel.split("/") if rel else []
            if len(parts) == 1:
                found.extend(Place(parts[0], name) for name in folder.leaves)
            elif len(parts) == 3:
                found.extend(Place(parts[0], parts[2], name) for name in folder.leaves)
        return found

    def skipped(self) -> list[tuple[str, str]]:
        """(relative path, reason) of every folder left out on purpose and worth naming."""
        return [
            (f"{rel}/{name}" if rel else name, reason)
            for rel, folder in self.folders.items()
            for name, reason in folder.skipped
        ]


def _child(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


def _scan(root: str, rel: str, level: int) -> Folder | None:
    path = f"{root}/{rel}" if rel else root
    try:
        st = os.stat(path)
        entries = os.scandir(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    folder = Folder((st.st_ino, st.st_mtime_ns))
    with entries:
        for entry in entries:
            name = entry.name
            if entry.is_symlink():
                if not name.startswith("."):
                    folder.skipped.append((name, "is a symbolic link (not followed)"))
                continue
            if not entry.is_dir():
                continue
            if level == _JOB and name == HISTORY_DIR:
                folder.subdirs.append(name)
            elif name.startswith((TEMP_PREFIX, SWAP_PREFIX, TRASH_PREFIX)) and level in (
                _JOB,
                _RUN_HISTORY,
            ):
                folder.skipped.append((name, "a run being built or replaced (not published)"))
            elif name.startswith("."):
                continue
            elif level in (_ROOT, _HISTORY):
                folder.subdirs.append(name)
            else:
                folder.leaves.append(name)
    folder.leaves.sort()
    folder.subdirs.sort()
    folder.skipped.sort()
    return folder


def list_tree(root: str) -> Tree:
    """Every folder that holds runs under the artifacts root ``root``, recorded as read."""
    tree = Tree(root)
    _visit(tree, "", _ROOT, None, 0, set())
    return tree


def relist(previous: Tree, first_look_ns: int) -> tuple[Tree, set[str]]:
    """The tree now, reading again only folders changed since ``previous`` (or recently).

    Returns the new tree and the relative paths of the folders read again: an execution whose
    folder is in one of them may have been replaced and must be looked at again.
    """
    tree = Tree(previous.root)
    changed: set[str] = set()
    recent = first_look_ns - int(RECENT_S * 1_000_000_000)
    _visit(tree, "", _ROOT, previous, recent, changed)
    return tree, changed


def _visit(
    tree: Tree, rel: str, level: int, previous: Tree | None, recent: int, changed: set[str]
) -> None:
    old = previous.folders.get(rel) if previous is not None else None
    folder: Folder | None = None
    if old is not None:
        try:
            st = os.stat(f"{tree.root}/{rel}" if rel else tree.root)
        except (FileNotFoundError, NotADirectoryError):
            return
        if old.sig == (st.st_ino, st.st_mtime_ns) and st.st_mtime_ns < recent:
            folder = old
    if folder is None:
        folder = _scan(tree.root, rel, level)
        if folder is None:
            return
        changed.add(rel)
    tree.folders[rel] = folder
    for name in folder.subdirs:
        _visit(tree, _child(rel, name), level + 1, previous, recent, changed)


def container_of(place: Place) -> str:
    """The relative path of the folder whose listing holds ``place``."""
    if place.execution is None:
        return place.job
    return f"{place.job}/{HISTORY_DIR}/{place.run}"
