"""SIGKILL at exact points of a run, a --force replace and a reindex: nothing half-visible.

The CLI runs in a child Python that wraps ONE function at a boundary (staging, snapshots, the
provider call, fsync before the rename, the rename exchange, the index write) so that the child
kills itself with SIGKILL right before or after it. Production code has no test branch. After
each crash: every visible run directory is whole and verifies clean, ``verify --all`` is clean
(or has nothing to verify), ``reindex`` gives exactly the visible runs, and the next run
succeeds and removes what the crash left behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from sigilctl.verify import verify_run
from tests.helpers import Result, run_python

JOB = "ig-test-001"
Cli = Callable[..., Result]

CHILD = """
import importlib, os, signal, sys
def die():
    os.kill(os.getpid(), signal.SIGKILL)
{inject}
from sigilctl.cli import main
sys.argv = ["sigilctl", *sys.argv[1:]]
main()
"""

WRAP = """
owner = importlib.import_module({module!r})
for part in {attr_path!r}[:-1]:
    owner = getattr(owner, part)
orig = getattr(owner, {attr_path!r}[-1])
def wrapped(*args, **kwargs):
    if {when!r} == "before":
        die()
    result = orig(*args, **kwargs)
    die()
setattr(owner, {attr_path!r}[-1], wrapped)
"""

# The rename fallback (no renameat2): die between "old run → trash" and "new run → final".
TRASH_FALLBACK = """
import sigilctl.store as store
store._exchange = lambda a, b: False
real_rename = os.rename
def rename(src, dst):
    real_rename(src, dst)
    if os.path.basename(os.fspath(dst)).startswith(".trash-"):
        die()
