"""The run index as the reading commands (``runs``, ``stats``) open it: built first if needed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sigilctl.index.interface import RunIndex

PROGRESS_MIN_RUNS = 500


@contextlib.contextmanager
def ready_index(root: Path | None, artifacts: Path | None, db: str | None) -> Iterator[RunIndex]:
    """Open the chosen index; build it whole first when it is absent, empty, damaged or older,
    and say so on stderr (a reader never answers from a half or empty index)."""
    from sigilctl.cli import output
    from sigilctl.index import index_location, open_index
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    location = index_location(workspace.artifacts, db, workspace.index)
    with open_index(location, workspace.artifacts) as index:
        with output.progress("indexing runs", PROGRESS_MIN_RUNS) as advance:
            built = index.ensure_built(advance)
        if built is not None:
            if built.state == "absent":
                output.note(f"no run index at {location.display} yet; built it from the manifests")
            else:
                output.note(
                    f"the run index {location.display} {built.reason}; rebuilt it whole from "
                    "the manifests"
                )
            for skipped in built.result.skipped:
                output.warning(f"skipped {skipped.path}: {skipped.reason}")
        yield index
