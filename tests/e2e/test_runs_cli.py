"""``sigilctl reindex`` and ``sigilctl runs`` end to end, on real runs in a temporary workspace."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sigilctl.index import index_location
from sigilctl.index.location import IndexLocation
from tests.helpers import add_job, listed, run_json, run_python
from tests.index_backends import dump, index_exists

Cli = Callable[..., Any]  # the ``cli`` fixture of conftest.py
DB = Path("artifacts/.sigilctl/index.sqlite")


@pytest.fixture
def location(
    workspace: Path, index_setting: str | None, monkeypatch: pytest.MonkeyPatch
) -> IndexLocation:
    """This test's backend, chosen the way an operator does: $SIGILCTL_INDEX (or the default)."""
    if index_setting is not None:
        monkeypatch.setenv("SIGILCTL_INDEX", index_setting)
    return index_location(workspace / "artifacts")


@pytest.fixture
def three_runs(workspace: Path, cli: Cli, location: IndexLocation) -> list[str]:
    """Three real, succeeded runs of three jobs, made before any index exists."""
    run_ids = []
    for job_id in ("ig-test-001", "ig-test-002", "ig-test-003"):
        if job_id != "ig-test-001":
            add_job(workspace, job_id)
        run_ids.append(str(run_json(cli, job=job_id)["run_id"]))
    assert not index_exists(location)
    return run_ids


