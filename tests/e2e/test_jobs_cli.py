"""The overview an operator starts the day with (issue observations 1 and 2), through the CLI.

``jobs`` names each job's state and, for a stale one, the file or brief field that changed;
``verify --all --source --latest`` is a CI gate that stays green when history exists and flags
a job that never ran; ``verify --source`` names the changed shared file, not just "context".
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import add_job, failing_openai

Cli = Callable[..., Any]
BRAND_FILE = "jobs/_brands/sigilzero/context/01-provenance.md"


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def run_ok(cli: Cli, *jobs: str) -> None:
    for job in jobs:
        result = cli("run", job, "--json")
        assert result.code == 0, result.stderr


def states(cli: Cli, *args: str) -> dict[str, dict[str, Any]]:
    result = cli("jobs", "--json", *args)
    assert result.code in (0, 1), result.stderr
    return {job["job_id"]: job for job in json.loads(result.stdout)["jobs"]}


def test_jobs_shows_current_stale_failed_and_never_run(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_job(workspace, "ig-test-002")
    add_job(workspace, "ig-openai-002", source="ig-launch-openai")
    run_ok(cli, "ig-test-001", "ig-test-002")
    edit(workspace, "jobs/ig-test-002/brief.yaml", "count: 3", "count: 2")
    failing_openai(monkeypatch)  # a port nobody listens on: the run fails
    assert cli("run", "ig-openai-002").code == 1
    found = states(cli)
    assert found["ig-test-001"]["state"] == "current"
    assert found["ig-test-002"]["state"] == "stale"
    assert found["ig-test-002"]["changes"] == ["brief: params.count"]
    assert found["ig-openai-002"]["state"] == "failed"
    assert "kept failing (connection error)" in found["ig-openai-002"]["error"]
    assert found["ig-openai-002"]["latest_run"]["status"] == "failed"
    for never in ("email-test-001", "ig-launch-openai"):
        assert found[never]["state"] == "never run"
        assert found[never]["latest_run"] is None
        assert len(found[never]["would_run_id"]) == 32
    human = cli("jobs")
    assert "5 job(s): 1 current, 1 stale, 1 failed, 2 never run" in human.stdout


def test_a_shared_brand_file_is_named_in_jobs_and_verify_source(workspace: Path, cli: Cli) -> None:
    add_job(workspace, "ig-test-002")
    run_ok(cli, "ig-test-001", "ig-test-002")
    (workspace / BRAND_FILE).write_text(
        (workspace / BRAND_FILE).read_text() + "\nA cache hit costs nothing at all.\n"
    )
    found = states(cli)
    for job in ("ig-test-001", "ig-test-002"):
        assert found[job]["state"] == "stale"
        assert found[job]["changes"] == [BRAND_FILE], found[job]
    verify = cli("verify", "--all", "--source", "--json")
    assert verify.code == 1
    sources = [run["source"] for run in json.loads(verify.stdout)["runs"]]
    assert all(source["changes"] == [BRAND_FILE] for source in sources)
    assert all(BRAND_FILE in source["message"] for source in sources)
    human = cli("verify", "--all", "--source")
    assert BRAND_FILE in " ".join(human.stdout.split())  # named, not "context would hash…"


def test_a_doctrine_change_and_a_brief_field_are_both_named(workspace: Path, cli: Cli) -> None:
    run_ok(cli, "ig-test-001")
    doctrine = workspace / "jobs/_brands/sigilzero/doctrine.md"
    doctrine.write_text(doctrine.read_text() + "\nOne more rule.\n")
    edit(workspace, "jobs/ig-test-001/brief.yaml", "temperature: 0.7", "temperature: 0.2")
    changes = states(cli)["ig-test-001"]["changes"]
    assert changes == ["brief: model.temperature", "jobs/_brands/sigilzero/doctrine.md"]


def test_jobs_check_exits_1_unless_every_job_is_current(workspace: Path, cli: Cli) -> None:
    for job in ("email-test-001", "ig-launch-openai"):
        shutil.rmtree(workspace / "jobs" / job)
    assert cli("jobs", "--check").code == 1  # never run
    run_ok(cli, "ig-test-001")
    ok = cli("jobs", "--check")
    assert ok.code == 0, ok.stdout
    assert "1 job(s): 1 current" in ok.stdout
    edit(workspace, "jobs/ig-test-001/brief.yaml", "count: 3", "count: 4")
    stale = cli("jobs", "--check")
    assert stale.code == 1
    assert "brief: params.count" in stale.stdout


def test_an_invalid_brief_is_a_state_not_a_crash(workspace: Path, cli: Cli) -> None:
    run_ok(cli, "ig-test-001")
    edit(workspace, "jobs/email-test-001/brief.yaml", "brand: sigilzero", "brnd: sigilzero")
    found = states(cli)
    assert found["email-test-001"]["state"] == "invalid"
    assert "unknown key 'brnd'" in found["email-test-001"]["error"]
    assert found["ig-test-001"]["state"] == "current"


def test_jobs_names_an_unknown_job_with_a_suggestion(workspace: Path, cli: Cli) -> None:
    result = cli("jobs", "ig-test-01")
    assert result.code == 2
    assert "did you mean 'ig-test-001'" in result.stderr


def test_verify_latest_stays_green_when_history_exists(workspace: Path, cli: Cli) -> None:
    """Observation 1: `verify --all --source` fails forever once a job has an older run."""
    for job in ("email-test-001", "ig-launch-openai"):
        shutil.rmtree(workspace / "jobs" / job)
    run_ok(cli, "ig-test-001")
    edit(workspace, "jobs/ig-test-001/brief.yaml", "count: 3", "count: 2")
    run_ok(cli, "ig-test-001")  # a new run of the new inputs: the old one is history now
    assert cli("verify", "--all", "--source").code == 1  # the older run has drifted
    gate = cli("verify", "--all", "--source", "--latest", "--json")
    assert gate.code == 0, gate.stdout
    document = json.loads(gate.stdout)
    assert document["never_run"] == []
    assert [run["source"]["state"] for run in document["runs"]] == ["current"]


def test_verify_latest_flags_a_job_that_never_ran(workspace: Path, cli: Cli) -> None:
    run_ok(cli, "ig-test-001", "email-test-001")
    gate = cli("verify", "--all", "--source", "--latest")
    assert gate.code == 1
    assert "job ig-launch-openai has never run" in gate.stdout
    assert "1 job(s) never run" in gate.stdout
    document = json.loads(cli("verify", "--all", "--latest", "--json").stdout)
    assert document["never_run"] == ["ig-launch-openai"]


def test_latest_needs_all(workspace: Path, cli: Cli) -> None:
    result = cli("verify", "--latest", "ig-test-001")
    assert result.code == 2
    assert "--latest narrows --all" in result.stderr


@pytest.mark.parametrize("quiet", [False, True])
def test_verify_quiet_prints_only_problems_and_the_summary(
    workspace: Path, cli: Cli, quiet: bool
) -> None:
    add_job(workspace, "ig-test-002")
    run_ok(cli, "ig-test-001", "ig-test-002")
    edit(workspace, "jobs/ig-test-002/brief.yaml", "count: 3", "count: 2")
    args = ("verify", "--all", "--source") + (("--quiet",) if quiet else ())
    result = cli(*args)
    assert result.code == 1
    assert ("ig-test-001/" in result.stdout) is not quiet
    assert "ig-test-002/" in result.stdout
    assert "2 run(s) verified: 1 ok, 1 not ok" in result.stdout
