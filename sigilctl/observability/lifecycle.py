"""One run's observability, as an object the run owns: start (after run_id), activate while the
pipeline executes, finalize with the run's status, deliver within the bound.

Nothing is kept in module globals: two runs in one process (``run -j``, a worker) each have
their own. Every method is safe to call on an untraced run (a no-op) and none ever raises.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from sigilctl import env, logs
from sigilctl.observability import settings
from sigilctl.observability.delivery import DeliveryReport
from sigilctl.observability.records import trace_id_for
from sigilctl.observability.run_trace import GovernanceIds, RunTrace, current_trace
from sigilctl.observability.settings import Destination
from sigilctl.steps import StepRecord

log = logs.get_logger("observability")


class RunObservability:
    """Tracing state of one run: its trace (None when untraced), where it goes, what went wrong.

    ``notes`` gathers the problems to report in the run's one warning line (a malformed
    setting, an undelivered trace); ``report`` is the delivery's outcome once delivered.
    """

    def __init__(
        self,
        trace: RunTrace | None,
        *,
        destination: Destination | None = None,
        artifacts: Path | None = None,
        bound_s: float = settings.DEFAULT_FLUSH_TIMEOUT_S,
        notes: Sequence[str] = (),
    ) -> None:
        self.trace = trace
        self.destination = destination
        self.artifacts = artifacts
        self.bound_s = bound_s
        self.notes = list(notes)
        self.report: DeliveryReport | None = None

    @property
    def traced(self) -> bool:
        return self.trace is not None

    @property
    def trace_id(self) -> str | None:
        """The trace id for the manifest (None when not traced)."""
        return self.trace.trace_id if self.trace is not None else None

    @property
    def host(self) -> str | None:
        """Where the trace is sent, without credentials (the manifest's ``langfuse_host``)."""
        return self.destination.host if self.trace is not None and self.destination else None

    def active(self) -> AbstractContextManager[None]:
        """``with obs.active():`` — the run's trace is the current one inside the block."""
        return current_trace(self.trace)

    def finalize(self, status: str, error: str | None, artifacts: Sequence[str] = ()) -> None:
        """End the trace with the run's status (``succeeded``, ``failed`` or ``partial``)."""
        if self.trace is None:
            return
        try:
            self.trace.finalize(status, error, artifacts)
        except Exception:
            log.debug("tracing: finalizing failed", exc_info=True)
            self.trace.failures += 1

    def deliver(self) -> str | None:
        """Send the finished trace within the bound (spooling what is not accepted).

        Returns the run's one warning line, or None when all went well. Never raises.
        """
        if self.trace is not None and self.report is None and self.destination is not None:
            try:
                self.report = _deliver(self.trace, self.destination, self.artifacts, self.bound_s)
            except Exception:
                log.debug("tracing: delivery failed", exc_info=True)
                self.notes.append("an internal error prevented delivering the trace")
        return self.warning()

    def abort(self, exc: BaseException) -> None:
        """A run that crashed: end its trace as failed and deliver it (bounded); never raises."""
        if self.trace is None:
            return
        self.finalize("failed", f"{type(exc).__name__}: {exc}")
        warning = self.deliver()
        if warning:
            log.warning("%s", warning)

    def warning(self) -> str | None:
        """Every tracing problem of this run in one line (None when there was none)."""
        problems = list(self.notes)
        if self.report is not None and (problem := self.report.problem()):
            problems.insert(0, problem)
        if self.trace is not None and self.trace.failures:
            problems.append(
                f"{self.trace.failures} internal tracing error(s) dropped part of the trace"
            )
        if not problems:
            return None
        return env.scrub("tracing: " + "; ".join(problems) + "; the run is not affected")


def _deliver(
    trace: RunTrace, destination: Destination, artifacts: Path | None, bound_s: float
) -> DeliveryReport:
    from sigilctl.observability.delivery import deliver
    from sigilctl.observability.spool import TraceSpool

    spool_dir = settings.spool_dir(artifacts or Path.cwd() / "artifacts")
    spool = TraceSpool(spool_dir, settings.spool_max().value)
    return deliver(trace.document(), destination, spool, bound_s)


def start(
    ids: GovernanceIds,
    *,
    enabled: bool,
    sample_rate: float | None,
    started_at: str,
    artifacts: Path,
    measured: Sequence[StepRecord] = (),
) -> RunObservability:
    """Decide (after run_id exists) whether this run is traced, and start its trace if so.

    ``started_at`` seeds the trace id with run_id, so a forced re-run gets its own trace;
    ``measured`` are the steps done before the trace existed, recorded with their own times.
    """
    try:
        decision = settings.decide(ids.run_id, enabled=enabled, sample_rate=sample_rate)
        notes = [decision.warning] if decision.warning else []
        destination = settings.destination()
        if not decision.traced or destination is None:
            log.debug("tracing: not traced: %s", decision.reason)
            return RunObservability(None, notes=notes)
        bound = settings.flush_timeout()
        cap = settings.spool_max()
        notes += [w for w in (bound.warning, cap.warning) if w]
        trace = RunTrace(
            ids,
            trace_id=trace_id_for(ids.run_id, started_at or f"ns:{time.time_ns()}"),
            environment=settings.environment_name(),
            release=settings.release_name(),
        )
        trace.add_measured(measured)
        return RunObservability(
            trace, destination=destination, artifacts=artifacts, bound_s=bound.value, notes=notes
        )
    except Exception:
        log.debug("tracing: starting the trace failed", exc_info=True)
        return RunObservability(None, notes=["an internal error prevented tracing this run"])
