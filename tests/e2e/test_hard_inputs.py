"""Hard inputs through the real CLI: huge files, huge globs, line endings, Unicode forms, an
artifacts tree that cannot be written, a full disk.

Each failure is one sentence naming the thing, exit 2 (bad input) or 1 (the run could not be
stored), no traceback unless ``-v``, and nothing half-written. The simple bad-input table lives
in test_bad_input.py; these cases need more set-up or a real filesystem.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tracemalloc
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sigilctl.errors import InputError
from sigilctl.resolve import MAX_CONTEXT_FILES, resolve_job
from sigilctl.workspace import Workspace
from tests.helpers import Result, run_python

JOB = "ig-test-001"
BRIEF = f"jobs/{JOB}/brief.yaml"
BRAND = "jobs/_brands/sigilzero"
Cli = Callable[..., Result]


def visible_entries(artifacts: Path) -> list[Path]:
    """Every non-hidden path under artifacts/ (hidden = build dirs, locks, the index)."""
    if not artifacts.exists():
        return []
    return [
        p
        for p in artifacts.rglob("*")
        if not any(part.startswith(".") for part in p.relative_to(artifacts).parts) and p.is_file()
    ]


def leftovers(artifacts: Path) -> list[Path]:
    """Build and trash directories a failed run must have removed."""
    if not artifacts.exists():
        return []
    return [p for p in artifacts.glob("*/.*") if p.name.startswith((".tmp-", ".trash-"))]


def assert_one_sentence(result: Result, code: int, words: list[str]) -> str:
    assert result.code == code, (result.code, result.stderr)
    err = result.stderr.strip()
    assert err.startswith("sigilctl: error: "), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert result.stdout == ""
    return err


def assert_traceback_with_verbose(cli: Cli, *args: str) -> None:
    loud = cli("-v", *args)
    assert loud.code != 0
    assert "Traceback" in loud.stderr


def set_brief(root: Path, old: str, new: str) -> None:
    path = root / BRIEF
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def run_id_of(cli: Cli, *args: str) -> str:
    result = cli("run", JOB, "--json", *args)
    assert result.code == 0, result.stderr
    return str(json.loads(result.stdout)["run_id"])


# --- huge inputs ---------------------------------------------------------------------------


def test_a_10_mb_context_file_is_refused_unread(workspace: Path, cli: Cli) -> None:
    big = workspace / BRAND / "context/02-caching.md"
    with big.open("a") as handle:
        handle.write("padding line for a huge context file\n" * 290_000)
    assert big.stat().st_size > 10 * 1024 * 1024
    result = cli("run", JOB)
    assert_one_sentence(result, 2, ["context file", "02-caching.md", "over the", "limit"])
    assert list((workspace / "artifacts").iterdir()) == []
    assert_traceback_with_verbose(cli, "run", JOB)


def make_many_files(folder: Path, count: int, size: int) -> None:
    """``count`` names for one ``size``-byte file (hard links: quick to make, and reading them
    would still cost ``count * size`` bytes)."""
    folder.mkdir(parents=True)
    first = folder / "doc-00000.md"
    first.write_bytes(b"retrieval padding " * (size // 18))
    for i in range(1, count):
        os.link(first, folder / f"doc-{i:05d}.md")


def test_a_glob_matching_10000_files_stops_early_in_bounded_memory(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the CLI: one sentence naming the glob and the limit. In process: no file is
    opened, file stats grow with the limit (about two per match: glob and is_file), not with
    the 10,000 files, and peak Python memory stays far below the 10 MB a full read would take."""
    make_many_files(workspace / BRAND / "many", 10_000, 1024)
    set_brief(workspace, "context/*.md", "many/**/*.md")
    result = cli("run", JOB)
    assert_one_sentence(
        result, 2, ["context.paths", "many/**/*.md", f"more than {MAX_CONTEXT_FILES} files"]
    )
    assert list((workspace / "artifacts").iterdir()) == []

    ws = Workspace.locate(workspace)
    opened: list[str] = []

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and "/many/" in str(args[0]):
            opened.append(str(args[0]))

    stats = 0
    real_stat = os.stat

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        nonlocal stats
        if "/many/" in os.fsdecode(path):
            stats += 1
        return real_stat(path, *args, **kwargs)

    sys.addaudithook(audit)  # hooks cannot be removed; this one only records
    monkeypatch.setattr(os, "stat", counting_stat)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="more than 1000 files"):
            resolve_job((workspace / BRIEF).resolve(), ws)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        monkeypatch.undo()
    assert opened == []
    assert stats <= 2 * (MAX_CONTEXT_FILES + 1), stats
    assert peak < 4 * 1024 * 1024, peak


# --- line endings and Unicode forms ---------------------------------------------------------


def to_crlf(path: Path) -> None:
    data = path.read_bytes()
    assert b"\r" not in data
    path.write_bytes(data.replace(b"\n", b"\r\n"))


