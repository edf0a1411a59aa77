"""The one Langfuse client of this process, built so that it can never stall or take over.

- a private ``TracerProvider`` (the process-global one is never touched), not shut down at exit;
- our own OTLP/HTTP exporter with a small timeout, wrapped to count failed exports, so the end of
  a run can say in one line that the trace was not delivered;
- the SDK's atexit flush is unregistered: its flush has no timeout and would stall exit on a
  hanging server. The run itself flushes, bounded, in a daemon thread (``flush_bounded``).

This module imports langfuse at import time; only ``sigilctl.observability`` imports it, lazily.
"""

from __future__ import annotations

import atexit
import base64
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langfuse import Langfuse
from langfuse import __version__ as SDK_VERSION
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from sigilctl import env, logs
from sigilctl.observability.links import langfuse_host

log = logs.get_logger("observability")

OTEL_TRACES_PATH = "/api/public/otel/v1/traces"
# Sent by the SDK's own exporter; the Langfuse OTLP endpoint uses it to pick its ingestion path.
INGESTION_VERSION = "4"
__all__ = ["SDK_VERSION", "Tracing", "flush_bounded", "get_tracing", "release"]


class RecordingExporter(SpanExporter):
    """Delegates to the OTLP exporter and remembers failures since the last look."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._failures = 0
        self._last_error: str | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception as exc:
            log.debug("trace export raised", exc_info=True)
            self._note_failure(f"{type(exc).__name__}: {exc}")
            return SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self._note_failure("export failed (unreachable, refused or an error answer)")
        return result

    def _note_failure(self, message: str) -> None:
        with self._lock:
            self._failures += 1
            self._last_error = env.scrub(message)

    def take_failures(self) -> tuple[int, str | None]:
        with self._lock:
            taken = (self._failures, self._last_error)
            self._failures, self._last_error = 0, None
        return taken

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@dataclass
class Tracing:
    """A live client with the pieces the bounded flush needs."""

    client: Langfuse
    provider: TracerProvider
    exporter: RecordingExporter
    host: str
    public_key: str
    secret_key: str

    @property
    def tracer(self) -> Any:
        """The OTel tracer the client owns: spans from it are the ones its processor exports."""
        return self.client._otel_tracer


_lock = threading.Lock()
_tracings: dict[str, Tracing] = {}


def _headers(public_key: str, secret_key: str) -> dict[str, str]:
    token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode("ascii")
    return {
        "Authorization": f"Basic {token}",
        "x-langfuse-sdk-name": "python",
        "x-langfuse-sdk-version": SDK_VERSION,
        "x-langfuse-public-key": public_key,
        "x-langfuse-ingestion-version": INGESTION_VERSION,
    }


def existing_tracing(public_key: str) -> Tracing | None:
    """The client already built for ``public_key`` in this process, if any."""
    with _lock:
        return _tracings.get(public_key)


def client_count() -> int:
    """How many tracing clients this process has built."""
    with _lock:
        return len(_tracings)


def get_tracing(export_timeout_s: float) -> Tracing:
    """The process's client for the current keys and host (built once per public key).

    The SDK keeps one resource manager per public key for the life of the process, so a client
    is reused while key and host stay the same; a changed secret or host builds no second one.
    """
    public_key = env.get(env.LANGFUSE_PUBLIC_KEY) or ""
    secret_key = env.get(env.LANGFUSE_SECRET_KEY) or ""
    host = langfuse_host()
    with _lock:
        existing = _tracings.get(public_key)
        if existing is not None:
            if (existing.host, existing.secret_key) != (host, secret_key):
                log.warning("Langfuse settings changed in this process; keeping the first ones")
            return existing
        tracing = _build(public_key, secret_key, host, export_timeout_s)
        _tracings[public_key] = tracing
        return tracing


def _build(public_key: str, secret_key: str, host: str, export_timeout_s: float) -> Tracing:
    provider = TracerProvider(shutdown_on_exit=False)
    exporter = RecordingExporter(
        OTLPSpanExporter(
            endpoint=host + OTEL_TRACES_PATH,
            headers=_headers(public_key, secret_key),
            timeout=max(export_timeout_s, 0.1),
            compression=Compression.Gzip,
        )
    )
    client = Langfuse(
        public_key=public_key,
        secret_key=secret_key,
        base_url=host,
        # Explicit values, so a malformed LANGFUSE_TIMEOUT / LANGFUSE_SAMPLE_RATE cannot raise.
        timeout=max(1, math.ceil(export_timeout_s)),
        sample_rate=1.0,
        tracing_enabled=True,
        tracer_provider=provider,
        span_exporter=exporter,
    )
    _disarm_sdk_atexit(client)
    return Tracing(client, provider, exporter, host, public_key, secret_key)


def _disarm_sdk_atexit(client: Langfuse) -> None:
    """The SDK registers an unbounded flush + shutdown at exit; a hanging server stalls it."""
    resources = getattr(client, "_resources", None)
    shutdown = getattr(resources, "shutdown", None)
    if shutdown is not None:
        atexit.unregister(shutdown)


def flush_bounded(tracing: Tracing, timeout_s: float) -> str | None:
    """Export pending spans in a daemon thread, waiting at most ``timeout_s``.

    Returns a one-line reason when spans were not delivered, or None.
    """
    done = threading.Event()

    def work() -> None:
        try:
            tracing.provider.force_flush()
        except Exception:
            log.debug("trace flush failed", exc_info=True)
        finally:
            done.set()

    thread = threading.Thread(target=work, name="sigilctl-trace-flush", daemon=True)
    thread.start()
    finished = done.wait(timeout_s)
    failures, last_error = tracing.exporter.take_failures()
    if not finished:
        log.debug(
            "trace flush still running after %.3g s; left to finish in the background", timeout_s
        )
        return f"no answer within {timeout_s:g} s"
    if failures:
        log.debug("trace export failed %d time(s): %s", failures, last_error)
        return last_error or "export failed"
    return None


def release(public_key: str, timeout_s: float) -> bool:
    """Forget the client for ``public_key`` and shut it down, waiting at most ``timeout_s``.

    For processes that point at several backends in turn (the smoke suite). Returns whether the
    shutdown finished in time; an unfinished one goes on in a daemon thread.
    """
    with _lock:
        tracing = _tracings.pop(public_key, None)
    if tracing is None:
        return True

    def work() -> None:
        try:
            tracing.client.shutdown()
            tracing.provider.shutdown()
        except Exception:
            log.debug("releasing the tracing client failed", exc_info=True)

    thread = threading.Thread(target=work, name="sigilctl-trace-release", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return not thread.is_alive()
