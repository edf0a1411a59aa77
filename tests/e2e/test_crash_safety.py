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
from collections.abc import Callable
from pathlib import Path

import pytest

from sigilctl.verify import verify_run
from tests.faults import CHILD, killed, wrap
from tests.helpers import Result, run_json, run_python, visible_runs

JOB = "ig-test-001"
Cli = Callable[..., Result]

# Die right after the first os.rename whose (src, dst) matches; optionally without renameat2.
RENAME_HOOK = """
import sigilctl.store as store
if {fallback!r}:
    store._exchange = lambda a, b: False
real_rename = os.rename
def rename(src, dst):
    real_rename(src, dst)
    src, dst = os.fspath(src), os.fspath(dst)
    if {predicate}:
        die()
os.rename = rename
"""
INTO_SWAP = "os.path.basename(dst).startswith('.swap-')"
INTO_HISTORY = "os.path.basename(os.path.dirname(os.path.dirname(dst))) == '.history'"
SWAP_TO_CURRENT = "os.path.basename(src).startswith('.swap-') and '.history' not in dst"

# Not a crash: the pipeline rejects the reply, so the run ends failed (a paid, refused reply).
REJECTED_REPLY = """
from sigilctl.pipelines import instagram_copy
from sigilctl.pipelines.base import OutputError
def reject(self, text, params):
    raise OutputError("the reply has 2 captions, the brief asks for 3")
instagram_copy.InstagramCopy.parse_reply = reject
"""


def on_rename(predicate: str, *, fallback: bool = False) -> str:
    return RENAME_HOOK.format(predicate=predicate, fallback=fallback)


def hidden_build_dirs(workspace: Path) -> list[str]:
    job_dir = workspace / "artifacts" / JOB
    if not job_dir.is_dir():
        return []
    pending = (".tmp-", ".trash-", ".swap-")
    return sorted(p.name for p in job_dir.iterdir() if p.name.startswith(pending))


def executions(workspace: Path) -> dict[str, str]:
    """Every execution kept, current or history: execution id → "current" / "history"."""
    job_dir = workspace / "artifacts" / JOB
    found: dict[str, str] = {}
    for run_dir in visible_runs(workspace):
        found[json.loads((run_dir / "manifest.json").read_text())["execution_id"]] = "current"
    for entry in sorted(job_dir.glob(".history/*/*")):
        if not entry.name.startswith("."):
            assert json.loads((entry / "manifest.json").read_text())["execution_id"] == entry.name
            found[entry.name] = "history"
    return found


def current_manifest(workspace: Path) -> dict[str, object]:
    (run_dir,) = visible_runs(workspace)
    document = json.loads((run_dir / "manifest.json").read_text())
    assert isinstance(document, dict)
    return document


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
    ("snapshots written", wrap("sigilctl.execution", "write_snapshots", "after")),
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


# (point, injection, has the new execution reached publication?, is a current run visible?)
REPLACE_POINTS = [
    ("in the provider call", wrap("sigilctl.providers.offline", "OfflineProvider.generate", "before"), False, True),
    ("fsynced, not renamed", wrap("sigilctl.store", "fsync_tree", "after"), False, True),
    ("renamed to its swap name", on_rename(INTO_SWAP), True, True),
    ("before the exchange", wrap("sigilctl.store", "_exchange", "before"), True, True),
    ("after the exchange", wrap("sigilctl.store", "_exchange", "after"), True, True),
    ("old execution moved to history", on_rename(INTO_HISTORY), True, True),
    ("published, index not updated", wrap("sigilctl.index", "record_run", "before"), True, True),
    ("fallback: renamed to its swap name", on_rename(INTO_SWAP, fallback=True), True, True),
    ("fallback: old execution in history", on_rename(INTO_HISTORY, fallback=True), True, False),
    ("fallback: new execution in place", on_rename(SWAP_TO_CURRENT, fallback=True), True, True),
]  # fmt: skip


def assert_repaired(
    workspace: Path, cli: Cli, before: dict[str, str], published: bool
) -> dict[str, object]:
    """The next run finishes what the crash left: nothing lost, the newest success current."""
    document = run_json(cli)
    assert document["status"] == "succeeded" and document["cached"] is True
    assert hidden_build_dirs(workspace) == []
    after = executions(workspace)
    assert set(before) <= set(after), "an execution was lost"
    assert len(after) == len(before) + (1 if published else 0), (before, after)
    current = current_manifest(workspace)
    assert current["status"] == "succeeded"
    if published:  # the newest execution, a success, is current
        assert current["execution_id"] == max(after)
    assert cli("verify", "--all").code == 0  # history included
    assert indexed_run_ids(cli) == {document["run_id"]}
    return document


