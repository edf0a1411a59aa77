"""Job types by entry point: what finding one costs a run, and what `sigilctl pipelines` costs.

- ``get_pipeline`` (read the ``sigilctl.pipelines`` entry points, import, check the class, make
  one) vs making the class directly, as the registry did before entry points; both warm.
- a whole offline run in-process (``run_job --force`` of ig-test-001), for scale.
- ``sigilctl pipelines --json`` and ``schema brief`` as processes vs ``python -c "import typer"``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import Row, best_of, median_of

REPO = Path(__file__).resolve().parents[2]


def run(quick: bool) -> list[Row]:
    from sigilctl.pipelines import get_pipeline
    from sigilctl.pipelines.instagram_copy import InstagramCopy
    from sigilctl.runner import RunOptions, run_job
    from sigilctl.workspace import Workspace

    repeat = 20 if quick else 100
    direct = best_of(InstagramCopy, repeat=repeat)
    found = best_of(lambda: get_pipeline("instagram_copy"), repeat=repeat)
    rows = [Row("get_pipeline (entry points, checks)", found, "InstagramCopy() direct", direct)]

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(REPO / "jobs", Path(tmp) / "jobs")
        workspace = Workspace.locate(Path(tmp))
        options = RunOptions(force=True, trace=False)
        run_job("ig-test-001", workspace, options)
        whole = median_of(
            lambda: run_job("ig-test-001", workspace, options), repeat=5 if quick else 15
        )
    rows.append(
        Row("get_pipeline, share of an offline run", found, "offline run_job --force", whole)
    )

    typer = best_of(
        lambda: subprocess.run([sys.executable, "-c", "import typer"], check=True), repeat=5
    )
    for label, args in (
        ("sigilctl pipelines --json", ["pipelines", "--json"]),
        ("sigilctl schema brief", ["schema", "brief"]),
    ):
        ours = best_of(
            lambda a=args: subprocess.run(  # type: ignore[misc]
                [sys.executable, "-m", "sigilctl", *a], check=True, capture_output=True
            ),
            repeat=5 if quick else 10,
        )
        rows.append(Row(label, ours, 'python -c "import typer"', typer))
    return rows