store.os.rename = rename
"""


def wrap(module: str, attr: str, when: str) -> str:
    return WRAP.format(module=module, attr_path=attr.split("."), when=when)


def killed(workspace: Path, inject: str, *args: str) -> None:
    """Run ``sigilctl ARGS`` in a child that SIGKILLs itself at the injected point."""
    proc = run_python("-c", CHILD.format(inject=inject), *args, cwd=workspace)
    assert proc.code == -signal.SIGKILL, (proc.code, proc.stderr)


def visible_runs(workspace: Path) -> list[Path]:
    job_dir = workspace / "artifacts" / JOB
    if not job_dir.is_dir():
        return []
    return sorted(p for p in job_dir.iterdir() if not p.name.startswith("."))


def hidden_build_dirs(workspace: Path) -> list[str]:
    job_dir = workspace / "artifacts" / JOB
    if not job_dir.is_dir():
        return []
    return sorted(p.name for p in job_dir.iterdir() if p.name.startswith((".tmp-", ".trash-")))


def indexed_run_ids(cli: Cli) -> set[str]:
    listed = cli("runs", "--json")
    assert listed.code == 0, listed.stderr
    return {row["run_id"] for row in json.loads(listed.stdout)}


def assert_consistent(workspace: Path, cli: Cli) -> set[str]:
    """Whatever is visible is whole; verify and the rebuilt index agree with the folders."""
    visible = visible_runs(workspace)
    for run_dir in visible:
        report = verify_run(run_dir)
        assert report.ok, [p.message for p in report.problems]
    checked = cli("verify", "--all", "--json")
    if visible:
        assert checked.code == 0, checked.stdout + checked.stderr
    else:
        assert checked.code == 2 and "nothing to verify" in checked.stderr, checked.stderr
    rebuilt = cli("reindex", "--json")
    assert rebuilt.code == 0, rebuilt.stderr
    ids = {p.name for p in visible}
    assert indexed_run_ids(cli) == ids
    return ids


def run_json(cli: Cli, *args: str) -> dict[str, object]:
    result = cli("run", JOB, "--json", *args)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def assert_next_run_recovers(workspace: Path, cli: Cli) -> dict[str, object]:
    document = run_json(cli)
    assert document["status"] == "succeeded"
    assert hidden_build_dirs(workspace) == []  # the crash's leftovers are gone
    assert [p.name for p in visible_runs(workspace)] == [document["run_id"]]
    assert cli("verify", "--all").code == 0
    assert indexed_run_ids(cli) == {document["run_id"]}  # the run upserted itself
    return document


FIRST_RUN_POINTS = [
    ("staging created", wrap("sigilctl.store", "RunStore.staging_dir", "after")),
    ("snapshots written", wrap("sigilctl.runner", "_write_snapshots", "after")),
    ("in the provider call", wrap("sigilctl.providers.offline", "OfflineProvider.generate", "before")),
    ("outputs written", wrap("sigilctl.pipelines.instagram_copy", "InstagramCopy.write_outputs", "after")),
    ("fsynced, not renamed", wrap("sigilctl.store", "fsync_tree", "after")),
    ("renamed, index not updated", wrap("sigilctl.index", "record_run", "before")),
    ("inside the index transaction", wrap("sigilctl.index.base", "write_executions", "after")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("point", "inject"), FIRST_RUN_POINTS, ids=[p[0] for p in FIRST_RUN_POINTS]
)
def test_sigkill_during_a_first_run(workspace: Path, cli: Cli, point: str, inject: str) -> None:
    assert cli("reindex").code == 0  # an index exists, so a finishing run upserts itself
    killed(workspace, inject, "run", JOB)
    ids = assert_consistent(workspace, cli)
    published = point.startswith(("renamed", "inside the index"))
    assert len(ids) == (1 if published else 0), ids
    document = assert_next_run_recovers(workspace, cli)
    assert document["cached"] is published  # a whole published run is reused as it is


FORCE_POINTS = [
    ("before the exchange", wrap("sigilctl.store", "_exchange", "before"), "old"),
    ("after the exchange", wrap("sigilctl.store", "_exchange", "after"), "new"),
    ("after the old run's removal", wrap("shutil", "rmtree", "after"), "new"),
]


@pytest.mark.parametrize(
    ("point", "inject", "survivor"), FORCE_POINTS, ids=[p[0] for p in FORCE_POINTS]
)
def test_sigkill_during_a_force_replace(
    workspace: Path, cli: Cli, point: str, inject: str, survivor: str
) -> None:
    old = run_json(cli)
    run_dir = Path(str(old["run_dir"]))
    old_manifest = (run_dir / "manifest.json").read_bytes()
    killed(workspace, inject, "run", JOB, "--force")
    assert visible_runs(workspace) == [run_dir]  # a run is always there
    assert verify_run(run_dir).ok
    replaced = (run_dir / "manifest.json").read_bytes() != old_manifest
    assert replaced is (survivor == "new"), point
    assert_consistent(workspace, cli)
    document = assert_next_run_recovers(workspace, cli)
    assert document["cached"] is True


def test_sigkill_between_the_two_renames_of_the_fallback_restores_the_old_run(
    workspace: Path, cli: Cli
) -> None:
    """Without renameat2 a replace is two renames; a crash between them leaves the old run in a
    ``.trash-`` folder, and the next run of the job (under the run_id's lock) renames it back
    and puts it back in the index, even when a ``reindex`` inside the window had dropped it."""
    old = run_json(cli)
    run_dir = Path(str(old["run_dir"]))
    old_manifest = (run_dir / "manifest.json").read_bytes()
    killed(workspace, TRASH_FALLBACK, "run", JOB, "--force")
    assert visible_runs(workspace) == []  # the documented window: nothing half-visible either
    assert any(name.startswith(".trash-") for name in hidden_build_dirs(workspace))
    assert_consistent(workspace, cli)
    assert cli("reindex").code == 0  # taken inside the window: the run is not visible
    assert indexed_run_ids(cli) == set()
    document = run_json(cli)
    assert document["cached"] is True
    assert (run_dir / "manifest.json").read_bytes() == old_manifest
    assert hidden_build_dirs(workspace) == []
    assert verify_run(run_dir).ok
    assert indexed_run_ids(cli) == {document["run_id"]}  # restored into the index, no reindex


def test_sigkill_before_a_reindex_swap_keeps_the_old_index(workspace: Path, cli: Cli) -> None:
    first = run_json(cli)
    assert indexed_run_ids(cli) == {first["run_id"]}
    index_dir = workspace / "artifacts/.sigilctl"
    before = sorted(p.name for p in index_dir.iterdir())
    killed(workspace, wrap("os", "replace", "before"), "reindex")
    assert indexed_run_ids(cli) == {first["run_id"]}  # the old index still answers
    rebuilt = cli("reindex", "--json")
    assert rebuilt.code == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["indexed"] == 1
    assert sorted(p.name for p in index_dir.iterdir()) == before  # the dead build was removed


def test_publication_fsyncs_every_file_and_folder_up_to_the_artifacts_dir(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut after 'run' returns loses nothing: every file, every folder of the run, the
    job folder holding the new name, and the artifacts folder holding a new job folder."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    document = run_json(cli)
    run_dir = Path(str(document["run_dir"]))
    artifacts = workspace / "artifacts"
    expected = {str(p) for p in run_dir.rglob("*")} | {str(run_dir), str(run_dir.parent)}
    expected.add(str(artifacts))
    staging = re.compile(rf"/\.tmp-{run_dir.name}-\d+-[0-9a-f]+(?=/|$)")
    published = {staging.sub(f"/{run_dir.name}", path) for path in synced}
    assert expected <= published, sorted(expected - published)
