"""The service stays out of the CLI's way: the everyday commands never import it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_python

SERVICE_LIBRARIES = (
    "fastapi", "starlette", "uvicorn", "celery", "kombu", "redis", "prometheus_client",
)  # fmt: skip
PROBE = """
import sys
from sigilctl.cli import run_cli
code = run_cli(sys.argv[1:])
loaded = sorted({m.split('.')[0] for m in sys.modules} & set(%r))
sys.stderr.write(f"EXIT={code} LOADED={','.join(loaded)}\\n")
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "ig-test-001"],
        ["show", "ig-test-001"],
        ["verify", "--all"],
        ["serve", "--help"],
        ["submit", "--help"],
    ],
    ids=["help", "run", "show", "verify", "serve-help", "submit-help"],
)
def test_everyday_commands_do_not_import_the_service(workspace: Path, argv: list[str]) -> None:
    if argv[0] in ("show", "verify"):
        assert run_python("-m", "sigilctl", "run", "ig-test-001", cwd=workspace).code == 0
    result = run_python("-c", PROBE % (SERVICE_LIBRARIES,), *argv, cwd=workspace)
    assert "EXIT=0 LOADED=\n" in result.stderr, result.stderr
