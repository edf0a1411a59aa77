"""The API's request and response documents (they are also its OpenAPI description)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sigilctl.workspace import JOB_ID_PATTERN

Status = Literal["queued", "running", "succeeded", "failed", "partial"]
MAX_PARAMS = 64


class RunRequest(BaseModel):
    """``POST /jobs/run``: which job, with which params merged over its brief's."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"job_id": "ig-test-001", "params": {"count": 2}}]},
    )

    job_id: str = Field(pattern=JOB_ID_PATTERN.pattern, max_length=128)
    params: dict[str, Any] | None = Field(
        default=None,
        max_length=MAX_PARAMS,
        description="Merged key by key over the brief's params (part of the run_id).",
    )
    force: bool = Field(default=False, description="Re-execute even if a succeeded run exists.")
    wait: bool = Field(default=False, description="Answer when the run ends (200).")


class RunAnswer(BaseModel):
    """The identity derived before answering, and what happens to it."""

    job_id: str
    run_id: str
    inputs_hash: str
    status: Status
    cached: bool
    queue_job_id: str | None
    error: str | None = None


class TaskState(BaseModel):
    """A task that has no run to show (yet, or ever)."""

    model_config = ConfigDict(extra="allow")

    queue_job_id: str
    run_id: str
    status: Status
    job_id: str | None = None
    error: str | None = None
    enqueued_at: str | None = None
    started_at: str | None = None
    worker: str | None = Field(default=None, description="host:pid of the executing process")
    attempts: int = Field(default=0, description="Deliveries of this task so far")


class RunDocument(BaseModel):
    """A finished run: the manifest's fields at the top level plus ``run_dir`` (as
    ``show --json``)."""

    model_config = ConfigDict(extra="allow")

    job_id: str
    run_id: str
    inputs_hash: str
    status: Status
    run_dir: str
    queue_job_id: str | None = None


class RunsPage(BaseModel):
    runs: list[dict[str, Any]]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]


class ErrorBody(BaseModel):
    """Every error: one sentence."""

    model_config = ConfigDict(extra="allow")

    error: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses an endpoint can answer."""
    text = {
        400: "Malformed request (e.g. the body is not JSON).",
        401: "Missing or wrong bearer token.",
        404: "Unknown job, run or task.",
        409: "The run is unsafe to read (tampered): verify names every problem.",
        413: "Request body too large.",
        422: "Invalid request, brief or params.",
        503: "A dependency (queue, index, artifacts) is unavailable.",
    }
    return {code: {"model": ErrorBody, "description": text[code]} for code in codes}
