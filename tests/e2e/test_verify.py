"""``sigilctl verify``: clean runs, foreign manifests, --all, --source, exit codes, lean imports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785

from sigilctl.verify import verify_run
from tests.helpers import Result, make_run, run_python

Cli = Callable[..., Result]


def hand_made_run(
    artifacts: Path, *, status: str = "succeeded", extra: dict[str, Any] | None = None
) -> Path:
    """A run written from SPEC §4/§6 alone: hashlib and the rfc8785 package, not our code."""
    snapshots: dict[str, dict[str, Any]] = {
        "brief": {"job_id": "hand-1", "params": {"topic": "zürich ☕", "count": 2}},
        "doctrine": {"id": "voice", "version": "2", "text": "Be plain.\n"},
        "context": {"documents": [], "query": None, "top_k": 0},
        "model_config": {"provider": "offline", "temperature": 1.0, "seed": 7, "top_p": 0.95},
        "pipeline": {"job_type": "instagram_copy", "version": "9.9.9", "template": "{topic}"},
    }
    data = {name: rfc8785.dumps(value) for name, value in snapshots.items()}
    hashes = {name: hashlib.sha256(blob).hexdigest() for name, blob in data.items()}
    inputs_hash = hashlib.sha256(rfc8785.dumps(hashes)).hexdigest()
    run_id = hashlib.sha256(f"sigilzero/run_id/v1:{inputs_hash}".encode()).hexdigest()[:32]
    run_dir = artifacts / "hand-1" / run_id
    (run_dir / "inputs").mkdir(parents=True)
    (run_dir / "outputs" / "nested").mkdir(parents=True)
    for name, blob in data.items():
        (run_dir / "inputs" / f"{name}.resolved.json").write_bytes(blob)
    output = b"caption one\ncaption two\n"
    (run_dir / "outputs" / "nested" / "captions.txt").write_bytes(output)
    manifest = {
        "schema_version": "1.1.0",
        "job_id": "hand-1",
        "run_id": run_id,
        "inputs_hash": inputs_hash,
        "status": status,
        "input_snapshots": {
            name: {"path": f"inputs/{name}.resolved.json", "sha256": hashes[name], "bytes": len(b)}
            for name, b in data.items()
        },
        "artifacts": [
            {
                "path": "outputs/nested/captions.txt",
                "sha256": hashlib.sha256(output).hexdigest(),
                "bytes": len(output),
            }
        ],
        "langfuse_trace_id": "0af7651916cd43dd8448eb211c80319c",
        "a_field_from_the_future": {"anything": [1, 2]},
        **(extra or {}),
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    return run_dir


def test_clean_run_verifies(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    result = cli("verify", str(run_dir), "--json")
    assert result.code == 0, result.stdout
    document = json.loads(result.stdout)
    assert set(document) == {"ok", "runs"} and document["ok"] is True
    [run] = document["runs"]
    assert run["run_id"] == run_dir.name and run["status"] == "succeeded"
    assert run["problems"] == [] and run["ok"] is True
    assert run["run_dir"] == str(run_dir)


def test_clean_run_human_output(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    result = cli("verify", str(run_dir))
    assert result.code == 0
    assert "✗" not in result.stdout and "✓" in result.stdout
    assert "status: succeeded" in result.stdout
    assert "1 run(s) verified: 1 ok, 0 not ok" in result.stdout
    assert "\x1b[" not in result.stdout


def test_hand_written_manifest_verifies_clean(cli: Cli, tmp_path: Path) -> None:
    run_dir = hand_made_run(tmp_path / "artifacts")
    report = verify_run(run_dir)
    assert report.problems == [] and report.ok
    result = cli("verify", str(run_dir), "--json")
    assert result.code == 0, result.stdout


def test_failed_but_consistent_run_is_clean_with_status_shown(cli: Cli, tmp_path: Path) -> None:
    run_dir = hand_made_run(tmp_path / "artifacts", status="failed", extra={"error": "LLM 503"})
    result = cli("verify", str(run_dir), "--json")
    assert result.code == 0
    run = json.loads(result.stdout)["runs"][0]
    assert run["status"] == "failed" and run["ok"] is True
    human = cli("verify", str(run_dir))
    assert human.code == 0 and "status: failed" in human.stdout


def test_old_manifest_without_artifacts_list_reads(cli: Cli, tmp_path: Path) -> None:
    run_dir = hand_made_run(tmp_path / "artifacts")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    del manifest["artifacts"], manifest["schema_version"], manifest["langfuse_trace_id"]
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    (run_dir / "outputs/nested/captions.txt").unlink()
    assert verify_run(run_dir).problems == []


def test_all_verifies_every_run_and_skips_hidden_dirs(cli: Cli, workspace: Path) -> None:
    make_run(cli, workspace)
    hand_made_run(workspace / "artifacts")
    crashed = workspace / "artifacts" / "ig-test-001" / ".tmp-deadbeef-1-abcd"
    (crashed / "inputs").mkdir(parents=True)
    (crashed / "inputs" / "brief.resolved.json").write_text("half written")
    result = cli("verify", "--all", "--json")
    assert result.code == 0, result.stdout
    runs = json.loads(result.stdout)["runs"]
    assert sorted(r["job_id"] for r in runs) == ["hand-1", "ig-test-001"]
    only = json.loads(cli("verify", "--all", "--job", "hand-1", "--json").stdout)["runs"]
    assert [r["job_id"] for r in only] == ["hand-1"]


def test_all_reports_a_bad_run_among_good_ones(cli: Cli, workspace: Path) -> None:
    make_run(cli, workspace)
    bad = hand_made_run(workspace / "artifacts")
    (bad / "outputs" / "stray.bin").write_bytes(b"\x00")
    result = cli("verify", "--all")
    assert result.code == 1
    assert "unlisted_file" in result.stdout and "1 ok, 1 not ok" in result.stdout


def test_usage_errors_exit_2(cli: Cli, workspace: Path, tmp_path: Path) -> None:
    empty = cli("verify", "--all")
    assert empty.code == 2 and "nothing to verify" in empty.stderr
    assert cli("verify").code == 2
    not_run = tmp_path / "plain"
    not_run.mkdir()
    result = cli("verify", str(not_run))
    assert result.code == 2 and "not a run directory" in result.stderr
    assert cli("verify", str(tmp_path / "missing" / "run")).code == 2
    run_dir = make_run(cli, workspace)
    assert cli("verify", str(run_dir), "--all").code == 2
    assert cli("verify", str(run_dir), "--job", "ig-test-001").code == 2
    assert cli("verify", "--all", "--job", "no-such-job").code == 2


def test_run_id_and_job_id_arguments(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    for ref in (run_dir.name, run_dir.name[:8], "ig-test-001"):
        result = cli("verify", ref, "--json")
        assert result.code == 0, result.stderr
        assert json.loads(result.stdout)["runs"][0]["run_dir"] == str(run_dir)


def test_missing_manifest_in_a_run_folder_is_a_problem(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    (run_dir / "manifest.json").unlink()
    result = cli("verify", str(run_dir), "--json")
    assert result.code == 1
    assert json.loads(result.stdout)["runs"][0]["problems"][0]["kind"] == "manifest_missing"


def _source(cli: Cli, run_dir: Path) -> tuple[int, dict[str, Any]]:
    result = cli("verify", str(run_dir), "--source", "--json")
    source: dict[str, Any] = json.loads(result.stdout)["runs"][0]["source"]
    return result.code, source


def test_source_current_when_nothing_changed(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    code, source = _source(cli, run_dir)
    assert code == 0
    assert source["state"] == "current" and source["changed"] == []
    assert source["current_run_id"] == run_dir.name


def test_source_stale_after_brief_edit(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    brief = workspace / "jobs" / "ig-test-001" / "brief.yaml"
    brief.write_text(brief.read_text().replace("count: 3", "count: 2"))
    code, source = _source(cli, run_dir)
    assert code == 1
    assert source["state"] == "stale" and source["changed"] == ["brief"]
    assert "brief" in source["message"]
    human = cli("verify", str(run_dir), "--source")
    assert human.code == 1 and "source: stale" in human.stdout


def test_source_stale_after_context_edit(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    context = json.loads((run_dir / "inputs/context.resolved.json").read_bytes())
    top = workspace / context["documents"][0]["path"]
    top.write_text(top.read_text() + "\nOne more sentence about audits.\n")
    code, source = _source(cli, run_dir)
    assert code == 1
    assert source["state"] == "stale" and source["changed"] == ["context"]


def test_source_unresolvable_job(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    (workspace / "jobs" / "ig-test-001" / "brief.yaml").unlink()
    code, source = _source(cli, run_dir)
    assert code == 1 and source["state"] == "unresolvable"
    assert "brief.yaml" in source["message"]


def test_verify_never_imports_llm_or_tracing_sdks(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    probe = (
        "import sys\n"
        "from sigilctl.cli import run_cli\n"
        f"code = run_cli(['verify', {str(run_dir)!r}, '--source', '--json'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('openai', 'langfuse'))\n"
        "sys.stderr.write(f'EXIT={code} HEAVY={heavy}')\n"
    )
    proc = run_python("-c", probe, cwd=workspace)
    assert "EXIT=0 HEAVY=[]" in proc.stderr, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True


def test_all_in_worker_processes_matches_in_process(tmp_path: Path) -> None:
    """Enough runs to use the process pool: same reports, same order, problems kept."""
    from sigilctl.verify.batch import POOL_THRESHOLD, discover_runs, verify_many

    artifacts = tmp_path / "artifacts"
    for i in range(POOL_THRESHOLD + 2):
        hand_made_run(artifacts, extra={"note": i}).rename(artifacts / "hand-1" / f"r{i:03d}")
    runs = discover_runs(artifacts)
    pooled = verify_many(runs, workers=2)
    serial = verify_many(runs, workers=1)
    assert [r.run_dir for r in pooled] == runs
    assert [r.problems for r in pooled] == [r.problems for r in serial]
    assert all(r.problems[0].kind == "run_dir_name_mismatch" for r in pooled)
