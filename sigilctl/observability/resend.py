"""``sigilctl traces flush``: re-send spooled traces, oldest first, and remove what was accepted.

Each spool entry is the exact request the run tried to send, so a re-send carries the original
trace and span ids (re-sending is idempotent on the server). An entry is deleted only *after*
the server answered 2xx: a crash at any moment loses nothing (at worst a trace is sent twice,
which the server merges). When the host is down, rejects the keys or errs, the flush stops at
the first such answer instead of timing out once per trace; a trace the server refuses on its
own (another 4xx) stays spooled and the flush goes on with the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sigilctl import logs
from sigilctl.observability.settings import Destination
from sigilctl.observability.spool import TraceSpool
from sigilctl.observability.transport import send_otlp

log = logs.get_logger("observability")
DEFAULT_SEND_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class FlushReport:
    """``traces flush --json`` prints ``sent``, ``failed`` and ``remaining`` (SPEC §9)."""

    sent: int
    failed: int
    remaining: int
    host: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "remaining": self.remaining}


def flush_spool(
    spool: TraceSpool, target: Destination, *, timeout_s: float = DEFAULT_SEND_TIMEOUT_S
) -> FlushReport:
    """Re-send every spooled trace to ``target``; delete each one the server accepted."""
    spool.clean_temp()
    sent = failed = 0
    problem: str | None = None
    for entry in spool.entries():
        try:
            request = entry.path.read_bytes()
        except FileNotFoundError:  # re-sent by a concurrent flush or run
            continue
        answer = send_otlp(target, request, timeout_s=timeout_s)
        if answer.ok:
            spool.remove(entry)
            sent += 1
            continue
        failed += 1
        problem = f"trace {entry.trace_id}: {answer.describe()}"
        log.debug("tracing: re-sending %s failed: %s", entry.trace_id, answer.describe())
        if answer.cause != "refused":  # the host itself is the problem: the rest would fail too
            break
    return FlushReport(sent, failed, len(spool.entries()), target.host, problem)
