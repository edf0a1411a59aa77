"""The tamper battery: each kind of tampering with a real run is caught and named (exit 1)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from tests.helpers import Result, make_run

Cli = Callable[..., Result]


def load_manifest(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "manifest.json").read_text())
    return data


def save_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))


def flip_byte(path: Path, offset: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def rewrite_snapshot(run_dir: Path, name: str, data: bytes) -> None:
    """Replace a snapshot and re-hash it in the manifest, as a careful forger would."""
    (run_dir / f"inputs/{name}.resolved.json").write_bytes(data)
    manifest = load_manifest(run_dir)
    entry = manifest["input_snapshots"][name]
    entry["sha256"] = __import__("hashlib").sha256(data).hexdigest()
    entry["bytes"] = len(data)
    save_manifest(run_dir, manifest)


def _snapshot(run_dir: Path, name: str) -> Any:
    return json.loads((run_dir / f"inputs/{name}.resolved.json").read_bytes())


def t_flip_snapshot(run: Path) -> Path:
    flip_byte(run / "inputs/brief.resolved.json")
    return run


def t_delete_snapshot(run: Path) -> Path:
    (run / "inputs/context.resolved.json").unlink()
    return run


def t_extra_input(run: Path) -> Path:
    (run / "inputs/notes.resolved.json").write_text("{}")
    return run


def t_flip_output(run: Path) -> Path:
    flip_byte(run / "outputs/captions.json")
    return run


def t_truncate_output(run: Path) -> Path:
    path = run / "outputs/captions.json"
    path.write_bytes(path.read_bytes()[:-5])
    return run


def t_delete_output(run: Path) -> Path:
    (run / "outputs/captions.json").unlink()
    return run


def t_extra_output(run: Path) -> Path:
    (run / "outputs/sub").mkdir()
    (run / "outputs/sub/extra.txt").write_text("smuggled")
    return run


def t_change_run_id(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["run_id"] = "0" * 32
    save_manifest(run, manifest)
    return run


def t_change_listed_hash(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["input_snapshots"]["doctrine"]["sha256"] = "a" * 64
    save_manifest(run, manifest)
    return run


def t_rename_folder(run: Path) -> Path:
    renamed = run.with_name("f" * 32)
    run.rename(renamed)
    return renamed


def t_move_to_other_job(run: Path) -> Path:
    other = run.parent.parent / "other-job" / run.name
    other.parent.mkdir()
    run.rename(other)
    return other


def t_trace_id_in_snapshot_entry(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["input_snapshots"]["brief"]["langfuse_trace_id"] = "a" * 32
    save_manifest(run, manifest)
    return run


def t_rewrite_and_rehash(run: Path) -> Path:
    brief = _snapshot(run, "brief")
    brief["params"]["topic"] = "something the brief never said"
    rewrite_snapshot(run, "brief", rfc8785.dumps(brief))
    return run


def t_pretty_snapshot(run: Path) -> Path:
    pretty = json.dumps(_snapshot(run, "model_config"), indent=2, sort_keys=True).encode()
    rewrite_snapshot(run, "model_config", pretty)
    return run


def t_corrupt_manifest(run: Path) -> Path:
    (run / "manifest.json").write_bytes(b'{"job_id": "ig-test-001", "run_id": ')
    return run


def t_manifest_not_schema(run: Path) -> Path:
    manifest = load_manifest(run)
    del manifest["status"]
    manifest["input_snapshots"] = ["brief"]
    save_manifest(run, manifest)
    return run


def t_nested_trace_id(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["provider"]["langfuse_trace_id"] = "b" * 32
    save_manifest(run, manifest)
    return run


def t_trace_id_inside_snapshot_bytes(run: Path) -> Path:
    config = _snapshot(run, "model_config")
    config["langfuse_trace_id"] = "c" * 32
    rewrite_snapshot(run, "model_config", rfc8785.dumps(config))
    return run


def t_path_escape(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["artifacts"][0]["path"] = "../../../../etc/passwd"
    save_manifest(run, manifest)
    return run


def t_absolute_path(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["input_snapshots"]["pipeline"]["path"] = "/etc/hostname"
    save_manifest(run, manifest)
    return run


def t_symlinked_output(run: Path) -> Path:
    target = run / "outputs/captions.json"
    outside = run.parent.parent / "outside.json"
    shutil.move(target, outside)
    os.symlink(outside, target)
    return run


def t_symlinked_manifest(run: Path) -> Path:
    """The manifest moved outside and linked back: verify must not read it through the link."""
    outside = run.parent.parent / "outside-manifest.json"
    shutil.move(run / "manifest.json", outside)
    os.symlink(outside, run / "manifest.json")
    return run


def t_symlinked_inputs(run: Path) -> Path:
    outside = run.parent.parent / "outside-inputs"
    shutil.move(run / "inputs", outside)
    os.symlink(outside, run / "inputs")
    return run


def t_symlinked_run_folder(run: Path) -> Path:
    outside = run.parent.parent.parent / "outside-run"
    shutil.move(run, outside)
    os.symlink(outside, run)
    return run


def t_symlinked_job_folder(run: Path) -> Path:
    job = run.parent
    outside = job.parent.parent / "outside-job"
    shutil.move(job, outside)
    os.symlink(outside, job)
    return run


def t_delete_manifest(run: Path) -> Path:
    (run / "manifest.json").unlink()
    return run


def t_misplaced_path(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["artifacts"][0]["path"] = "inputs/brief.resolved.json"
    save_manifest(run, manifest)
    return run


def t_unreadable_output(run: Path) -> Path:
    """A listed file replaced by a FIFO: it exists, and opening it must never block verify."""
    target = run / "outputs/captions.json"
    target.unlink()
    os.mkfifo(target)
    return run


def t_grow_snapshot_entry(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["input_snapshots"]["doctrine"]["bytes"] += 1
    save_manifest(run, manifest)
    return run


def t_extra_artifact_field(run: Path) -> Path:
    manifest = load_manifest(run)
    manifest["artifacts"][0]["note"] = "added later"
    save_manifest(run, manifest)
    return run


# (tampering, the kind that must be named, and for the precise cases every kind expected)
BATTERY: list[tuple[Callable[[Path], Path], str, set[str] | None]] = [
    (t_flip_snapshot, "snapshot_hash_mismatch", {"snapshot_hash_mismatch"}),
    (t_delete_snapshot, "snapshot_missing", {"snapshot_missing"}),
    (t_extra_input, "unlisted_file", {"unlisted_file"}),
    (t_flip_output, "artifact_hash_mismatch", {"artifact_hash_mismatch"}),
    (t_truncate_output, "artifact_size_mismatch", {"artifact_size_mismatch"}),
    (t_delete_output, "artifact_missing", {"artifact_missing"}),
    (t_extra_output, "unlisted_file", {"unlisted_file"}),
    (t_change_run_id, "run_id_mismatch", {"run_id_mismatch", "run_dir_name_mismatch"}),
    (t_change_listed_hash, "snapshot_hash_mismatch", None),
    (t_rename_folder, "run_dir_name_mismatch", {"run_dir_name_mismatch"}),
    (t_move_to_other_job, "job_dir_mismatch", {"job_dir_mismatch"}),
    (t_trace_id_in_snapshot_entry, "snapshot_extra_field", {"snapshot_extra_field"}),
    (t_rewrite_and_rehash, "inputs_hash_mismatch", {"inputs_hash_mismatch"}),
    (t_pretty_snapshot, "snapshot_not_canonical", None),
    (t_corrupt_manifest, "manifest_unreadable", {"manifest_unreadable"}),
    (t_manifest_not_schema, "manifest_invalid", None),
    (t_nested_trace_id, "trace_id_misplaced", {"trace_id_misplaced"}),
    (t_trace_id_inside_snapshot_bytes, "trace_id_misplaced", None),
    (t_path_escape, "path_escape", {"path_escape", "unlisted_file"}),
    (t_absolute_path, "path_escape", {"path_escape", "unlisted_file"}),
    (t_symlinked_output, "symlink", {"symlink"}),
    (t_symlinked_manifest, "symlink", {"symlink"}),
    (t_symlinked_inputs, "symlink", {"symlink"}),
    (t_symlinked_run_folder, "symlink", {"symlink"}),
    (t_symlinked_job_folder, "symlink", {"symlink"}),
    (t_delete_manifest, "manifest_missing", {"manifest_missing"}),
    (t_misplaced_path, "path_misplaced", None),
    (t_unreadable_output, "artifact_missing", {"artifact_missing"}),
    (t_grow_snapshot_entry, "snapshot_size_mismatch", {"snapshot_size_mismatch"}),
    (t_extra_artifact_field, "artifact_extra_field", {"artifact_extra_field"}),
]


def test_every_problem_kind_has_a_group_a_doc_line_and_a_tamper_case() -> None:
    """A new kind cannot be added without its check row, its line in docs/verify.md and a case
    here that makes verify name it (file_unreadable needs a read error, which root, who runs
    CI here, cannot be given on a local disk: it is the one kind without a case)."""
    from sigilctl.verify.report import Kind
    from tests.helpers import REPO

    doc = (REPO / "docs/verify.md").read_text()
    battery = {kind for _, kind, _ in BATTERY}
    for kind in Kind:
        assert kind.group is not None
        assert f"`{kind.value}`" in doc, f"docs/verify.md has no line for {kind.value}"
        if kind is not Kind.FILE_UNREADABLE:
            assert kind.value in battery, f"no tamper case names {kind.value}"


@pytest.mark.parametrize(
    ("tamper", "kind", "exact"), BATTERY, ids=[t.__name__[2:] for t, _, _ in BATTERY]
)
def test_tampering_is_caught_and_named(
    cli: Cli, workspace: Path, tamper: Callable[[Path], Path], kind: str, exact: set[str] | None
) -> None:
    run_dir = tamper(make_run(cli, workspace))
    result = cli("verify", str(run_dir), "--json")
    assert result.code == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is False
    [run] = document["runs"]
    kinds = {p["kind"] for p in run["problems"]}
    assert kind in kinds, run["problems"]
    if exact is not None:
        assert kinds == exact, run["problems"]
    for problem in run["problems"]:
        assert problem["message"] and not Path(problem["path"]).is_absolute()
    assert "Traceback" not in result.stderr


def test_rewritten_snapshot_is_caught_only_by_identity_recomputation(
    cli: Cli, workspace: Path
) -> None:
    """A forger who re-hashes the snapshot in the manifest passes the file checks..."""
    run_dir = t_rewrite_and_rehash(make_run(cli, workspace))
    result = cli("verify", str(run_dir), "--json")
    [problem] = json.loads(result.stdout)["runs"][0]["problems"]
    assert problem["kind"] == "inputs_hash_mismatch"
    assert problem["path"] == "manifest.json"


def test_escaping_path_is_never_followed(cli: Cli, workspace: Path) -> None:
    run_dir = make_run(cli, workspace)
    secret = workspace / "secret.txt"
    secret.write_text("outside the run")
    manifest = load_manifest(run_dir)
    data = secret.read_bytes()
    manifest["artifacts"].append(
        {
            "path": "outputs/../../../secret.txt",
            "sha256": __import__("hashlib").sha256(data).hexdigest(),
            "bytes": len(data),
        }
    )
    save_manifest(run_dir, manifest)
    result = cli("verify", str(run_dir), "--json")
    assert result.code == 1
    problems = json.loads(result.stdout)["runs"][0]["problems"]
    assert [p["kind"] for p in problems] == ["path_escape"]


def test_tampered_run_in_human_output_names_the_problem(cli: Cli, workspace: Path) -> None:
    run_dir = t_flip_output(make_run(cli, workspace))
    result = cli("verify", str(run_dir))
    assert result.code == 1
    assert "✗" in result.stdout and "artifact_hash_mismatch" in result.stdout
    assert "outputs/captions.json" in result.stdout
    assert "1 not ok" in result.stdout


def test_tampered_run_is_not_a_cache_hit_nor_silently_replaced(cli: Cli, workspace: Path) -> None:
    run_dir = t_flip_output(make_run(cli, workspace))
    damaged = (run_dir / "outputs/captions.json").read_bytes()
    again = cli("run", "ig-test-001", "--json")
    assert again.code == 1 and again.stdout == ""
    assert "artifact_hash_mismatch" in again.stderr and run_dir.name in again.stderr
    assert (run_dir / "outputs/captions.json").read_bytes() == damaged
    forced = json.loads(cli("run", "ig-test-001", "--force", "--json").stdout)
    assert forced["cached"] is False and forced["status"] == "succeeded"
    assert cli("verify", str(run_dir), "--json").code == 0
    (kept,) = (run_dir.parent / ".history" / run_dir.name).iterdir()
    assert (kept / "outputs/captions.json").read_bytes() == damaged  # evidence, untouched
