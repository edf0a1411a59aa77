"""``sigilctl pipelines`` and ``schema``, and the second built-in job type end to end:
run, cache hit, verify, show, and its trace (own step and generation names) to the receiver."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from sigilctl.smoke.receiver import OtlpReceiver
from tests.helpers import make_run

EMAIL = "email-test-001"


def test_pipelines_lists_the_builtin_types_with_their_params(cli: Any) -> None:
    result = cli("pipelines", "--json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is True
    by_name = {p["name"]: p for p in document["pipelines"]}
    assert set(by_name) >= {"instagram_copy", "email_campaign"}
    ig = by_name["instagram_copy"]
    assert (ig["version"], ig["package"], ig["builtin"], ig["error"]) == (
        "1.0.0",
        "sigilctl",
        True,
        None,
    )
    assert ig["outputs"] == ["captions.json"]
    assert ig["generation_name"] == "caption_generation"
    assert ig["params_schema"]["properties"]["count"]["minimum"] == 1
    assert by_name["email_campaign"]["outputs"] == ["email.json", "email.md"]

    table = cli("pipelines")
    assert table.code == 0 and table.stderr == ""
    assert re.search(r"^email_campaign +1\.0\.0 ", table.stdout, flags=re.MULTILINE)
    assert "topic, audience=our subscribers, subject_lines=3, sections=3" in table.stdout


def test_schema_accepts_json(cli: Any) -> None:
    result = cli("schema", "brief", "--json")
    assert result.code == 0, result.stderr
    assert "instagram_copy.params" in json.loads(result.stdout)["$defs"]


def test_the_email_job_runs_verifies_and_shows(cli: Any, workspace: Path) -> None:
    run_dir = make_run(cli, workspace, EMAIL)
    again = json.loads(cli("run", EMAIL, "--json").stdout)
    assert again["cached"] is True and again["run_id"] == run_dir.name
    assert cli("verify", str(run_dir)).code == 0
    shown = json.loads(cli("show", EMAIL, "--json").stdout)
    assert shown["job_type"] == "email_campaign"
    assert shown["pipeline_version"] == "1.0.0"
    assert [a["path"] for a in shown["artifacts"]] == ["outputs/email.json", "outputs/email.md"]
    assert shown["preview"][0].startswith("Subject: ")
    draft = json.loads((run_dir / "outputs/email.json").read_text())
    assert len(draft["subject_lines"]) == 3 and len(draft["sections"]) == 3


def test_a_bad_email_param_is_one_sentence_and_exit_2(cli: Any, workspace: Path) -> None:
    brief = workspace / "jobs" / EMAIL / "brief.yaml"
    brief.write_text(brief.read_text().replace("sections: 3", "sections: 0"))
    result = cli("run", EMAIL)
    assert result.code == 2
    assert "field 'params.sections': input should be greater than or equal to 1" in result.stderr
    assert not (workspace / "artifacts" / EMAIL).exists()


def test_the_email_job_is_traced_with_its_own_names(
    cli: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", f"pk-lf-{uuid.uuid4().hex}")
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-email-test")
        monkeypatch.setenv("LANGFUSE_BASE_URL", receiver.base_url)
        result = cli("run", EMAIL, "--json")
        assert result.code == 0, result.stderr
        out = json.loads(result.stdout)
        spans = {s.name: s for s in receiver.wait_for_spans(13)}
    root = spans["job:email_campaign"]
    assert root.parent_span_id not in {s.span_id for s in spans.values()}
    assert spans["generate_email"].parent_span_id == root.span_id
    generation = spans["email_generation"]
    assert generation.parent_span_id == spans["generate_email"].span_id
    assert generation.attributes["langfuse.observation.type"] == "generation"
    assert "generate_captions" not in spans and "caption_generation" not in spans
    for span in spans.values():
        assert span.attributes["langfuse.trace.metadata.run_id"] == out["run_id"]
        assert span.attributes["langfuse.trace.metadata.job_type"] == "email_campaign"


def test_the_email_job_through_the_openai_provider_uses_a_strict_schema(
    cli: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.openai_server import Reply, completion, serve

    draft = {
        "subject_lines": ["One", "Two", "Three"],
        "preview_text": "A preview.",
        "sections": [{"heading": f"H{i}", "body": f"Body {i}."} for i in range(3)],
        "call_to_action": "Run sigilctl verify on your own runs",
    }
    with serve() as server:
        server.default = Reply(body=completion(json.dumps(draft)))
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "e1" * 20)
        result = cli("run", "--provider", "openai", EMAIL, "--json")
        assert result.code == 0, result.stderr
        sent = server.requests[0].body
        run_dir = Path(json.loads(result.stdout)["run_dir"])
        assert json.loads((run_dir / "outputs/email.json").read_text()) == draft
        server.default = Reply(body=completion(json.dumps({**draft, "sections": []})))
        failed = cli("run", "--provider", "openai", EMAIL, "--force", "--json")
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "email_campaign"
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["subject_lines", "preview_text", "sections", "call_to_action"]
    assert "maxLength" not in json.dumps(schema)  # strict mode does not accept it
    assert sent["messages"][1]["content"].startswith("Write one marketing email for the brand")
    assert 'which must be "Run sigilctl verify on your own runs"' in sent["messages"][1]["content"]
    assert failed.code == 1
    assert json.loads(failed.stdout)["error"] == "the reply has 0 sections, the brief asks for 3"