def test_reindex_after_three_runs_lists_exactly_those_runs(
    workspace: Path, cli: Cli, three_runs: list[str], location: IndexLocation
) -> None:
    result = cli("reindex", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["indexed"] == 3
    assert report["skipped"] == 0
    assert report["skipped_paths"] == []
    assert report["db"] == location.display
    assert report["seconds"] >= 0
    rows = listed(cli)
    assert [r["run_id"] for r in rows] == three_runs[::-1]  # newest first
    first = rows[-1]
    assert first["job_id"] == "ig-test-001"
    assert first["brand"] == "sigilzero"
    assert first["job_type"] == "instagram_copy"
    assert first["status"] == "succeeded"
    assert first["run_dir"] == str(workspace / "artifacts" / "ig-test-001" / three_runs[0])
    assert str(first["started_at"]) <= str(first["finished_at"])


def test_filters_on_real_runs(workspace: Path, cli: Cli, three_runs: list[str]) -> None:
    failed_dir = workspace / "artifacts" / "other-job" / three_runs[0]
    shutil.copytree(workspace / "artifacts" / "ig-test-001" / three_runs[0], failed_dir)
    manifest = json.loads((failed_dir / "manifest.json").read_text())
    manifest.update(job_id="other-job", status="failed", brand="elsewhere", job_type="x_thread")
    (failed_dir / "manifest.json").write_text(json.dumps(manifest))
    assert cli("reindex").code == 0
    assert [r["job_id"] for r in listed(cli, "--job", "ig-test-002")] == ["ig-test-002"]
    assert [r["job_id"] for r in listed(cli, "--status", "failed")] == ["other-job"]
    assert [r["job_id"] for r in listed(cli, "--brand", "elsewhere")] == ["other-job"]
    assert len(listed(cli, "--job-type", "instagram_copy", "--status", "succeeded")) == 3
    assert len(listed(cli, "--since", "2000-01-01")) == 4
    assert listed(cli, "--since", "2999-01-01T00:00:00Z") == []
    assert len(listed(cli, "--limit", "2")) == 2
    table = cli("runs", "--status", "succeeded")
    assert table.code == 0
    assert "3 run(s)" in table.stdout
    assert three_runs[1][:12] in table.stdout


def test_runs_builds_a_missing_index_first_and_says_so(cli: Cli, three_runs: list[str]) -> None:
    result = cli("runs", "--json")
    assert result.code == 0
    assert "built it from the manifests" in result.stderr
    assert sorted(r["run_id"] for r in json.loads(result.stdout)) == sorted(three_runs)
    again = cli("runs", "--json")
    assert "built it" not in again.stderr


def test_corrupt_manifest_is_skipped_and_named(cli: Cli, three_runs: list[str]) -> None:
    broken = Path("artifacts/ig-test-002") / three_runs[1] / "manifest.json"
    broken.write_text('{"truncated": ')
    result = cli("reindex", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["indexed"] == 2
    assert report["skipped_paths"] == [str(broken.resolve())]
    assert "not a valid manifest" in report["skipped_reasons"][0]["reason"]
    human = cli("reindex")
    assert human.code == 0
    assert str(broken.resolve()) in human.stderr
    strict = cli("reindex", "--strict", "--json")
    assert strict.code == 1
    assert json.loads(strict.stdout)["skipped"] == 1


def test_deleting_the_index_and_reindexing_gives_the_same_rows(
    cli: Cli, three_runs: list[str], location: IndexLocation
) -> None:
    assert cli("reindex").code == 0
    before = dump(location)
    assert len(before["executions"]) == 3
    if location.kind == "sqlite":
        DB.unlink()
    else:
        from tests.index_backends import reset_schemas

        reset_schemas(location.postgres_url)
    assert cli("reindex").code == 0
    assert dump(location) == before


def test_a_run_after_reindex_appears_without_another_reindex(
    workspace: Path, cli: Cli, three_runs: list[str]
) -> None:
    assert cli("reindex").code == 0
    add_job(workspace, "ig-test-004")
    new = run_json(cli, job="ig-test-004")
    rows = listed(cli)
    assert rows[0]["run_id"] == new["run_id"]
    assert len(rows) == 4
    again = run_json(cli, job="ig-test-004")  # a cache hit: still one row
    assert again["cached"] is True
    assert len(listed(cli)) == 4


def test_an_unwritable_index_never_fails_a_run(workspace: Path, cli: Cli) -> None:
    """A real process, so stderr is exactly what an operator sees."""
    folder = workspace / "index-is-a-folder"
    folder.mkdir()
    proc = run_python(
        "-m",
        "sigilctl",
        "run",
        "ig-test-001",
        "--json",
        cwd=workspace,
        env={"SIGILCTL_INDEX": str(folder)},
    )
    assert proc.code == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "succeeded"
    assert "was not updated" in proc.stderr
    assert "sigilctl reindex" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_db_flag_and_environment_move_the_index(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for job_id in ("ig-test-001", "ig-test-002", "ig-test-003"):
        if job_id != "ig-test-001":
            add_job(workspace, job_id)
        run_json(cli, job=job_id)
    flag = workspace / "elsewhere" / "runs.sqlite"
    assert cli("reindex", "--db", str(flag)).code == 0
    assert len(listed(cli, "--db", str(flag))) == 3
    monkeypatch.setenv("SIGILCTL_INDEX", str(workspace / "env.sqlite"))
    assert cli("reindex").code == 0
    assert (workspace / "env.sqlite").is_file()
    assert not DB.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--status", "done"), "--status 'done' is not a run status"),
        (("--since", "last week"), "--since 'last week' is not a date"),
        (("--since", "2026-02-30"), "--since '2026-02-30' is not a date"),
        (("--limit", "-1"), "--limit"),
    ],
)
def test_bad_filters_exit_2_with_one_sentence(
    workspace: Path, cli: Cli, args: tuple[str, ...], message: str, location: IndexLocation
) -> None:
    result = cli("runs", *args)
    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not index_exists(location)


def test_reindex_of_a_missing_artifacts_tree_is_bad_input(workspace: Path, cli: Cli) -> None:
    result = cli("reindex", "--artifacts", str(workspace / "nowhere"))
    assert result.code == 2
    assert "does not exist" in result.stderr


def test_reindex_runs_and_stats_never_import_openai_or_langfuse(
    workspace: Path, three_runs: list[str], index_setting: str | None
) -> None:
    """Nor psycopg, unless the index is PostgreSQL."""
    heavy = ("openai", "langfuse") + (("psycopg",) if index_setting is None else ())
    probe = (
        "import sys\n"
        "from sigilctl.cli import run_cli\n"
        "assert run_cli(['reindex', '--json']) == 0\n"
        "assert run_cli(['runs', '--json']) == 0\n"
        "assert run_cli(['stats', '--json']) == 0\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    env = {"SIGILCTL_INDEX": index_setting} if index_setting else {}
    proc = run_python("-c", probe, cwd=workspace, env=env)
    assert proc.code == 0, proc.stderr
    assert proc.stderr.strip().endswith("HEAVY=")
    assert '"indexed": 3' in proc.stdout


def test_a_corrupt_index_is_reported_and_reindex_repairs_it(cli: Cli, workspace: Path) -> None:
    three_runs = [str(run_json(cli, job="ig-test-001")["run_id"])]
    assert cli("reindex").code == 0
    DB.write_bytes(b"garbage, not SQLite" * 512)
    broken = cli("runs")
    assert broken.code == 1
    assert "sigilctl reindex" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert cli("reindex").code == 0
    assert sorted(r["run_id"] for r in listed(cli)) == sorted(three_runs)
