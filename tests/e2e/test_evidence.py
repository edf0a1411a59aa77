"""Evidence is never destroyed, and a job has one identity from anywhere (SPEC §2, §8).

Each test reproduces one observation of the evidence review through the real CLI in a child
process, against the OpenAI-compatible test server where a model is involved: a forced run
that fails, a damaged run, repeated executions, a rejected paid reply, the folder a job is run
from, and a run folder deleted by hand.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Result, run_subprocess
from tests.openai_server import FakeOpenAI, Reply, captions, completion, serve

JOB = "ig-launch-openai"
KEY = "sk-test-" + "7c" * 20


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with serve() as fake:
        yield fake


def openai_env(url: str, **extra: str) -> dict[str, str]:
    values = {
        "OPENAI_BASE_URL": url,
        "OPENAI_API_KEY": KEY,
        "SIGILCTL_OPENAI_TIMEOUT": "2",
        "SIGILCTL_OPENAI_MAX_RETRIES": "0",
    }
    values.update(extra)
    return values


def sigilctl(workspace: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return run_subprocess(*args, cwd=workspace, env=env)


def run_json(workspace: Path, env: dict[str, str], *args: str) -> tuple[Result, dict[str, Any]]:
    result = sigilctl(workspace, "run", JOB, "--json", *args, env=env)
    return result, (json.loads(result.stdout) if result.stdout else {})


def manifest(run_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((run_dir / "manifest.json").read_text())
    return document


def history(workspace: Path, run_id: str) -> list[Path]:
    folder = workspace / "artifacts" / JOB / ".history" / run_id
    return sorted(folder.iterdir()) if folder.is_dir() else []


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


FAILURES = {
    "connection refused": None,
    "400": Reply(status=400, body={"error": {"message": "bad request"}}),
    "401": Reply(status=401, body={"error": {"message": "no such key"}}),
    "404": Reply(status=404, body={"error": {"message": "no such model"}}),
    "500": Reply(status=500, body={"error": {"message": "boom"}}),
    "garbage": Reply(body="<html>bad gateway</html>"),
    "timeout": Reply(body=completion(captions(4)), delay=30),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_force_against_a_failing_server_keeps_the_succeeded_run(
    workspace: Path, server: FakeOpenAI, failure: str
) -> None:
    """Observation 1: the failed execution goes to history; the succeeded run stays current."""
    good, first = run_json(workspace, openai_env(server.url))
    assert good.code == 0, good.stderr
    run_dir = Path(first["run_dir"])
    captions_before = (run_dir / "outputs/captions.json").read_bytes()
    reply = FAILURES[failure]
    url = closed_port_url() if reply is None else server.url
    if reply is not None:
        server.default = reply
    env = openai_env(url, SIGILCTL_OPENAI_TIMEOUT="0.5")
    forced, out = run_json(workspace, env, "--force")
    assert forced.code == 1, forced.stderr
    assert out["status"] == "failed" and out["cached"] is False and out["current"] is False
    assert out["run_id"] == first["run_id"]
    assert f"run {first['run_id']} failed: " in forced.stderr  # the error, one sentence
    assert (run_dir / "outputs/captions.json").read_bytes() == captions_before
    assert manifest(run_dir)["execution_id"] == first["execution_id"]
    (kept,) = history(workspace, first["run_id"])
    assert Path(out["run_dir"]) == kept
    assert manifest(kept)["status"] == "failed" and manifest(kept)["error"] == out["error"]
    checked = sigilctl(workspace, "verify", "--all", "--json")
    assert checked.code == 0, checked.stdout
    assert [r["history"] for r in json.loads(checked.stdout)["runs"]] == [False, True]
    again, cached = run_json(workspace, env)
    assert again.code == 0 and cached["cached"] is True  # the success is still the answer


def damage_caption(run_dir: Path) -> None:
    path = run_dir / "outputs/captions.json"
    path.write_text(path.read_text().replace("Caption 0", "Caption O"))  # same size


def damage_manifest(run_dir: Path) -> None:
    (run_dir / "manifest.json").write_text("garbage, not JSON")


@pytest.mark.parametrize(
    ("damage", "kind"),
    [(damage_caption, "artifact_hash_mismatch"), (damage_manifest, "manifest_unreadable")],
    ids=["hand-edited caption", "garbage manifest"],
)
def test_a_damaged_run_is_never_re_executed_silently(
    workspace: Path, server: FakeOpenAI, damage: Any, kind: str
) -> None:
    """Observation 2: exit 1 naming the run and its problems, no paid call; --force keeps the
    damaged copy in history."""
    env = openai_env(server.url)
    _, first = run_json(workspace, env)
    run_dir = Path(first["run_dir"])
    damage(run_dir)
    damaged = {p.relative_to(run_dir): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    refused = sigilctl(workspace, "run", JOB, env=env)
    assert refused.code == 1
    assert refused.stdout == ""
    assert first["run_id"] in refused.stderr and kind in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert len(server.requests) == 1  # no second paid call
    now = {p.relative_to(run_dir): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert now == damaged
    forced, out = run_json(workspace, env, "--force")
    assert forced.code == 0 and out["status"] == "succeeded" and out["current"] is True
    assert len(server.requests) == 2
    (kept,) = history(workspace, first["run_id"])
    assert {p.relative_to(kept): p.read_bytes() for p in kept.rglob("*") if p.is_file()} == damaged
    checked = json.loads(sigilctl(workspace, "verify", "--all", "--json").stdout)
    verdicts = {(r["history"], r["ok"]) for r in checked["runs"]}
    assert verdicts == {(False, True), (True, False)}  # the damaged copy is still evidence


def test_every_execution_is_kept_and_listed(workspace: Path, server: FakeOpenAI) -> None:
    """Observation 3: how many times did this job fail, and why? ``show --history`` says."""
    env = openai_env(server.url)
    server.push(
        Reply(status=500, body={"error": {"message": "boom"}}),
        Reply(body=completion(captions(3))),
    )
    statuses = []
    for args in ((), (), (), ("--force",)):
        result, out = run_json(workspace, env, *args)
        statuses.append((result.code, out["status"], out["cached"]))
    assert statuses == [
        (1, "failed", False),
        (1, "failed", False),  # a failed run is retried
        (0, "succeeded", False),
        (0, "succeeded", False),  # --force re-executes
    ]
    shown = sigilctl(workspace, "show", JOB, "--history", "--json")
    assert shown.code == 0, shown.stderr
    executions = json.loads(shown.stdout)["executions"]
    assert [e["status"] for e in executions] == ["failed", "failed", "succeeded", "succeeded"]
    assert [e["current"] for e in executions] == [False, False, False, True]
    assert "kept failing (HTTP 500)" in executions[0]["error"]
    assert "the reply has 3 captions, the brief asks for 4" in executions[1]["error"]
    ids = [e["execution_id"] for e in executions]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert all(e["provider"] == "openai" and e["model"] for e in executions)
    human = sigilctl(workspace, "show", JOB, "--history")
    assert human.code == 0 and all(i in human.stdout for i in ids)
    assert "HTTP 500" in human.stdout


def test_a_rejected_paid_reply_is_kept(workspace: Path, server: FakeOpenAI) -> None:
    """Observation 4: the reply the pipeline refused is an output of the failed run, with the
    key scrubbed, and the run still verifies."""
    body = completion(captions(3, marker=f"echoed {KEY}"))
    server.default = Reply(body=body)
    result, out = run_json(workspace, openai_env(server.url))
    assert result.code == 1 and out["error"] == "the reply has 3 captions, the brief asks for 4"
    run_dir = Path(out["run_dir"])
    (entry,) = manifest(run_dir)["artifacts"]
    assert entry["path"] == "outputs/raw_response.json"
    kept = (run_dir / entry["path"]).read_text()
    assert KEY not in kept
    assert json.loads(kept) == json.loads(json.dumps(body).replace(KEY, "***"))
    assert manifest(run_dir)["usage"]["total_tokens"] == 444
    assert sigilctl(workspace, "verify", str(run_dir)).code == 0


def test_one_identity_from_anywhere(workspace: Path, tmp_path: Path) -> None:
    """Observation 5: from the root, the job folder, jobs/ and an unrelated folder: one run_id
    and one artifacts tree; outside any workspace, a clear error."""
    job = "ig-test-001"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    job_dir = workspace / "jobs" / job
    places = [
        (workspace, job),
        (job_dir, "."),
        (workspace / "jobs", job),
        (workspace / "jobs", f"{job}/brief.yaml"),
        (elsewhere, str(job_dir)),
        (elsewhere, "../ws/jobs/" + job),
    ]
    run_ids = set()
    for cwd, ref in places:
        result = run_subprocess("run", ref, "--json", cwd=cwd)
        assert result.code == 0, (cwd, ref, result.stderr)
        document = json.loads(result.stdout)
        run_ids.add(document["run_id"])
        assert Path(document["run_dir"]).parent == workspace / "artifacts" / job
    assert len(run_ids) == 1
    jobs_written = [p for p in (workspace / "artifacts").iterdir() if not p.name.startswith(".")]
    assert jobs_written == [workspace / "artifacts" / job]  # (.sigilctl/ holds the cache log)
    assert list(elsewhere.iterdir()) == []  # no second artifacts tree
    assert not (job_dir / "artifacts").exists() and not (workspace / "jobs/artifacts").exists()
    for ref in (job, "."):
        outside = run_subprocess("run", ref, cwd=elsewhere)
        assert outside.code == 2, outside.stderr
        assert outside.stderr.count("\n") == 1 and "--root" in outside.stderr
        assert "not inside a workspace" in outside.stderr
    rooted = run_subprocess("run", job, "--root", str(workspace), "--json", cwd=elsewhere)
    assert json.loads(rooted.stdout)["run_id"] in run_ids


def test_sigilctl_toml_sets_workspace_defaults(workspace: Path) -> None:
    (workspace / "sigilctl.toml").write_text('artifacts = "out/runs"\nindex = "out/index.db"\n')
    result = run_subprocess("run", ".", "--json", cwd=workspace / "jobs/ig-test-001")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["run_dir"].startswith(str(workspace / "out/runs/"))
    assert run_subprocess("runs", "--json", cwd=workspace / "jobs").code == 0
    assert (workspace / "out/index.db").is_file()
    env = {"SIGILCTL_ARTIFACTS": str(workspace / "from-env")}  # env beats the file
    moved = run_subprocess("run", "ig-test-001", "--json", cwd=workspace, env=env)
    assert json.loads(moved.stdout)["run_dir"].startswith(str(workspace / "from-env/"))
    (workspace / "sigilctl.toml").write_text('artifact = "typo"\n')
    bad = run_subprocess("run", "ig-test-001", cwd=workspace)
    assert bad.code == 2 and "sigilctl.toml: unknown key 'artifact'" in bad.stderr


def test_runs_does_not_list_a_run_deleted_by_hand(workspace: Path) -> None:
    """Observation 6: ``runs`` and ``show`` agree that a deleted run folder is gone."""
    first = json.loads(run_subprocess("run", "ig-test-001", "--json", cwd=workspace).stdout)
    assert run_subprocess("runs", "--json", cwd=workspace).code == 0  # builds the index
    shutil.rmtree(first["run_dir"])
    assert run_subprocess("show", first["run_id"], cwd=workspace).code == 2
    listed = json.loads(run_subprocess("runs", "--json", cwd=workspace).stdout)
    assert first["run_id"] not in {row["run_id"] for row in listed}


def test_gc_deletes_history_only_and_only_what_its_flags_name(workspace: Path, cli: Any) -> None:
    for args in ((), ("--force",), ("--force",)):
        assert cli("run", "ig-test-001", *args).code == 0
    refused = cli("gc")
    assert refused.code == 2 and "--keep N and/or --older-than DAYS" in refused.stderr
    dry = cli("gc", "--keep", "1", "--dry-run", "--json")
    assert dry.code == 0
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True and planned["deleted_count"] == 1 and planned["kept"] == 1
    before = json.loads(cli("show", "ig-test-001", "--history", "--json").stdout)["executions"]
    assert len(before) == 3
    assert json.loads(cli("gc", "--older-than", "1", "--json").stdout)["deleted_count"] == 0
    done = cli("gc", "--keep", "0")
    assert done.code == 0 and "deleted 2 history execution(s)" in done.stdout
    after = json.loads(cli("show", "ig-test-001", "--history", "--json").stdout)["executions"]
    assert after == [before[-1]] and after[0]["current"] is True  # never the current run
    assert cli("verify", "--all").code == 0
