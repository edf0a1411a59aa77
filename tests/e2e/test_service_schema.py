"""The API against its own OpenAPI description: a few hundred generated requests (schemathesis)
to a real ``serve`` — no 5xx, every status and body as described, invalid input refused.

``positive_data_acceptance`` is left out on purpose: ``params`` are checked against the job's
own pipeline, which the brief names, so a body valid for the generic schema can rightly be 422.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.servers import TOKEN, child_env, start_serve

pytestmark = pytest.mark.slow


def test_generated_requests_match_the_openapi_description(workspace: Path) -> None:
    import subprocess

    api = start_serve(workspace, {"SIGILCTL_ROOT": str(workspace), "SIGILCTL_API_TOKENS": TOKEN})
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from schemathesis.cli import schemathesis; schemathesis()",
                "run",
                f"{api.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {TOKEN}",
                "--max-examples",
                "60",
                "--seed",
                "7",
                "--no-color",
                "--exclude-checks",
                "positive_data_acceptance",
                "--request-timeout",
                "30",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=child_env({}),
            cwd=workspace,
        )
    finally:
        assert api.stop() == 0, api.output()
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report[-4000:]
    generated = int(report.split(" generated")[0].rsplit("\n", 1)[-1].strip())
    assert generated >= 200, report[-2000:]
    log = api.output()
    assert '" 500' not in log and "Traceback" not in log, log[-3000:]
    assert TOKEN not in log
