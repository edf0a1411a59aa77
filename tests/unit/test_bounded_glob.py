"""The bounded context walk: glob's own answers on ordinary trees, and an end on looping ones."""

from __future__ import annotations

import glob
import itertools
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigilctl.bounded_glob import WalkLimitError, WalkLimits, bounded_iglob

NAMES = st.sampled_from(["a", "b", "x.md", "y.txt", ".h", ".h.md", "[b]", "c.md"])
TREES = st.lists(st.lists(NAMES, min_size=1, max_size=4), min_size=1, max_size=12)
PATTERNS = [
    "**/*.md",
    "*/*.md",
    "**",
    "**/",
    "*",
    "a/**/*.md",
    "**/b/*",
    "a/*/",
    "[ab]*/**/?.md",
    ".h/*",
    "**/.h*",
    "*/**/*.md",
    "a/x.md",
    "a//*.md",
    "**/**/*.md",
    "../*/a/*.md",
]
_counter = itertools.count()


def build(root: Path, tree: list[list[str]]) -> None:
    """Each path's last name is a file when it has a dot suffix, else a folder."""
    for parts in tree:
        *folders, last = parts
        folder = root.joinpath(*folders)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):  # a file on the way
            continue
        target = folder / last
        if target.exists():
            continue
        if "." in last.lstrip("."):
            target.write_text(last)
        else:
            target.mkdir()


@settings(max_examples=150, deadline=None)
@given(TREES, st.sampled_from(PATTERNS))
def test_same_matches_in_the_same_order_as_glob(
    tmp_path_factory: pytest.TempPathFactory, tree: list[list[str]], pattern: str
) -> None:
    root = tmp_path_factory.mktemp("tree") / f"t{next(_counter)}"
    root.mkdir()
    build(root, tree)
    expected = list(glob.iglob(pattern, root_dir=root, recursive=True))
    assert list(bounded_iglob(pattern, str(root))) == expected


def real_files(root: Path, matches: list[str]) -> set[str]:
    return {os.path.realpath(root / m) for m in matches if (root / m).is_file()}


def test_links_without_a_loop_give_the_same_files(tmp_path: Path) -> None:
    build(tmp_path, [["shared", "x.md"], ["shared", "b", "c.md"], ["a", "y.md"]])
    os.symlink(tmp_path / "shared", tmp_path / "a" / "link")
    os.symlink("../shared", tmp_path / "a" / "again")
    expected = list(glob.iglob("**/*.md", root_dir=tmp_path, recursive=True))
    found = list(bounded_iglob("**/*.md", str(tmp_path)))
    assert real_files(tmp_path, found) == real_files(tmp_path, expected)


def test_links_back_into_the_tree_end_the_walk(tmp_path: Path) -> None:
    """The reported case: `ln -s . a; ln -s . b` made `**` walk a/b/a/b/... forever."""
    build(tmp_path, [["docs", "x.md"], ["docs", "deep", "c.md"]])
    os.symlink(".", tmp_path / "docs" / "a")
    os.symlink(".", tmp_path / "docs" / "b")
    os.symlink("..", tmp_path / "docs" / "deep" / "up")
    started = time.monotonic()
    found = list(bounded_iglob("docs/**/*.md", str(tmp_path)))
    assert time.monotonic() - started < 5
    assert real_files(tmp_path, found) == {
        str((tmp_path / "docs/x.md").resolve()),
        str((tmp_path / "docs/deep/c.md").resolve()),
    }
    assert len(found) <= 6


def test_a_link_loop_file_is_listed_as_glob_lists_it(tmp_path: Path) -> None:
    os.symlink("loop.md", tmp_path / "loop.md")
    assert list(bounded_iglob("*.md", str(tmp_path))) == ["loop.md"]
    assert list(bounded_iglob("**/", str(tmp_path))) == list(
        glob.iglob("**/", root_dir=tmp_path, recursive=True)
    )


def test_fan_out_without_double_star_is_bounded(tmp_path: Path) -> None:
    """`*/*/*/...` over two links to `.` grows as 2**depth: the folder bound stops it."""
    os.symlink(".", tmp_path / "a")
    os.symlink(".", tmp_path / "b")
    pattern = "*/" * 30 + "*.md"
    with pytest.raises(WalkLimitError, match="more than 50 folders"):
        list(bounded_iglob(pattern, str(tmp_path), WalkLimits(folders=50)))


def test_entry_and_time_bounds(tmp_path: Path) -> None:
    build(tmp_path, [["d", f"f{i}.md"] for i in range(30)])
    with pytest.raises(WalkLimitError, match="more than 10 entries"):
        list(bounded_iglob("**/*.md", str(tmp_path), WalkLimits(entries=10)))
    with pytest.raises(WalkLimitError, match="more than 0 s"):
        list(bounded_iglob("**/*.md", str(tmp_path), WalkLimits(seconds=0)))


def test_matches_come_lazily(tmp_path: Path) -> None:
    """A caller that stops at its own limit stops the walk: nothing past the first match."""
    build(tmp_path, [["d", f"sub{i}", "x.md"] for i in range(20)])
    walk = bounded_iglob("d/**/*.md", str(tmp_path), WalkLimits(folders=3))
    assert next(walk).endswith("x.md")
