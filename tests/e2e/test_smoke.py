"""``sigilctl smoke``: every check passes on this build, and breaking an invariant on purpose
fails the matching check. The checks themselves are the suite's own functions (one definition)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import yaml

from sigilctl import observability
from sigilctl.runner import RunOptions, RunOutcome, run_job
from sigilctl.smoke import CHECKS, CheckFailed, SmokeContext, check_named, run_smoke
from sigilctl.smoke.context import example_files, sealed_environment
from sigilctl.smoke.junit import write_junit
from sigilctl.smoke.receiver import OtlpReceiver
from sigilctl.verify import RunReport
from sigilctl.workspace import Workspace
from tests.faults import leak_trace_id_into_brief
from tests.helpers import REPO, Result, run_subprocess

Cli = Callable[..., Result]
NAMES = [c.name for c in CHECKS]
N = len(CHECKS)


@pytest.fixture
def ctx() -> Iterator[SmokeContext]:
    with SmokeContext.create() as context:
        yield context


# --- every check passes on this build -------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_check_passes(check: Any, ctx: SmokeContext) -> None:
    detail = check.function(ctx)
    assert isinstance(detail, str) and detail


def test_the_suite_has_the_twelve_named_invariants() -> None:
    assert N == 12
    assert len(set(NAMES)) == 12
    assert check_named("tracing_after_run_id").title == "tracing after run_id derivation"
    assert check_named("spooled_trace_resent").title == "a spooled trace is re-sent whole"


def test_cli_smoke_passes_with_numbered_lines_and_a_summary(cli: Cli) -> None:
    result = cli("smoke")
    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for index, check in enumerate(CHECKS, start=1):
        line = lines[index - 1]
        assert line.startswith(f"[{index}/{N}] {check.title} ... PASS ("), line
        assert line.endswith(" ms)")
    assert lines[-2].startswith(f"✓ all {N} checks hold (")
    assert lines[-1] == f"smoke: {N} passed, 0 failed"


def test_subprocess_smoke_json_and_junit(tmp_path: Path) -> None:
    report = tmp_path / "reports" / "smoke.xml"
    result = run_subprocess("smoke", "--json", "--junit-xml", str(report), cwd=tmp_path)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["passed"], document["failed"]) == (N, 0)
    assert [c["name"] for c in document["checks"]] == NAMES
    for check in document["checks"]:
        assert {"name", "ok", "ms", "detail"} <= set(check)
        assert check["ok"] is True and check["ms"] >= 0 and check["detail"]
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == (str(N), "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == NAMES
    assert not suite.findall("testcase/failure")
    assert "JUnit report written to" in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "reports"]  # nothing else written in cwd


def test_k_selects_checks_and_no_match_is_a_usage_error(cli: Cli) -> None:
    result = cli("smoke", "-k", "tampering", "-k", "END_TO_END")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[1/2] verify passes a fresh run and catches tampering ... PASS")
    assert lines[1].startswith("[2/2] offline example job end to end ... PASS")
    result = cli("smoke", "-k", "no-such-check", "--json")
    assert result.code == 2
    assert result.stdout == ""
    assert "no smoke check matches -k 'no-such-check'" in result.stderr


# --- it never touches the operator's real setup ---------------------------------------------


def test_smoke_leaves_real_artifacts_langfuse_and_environment_alone(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_artifacts = tmp_path / "real-artifacts"
    real_artifacts.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with OtlpReceiver() as real_langfuse:
        settings = {
            "SIGILCTL_ARTIFACTS": str(real_artifacts),
            "SIGILCTL_ROOT": str(tmp_path),
            "SIGILCTL_INDEX": str(tmp_path / "real-index.sqlite"),
            "SIGILCTL_TRACE_SAMPLE_RATE": "0",
            "LANGFUSE_PUBLIC_KEY": "pk-lf-real-project",
            "LANGFUSE_SECRET_KEY": "sk-lf-real-project-secret",
            "LANGFUSE_BASE_URL": real_langfuse.base_url,
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        before = dict(os.environ)
        result = cli("smoke", "--json")
        time.sleep(0.2)
        assert result.code == 0, result.stdout
        assert real_langfuse.requests == []
    assert dict(os.environ) == before
    assert list(real_artifacts.iterdir()) == []
    assert not (tmp_path / "real-index.sqlite").exists()
    assert list(scratch.iterdir()) == []  # the temp workspace is deleted
    assert "sk-lf-real-project-secret" not in result.stdout


def test_sealed_environment_restores_exactly_even_on_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGFUSE_HOST", "https://example.invalid")
    monkeypatch.setenv("SIGILCTL_ROOT", "/somewhere")
    before = dict(os.environ)
    seen: dict[str, str] = {}

    def inside() -> None:
        with sealed_environment(LANGFUSE_PUBLIC_KEY="pk-x"):
            seen.update(os.environ)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        inside()
    assert "LANGFUSE_HOST" not in seen and "SIGILCTL_ROOT" not in seen
    assert seen["LANGFUSE_PUBLIC_KEY"] == "pk-x"
    assert dict(os.environ) == before


def test_the_example_is_a_copy_of_the_repository_job() -> None:
    example = Path(str(example_files())) / "jobs"
    shipped = sorted(p.relative_to(example) for p in example.rglob("*") if p.is_file())
    assert Path("ig-test-001/brief.yaml") in shipped
    for rel in shipped:
        assert (example / rel).read_bytes() == (REPO / "jobs" / rel).read_bytes(), rel


# --- breaking an invariant on purpose fails the matching check ------------------------------


def leaky_run(job: str, workspace: Workspace, options: RunOptions) -> RunOutcome:
    outcome = run_job(job, workspace, options)
    if outcome.langfuse_trace_id is None or outcome.cached:
        return outcome
    return leak_trace_id_into_brief(outcome)


def test_a_trace_id_in_a_snapshot_fails_identity_and_manifest_checks() -> None:
    with SmokeContext.create(run=leaky_run) as ctx:
        with pytest.raises(CheckFailed, match="inputs_hash differs with tracing"):
            check_named("trace_ids_outside_identity").function(ctx)
        with pytest.raises(CheckFailed, match=r"snapshot\(s\) brief hold the trace id"):
            check_named("trace_id_manifest_root").function(ctx)


def test_suite_reports_the_leak_and_keeps_going(tmp_path: Path) -> None:
    result = run_smoke(CHECKS, run=leaky_run)
    failed = {r.name for r in result.results if not r.ok}
    assert {"trace_ids_outside_identity", "trace_id_manifest_root"} <= failed
    untraced = {"same_inputs_same_run_id", "verify_catches_tampering", "offline_example_end_to_end"}
    assert not failed & untraced
    assert len(result.results) == N
    report = write_junit(result, tmp_path / "smoke.xml")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(N)
    assert suite.get("failures") == str(len(failed))
    failures = {
        case.get("name"): case.find("failure")
        for case in suite.findall("testcase")
        if case.find("failure") is not None
    }
    assert set(failures) == failed
    leak = failures["trace_ids_outside_identity"]
    assert leak is not None and "differs with tracing" in (leak.get("message") or "")


def trace_first_run(job: str, workspace: Workspace, options: RunOptions) -> RunOutcome:
    """A build that starts tracing before run_id exists records 'trace_started' first."""
    outcome = run_job(job, workspace, options)
    events = [e for e in outcome.events if e != "trace_started"]
    return dataclasses.replace(outcome, events=["trace_started", *events])


def test_tracing_before_run_id_fails_the_order_check() -> None:
    with (
        SmokeContext.create(run=trace_first_run) as ctx,
        pytest.raises(CheckFailed, match="'trace_started' comes before 'run_id'"),
    ):
        check_named("tracing_after_run_id").function(ctx)


def test_a_verify_blind_to_tampering_fails_the_verify_check() -> None:
    with (
        SmokeContext.create(verify=RunReport) as ctx,
        pytest.raises(CheckFailed, match="did not catch a tampered snapshot"),
    ):
        check_named("verify_catches_tampering").function(ctx)


def test_slow_tracing_failure_fails_the_bounded_time_check() -> None:
    def stalls_when_traced(job: str, workspace: Workspace, options: RunOptions) -> RunOutcome:
        if os.environ.get("LANGFUSE_PUBLIC_KEY") and options.trace:
            time.sleep(1.5)  # far beyond the bound and any untraced run of the same moment
        return run_job(job, workspace, options)

    with (
        SmokeContext.create(
            run=stalls_when_traced, failure_flush_timeout_s=0.2, added_time_slack_s=0.2
        ) as ctx,
        pytest.raises(CheckFailed, match=r"added \d+\.\d+ s to the run \(allowed \d+\.\d+ s"),
    ):
        check_named("tracing_failures_silent").function(ctx)


@contextmanager
def _swallowing_step(name: str, **inputs: Any) -> Iterator[observability.StepHandle]:
    with suppress(Exception):  # the bug this build has on purpose
        yield observability.StepHandle()


def test_a_step_that_swallows_errors_fails_through_the_cli(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observability, "trace_step", _swallowing_step)
    result = cli("smoke", "-k", "step context")
    assert result.code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[1/1] step context manager enters, exits and re-raises ... FAIL (")
    assert "swallowed the exception raised inside the step" in lines[1]
    assert lines[-2].startswith("✗ 1 of 1 failed (")
    assert lines[-1] == "smoke: 0 passed, 1 failed"
    document = json.loads(cli("smoke", "-k", "step_context", "--json").stdout)
    assert (document["passed"], document["failed"]) == (0, 1)
    assert document["checks"][0]["ok"] is False


def test_a_crashing_check_is_a_failed_result_not_a_crash() -> None:
    def crashes(job: str, workspace: Workspace, options: RunOptions) -> RunOutcome:
        raise OSError("disk on fire")

    result = run_smoke([check_named("offline_example_end_to_end")], run=crashes)
    assert not result.ok
    assert result.results[0].detail == "unexpected OSError: disk on fire"


# --- the CI recipes ---------------------------------------------------------------------------

WORKFLOW = REPO / "scripts" / "ci" / "sigilctl-github-actions.yml"
RECIPE = REPO / "scripts" / "ci" / "verify-repo.sh"
CI_DOC = REPO / "docs" / "ci.md"


def test_ci_doc_shows_the_ready_workflow_and_every_check() -> None:
    doc = CI_DOC.read_text()
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert block == WORKFLOW.read_text()
    steps = yaml.safe_load(block)["jobs"]["prove"]["steps"]
    commands = [step.get("run", "") for step in steps]
    assert any(c.startswith("sigilctl smoke --junit-xml ") for c in commands)
    assert "sigilctl verify --all --quiet" in commands
    assert "sigilctl verify --all --source --latest --quiet" in commands
    listed = re.findall(r"^\| (\d+) \| `(\w+)` \|", doc, flags=re.MULTILINE)
    assert listed == [(str(i), name) for i, name in enumerate(NAMES, start=1)]


def test_shell_recipe_runs_both_steps_and_exits_with_the_worse_code(
    workspace: Path, cli: Cli, tmp_path: Path
) -> None:
    assert cli("run", "ig-test-001").code == 0
    output = next((workspace / "artifacts" / "ig-test-001").glob("*/outputs/*"))
    output.write_bytes(output.read_bytes() + b"tampered")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGILCTL_", "LANGFUSE_"))}
    env.update(
        SIGILCTL_INSTALL="",  # use the sigilctl of this environment
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        REPORTS_DIR=str(tmp_path / "reports"),
    )
    proc = subprocess.run(
        ["sh", str(RECIPE), str(workspace)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"smoke: {N} passed, 0 failed\n" in proc.stdout
    assert re.search(r"artifact_(hash|size)_mismatch", proc.stdout)
    assert "== smoke exit 0, verify exit 1, latest gate exit 1" in proc.stdout
    assert "job email-test-001 has never run" in proc.stdout
    suite = ET.parse(tmp_path / "reports" / "sigilctl-smoke.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
