"""``sigilctl replay``: a run rebuilt from its own snapshots alone gives the same prompt and
(offline) the same bytes; a tampered snapshot or a pipeline that reads beyond its snapshots
fails loudly."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from sigilctl import pipelines, shared_reads
from sigilctl.pipelines.base import Pipeline
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.pipelines.instagram_copy import InstagramCopy
from sigilctl.providers.base import GenerationRequest
from tests.helpers import make_run
from tests.openai_server import FakeOpenAI, serve

KEY = "sk-test-" + "7a" * 20


def replay_json(cli: Any, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("replay", *args, "--json")
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)


def offline_run(cli: Any, workspace: Path, job: str) -> Path:
    result = cli("run", job, "--provider", "offline", "--json")
    assert result.code == 0, result.stderr
    return workspace / "artifacts" / job / json.loads(result.stdout)["run_id"]


@pytest.mark.parametrize("job", ["ig-test-001", "ig-launch-openai"])
def test_offline_runs_of_the_example_jobs_replay_byte_identical(
    cli: Any, workspace: Path, job: str
) -> None:
    run = offline_run(cli, workspace, job)
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(manifest["prompt_sha256"]) == 64
    code, document = replay_json(cli, str(run))
    assert code == 0, document
    assert document["identical"] is True
    assert document["run_id"] == document["replay_run_id"] == run.name
    assert document["prompt_identical"] is True
    assert document["outputs"] == {"outputs/captions.json": "same"}
    assert document["problems"] == [] and document["error"] is None


def test_replay_needs_no_jobs_folder_and_writes_nothing_in_the_run(
    cli: Any, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(cli, workspace)
    copy = tmp_path / "elsewhere" / "ig-test-001" / run.name
    shutil.copytree(run, copy)
    shutil.rmtree(workspace / "jobs")
    before = sorted((p.relative_to(copy), p.read_bytes()) for p in copy.rglob("*") if p.is_file())
    monkeypatch.chdir(tmp_path)
    code, document = replay_json(cli, str(copy))
    assert code == 0 and document["identical"] is True
    after = sorted((p.relative_to(copy), p.read_bytes()) for p in copy.rglob("*") if p.is_file())
    assert after == before


def test_keep_leaves_the_replayed_run_for_inspection(
    cli: Any, workspace: Path, tmp_path: Path
) -> None:
    run = make_run(cli, workspace)
    kept = tmp_path / "replayed"
    code, document = replay_json(cli, run.name, "--keep", str(kept))
    assert code == 0 and document["kept"] == str(kept.resolve())
    assert (kept / "outputs/captions.json").read_bytes() == (
        run / "outputs/captions.json"
    ).read_bytes()
    assert (kept / "inputs/context.resolved.json").read_bytes() == (
        run / "inputs/context.resolved.json"
    ).read_bytes()
    manifest = json.loads((run / "manifest.json").read_text())
    prompt = (kept / "prompt.json").read_bytes()
    assert hashlib.sha256(prompt).hexdigest() == manifest["prompt_sha256"]
    assert "proving exactly what produced every caption" in json.loads(prompt)["prompt"]


def test_a_tampered_context_snapshot_is_reported_and_verify_flags_it(
    cli: Any, workspace: Path
) -> None:
    run = make_run(cli, workspace)
    path = run / "inputs/context.resolved.json"
    path.write_bytes(path.read_bytes().replace(b"provenance", b"PROVENANCE", 1))
    code, document = replay_json(cli, run.name)
    assert code == 1 and document["identical"] is False
    assert document["replay_run_id"] != run.name
    assert any("context.resolved.json" in problem for problem in document["problems"])
    human = cli("replay", run.name)
    assert human.code == 1 and "NOT identical" in human.stdout
    verify = cli("verify", str(run), "--json")
    assert verify.code == 1
    kinds = {p["kind"] for p in json.loads(verify.stdout)["runs"][0]["problems"]}
    assert "snapshot_hash_mismatch" in kinds


class LeakyCopy(InstagramCopy):
    """A pipeline that reads a file no snapshot holds (what replay exists to catch)."""

    leak = Path("jobs/_brands/sigilzero/secret-sauce.txt")

    def build_request(self, inputs: PipelineInputs) -> GenerationRequest:
        extra = self.leak.resolve().read_text()
        request = super().build_request(inputs)
        return GenerationRequest(**{**request.__dict__, "prompt": request.prompt + extra})


@pytest.fixture
def leaky(monkeypatch: pytest.MonkeyPatch) -> None:
    def get(job_type: str, *, source: str = "brief") -> Pipeline:
        return LeakyCopy()

    monkeypatch.setattr(pipelines, "get_pipeline", get)
    monkeypatch.setattr(shared_reads, "get_pipeline", get)  # what resolve_job loads through


def test_a_pipeline_that_reads_beyond_its_snapshots_fails_replay(
    cli: Any, workspace: Path, leaky: None
) -> None:
    (workspace / LeakyCopy.leak).write_text("Always mention the secret sauce.\n")
    run = make_run(cli, workspace)
    # The leaked file is still there and unchanged: a naive replay would say "identical".
    code, document = replay_json(cli, run.name)
    assert code == 1 and document["identical"] is False
    assert "secret-sauce.txt" in document["error"]
    assert "beyond the run's snapshots" in document["error"]
    human = cli("replay", run.name)
    assert human.code == 1 and "secret-sauce.txt" in human.stdout


def test_a_pipeline_whose_reply_schema_changed_since_the_run_is_refused(
    cli: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Templates come from the snapshot, but the installed code parses the reply: a changed
    reply schema under the same version cannot rebuild the run faithfully."""
    run = make_run(cli, workspace)

    class Newer(InstagramCopy):
        def snapshot(self) -> dict[str, Any]:
            return {**super().snapshot(), "output_schema": {"type": "object"}}

    monkeypatch.setattr(pipelines, "get_pipeline", lambda job_type, source="": Newer())
    result = cli("replay", run.name)
    assert result.code == 1
    assert "differs from the run's pipeline snapshot in: output_schema" in result.stderr


