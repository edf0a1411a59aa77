"""JOB arguments checked before any work: an unknown id names the closest ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sigilctl.workspace import Workspace


def checked_job_ids(workspace: Workspace, job_ids: Sequence[str]) -> list[str]:
    """``job_ids`` if every one is a job under jobs/; else InputError naming the first that is
    not, with 'did you mean'."""
    from sigilctl.errors import InputError
    from sigilctl.workspace import check_job_id, unknown_job_message

    for job_id in job_ids:
        check_job_id(job_id, source="JOB argument")
        if not (workspace.jobs / job_id).is_dir():
            raise InputError(unknown_job_message(job_id, workspace))
    return list(dict.fromkeys(job_ids))
