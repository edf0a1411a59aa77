"""Tracing, secondary to execution: it starts after run_id exists and never breaks a run.

This package is the only place that imports langfuse, and only lazily. Every helper accepts a
missing trace (``None``) and is then a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sigilctl.steps import StepRecord


@dataclass(frozen=True)
class GovernanceIds:
    job_id: str
    run_id: str
    job_type: str
    brand: str
    inputs_hash: str
    queue_job_id: str | None = None


class NoopTrace:
    """The same surface as a real run trace, doing nothing. ``trace_id`` is None."""

    trace_id: str | None = None
    url: str | None = None

    @contextmanager
    def step(self, name: str, **inputs: Any) -> Iterator[None]:
        yield

    def record_steps(self, records: Sequence[StepRecord]) -> None:
        return None

    def generation(self, **fields: Any) -> None:
        return None

    def finalize(self, status: str, error: str | None, artifacts: Sequence[str]) -> None:
        return None


def start_pipeline_trace(
    ids: GovernanceIds, *, enabled: bool, sample_rate: float | None
) -> NoopTrace:
    """Start the run's trace (after run_id); a no-op trace when tracing is off."""
    return NoopTrace()


def flush(timeout_s: float | None = None) -> str | None:
    """Flush pending spans within a bound; returns a warning line, or None when all went well."""
    return None
