"""``smoke`` checks its identity and tracing invariants for every built-in job type: a build
that breaks them for the second type only is caught and named, and a built-in type without an
example job fails the checks instead of going unchecked."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from sigilctl.runner import RunOptions, RunOutcome, run_job
from sigilctl.smoke import CheckFailed, SmokeContext, check_named
from sigilctl.smoke import context as smoke_context
from sigilctl.workspace import Workspace
from tests.faults import leak_trace_id_into_brief

PER_TYPE = ("trace_ids_outside_identity", "tracing_after_run_id", "governance_ids_in_trace")


def test_every_builtin_type_has_an_example_job() -> None:
    with SmokeContext.create() as ctx:
        examples = dict(ctx.builtin_examples())
    assert examples == {"email_campaign": "email-test-001", "instagram_copy": "ig-test-001"}


def leaky_for_email(job: str, workspace: Workspace, options: RunOptions) -> RunOutcome:
    """A build whose email_campaign runs fold the trace id into the brief snapshot."""
    outcome = run_job(job, workspace, options)
    if job != "email-test-001" or outcome.langfuse_trace_id is None or outcome.cached:
        return outcome
    return leak_trace_id_into_brief(outcome)


def test_a_leak_in_the_second_type_only_is_caught_and_named() -> None:
    with (
        SmokeContext.create(run=leaky_for_email) as ctx,
        pytest.raises(CheckFailed, match=r"^email_campaign: inputs_hash differs with tracing"),
    ):
        check_named("trace_ids_outside_identity").function(ctx)


def late_trace_for_email(job: str, workspace: Workspace, options: RunOptions) -> RunOutcome:
    outcome = run_job(job, workspace, options)
    if job != "email-test-001":
        return outcome
    events = [e for e in outcome.events if e != "trace_started"]
    return dataclasses.replace(outcome, events=["trace_started", *events])


def test_tracing_before_run_id_in_the_second_type_is_caught() -> None:
    with (
        SmokeContext.create(run=late_trace_for_email) as ctx,
        pytest.raises(CheckFailed, match=r"^email_campaign: run events .* comes before 'run_id'"),
    ):
        check_named("tracing_after_run_id").function(ctx)


@pytest.mark.parametrize("name", PER_TYPE)
def test_a_builtin_type_without_an_example_fails_the_check(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = tmp_path / "example"
    shutil.copytree(Path(str(smoke_context.example_files())), example)
    shutil.rmtree(example / "jobs" / "email-test-001")
    monkeypatch.setattr(smoke_context, "example_files", lambda: example)
    with (
        SmokeContext.create() as ctx,
        pytest.raises(
            CheckFailed, match=r"no example job .* for built-in job type.* email_campaign"
        ),
    ):
        check_named(name).function(ctx)