def test_crlf_and_lf_of_the_same_text_are_one_identity(workspace: Path, cli: Cli) -> None:
    lf = run_id_of(cli)
    for path in [workspace / BRAND / "doctrine.md", *sorted((workspace / BRAND).glob("context/*"))]:
        to_crlf(path)
    assert run_id_of(cli) == lf
    to_crlf(workspace / BRIEF)
    result = cli("run", JOB, "--json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["run_id"] == lf and document["cached"] is True
    snapshot = Path(document["run_dir"], "inputs/doctrine.resolved.json").read_bytes()
    assert b"\\r" not in snapshot  # the normalised text is what was frozen


def test_a_byte_order_mark_and_old_mac_line_ends_are_one_identity(
    workspace: Path, cli: Cli
) -> None:
    first = run_id_of(cli)
    doctrine = workspace / BRAND / "doctrine.md"
    doctrine.write_bytes(b"\xef\xbb\xbf" + doctrine.read_bytes().replace(b"\n", b"\r"))
    brief = workspace / BRIEF
    brief.write_bytes(b"\xef\xbb\xbf" + brief.read_bytes())
    assert run_id_of(cli) == first


def test_nfc_and_nfd_of_the_same_text_are_two_identities(workspace: Path, cli: Cli) -> None:
    """docs/determinism.md, "Text normalisation decisions": the bytes are the input."""
    doctrine = workspace / BRAND / "doctrine.md"
    original = doctrine.read_text()
    line = "\nCafé crème: naïve déjà vu.\n"
    doctrine.write_text(original + unicodedata.normalize("NFC", line))
    nfc = run_id_of(cli)
    doctrine.write_text(original + unicodedata.normalize("NFD", line))
    nfd = run_id_of(cli)
    assert nfc != nfd
    document = json.loads(cli("show", nfd, "--json").stdout)
    frozen = json.loads(Path(document["run_dir"], "inputs/doctrine.resolved.json").read_text())
    assert frozen["text"].endswith(unicodedata.normalize("NFD", line))
    decisions = (Path(__file__).parents[2] / "docs/determinism.md").read_text()
    assert "not* NFC/NFD normalised" in decisions and "CRLF / CR become LF" in decisions


# --- an artifacts tree that cannot be written -----------------------------------------------


def test_artifacts_below_a_regular_file_is_one_sentence_and_writes_nothing(
    workspace: Path, cli: Cli
) -> None:
    """Permission bits do not stop root, so the unwritable tree is a path below a regular file:
    ENOTDIR holds for every user."""
    blocker = workspace / "not-a-dir"
    blocker.write_text("a file where a folder should be\n")
    target = blocker / "artifacts"
    result = cli("run", JOB, "--artifacts", str(target))
    assert_one_sentence(result, 1, ["cannot create", str(blocker), "Not a directory"])
    assert blocker.read_text() == "a file where a folder should be\n"
    assert list((workspace / "artifacts").iterdir()) == []
    assert_traceback_with_verbose(cli, "run", JOB, "--artifacts", str(target))


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[None]:
    """A small real filesystem; skip when this process may not mount one."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode})")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, timeout=10)


def test_a_read_only_filesystem_is_one_sentence(workspace: Path, cli: Cli) -> None:
    mount = workspace.parent / "ro"
    with tmpfs(mount, "ro,size=64k"):
        result = cli("run", JOB, "--artifacts", str(mount / "artifacts"))
        assert_one_sentence(result, 1, ["cannot create", str(mount), "Read-only file system"])
        assert list(mount.iterdir()) == []


def test_a_full_disk_is_one_sentence_and_no_half_run(workspace: Path, cli: Cli) -> None:
    mount = workspace.parent / "full"
    with tmpfs(mount, "size=64k"):
        artifacts = mount / "artifacts"
        artifacts.mkdir()
        with contextlib.suppress(OSError), (mount / "filler").open("wb", buffering=0) as filler:
            while True:
                filler.write(b"\0" * 4096)
        result = cli("run", JOB, "--artifacts", str(artifacts))
        assert_one_sentence(result, 1, ["cannot write the run", str(artifacts), "No space left"])
        assert visible_entries(artifacts) == []
        assert leftovers(artifacts) == []
        (mount / "filler").unlink()
        again = cli("run", JOB, "--artifacts", str(artifacts), "--json")
        assert again.code == 0, again.stderr
        assert json.loads(again.stdout)["status"] == "succeeded"


ENOSPC_CHILD = """
import errno, os, pathlib, sys
real = pathlib.Path.write_bytes
def full(self, data):
    if self.name == {name!r}:
        real(self, data[: len(data) // 2])  # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
    return real(self, data)
pathlib.Path.write_bytes = full
from sigilctl.cli import main
sys.argv = ["sigilctl", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("name", ["context.resolved.json", "captions.json", "manifest.json"])
def test_enospc_at_any_write_leaves_nothing_half_written(workspace: Path, name: str) -> None:
    """Fault injection at the write boundary in a child process, for machines where no tmpfs
    can be mounted: the disk fills while a snapshot, an output or the manifest is written."""
    result = run_python("-c", ENOSPC_CHILD.format(name=name), "run", JOB, cwd=workspace)
    assert_one_sentence(result, 1, ["cannot write the run", "No space left on device"])
    artifacts = workspace / "artifacts"
    assert visible_entries(artifacts) == []
    assert leftovers(artifacts) == []