def test_a_changed_installed_template_does_not_change_the_replayed_prompt(
    cli: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request is built from the run's own template text, never the installed file."""
    run = make_run(cli, workspace)
    monkeypatch.setattr(InstagramCopy, "prompt_template", "Something else entirely: $topic")
    code, document = replay_json(cli, run.name)
    assert code == 0, document
    assert document["prompt_identical"] is True


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with serve() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("SIGILCTL_OPENAI_MAX_RETRIES", "0")
        yield fake


def test_a_model_run_is_resent_and_each_output_reported(
    cli: Any, workspace: Path, server: FakeOpenAI
) -> None:
    run = make_run(cli, workspace, "ig-launch-openai")
    code, document = replay_json(cli, run.name)  # the server answers the same again
    assert code == 0 and document["outputs"] == {"outputs/captions.json": "same"}
    sent = [r.body["messages"] for r in server.requests]
    assert sent[0] == sent[1]  # the very same prompt went out again
    from tests.openai_server import Reply, captions, completion

    server.push(Reply(body=completion(captions(4, marker="another-day"))))
    code, document = replay_json(cli, run.name)
    assert code == 1 and document["prompt_identical"] is True
    assert document["outputs"] == {"outputs/captions.json": "changed"}


def test_provider_offline_replays_a_model_runs_prompt_only(
    cli: Any, workspace: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(cli, workspace, "ig-launch-openai")
    calls = len(server.requests)
    monkeypatch.delenv("OPENAI_API_KEY")
    code, document = replay_json(cli, run.name, "--provider", "offline")
    assert code == 0, document
    assert document["prompt_only"] is True and document["prompt_identical"] is True
    assert document["outputs"] == {}
    assert len(server.requests) == calls  # no model call
    assert cli("replay", run.name).code == 2  # a model replay needs the key: one sentence


def test_params_model_is_rebuilt_from_the_brief_snapshot(cli: Any, workspace: Path) -> None:
    from sigilctl.audit.loaded import load_run
    from sigilctl.audit.request import build_run_request
    from sigilctl.identity import compute_identity

    run = make_run(cli, workspace)
    loaded = load_run(run)
    built = build_run_request(compute_identity(loaded.snapshots).snapshots)
    assert isinstance(built.params, BaseModel)
    assert built.params.model_dump() == loaded.snapshots["brief"]["params"]
    assert built.request.seed_material == loaded.manifest.inputs_hash
