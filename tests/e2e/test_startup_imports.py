"""The everyday commands stay lean: none of them loads the model client, the tracing stack, the
web server, the queue or PostgreSQL (they are imported only on the paths that use them).

One child process runs the commands one after the other and records, after each, which heavy
packages are loaded; a failure names the first command that pulled one in.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_python

HEAVY = (
    "openai", "langfuse", "opentelemetry", "httpx", "fastapi", "starlette", "uvicorn", "celery",
    "kombu", "redis", "prometheus_client", "psycopg", "psycopg_pool",
)  # fmt: skip
EVERYDAY = (
    ["--help"],
    ["run", "ig-test-001", "--json"],  # offline, no Langfuse keys: nothing heavy is needed
    ["show", "ig-test-001"],
    ["verify", "--all"],
    ["verify", "--all", "--source", "--latest"],  # exit 1: two example jobs never ran
    ["reindex"],
    ["runs"],
    ["stats"],
    ["jobs"],
    ["check", "ig-test-001"],
    ["traces", "status"],
    ["trace-health"],
    ["gc", "--keep", "1", "--dry-run"],
    ["pipelines"],
    ["schema", "brief"],
    ["serve", "--help"],
    ["worker", "--help"],
    ["submit", "--help"],
)

PROBE = """
import json, sys
from sigilctl.cli import run_cli
heavy = set(json.loads(sys.argv[1]))
seen = []
for argv in json.loads(sys.argv[2]):
    code = run_cli(argv)
    loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
    seen.append([argv, code, loaded])
sys.stderr.write("SEEN=" + json.dumps(seen) + "\\n")
"""


def test_everyday_commands_load_no_heavy_package(workspace: Path) -> None:
    proc = run_python(
        "-c", PROBE, json.dumps(HEAVY), json.dumps(EVERYDAY), cwd=workspace, timeout=120
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("SEEN="))
    seen = json.loads(line.removeprefix("SEEN="))
    codes = {" ".join(argv): code for argv, code, _ in seen}
    assert codes.pop("verify --all --source --latest") == 1, seen
    assert set(codes.values()) == {0}, seen
    first = next(((argv, loaded) for argv, _, loaded in seen if loaded), None)
    assert first is None, f"'sigilctl {' '.join(first[0])}' loaded {first[1]}"
