"""Many real ``sigilctl`` processes at once: one execution per run_id, an index that agrees.

Same inputs: eight processes, one execution, eight identical run_ids. Different jobs: eight
runs, each upserted into the index; ``runs`` lists them all and a ``reindex`` gives the very
same rows. A ``reindex`` racing the runs never fails and never shows a half row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sigilctl.verify import verify_run
from tests.helpers import ENV_PREFIXES, Result

JOB = "ig-test-001"
PARALLEL = 8
ROW_REQUIRED = ("run_id", "job_id", "brand", "job_type", "status", "started_at", "finished_at",
                "inputs_hash", "run_dir")  # fmt: skip
Cli = Callable[..., Result]


def start(workspace: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    return subprocess.Popen(
        [sys.executable, "-m", "sigilctl", *args],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> Any:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "warning" not in err.lower(), err  # e.g. an index upsert that gave up
    return json.loads(out)


def make_jobs(workspace: Path, count: int) -> list[str]:
    """``count`` copies of the offline job, each its own job_id (so its own run)."""
    text = (workspace / "jobs" / JOB / "brief.yaml").read_text()
    names = [f"par-{i}" for i in range(count)]
    for name in names:
        folder = workspace / "jobs" / name
        folder.mkdir()
        (folder / "brief.yaml").write_text(text.replace(f"job_id: {JOB}", f"job_id: {name}"))
    return names


def rows(cli: Cli) -> list[dict[str, Any]]:
    listed = cli("runs", "--json")
    assert listed.code == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert isinstance(found, list)
    return sorted(found, key=lambda row: row["job_id"])


def assert_whole_rows(found: list[dict[str, Any]]) -> None:
    for row in found:
        for key in ROW_REQUIRED:
            assert row[key] not in (None, ""), (key, row)
        assert verify_run(Path(row["run_dir"])).ok, row["run_dir"]


def test_eight_runs_of_the_same_job_execute_once(workspace: Path) -> None:
    procs = [start(workspace, "run", JOB, "--json") for _ in range(PARALLEL)]
    outcomes = [finish(proc) for proc in procs]
    assert len({o["run_id"] for o in outcomes}) == 1
    assert sorted(o["cached"] for o in outcomes) == [False] + [True] * (PARALLEL - 1)
    assert {o["status"] for o in outcomes} == {"succeeded"}
    job_dir = workspace / "artifacts" / JOB
    assert sorted(p.name for p in job_dir.iterdir()) == [".locks", outcomes[0]["run_id"]]


def test_eight_jobs_at_once_are_all_indexed(workspace: Path, cli: Cli) -> None:
    names = make_jobs(workspace, PARALLEL)
    assert cli("reindex").code == 0  # an index exists: every finishing run upserts itself
    procs = [start(workspace, "run", name, "--json") for name in names]
    outcomes = [finish(proc) for proc in procs]
    assert len({o["run_id"] for o in outcomes}) == PARALLEL  # the job_id is in the brief snapshot
    upserted = rows(cli)
    assert [r["job_id"] for r in upserted] == names
    assert {r["run_id"] for r in upserted} == {o["run_id"] for o in outcomes}
    assert_whole_rows(upserted)
    assert cli("reindex").code == 0
    assert rows(cli) == upserted  # the rebuilt index says exactly what the upserts said


def test_reindex_racing_runs_never_fails_or_shows_half_rows(workspace: Path, cli: Cli) -> None:
    names = make_jobs(workspace, PARALLEL)
    assert cli("reindex").code == 0
    runs = [start(workspace, "run", name, "--json") for name in names]
    reindexes = [start(workspace, "reindex", "--json") for _ in range(3)]
    listings = [start(workspace, "runs", "--json") for _ in range(3)]
    outcomes = [finish(proc) for proc in runs]
    for proc in reindexes:
        result = finish(proc)
        assert result["indexed"] <= PARALLEL
    for proc in listings:
        assert_whole_rows(finish(proc))  # whatever a racing reader saw was whole
    final = rows(cli)
    assert {r["run_id"] for r in final} == {o["run_id"] for o in outcomes}
    assert_whole_rows(final)
    assert cli("reindex").code == 0
    assert rows(cli) == final
