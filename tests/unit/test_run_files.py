"""run_files: a run's files open only from inside the run, whatever links or paths it holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sigilctl.nesting import NestingError
from sigilctl.run_files import (
    EntryKind,
    PathIssue,
    RunFolder,
    UnsafeRunPath,
    check_path,
    read_run_file,
)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "artifacts" / "job" / "0123abcd"
    (run_dir / "inputs").mkdir(parents=True)
    (run_dir / "outputs" / "sub").mkdir(parents=True)
    (run_dir / "manifest.json").write_text('{"run_id": "0123abcd"}')
    (run_dir / "inputs/brief.resolved.json").write_text("{}")
    (run_dir / "outputs/sub/a.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    return run_dir


@pytest.mark.parametrize(
    ("path", "issue"),
    [
        ("/etc/passwd", PathIssue.ESCAPE),
        ("outputs/../../secret.txt", PathIssue.ESCAPE),
        ("..", PathIssue.ESCAPE),
        ("C:\\x", PathIssue.ESCAPE),
        ("outputs/./a", PathIssue.MISPLACED),
        ("outputs//a", PathIssue.MISPLACED),
        ("outputs", PathIssue.MISPLACED),
        ("elsewhere/a", PathIssue.MISPLACED),
        ("outputs\\a", PathIssue.MISPLACED),
        ("outputs/a\x00", PathIssue.MISPLACED),
    ],
)
def test_paths_that_are_not_plain_run_paths_are_refused(path: str, issue: PathIssue) -> None:
    with pytest.raises(UnsafeRunPath) as caught:
        check_path(path)
    assert caught.value.issue is issue
    assert caught.value.exit_code == 1


def test_plain_paths_pass() -> None:
    assert check_path("manifest.json") == "manifest.json"
    assert check_path("outputs/sub/a.txt", "outputs") == "outputs/sub/a.txt"
    with pytest.raises(UnsafeRunPath):
        check_path("inputs/x.json", "outputs")


def test_files_read_from_inside(run: Path) -> None:
    assert read_run_file(run, "outputs/sub/a.txt") == b"inside"
    with RunFolder.open(run) as folder:
        assert folder.read_json("manifest.json") == {"run_id": "0123abcd"}
        assert folder.read("outputs/sub/a.txt", limit=3) == b"ins"
        tree = folder.tree("outputs")
    assert tree.files == {"outputs/sub/a.txt": EntryKind.FILE}


@pytest.mark.parametrize(
    ("link", "rel", "where"),
    [
        ("outputs/sub/a.txt", "outputs/sub/a.txt", "outputs/sub/a.txt"),
        ("outputs/sub", "outputs/sub/a.txt", "outputs/sub"),
        ("outputs", "outputs/sub/a.txt", "outputs"),
        ("manifest.json", "manifest.json", "manifest.json"),
    ],
)
def test_a_link_anywhere_inside_the_run_is_refused(
    run: Path, link: str, rel: str, where: str
) -> None:
    target = run / link
    moved = run.parent.parent.parent / "moved"
    target.rename(moved)
    os.symlink(moved, target)
    with RunFolder.open(run) as folder, pytest.raises(UnsafeRunPath) as caught:
        folder.read(rel)
    assert caught.value.issue is PathIssue.SYMLINK
    assert caught.value.rel == where


@pytest.mark.parametrize(("level", "rel"), [(0, "."), (1, "..")])
def test_a_linked_run_or_job_folder_is_refused(run: Path, level: int, rel: str) -> None:
    folder = run if level == 0 else run.parent
    moved = folder.parent.parent / f"moved-{level}"
    folder.rename(moved)
    os.symlink(moved, folder)
    with pytest.raises(UnsafeRunPath) as caught:
        RunFolder.open(run)
    assert caught.value.rel == rel
    assert "symbolic link" in caught.value.message


def test_a_linked_history_folder_is_refused(tmp_path: Path) -> None:
    """artifacts/<job>/.history/<run_id>/<execution>/: .history and the job are the run's."""
    execution = tmp_path / "artifacts/job/.history/0123abcd/20260101T000000.000Z-0a0b0c0d"
    execution.mkdir(parents=True)
    (execution / "manifest.json").write_text("{}")
    assert read_run_file(execution, "manifest.json") == b"{}"
    history = tmp_path / "artifacts/job/.history"
    history.rename(tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", history)
    with pytest.raises(UnsafeRunPath) as caught:
        RunFolder.open(execution)
    assert caught.value.rel == "../.."


def test_a_linked_artifacts_folder_is_the_operators_choice(run: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "artifacts", tmp_path / "linked-artifacts")
    assert read_run_file(tmp_path / "linked-artifacts/job/0123abcd", "manifest.json")


def test_a_fifo_never_blocks_a_reader(run: Path) -> None:
    os.mkfifo(run / "outputs/fifo")
    with RunFolder.open(run) as folder, pytest.raises(UnsafeRunPath) as caught:
        folder.read("outputs/fifo")
    assert caught.value.issue is PathIssue.NOT_FILE


def test_missing_files_and_folders_are_ordinary_errors(run: Path, tmp_path: Path) -> None:
    with RunFolder.open(run) as folder:
        with pytest.raises(FileNotFoundError):
            folder.read("outputs/none.txt")
        folder.check_file("outputs/none/x.txt")  # missing is not unsafe
    with pytest.raises(FileNotFoundError):
        RunFolder.open(tmp_path / "artifacts/job/none")


def test_deep_json_is_a_nesting_error(run: Path) -> None:
    (run / "manifest.json").write_text("[" * 200 + "]" * 200)
    with RunFolder.open(run) as folder, pytest.raises(NestingError, match="deeper than 100"):
        folder.read_json("manifest.json")


def test_tree_names_links_without_following_them(run: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "secret.txt", run / "outputs/link.txt")
    os.symlink(tmp_path, run / "outputs/dir-link")
    with RunFolder.open(run) as folder:
        tree = folder.tree("outputs")
        os.rename(run / "inputs", tmp_path / "inputs-moved")
        os.symlink(tmp_path / "inputs-moved", run / "inputs")
        linked = folder.tree("inputs")
    assert tree.files["outputs/link.txt"] is EntryKind.LINK
    assert tree.files["outputs/dir-link"] is EntryKind.LINK
    assert linked.top_kind is EntryKind.LINK and linked.files == {}