@pytest.mark.parametrize(
    ("point", "inject", "published", "visible"),
    REPLACE_POINTS,
    ids=[p[0] for p in REPLACE_POINTS],
)
def test_sigkill_during_a_force_replacement(
    workspace: Path, cli: Cli, point: str, inject: str, published: bool, visible: bool
) -> None:
    """A succeeded run replaced by a succeeded one: at every point the current run is the old
    one or the new one, whole; the old one is never lost (it moves to history)."""
    old = run_json(cli)
    before = executions(workspace)
    killed(workspace, inject, "run", JOB, "--force")
    if visible:
        (run_dir,) = visible_runs(workspace)
        assert run_dir == Path(str(old["run_dir"]))
        assert verify_run(run_dir).ok
        current = current_manifest(workspace)["execution_id"]
        assert current == old["execution_id"] or (published and current not in before)
    else:  # the documented window of the two-rename fallback: the old run is whole in history
        assert visible_runs(workspace) == []
        assert set(before) <= set(executions(workspace))
    checked = cli("verify", "--all")
    assert checked.code == 0, checked.stdout
    assert_repaired(workspace, cli, before, published)


FAILED_RETRY_POINTS = [
    ("fsynced, not renamed", wrap("sigilctl.store", "fsync_tree", "after"), False),
    ("renamed to its swap name", on_rename(INTO_SWAP), True),
    ("after the exchange", wrap("sigilctl.store", "_exchange", "after"), True),
    ("failed attempt moved to history", on_rename(INTO_HISTORY), True),
    ("fallback: failed attempt in history", on_rename(INTO_HISTORY, fallback=True), True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("point", "inject", "published"), FAILED_RETRY_POINTS, ids=[p[0] for p in FAILED_RETRY_POINTS]
)
def test_sigkill_while_a_retry_moves_the_failed_attempt(
    workspace: Path, cli: Cli, point: str, inject: str, published: bool
) -> None:
    """A failed run retried by ``run``: the failed attempt goes to history, never away."""
    failed = run_python("-c", CHILD.format(inject=REJECTED_REPLY), "run", JOB, cwd=workspace)
    assert failed.code == 1, failed.stderr
    before = executions(workspace)
    assert list(before.values()) == ["current"]
    assert current_manifest(workspace)["status"] == "failed"
    killed(workspace, inject, "run", JOB)
    for run_dir in visible_runs(workspace):
        assert verify_run(run_dir).ok
    assert cli("verify", "--all").code == 0
    document = run_json(cli)  # repairs, then reuses the retry or retries again
    assert document["status"] == "succeeded"
    assert hidden_build_dirs(workspace) == []
    after = executions(workspace)
    assert set(before) <= set(after), "the failed attempt was lost"
    assert after[next(iter(before))] == "history"
    assert document["cached"] is published  # a published retry is not paid for twice
    assert len(after) == 2
    assert cli("verify", "--all").code == 0


FAILED_FORCE_POINTS = [
    ("fsynced, not renamed", wrap("sigilctl.store", "fsync_tree", "after"), False),
    ("failed execution moved to history", on_rename(INTO_HISTORY), True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("point", "inject", "published"), FAILED_FORCE_POINTS, ids=[p[0] for p in FAILED_FORCE_POINTS]
)
def test_sigkill_while_a_failed_force_goes_to_history(
    workspace: Path, cli: Cli, point: str, inject: str, published: bool
) -> None:
    """--force that fails never replaces the succeeded run: the failure goes to history."""
    old = run_json(cli)
    before = executions(workspace)
    killed(workspace, REJECTED_REPLY + inject, "run", JOB, "--force")
    assert current_manifest(workspace)["execution_id"] == old["execution_id"]
    assert verify_run(Path(str(old["run_dir"]))).ok
    assert cli("verify", "--all").code == 0
    document = run_json(cli)
    assert document["cached"] is True and document["execution_id"] == old["execution_id"]
    after = executions(workspace)
    assert set(before) <= set(after)
    assert len(after) == len(before) + (1 if published else 0)
    assert hidden_build_dirs(workspace) == []


def test_a_replace_cut_by_an_older_sigilctl_is_restored(workspace: Path, cli: Cli) -> None:
    """Before history existed the fallback replace parked the old run in ``.trash-``; a crash
    there left no current run. The next run puts it back (and into the index)."""
    old = run_json(cli)
    run_dir = Path(str(old["run_dir"]))
    old_manifest = (run_dir / "manifest.json").read_bytes()
    run_dir.rename(run_dir.parent / f".trash-{run_dir.name}-0badc0de")
    assert cli("reindex").code == 0
    assert indexed_run_ids(cli) == set()
    document = run_json(cli)
    assert document["cached"] is True
    assert (run_dir / "manifest.json").read_bytes() == old_manifest
    assert hidden_build_dirs(workspace) == []
    assert indexed_run_ids(cli) == {document["run_id"]}


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
