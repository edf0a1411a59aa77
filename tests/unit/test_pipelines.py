"""Job types: registration by entry point, the base class's contract, the two built-in types.

The request a pipeline builds must come from the run's snapshots alone (so a run can be
replayed from its own inputs/); instagram_copy keeps the identity it had before the base class.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from sigilctl.canonical import canonical_bytes
from sigilctl.errors import InputError
from sigilctl.identity import compute_identity
from sigilctl.pipelines import OutputError, Pipeline, PipelineInputs, get_pipeline
from sigilctl.pipelines.email_campaign import EmailDraft
from sigilctl.pipelines.instagram_copy import InstagramCopy
from sigilctl.pipelines.registry import problems_of, registrations
from sigilctl.providers.base import ProviderError
from sigilctl.providers.offline import OfflineProvider, fill_schema
from sigilctl.resolve import resolve_job
from sigilctl.workspace import Workspace
from tests.helpers import make_run

# The identity of instagram_copy before it moved onto the base class: a change here changes the
# run_id of every existing instagram_copy run (bump the version on purpose, never by accident).
INSTAGRAM_SNAPSHOT_SHA256 = "89cef9389b24779bb907569f4ef8b76d127f899e54a01bde07c6711d1e5fe6ed"
IG_TEST_001_RUN_ID = "c3402d26f0347bf67414885240a96603"
BUILTIN = {"instagram_copy": "ig-test-001", "email_campaign": "email-test-001"}


def frozen_inputs(workspace: Path, job_id: str) -> tuple[Any, PipelineInputs]:
    ws = Workspace.locate(workspace)
    job = resolve_job(workspace / "jobs" / job_id / "brief.yaml", ws)
    return job, PipelineInputs.from_identity(compute_identity(job.snapshots))


# --- registration ---------------------------------------------------------------------------


def test_builtin_types_are_registered_as_entry_points_of_sigilctl() -> None:
    found = {r.name: r for r in registrations()}
    for name in BUILTIN:
        assert found[name].package == "sigilctl"
        assert found[name].builtin
        assert found[name].target.startswith(f"sigilctl.pipelines.{name}:")


def test_unknown_job_type_names_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown job_type 'nope' \(known: .*email_campaign"):
        get_pipeline("nope", source="brief.yaml")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str


class _Good(Pipeline[_Params, _Params]):
    name = "good_type"
    version = "1.0.0"
    params_model = _Params
    reply_model = _Params
    system_prompt = "s"
    prompt_template = "p $topic"
    outputs = ("out.json",)
    generation_name = "good_generation"


def _variant(**attrs: Any) -> type:
    return type("Variant", (_Good,), attrs)


@pytest.mark.parametrize(
    ("cls", "problem"),
    [
        (dict, "not a subclass of sigilctl.api.Pipeline"),
        (_variant(version="v1"), "version 'v1' is not a semantic version"),
        (_variant(version="1.0"), "version '1.0' is not a semantic version"),
        (_variant(name="other"), "its name is 'other', registered as 'good_type'"),
        (_variant(outputs=("../escape.json",)), "outputs is not a tuple of distinct plain"),
        (_variant(outputs=()), "outputs is not a tuple"),
        (_variant(params_model=dict), "params_model is not a pydantic model"),
        (_variant(generation_name="has space"), "generation_name 'has space' is not a valid"),
    ],
)
def test_a_bad_pipeline_class_is_named_with_its_problem(cls: type, problem: str) -> None:
    problems = problems_of(cls, "good_type")
    assert any(problem in p for p in problems), problems


def test_a_good_pipeline_class_has_no_problem() -> None:
    assert problems_of(_Good, "good_type") == []
    assert problems_of(_variant(version="2.1.0-rc.1+build.5"), "good_type") == []


# --- identity of the ported instagram_copy --------------------------------------------------


def test_instagram_copy_snapshot_and_example_run_id_are_unchanged(workspace: Path) -> None:
    snapshot = canonical_bytes(InstagramCopy().snapshot())
    assert hashlib.sha256(snapshot).hexdigest() == INSTAGRAM_SNAPSHOT_SHA256
    job, _ = frozen_inputs(workspace, "ig-test-001")
    assert compute_identity(job.snapshots).run_id == IG_TEST_001_RUN_ID


def test_a_version_bump_changes_the_run_id(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, _ = frozen_inputs(workspace, "ig-test-001")
    monkeypatch.setattr(InstagramCopy, "version", "1.0.1")
    bumped, _ = frozen_inputs(workspace, "ig-test-001")
    assert compute_identity(bumped.snapshots).run_id != compute_identity(job.snapshots).run_id


# --- the request comes from the snapshots alone ---------------------------------------------


@pytest.mark.parametrize("job_type", sorted(BUILTIN))
def test_the_request_is_built_from_the_snapshots_not_the_installed_template(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, job_type: str
) -> None:
    job, inputs = frozen_inputs(workspace, BUILTIN[job_type])
    before = job.pipeline.build_request(inputs)
    cls = type(job.pipeline)
    monkeypatch.setattr(cls, "prompt_template", "an edited template $topic")
    monkeypatch.setattr(cls, "system_prompt", "an edited system prompt")
    after = get_pipeline(job_type).build_request(inputs)
    assert (after.prompt, after.system) == (before.prompt, before.system)
    assert after.response_schema == inputs.pipeline["output_schema"]
    assert inputs.brief["params"]["topic"] in after.prompt
    assert "$" not in after.prompt.replace("$topic", "")  # every variable was filled in


@pytest.mark.parametrize("job_type", sorted(BUILTIN))
def test_a_run_replays_from_its_own_inputs_folder(cli: Any, workspace: Path, job_type: str) -> None:
    """Everything the runner did, redone from inputs/*.resolved.json alone: same bytes."""
    run_dir = make_run(cli, workspace, BUILTIN[job_type])
    snapshots = {
        p.name.removesuffix(".resolved.json"): p.read_bytes()
        for p in (run_dir / "inputs").iterdir()
    }
    inputs = PipelineInputs.from_snapshots(snapshots)
    assert inputs.inputs_hash == json.loads((run_dir / "manifest.json").read_text())["inputs_hash"]
    pipeline = get_pipeline(inputs.pipeline["job_type"])
    reply = pipeline.parse_reply(
        OfflineProvider().generate(pipeline.build_request(inputs)).text, inputs
    )
    files = pipeline.render_outputs(reply, pipeline.params_of(inputs))
    assert sorted(files) == sorted(p.name for p in (run_dir / "outputs").iterdir())
    for name, data in files.items():
        assert (run_dir / "outputs" / name).read_bytes() == data, name


# --- replies --------------------------------------------------------------------------------


def test_email_replies_must_match_the_counts_the_brief_asks_for(workspace: Path) -> None:
    job, inputs = frozen_inputs(workspace, "email-test-001")
    good = OfflineProvider().generate(job.pipeline.build_request(inputs)).text
    reply = EmailDraft.model_validate_json(good)
    assert len(reply.subject_lines) == 3 and len(set(reply.subject_lines)) == 3
    assert len(reply.sections) == 3
    assert reply.call_to_action == "Run sigilctl verify on your own runs"
    short = reply.model_copy(update={"sections": reply.sections[:1]})
    with pytest.raises(OutputError, match="1 sections, the brief asks for 3"):
        job.pipeline.parse_reply(short.model_dump_json(), inputs)
    same = reply.model_copy(update={"subject_lines": [reply.subject_lines[0]] * 3})
    with pytest.raises(OutputError, match="repeated subject lines"):
        job.pipeline.parse_reply(same.model_dump_json(), inputs)
    with pytest.raises(OutputError, match="not a valid email campaign"):
        job.pipeline.parse_reply('{"subject_lines": []}', inputs)


def test_the_email_outputs_are_the_declared_files(workspace: Path, tmp_path: Path) -> None:
    job, inputs = frozen_inputs(workspace, "email-test-001")
    reply = job.pipeline.parse_reply(
        OfflineProvider().generate(job.pipeline.build_request(inputs)).text, inputs
    )
    written = job.pipeline.write_outputs(reply, inputs, tmp_path / "outputs")
    assert [p.name for p in written] == ["email.json", "email.md"]
    markdown = (tmp_path / "outputs" / "email.md").read_text()
    assert markdown.startswith(f"Subject: {reply.subject_lines[0]}\n")
    assert f"## {reply.sections[0].heading}" in markdown


# --- the offline provider answers any reply schema ------------------------------------------


class _Nested(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    score: int
    tags: list[str]


class _AnyReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[_Nested]
    mood: str | None = None


def test_the_schema_filler_gives_a_valid_deterministic_reply() -> None:
    material = {
        "topic": "tests",
        "documents": [{"text": "A fact that is long enough to be kept here."}],
    }
    schema = EmailDraft.model_json_schema()
    first = fill_schema(schema, {**material, "counts": {"subject_lines": 4}}, "seed")
    assert first == fill_schema(schema, {**material, "counts": {"subject_lines": 4}}, "seed")
    draft = EmailDraft.model_validate(first)
    assert len(draft.subject_lines) == 4 and len(draft.sections) == 1
    assert all(len(s) <= 78 for s in draft.subject_lines)
    nested = _AnyReply.model_validate(fill_schema(_AnyReply.model_json_schema(), material, "s"))
    assert nested.items and nested.items[0].title


def test_a_composer_that_fails_is_a_provider_error_naming_it(workspace: Path) -> None:
    job, inputs = frozen_inputs(workspace, "ig-test-001")
    request = job.pipeline.build_request(inputs)

    def broken(_: Any) -> Any:
        raise ValueError("no material")

    with pytest.raises(ProviderError, match=r"offline composer .* failed: ValueError: no material"):
        OfflineProvider().generate(replace(request, offline_composer=broken))


def _property_orders(schema: Any, path: str = "") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if isinstance(schema, dict):
        if isinstance(schema.get("properties"), dict):
            found[path] = list(schema["properties"])
        for key, value in schema.items():
            found.update(_property_orders(value, f"{path}/{key}"))
    return found


@pytest.mark.parametrize("job_type", sorted(BUILTIN))
def test_the_reply_schema_sent_keeps_the_model_s_property_order(
    workspace: Path, job_type: str
) -> None:
    """The snapshot sorts keys (RFC 8785); models answer in property order, so it is restored."""
    job, inputs = frozen_inputs(workspace, BUILTIN[job_type])
    sent = job.pipeline.build_request(inputs).response_schema
    declared = job.pipeline.reply_model.model_json_schema()
    assert sent == declared
    assert _property_orders(sent) == _property_orders(declared)
    assert list(inputs.pipeline["output_schema"]["properties"]) == sorted(declared["properties"])
