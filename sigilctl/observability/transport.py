"""Talking to Langfuse over HTTP: send an OTLP request, read a project or a trace, and name
why it did not work (keys rejected, unreachable, server error, timeout, refused).

One small client for the run's delivery, ``traces flush``, ``trace-health`` and its probe, so
all of them classify failures the same way. Nothing here ever prints or logs a request header,
a response body or a key: an answer is a status, a cause and a short, scrubbed detail.
httpx is imported inside the functions (``show``, ``verify`` and ``--help`` never load it).
"""

from __future__ import annotations

import base64
import functools
import gzip
import ssl
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

from sigilctl import env, logs
from sigilctl.observability.settings import Destination

log = logs.get_logger("observability")
OTEL_TRACES_PATH = "/api/public/otel/v1/traces"
PROJECTS_PATH = "/api/public/projects"
TRACES_PATH = "/api/public/traces"
# The Langfuse OTLP route writes batches of this ingestion version straight to its events
# table (the same header the SDK's own exporter sends); higher versions are refused.
INGESTION_VERSION = "4"
Cause = Literal["keys rejected", "unreachable", "server error", "timeout", "refused"]


@dataclass(frozen=True)
class Answer:
    """What one request got: an HTTP status (None when none came back) and, if not ok, why."""

    status: int | None
    seconds: float
    cause: Cause | None = None
    detail: str = ""
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.cause is None and self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        """One short phrase for an operator, e.g. ``keys rejected (HTTP 401)``."""
        if self.ok:
            return f"accepted (HTTP {self.status})"
        return f"{self.cause} ({self.detail})" if self.detail else str(self.cause)

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@functools.cache
def sdk_version() -> str:
    """The installed Langfuse SDK version (whose attribute dialect our spans speak), read from
    its metadata without importing it."""
    try:
        return metadata.version("langfuse")
    except metadata.PackageNotFoundError:
        return "unknown"


def _auth(destination: Destination) -> dict[str, str]:
    pair = f"{destination.public_key}:{destination.secret_key}".encode()
    return {
        "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
        "x-langfuse-public-key": destination.public_key,
        "x-langfuse-sdk-name": "python",
        "x-langfuse-sdk-version": sdk_version(),
    }


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA store costs ~35 ms); plain-HTTP
    hosts never need one."""
    return ssl.create_default_context()


def _classify(status: int) -> tuple[Cause | None, str]:
    if 200 <= status < 300:
        return None, ""
    if status in (401, 403):
        return "keys rejected", f"HTTP {status}"
    if status >= 500:
        return "server error", f"HTTP {status}"
    return "refused", f"HTTP {status}"


def _request(
    method: str,
    destination: Destination,
    path: str,
    *,
    timeout_s: float,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    import httpx

    url = destination.host + path
    started = time.monotonic()
    verify: ssl.SSLContext | bool = _tls_context() if url.startswith("https:") else False
    try:
        with httpx.Client(
            timeout=max(timeout_s, 0.05), follow_redirects=False, verify=verify
        ) as client:
            response = client.request(
                method, url, content=content, headers={**_auth(destination), **(headers or {})}
            )
    except httpx.TimeoutException:
        return Answer(
            None, time.monotonic() - started, "timeout", f"no answer within {timeout_s:g} s"
        )
    except httpx.HTTPError as exc:
        log.debug("tracing: %s %s failed: %s", method, url, type(exc).__name__)
        return Answer(None, time.monotonic() - started, "unreachable", _short(exc))
    seconds = time.monotonic() - started
    cause, detail = _classify(response.status_code)
    log.debug(
        "tracing: %s %s -> HTTP %d in %.0f ms", method, url, response.status_code, seconds * 1000
    )
    return Answer(
        response.status_code, seconds, cause, detail, response.content if cause is None else b""
    )


def _short(exc: BaseException) -> str:
    """The exception's class and first line, scrubbed (never a header or a body)."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return env.scrub(text[:200])


def send_otlp(destination: Destination, request: bytes, *, timeout_s: float) -> Answer:
    """POST one OTLP protobuf request (gzip) to the project's OTLP traces endpoint."""
    headers = {
        "Content-Type": "application/x-protobuf",
        "Content-Encoding": "gzip",
        "x-langfuse-ingestion-version": INGESTION_VERSION,
    }
    body = gzip.compress(request, compresslevel=6, mtime=0)
    return _request(
        "POST", destination, OTEL_TRACES_PATH, timeout_s=timeout_s, content=body, headers=headers
    )


def get_projects(destination: Destination, *, timeout_s: float) -> Answer:
    """The auth check: GET the project list with the keys (what the SDK's auth_check does)."""
    answer = _request("GET", destination, PROJECTS_PATH, timeout_s=timeout_s)
    if not answer.ok:
        return answer
    try:
        projects = answer.json().get("data")
    except (ValueError, AttributeError):
        projects = None
    if not isinstance(projects, list) or not projects:
        return Answer(answer.status, answer.seconds, "refused", "no project for these keys")
    return answer


def get_trace(destination: Destination, trace_id: str, *, timeout_s: float) -> Answer:
    """GET one trace; 404 until the server has stored it (ingestion is asynchronous)."""
    return _request("GET", destination, f"{TRACES_PATH}/{trace_id}", timeout_s=timeout_s)
