"""Nothing outside a run is ever opened: planted runs through every command that reads runs.

Each planted run (tests/planted_runs.py) has a link or a listed path that leads to files
holding a canary string outside the run. Every reader must refuse it (``show`` says it is
unsafe, ``verify`` names the problem, ``reindex`` skips it) and the canary must appear in no
output and in no byte of the index.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Result, make_run, run_subprocess
from tests.planted_runs import PLANTS, READERS, assert_no_canary, index_bytes, plant

Cli = Callable[..., Result]

# What verify names for each planted run (the kinds the run must at least show).
NAMED = {
    "absolute_path": "path_escape",
    "dotdot_path": "path_escape",
    "symlinked_output": "symlink",
    "symlinked_outputs_folder": "symlink",
    "symlinked_inputs_folder": "symlink",
    "symlinked_manifest": "symlink",
    "symlinked_run_folder": "symlink",
    "symlinked_job_folder": "symlink",
}


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_no_reader_opens_a_file_outside_the_run(kind: str, workspace: Path, cli: Cli) -> None:
    planted = plant(kind, workspace, make_run(cli, workspace))
    for reader, arguments in READERS.items():
        result = cli(*arguments(planted))
        assert "Traceback" not in result.stderr, (reader, result.stderr)
        assert result.code in (0, 1, 2), (reader, result.code, result.stderr)
        assert_no_canary(planted, result.stdout + result.stderr, reader)
        assert_no_canary(planted, index_bytes(workspace), f"the index after '{reader}'")
        archive = planted.workspace / "planted.tar.gz"
        if archive.exists():  # export refuses a planted run; had it written one, look inside
            assert_no_canary(planted, gzip.decompress(archive.read_bytes()), "the archive")
        if reader.startswith("verify"):
            assert result.code == 1, (reader, result.stdout, result.stderr)
            assert NAMED[kind] in result.stdout, (reader, result.stdout)


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_show_says_the_run_is_unsafe_and_shows_nothing_of_it(
    kind: str, workspace: Path, cli: Cli
) -> None:
    planted = plant(kind, workspace, make_run(cli, workspace))
    for reference in (str(planted.run_dir), planted.run_id):
        result = cli("show", reference, "--json")
        assert result.code == 1, result.stderr
        assert result.stdout == ""
        assert "unsafe" in result.stderr and "verify" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_reindex_skips_a_planted_run_whose_manifest_is_unsafe(
    kind: str, workspace: Path, cli: Cli
) -> None:
    planted = plant(kind, workspace, make_run(cli, workspace))
    result = cli("reindex", "--json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    if kind in ("symlinked_manifest", "symlinked_run_folder", "symlinked_job_folder"):
        assert document["indexed"] == 0
        [reason] = document["skipped_reasons"]
        assert "symbolic link" in reason["reason"]
    assert_no_canary(planted, index_bytes(workspace), "the index")


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_show_job_as_a_subprocess_prints_nothing_from_outside(
    kind: str, workspace: Path, cli: Cli
) -> None:
    """The reported case: `show JOB` put the target of a planted link in its Preview."""
    planted = plant(kind, workspace, make_run(cli, workspace))
    result = run_subprocess("show", planted.job_id, cwd=workspace)
    assert result.code in (1, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert_no_canary(planted, result.stdout + result.stderr, "show JOB")


def test_an_intact_run_still_shows_its_preview(workspace: Path, cli: Cli) -> None:
    run_dir = make_run(cli, workspace)
    result = cli("show", run_dir.name, "--json")
    assert result.code == 0, result.stderr
    assert len(json.loads(result.stdout)["preview"]) == 3


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_the_http_api_opens_nothing_outside_a_planted_run(
    kind: str, workspace: Path, cli: Cli
) -> None:
    """GET /jobs/{id} and GET /runs through the real app (in-process): no canary, no 5xx."""
    from fastapi.testclient import TestClient

    from sigilctl.service.api import Service, create_app
    from sigilctl.service.local_queue import LocalQueue
    from sigilctl.service.metrics import Metrics
    from sigilctl.service.settings import ServiceSettings
    from sigilctl.workspace import Workspace

    planted = plant(kind, workspace, make_run(cli, workspace))
    ws = Workspace.locate(workspace)
    queue = LocalQueue(ws, workers=1)
    queue.store.initialize()  # not started: nothing executes
    service = Service(ws, ServiceSettings(None, ()), queue, Metrics(ws, queue))
    client = TestClient(create_app(service, auth=False), raise_server_exceptions=False)
    for path in (
        f"/jobs/{planted.run_id}",
        f"/jobs/{planted.run_id[:8]}",
        f"/jobs/{planted.job_id}",
        "/runs",
        f"/runs?job_id={planted.job_id}",
    ):
        answer = client.get(path)
        assert answer.status_code < 500, (path, answer.text)
        assert_no_canary(planted, answer.text, f"GET {path}")
    assert_no_canary(planted, index_bytes(workspace), "the index after the API")
