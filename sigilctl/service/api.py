"""The HTTP API (SPEC §10): identity before the answer, then the queue.

``POST /jobs/run`` derives the run_id first (SPEC §5 steps 1–6, no writes): a current succeeded
run is answered 200 without touching the queue; anything else is queued and answered 202 with
the task's id. Every error is ``{"error": one sentence}`` with its status; no traceback, no
secret, ever.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from sigilctl import env
from sigilctl.errors import InputError, StorageError
from sigilctl.logs import get_logger
from sigilctl.manifest import RunStatus, utc_now
from sigilctl.run_files import UnsafeRunPath
from sigilctl.run_view import UnsafeRun
from sigilctl.service import index_view
from sigilctl.service.execution import Promise, UnknownJobError, derive, log_cache_hit
from sigilctl.service.guards import Guard
from sigilctl.service.metrics import CONTENT_TYPE, Metrics
from sigilctl.service.models import (
    Health,
    Readiness,
    RunAnswer,
    RunDocument,
    RunRequest,
    RunsPage,
    TaskState,
    errors,
)
from sigilctl.service.promises import PromiseCache
from sigilctl.service.queue import Queue, QueueUnavailableError
from sigilctl.service.settings import ServiceSettings
from sigilctl.service.tasks import TaskRecord, new_task_id
from sigilctl.workspace import JOB_ID_PATTERN, Workspace

log = get_logger("service")
WAIT_POLL_S = 0.1
DEFAULT_WAIT_S = 600.0
RUN_ID = re.compile(r"^[0-9a-f]{32}$")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Service:
    workspace: Workspace
    settings: ServiceSettings
    queue: Queue
    metrics: Metrics
    wait_limit: float = DEFAULT_WAIT_S
    promises: PromiseCache = field(default_factory=PromiseCache)


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": env.scrub(message)}, status_code=status, headers=headers)


def _field_problem(exc: RequestValidationError) -> tuple[int, str]:
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return 400, "the request body is not valid JSON"
    location = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    message = str(first.get("msg", "is invalid"))
    return 422, f"field '{location}': {message[:1].lower()}{message[1:]}"


def create_app(service: Service, *, auth: bool) -> Any:
    """The ASGI application: FastAPI routes behind the token and body-size guard. The queue is
    started and stopped by whoever runs the app (``serve``), around the server's own life."""
    app = FastAPI(
        title="sigilctl",
        version=_version(),
        summary="Governed, reproducible LLM content runs: queue them, watch them, prove them.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_exception_handler(ApiError, _on_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
    _routes(app, service)
    return Guard(app, tokens=service.settings.tokens if auth else None)


def _version() -> str:
    from sigilctl import __version__

    return __version__


async def _on_api_error(_: Request, exc: ApiError) -> JSONResponse:
    return _error(exc.status, exc.message)


async def _on_http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 404:
        return _error(404, f"no such endpoint: {request.method} {request.url.path}")
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
        return _error(405, message, exc.headers)
    return _error(exc.status_code, str(exc.detail), exc.headers)


async def _on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    status, message = _field_problem(exc)
    return _error(status, message)


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.warning("unexpected %s answering a request", type(exc).__name__)
    return _error(500, "internal error; the server log has the details")


def _answer(promise: Promise, record: TaskRecord | None) -> RunAnswer:
    if record is None:
        return RunAnswer(
            job_id=promise.job_id,
            run_id=promise.run_id,
            inputs_hash=promise.inputs_hash,
            status="succeeded",
            cached=True,
            queue_job_id=None,
        )
    return RunAnswer(
        job_id=record.job_id,
        run_id=record.run_id,
        inputs_hash=record.inputs_hash,
        status=record.status,
        cached=bool(record.cached),
        queue_job_id=record.queue_job_id,
        error=record.error,
    )


async def _wait(service: Service, queue_job_id: str) -> TaskRecord | None:
    deadline = time.monotonic() + service.wait_limit
    record: TaskRecord | None = None
    while time.monotonic() < deadline:
        record = await run_in_threadpool(service.queue.store.get, queue_job_id)
        if record is not None and record.final:
            return record
        await asyncio.sleep(WAIT_POLL_S)
    return record


def _routes(app: FastAPI, service: Service) -> None:
    workspace = service.workspace

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """Liveness: the process answers (no token needed)."""
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Readiness,
        responses=errors(401, 503),
        tags=["health"],
    )
    def readyz() -> Any:
        """Readiness: the index answers, the queue can take work, the artifacts are writable."""
        checks = {
            "index": index_view.index_problem(workspace) or "ok",
            "broker": service.queue.problem() or "ok",
            "artifacts": _artifacts_problem(workspace) or "ok",
        }
        down = {name: what for name, what in checks.items() if what != "ok"}
        if down:
            named = "; ".join(f"{name}: {what}" for name, what in down.items())
            return JSONResponse(
                {"error": env.scrub(f"not ready: {named}"), "checks": checks}, status_code=503
            )
        return Readiness(status="ready", checks=checks)

    @app.post(
        "/jobs/run",
        response_model=RunAnswer,
        status_code=202,
        responses={
            200: {"model": RunAnswer, "description": "A cached run, or the end of a waited run."},
            202: {"model": RunAnswer, "description": "Queued."},
            **errors(400, 401, 404, 413, 422, 503),
        },
        tags=["runs"],
    )
    async def post_run(body: RunRequest, response: Response) -> RunAnswer:
        """Derive the run's identity, then answer it from the cache or queue it."""
        try:
            promise = await run_in_threadpool(
                derive, workspace, body.job_id, body.params, service.promises
            )
        except UnknownJobError as exc:
            raise ApiError(404, str(exc)) from None
        except InputError as exc:
            raise ApiError(422, str(exc)) from None
        except StorageError as exc:
            raise ApiError(503, str(exc)) from None
        if promise.cached and not body.force:
            service.metrics.cache_hits.inc()
            await run_in_threadpool(log_cache_hit, workspace, promise)
            response.status_code = 200
            return _answer(promise, None)
        record = TaskRecord(
            queue_job_id=new_task_id(),
            job_id=promise.job_id,
            run_id=promise.run_id,
            inputs_hash=promise.inputs_hash,
            params=body.params or {},
            force=body.force,
            enqueued_at=utc_now(),
        )
        try:
            await run_in_threadpool(service.queue.enqueue, record)
        except QueueUnavailableError as exc:
            raise ApiError(503, str(exc)) from None
        service.metrics.queued.inc()
        if body.wait:
            ended = await _wait(service, record.queue_job_id)
            if ended is not None and ended.final:
                response.status_code = 200
                return _answer(promise, ended)
            record = ended or record
        return _answer(promise, record)

    @app.get(
        "/jobs/{job_ref}",
        response_model=RunDocument | TaskState,
        responses=errors(401, 404, 409),
        tags=["runs"],
    )
    def get_job(job_ref: str) -> Any:
        """A run by run_id, unique prefix (≥ 6), queue_job_id or job_id (its latest run).

        A run that is unsafe to read (it holds a link or names a path outside itself) is 409:
        it is shown not at all, as ``sigilctl show`` refuses it."""
        try:
            return _job_answer(job_ref)
        except (UnsafeRun, UnsafeRunPath) as exc:
            raise ApiError(409, str(exc)) from None

    def _job_answer(job_ref: str) -> Any:
        if not JOB_ID_PATTERN.match(job_ref):
            raise ApiError(404, f"no run, task or job '{job_ref}'")
        record = service.queue.store.get(job_ref) if "-" in job_ref else None
        if record is not None:
            if record.final:
                document = _run_document(workspace, record.job_id, record.run_id)
                if document is not None:
                    return document
            return record.state()
        try:
            return _located(workspace, job_ref)
        except InputError as exc:
            if RUN_ID.match(job_ref):
                pending = service.queue.store.latest_for_run(job_ref)
                if pending is not None and not pending.final:
                    return pending.state()
            raise ApiError(404, str(exc)) from None

    @app.get("/runs", response_model=RunsPage, responses=errors(401, 422, 503), tags=["runs"])
    def get_runs(
        job_id: Annotated[str | None, Query(max_length=128)] = None,
        brand: Annotated[str | None, Query(max_length=512)] = None,
        job_type: Annotated[str | None, Query(max_length=512)] = None,
        status: Annotated[RunStatus | None, Query()] = None,
        since: Annotated[
            str | None,
            Query(
                max_length=64,
                description="Runs started at or after this RFC 3339 date-time (or YYYY-MM-DD).",
                json_schema_extra={"format": "date-time"},
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> RunsPage:
        """Runs from the index, newest first."""
        try:
            rows = index_view.list_runs(
                workspace,
                job_id=job_id,
                brand=brand,
                job_type=job_type,
                status=status,
                since=None if since is None else rfc3339(since),
                limit=limit,
            )
        except InputError as exc:
            raise ApiError(422, str(exc).replace("--", "")) from None
        except StorageError as exc:
            raise ApiError(503, str(exc)) from None
        return RunsPage(runs=rows)

    @app.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}}, **errors(401)},
        tags=["health"],
    )
    def metrics() -> Response:
        """Prometheus text: runs by status, run duration, cache hits, queue depth, spool."""
        return Response(service.metrics.render(), media_type=CONTENT_TYPE)


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def rfc3339(text: str) -> str:
    """An RFC 3339 date-time as the index compares it (UTC); other text is passed on as is
    (YYYY-MM-DD works, anything else is refused by the filter). Python's datetime has no year
    0 and no leap second: those clamp to the nearest instant it has."""
    match = _RFC3339.match(text.strip().upper())
    if match is None:
        return text
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    zone = match.group(8).replace("Z", "+00:00")
    sign = -1 if zone[0] == "-" else 1
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) * sign
    try:
        moment = datetime(max(year, 1), month, day, hour, minute, min(second, 59), tzinfo=UTC)
        moment -= offset
    except (ValueError, OverflowError):
        return text
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _run_document(workspace: Workspace, job_id: str, run_id: str) -> dict[str, Any] | None:
    from sigilctl.run_view import load_run_view

    run_dir = workspace.artifacts / job_id / run_id
    if not run_dir.is_dir():
        return None
    try:
        return load_run_view(run_dir).as_json()
    except InputError:
        return None


def _located(workspace: Workspace, ref: str) -> dict[str, Any]:
    from sigilctl.lookup import locate_run
    from sigilctl.run_view import load_run_view

    run_dir = locate_run(ref, workspace)
    if not run_dir.is_relative_to(workspace.artifacts):
        raise InputError(f"no run, task or job '{ref}'")
    return load_run_view(run_dir).as_json()


def _artifacts_problem(workspace: Workspace) -> str | None:
    folder = workspace.artifacts / ".sigilctl"
    probe = folder / f".ready-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"{workspace.artifacts} is not writable ({exc.strerror})"
    return None
