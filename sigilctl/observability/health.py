"""``trace-health``: is Langfuse configured, do its keys work, and is anything waiting in the spool?

``healthy`` means the auth check (GET ``/api/public/projects`` with the keys, as the SDK's
``auth_check`` does) answered with a project list within the timeout; ``unhealthy`` names the
cause: keys rejected (401/403), unreachable, server error (5xx), timeout, or refused (any other
answer). Each network step runs in a daemon thread waited for at most its timeout, so a server
that trickles its answer cannot stretch the bound. Nothing printed ever carries a credential.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from sigilctl import env, logs
from sigilctl.observability.links import langfuse_host
from sigilctl.observability.probe import ProbeResult, probe
from sigilctl.observability.settings import destination, missing_keys, sdk_tracing_switched_off
from sigilctl.observability.spool import SpoolStatus
from sigilctl.observability.transport import Answer, get_projects, sdk_version

log = logs.get_logger("observability")
HealthStatus = Literal["disabled", "healthy", "unhealthy"]
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_PROBE_TIMEOUT_S = 30.0
T = TypeVar("T")


@dataclass
class HealthReport:
    status: HealthStatus
    host: str | None
    latency_ms: float | None = None
    error: str | None = None
    cause: str | None = None
    missing: list[str] = field(default_factory=list)
    sdk_version: str | None = None
    spool: SpoolStatus | None = None
    probe: ProbeResult | None = None

    def exit_code(self, *, require: bool) -> int:
        if self.status == "unhealthy" or (self.status == "disabled" and require):
            return 1
        if self.probe is not None and not self.probe.delivered:
            return 1
        return 0

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "status": self.status,
            "host": self.host,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "cause": self.cause,
            "missing": self.missing,
            "sdk_version": self.sdk_version,
            "spool": self.spool.as_json() if self.spool else None,
        }
        if self.probe is not None:
            document["probe"] = self.probe.as_json()
        return document


def bounded(action: Callable[[], T], timeout_s: float) -> T | None:
    """``action()`` in a daemon thread, waited for at most ``timeout_s``; None if unfinished."""
    outcome: list[T] = []

    def work() -> None:
        try:
            outcome.append(action())
        except Exception:
            log.debug("tracing: a bounded check failed", exc_info=True)

    thread = threading.Thread(target=work, name="sigilctl-trace-health", daemon=True)
    thread.start()
    thread.join(max(timeout_s, 0.0))
    return outcome[0] if outcome else None


def check_health(
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    spool: SpoolStatus | None = None,
    with_probe: bool = False,
    probe_timeout_s: float = DEFAULT_PROBE_TIMEOUT_S,
) -> HealthReport:
    """Disabled (keys missing or switched off), healthy (auth check passed) or unhealthy."""
    host = langfuse_host()
    version = sdk_version()
    missing = missing_keys()
    report = HealthReport("disabled", host, missing=missing, sdk_version=version, spool=spool)
    target = destination()
    if missing:
        report.error = f"{' and '.join(missing)} not set"
    elif sdk_tracing_switched_off() or target is None:
        report.error = f"{env.LANGFUSE_TRACING_ENABLED}=false"
    else:
        answer = bounded(lambda: get_projects(target, timeout_s=timeout_s), timeout_s + 0.5)
        if answer is None:
            answer = Answer(None, timeout_s, "timeout", f"no answer within {timeout_s:g} s")
        report.latency_ms = round(answer.seconds * 1000, 1) if answer.status else None
        if answer.ok:
            report.status = "healthy"
        else:
            report.status = "unhealthy"
            report.cause = answer.cause
            report.error = answer.describe()
    if with_probe:
        if report.status == "healthy" and target is not None:
            result = bounded(lambda: probe(target, probe_timeout_s), probe_timeout_s + 1.0)
            report.probe = result or ProbeResult(
                None, False, probe_timeout_s, f"no answer within {probe_timeout_s:g} s"
            )
        else:
            report.probe = ProbeResult(None, False, 0.0, f"not sent: Langfuse is {report.status}")
    return report
