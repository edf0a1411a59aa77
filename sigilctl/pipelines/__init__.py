"""Job types (pipelines): the base class, the entry-point registry, and sigilctl's own types.

Pipeline authors import from ``sigilctl.api``; the runner calls ``get_pipeline`` and the five
methods of ``sigilctl.pipelines.base.Pipeline`` it documents.
"""

from __future__ import annotations

from sigilctl.pipelines.base import OutputError, Pipeline
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.pipelines.registry import get_pipeline, job_type_names, load_all

__all__ = [
    "OutputError",
    "Pipeline",
    "PipelineInputs",
    "get_pipeline",
    "job_type_names",
    "load_all",
]
