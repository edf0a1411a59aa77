"""Tracing, secondary to execution: it starts after run_id exists and never breaks a run.

Two surfaces:

- for the run (``sigilctl.runner``): ``start_run(...)`` returns the run's ``RunObservability``
  (its trace, or none when the run is not traced); ``with obs.active():`` around the pipeline,
  ``obs.finalize(status, ...)``, then ``obs.deliver()`` — bounded, spooling what Langfuse did
  not accept — which returns the run's one warning line or None;
- for pipeline code (``authoring``): ``trace_step``, ``trace_llm_call``, ``trace_function`` and
  ``is_observability_enabled`` act on the current run's trace and are no-ops without one.

A run records plain typed span records; only delivery loads the Langfuse SDK and OpenTelemetry
(in a background thread, inside the bound). ``--help``, ``show``, ``verify`` and ``reindex``
never load them.
"""

from __future__ import annotations

from sigilctl.observability.authoring import (
    StepHandle,
    is_observability_enabled,
    trace_function,
    trace_llm_call,
    trace_step,
)
from sigilctl.observability.lifecycle import RunObservability
from sigilctl.observability.lifecycle import start as start_run
from sigilctl.observability.run_trace import GovernanceIds
from sigilctl.observability.settings import langfuse_configured

__all__ = [
    "GovernanceIds",
    "RunObservability",
    "StepHandle",
    "is_observability_enabled",
    "langfuse_configured",
    "start_run",
    "trace_function",
    "trace_llm_call",
    "trace_step",
]
