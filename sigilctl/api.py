"""The public API for pipeline authors (SPEC §13): write a job type as a package of your own.

Everything a job type needs is importable from here, and only from here; the rest of sigilctl
is private and may change in any release. See docs/pipelines.md for a worked example.

- ``Pipeline``: the base class a job type subclasses (name, version, templates, params model,
  reply model, outputs), registered under the entry-point group ``sigilctl.pipelines``.
- ``PipelineInputs``: what ``build_request`` and the hooks read — the run's snapshots only.
- ``GenerationRequest``: what a hook such as ``compose_offline`` receives.
- ``OutputError``: raise it from ``check_reply`` to reject a reply (the run fails, exit 1).
- ``read_template``: read a prompt template shipped as a file of your package.
- ``trace_step``, ``trace_llm_call``, ``trace_function``, ``is_observability_enabled``: tracing
  on the run's current trace. No-ops when the run is not traced; they never raise into your code.
"""

from __future__ import annotations

from sigilctl.observability.authoring import (
    is_observability_enabled,
    trace_function,
    trace_llm_call,
    trace_step,
)
from sigilctl.pipelines.base import OutputError, Pipeline, read_template
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.providers.base import GenerationRequest

__all__ = [
    "GenerationRequest",
    "OutputError",
    "Pipeline",
    "PipelineInputs",
    "is_observability_enabled",
    "read_template",
    "trace_function",
    "trace_llm_call",
    "trace_step",
]
