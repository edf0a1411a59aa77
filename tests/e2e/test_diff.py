"""``sigilctl diff``: where two runs' inputs differ, as JSON Patch that really turns A into B."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonpatch
import orjson
import pytest

from tests.helpers import make_run

JOB = "ig-test-001"
DOCTRINE = Path("jobs/_brands/sigilzero/doctrine.md")
BRIEF = Path(f"jobs/{JOB}/brief.yaml")


def snapshot(run_dir: Path, name: str) -> Any:
    return orjson.loads((run_dir / "inputs" / f"{name}.resolved.json").read_bytes())


def diff_json(cli: Any, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("diff", *args, "--json")
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)


def assert_patches_apply(document: dict[str, Any], a: Path, b: Path) -> None:
    """Every changed snapshot's patch, applied with jsonpatch to A's snapshot, gives B's."""
    for name, entry in document["snapshots"].items():
        if entry["status"] == "changed":
            patched = jsonpatch.apply_patch(snapshot(a, name), entry["patch"])
            assert patched == snapshot(b, name), name


def test_identical_inputs_exit_0_and_every_snapshot_is_same(cli: Any, workspace: Path) -> None:
    run = make_run(cli, workspace, JOB)
    code, document = diff_json(cli, str(run), run.name)
    assert code == 0
    assert document["a"] == document["b"] == run.name
    assert document["same_inputs"] is True
    assert {e["status"] for e in document["snapshots"].values()} == {"same"}
    assert all(e["patch"] == [] for e in document["snapshots"].values())
    assert document["outputs"] == {"outputs/captions.json": "same"}
    assert set(document) == {"a", "b", "same_inputs", "snapshots", "outputs"}


def test_a_params_count_change_is_a_replace_at_params_count(cli: Any, workspace: Path) -> None:
    a = make_run(cli, workspace, JOB)
    BRIEF.write_text(BRIEF.read_text().replace("count: 3", "count: 5"))
    b = make_run(cli, workspace, JOB)
    code, document = diff_json(cli, a.name, b.name)
    assert code == 1 and document["same_inputs"] is False
    brief = document["snapshots"]["brief"]
    assert brief == {
        "status": "changed",
        "patch": [{"op": "replace", "path": "/params/count", "value": 5}],
    }
    assert document["snapshots"]["doctrine"]["status"] == "same"
    assert document["outputs"] == {"outputs/captions.json": "changed"}
    assert_patches_apply(document, a, b)


def test_a_doctrine_edit_is_patched_inside_the_doctrine_snapshot(cli: Any, workspace: Path) -> None:
    a = make_run(cli, workspace, JOB)
    DOCTRINE.write_text(DOCTRINE.read_text() + "- Never use exclamation marks.\n")
    b = make_run(cli, workspace, JOB)
    code, document = diff_json(cli, a.name, b.name)
    assert code == 1
    changed = {n for n, e in document["snapshots"].items() if e["status"] != "same"}
    assert changed == {"doctrine"}
    paths = {op["path"] for op in document["snapshots"]["doctrine"]["patch"]}
    assert {"/text", "/sha256", "/bytes"} <= paths
    assert_patches_apply(document, a, b)
    # The terminal view names the path and shows only the changed line of the long text.
    human = cli("diff", a.name, b.name)
    assert human.code == 1
    assert "doctrine: changed" in human.stdout
    assert "replace /text:" in human.stdout
    assert "+- Never use exclamation marks." in human.stdout
    assert "same: brief, context, model_config, pipeline" in human.stdout


def test_a_context_file_added_is_an_add_operation(cli: Any, workspace: Path) -> None:
    text = BRIEF.read_text()
    BRIEF.write_text(text.replace("  query: reproducible runs cache audit provenance\n", "")
                     .replace("  top_k: 3\n", ""))  # fmt: skip
    a = make_run(cli, workspace, JOB)
    extra = DOCTRINE.parent / "context" / "06-exports.md"
    extra.write_text("# Exports\n\nAn export holds the run, its history and its attestation.\n")
    b = make_run(cli, workspace, JOB)
    code, document = diff_json(cli, a.name, b.name)
    assert code == 1
    patch = document["snapshots"]["context"]["patch"]
    added = [op for op in patch if op["op"] == "add"]
    assert added and added[0]["path"] == "/documents/5"
    assert added[0]["value"]["path"] == "jobs/_brands/sigilzero/context/06-exports.md"
    assert_patches_apply(document, a, b)


def test_source_compares_a_run_with_its_job_now(cli: Any, workspace: Path) -> None:
    run = make_run(cli, workspace, JOB)
    code, document = diff_json(cli, run.name, "--source")
    assert code == 0 and document["same_inputs"] is True and document["b"] == run.name
    BRIEF.write_text(BRIEF.read_text().replace("count: 3", "count: 4"))
    code, document = diff_json(cli, run.name, "--source")
    assert code == 1
    assert document["snapshots"]["brief"]["patch"] == [
        {"op": "replace", "path": "/params/count", "value": 4}
    ]
    assert document["b"] != run.name and document["outputs"] == {}
    runs = [p for p in (workspace / "artifacts" / JOB).iterdir() if not p.name.startswith(".")]
    assert runs == [run]  # --source resolves only: nothing was run or written


def test_diff_of_an_offline_and_an_openai_config_names_model_config(
    cli: Any, workspace: Path
) -> None:
    a = make_run(cli, workspace, JOB)
    b = workspace / "artifacts" / "ig-launch-openai"
    result = cli("run", "ig-launch-openai", "--provider", "offline", "--json")
    assert result.code == 0
    b = b / json.loads(result.stdout)["run_id"]
    code, document = diff_json(cli, a.name, b.name)
    assert code == 1
    model_ops = {op["path"] for op in document["snapshots"]["model_config"]["patch"]}
    assert {"/name", "/temperature", "/max_tokens", "/seed"} <= model_ops
    assert_patches_apply(document, a, b)


@pytest.mark.parametrize("args", [(), ("a", "b", "--source"), ("only-one",)])
def test_bad_usage_is_one_sentence_exit_2(cli: Any, workspace: Path, args: tuple[str, ...]) -> None:
    make_run(cli, workspace, JOB)
    result = cli("diff", *args)
    assert result.code == 2
    assert "Traceback" not in result.stderr
