"""``trace-health``: is Langfuse configured, and does the SDK's auth check pass within a bound?

The SDK's check (``auth_check``, a GET of the project list) has no bound of its own beyond its
HTTP timeout, so it runs in a daemon thread that is waited for at most ``timeout_s``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from sigilctl import env, logs
from sigilctl.observability.links import langfuse_host
from sigilctl.observability.settings import missing_keys, sdk_tracing_switched_off

log = logs.get_logger("observability")
HealthStatus = Literal["disabled", "healthy", "unhealthy"]
DEFAULT_TIMEOUT_S = 5.0


@dataclass
class HealthReport:
    status: HealthStatus
    host: str | None
    latency_ms: float | None = None
    error: str | None = None
    missing: list[str] = field(default_factory=list)
    sdk_version: str | None = None

    def exit_code(self, *, require: bool) -> int:
        if self.status == "unhealthy" or (self.status == "disabled" and require):
            return 1
        return 0

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "host": self.host,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "missing": self.missing,
            "sdk_version": self.sdk_version,
        }


def check_health(timeout_s: float = DEFAULT_TIMEOUT_S) -> HealthReport:
    """Disabled (keys missing or switched off), healthy (auth check passed) or unhealthy."""
    host = langfuse_host()
    missing = missing_keys()
    if missing:
        return HealthReport(
            "disabled", host, error=f"{' and '.join(missing)} not set", missing=missing
        )
    if sdk_tracing_switched_off():
        return HealthReport("disabled", host, error=f"{env.LANGFUSE_TRACING_ENABLED}=false")
    outcome: dict[str, Any] = {}

    def probe() -> None:
        try:
            from sigilctl.observability.client import SDK_VERSION, get_tracing

            outcome["version"] = SDK_VERSION
            client = get_tracing(export_timeout_s=timeout_s).client
            asked = time.monotonic()
            try:
                outcome["ok"] = client.auth_check()
            finally:
                outcome["latency"] = time.monotonic() - asked
        except Exception as exc:
            log.debug("auth check failed", exc_info=True)
            outcome["error"] = exc

    thread = threading.Thread(target=probe, name="sigilctl-trace-health", daemon=True)
    thread.start()
    thread.join(max(timeout_s, 0.0))
    version = outcome.get("version")
    if thread.is_alive():
        return HealthReport(
            "unhealthy",
            host,
            error=f"TimeoutError: no answer within {timeout_s:g} s",
            sdk_version=version,
        )
    latency = round(outcome["latency"] * 1000, 1) if "latency" in outcome else None
    if "error" in outcome:
        exc = outcome["error"]
        return HealthReport("unhealthy", host, latency, _describe(exc), sdk_version=version)
    if not outcome.get("ok"):
        return HealthReport(
            "unhealthy", host, latency, "the auth check did not pass", sdk_version=version
        )
    return HealthReport("healthy", host, latency, sdk_version=version)


def _describe(exc: BaseException) -> str:
    """Error class and a short message, with any secret value scrubbed."""
    status = getattr(exc, "status_code", None)
    message = str(exc).splitlines()[0] if str(exc) else ""
    if status is not None:
        message = f"HTTP {status}" + (
            f": {message}" if message and str(status) not in message else ""
        )
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return env.scrub(text[:300])
