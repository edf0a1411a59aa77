"""`sigilctl run` and `show` end to end on the offline provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.helpers import run_json, run_subprocess

RUN_KEYS = {"job_id", "run_id", "inputs_hash", "status", "cached", "run_dir", "langfuse_trace_id"}


def test_run_writes_a_whole_run(workspace: Path, cli: Callable[..., object]) -> None:
    document = run_json(cli)
    assert set(document) >= RUN_KEYS
    assert document["status"] == "succeeded" and document["cached"] is False
    run_dir = Path(str(document["run_dir"]))
    assert run_dir == workspace / "artifacts" / "ig-test-001" / str(document["run_id"])
    names = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    assert names == [
        "inputs/brief.resolved.json",
        "inputs/context.resolved.json",
        "inputs/doctrine.resolved.json",
        "inputs/model_config.resolved.json",
        "inputs/pipeline.resolved.json",
        "manifest.json",
        "outputs/captions.json",
    ]
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["schema_version"] == "1.2.0"
    assert manifest["run_id"] == document["run_id"]
    assert manifest["langfuse_trace_id"] is None
    assert manifest["provider"]["offline"] is True
    assert all(set(e) == {"path", "sha256", "bytes"} for e in manifest["input_snapshots"].values())
    captions = orjson.loads((run_dir / "outputs/captions.json").read_bytes())["captions"]
    assert len(captions) == 3
    assert all(c["text"] and c["hashtags"] for c in captions)
    hidden = [
        p.name for p in (workspace / "artifacts/ig-test-001").iterdir() if p.name.startswith(".tmp")
    ]
    assert hidden == []


def test_second_run_is_a_cache_hit(workspace: Path, cli: Callable[..., object]) -> None:
    first = run_json(cli)
    manifest_path = Path(str(first["run_dir"])) / "manifest.json"
    before = manifest_path.read_bytes()
    second = run_json(cli)
    assert second["cached"] is True
    assert second["run_id"] == first["run_id"]
    assert manifest_path.read_bytes() == before


def test_force_re_executes_and_replaces(workspace: Path, cli: Callable[..., object]) -> None:
    first = run_json(cli)
    run_dir = Path(str(first["run_dir"]))
    before = (run_dir / "manifest.json").read_bytes()
    forced = run_json(cli, "--force")
    assert forced["cached"] is False and forced["run_id"] == first["run_id"]
    assert forced["execution_id"] != first["execution_id"]
    after = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert after["execution_id"] == forced["execution_id"]  # a new execution is current
    assert after["started_at"] > orjson.loads(before)["started_at"]
    kept = run_dir.parent / ".history" / run_dir.name / str(first["execution_id"])
    assert (kept / "manifest.json").read_bytes() == before  # the old one, moved whole
    leftovers = [p.name for p in run_dir.parent.iterdir() if p.name.startswith((".t", ".s"))]
    assert leftovers == []


def test_offline_output_is_deterministic(workspace: Path, cli: Callable[..., object]) -> None:
    first = run_json(cli)
    path = Path(str(first["run_dir"])) / "outputs/captions.json"
    before = path.read_bytes()
    run_json(cli, "--force")
    assert path.read_bytes() == before


def test_job_argument_forms(workspace: Path, cli: Callable[..., object]) -> None:
    by_id = run_json(cli)["run_id"]
    for ref in (
        "jobs/ig-test-001",
        "jobs/ig-test-001/brief.yaml",
        str(workspace / "jobs/ig-test-001"),
    ):
        result = cli("run", ref, "--json")
        assert result.code == 0, result.stderr  # type: ignore[attr-defined]
        assert json.loads(result.stdout)["run_id"] == by_id  # type: ignore[attr-defined]


def test_root_and_artifacts_options(
    tmp_path: Path, workspace: Path, cli: Callable[..., object]
) -> None:
    os.chdir(tmp_path)
    elsewhere = tmp_path / "store"
    result = cli(
        "run", "ig-test-001", "--root", str(workspace), "--artifacts", str(elsewhere), "--json"
    )
    assert result.code == 0, result.stderr  # type: ignore[attr-defined]
    assert json.loads(result.stdout)["run_dir"].startswith(str(elsewhere))  # type: ignore[attr-defined]


def test_show_finds_a_run_every_way(workspace: Path, cli: Callable[..., object]) -> None:
    document = run_json(cli)
    run_id = str(document["run_id"])
    for ref in (run_id, run_id[:6], "ig-test-001", str(document["run_dir"])):
        result = cli("show", ref, "--json")
        assert result.code == 0, (ref, result.stderr)  # type: ignore[attr-defined]
        shown = json.loads(result.stdout)  # type: ignore[attr-defined]
        assert shown["run_id"] == run_id and shown["job_id"] == "ig-test-001"
        assert shown["status"] == "succeeded" and shown["run_dir"] == document["run_dir"]
        assert len(shown["preview"]) == 3


def test_show_human_output(workspace: Path, cli: Callable[..., object]) -> None:
    run_id = str(run_json(cli)["run_id"])
    result = cli("show", run_id)
    assert result.code == 0
    out = result.stdout  # type: ignore[attr-defined]
    for expected in (
        run_id,
        "succeeded",
        "brief",
        "model_config",
        "outputs/captions.json",
        "Preview",
    ):
        assert expected in out
    assert "\x1b[" not in out  # plain when not a terminal


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("abc", "too short"),
        ("ffffffffff", "no run whose run_id starts"),
        ("nope-job", "no run or job"),
    ],
)
def test_show_bad_reference(
    workspace: Path, cli: Callable[..., object], ref: str, words: str
) -> None:
    run_json(cli)
    result = cli("show", ref)
    assert result.code == 2
    assert words in result.stderr  # type: ignore[attr-defined]


def test_show_latest_run_of_a_job(workspace: Path, cli: Callable[..., object]) -> None:
    first = run_json(cli)["run_id"]
    brief = workspace / "jobs/ig-test-001/brief.yaml"
    brief.write_text(brief.read_text().replace("count: 3", "count: 2"))
    second = run_json(cli)["run_id"]
    assert first != second
    shown = json.loads(cli("show", "ig-test-001", "--json").stdout)  # type: ignore[attr-defined]
    assert shown["run_id"] == second


def test_schema_command(cli: Callable[..., object]) -> None:
    for name, key in (("brief", "job_id"), ("manifest", "input_snapshots")):
        result = cli("schema", name)
        assert result.code == 0
        assert key in json.loads(result.stdout)["properties"]  # type: ignore[attr-defined]
    assert cli("schema", "other").code == 2


def test_stale_build_dirs_are_cleaned(workspace: Path, cli: Callable[..., object]) -> None:
    run_id = str(run_json(cli)["run_id"])
    stale = workspace / "artifacts/ig-test-001" / f".tmp-{run_id}-999999-deadbeef"
    (stale / "inputs").mkdir(parents=True)
    run_json(cli, "--force")
    assert not stale.exists()


def test_python_dash_m_and_version(workspace: Path) -> None:
    result = run_subprocess("--version", cwd=workspace)
    assert result.code == 0 and result.stdout.startswith("sigilctl ")
    result = run_subprocess("run", "ig-test-001", "--json", cwd=workspace)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"


def test_concurrent_runs_execute_once(workspace: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SIGILCTL_", "LANGFUSE_", "OPENAI_"))
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sigilctl", "run", "ig-test-001", "--json"],
            cwd=workspace,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert len({r["run_id"] for r in results}) == 1
    assert sorted(r["cached"] for r in results) == [False, True, True, True]
