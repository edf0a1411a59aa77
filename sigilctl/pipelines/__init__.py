"""Pipeline registry: one module per job type."""

from __future__ import annotations

from sigilctl.errors import InputError
from sigilctl.pipelines.base import Pipeline

KNOWN_JOB_TYPES = ("instagram_copy",)


def get_pipeline(job_type: str, *, source: str = "brief") -> Pipeline:
    if job_type == "instagram_copy":
        from sigilctl.pipelines.instagram_copy import InstagramCopy

        return InstagramCopy()
    raise InputError(
        f"{source}: unknown job_type '{job_type}' (known: {', '.join(KNOWN_JOB_TYPES)})"
    )
