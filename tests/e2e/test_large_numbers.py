"""verify agrees with the writer on whole-number doubles beyond 2**53 (no false tamper alarm).

A job type with a numeric parameter lets such a number into a snapshot; canonical_bytes writes
``2.0**53`` as ``9007199254740992``, and verify used to read that back as an integer it refuses,
flagging an untouched run ``snapshot_not_canonical``. The run here is built exactly as a run
would be (canonical snapshot, its hash, inputs_hash, run_id, folder name).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sigilctl.canonical import canonical_bytes
from sigilctl.identity import compute_inputs_hash, derive_run_id
from tests.helpers import Result, make_run, run_subprocess

Cli = Callable[..., Result]


def with_param(run_dir: Path, value: object) -> Path:
    """Re-derive the run as if its brief had ``params.budget = value``; return its new folder."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    brief = json.loads((run_dir / "inputs/brief.resolved.json").read_text())
    brief["params"]["budget"] = value
    data = canonical_bytes(brief)
    (run_dir / "inputs/brief.resolved.json").write_bytes(data)
    entry = manifest["input_snapshots"]["brief"]
    entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    inputs_hash = compute_inputs_hash(
        {name: e["sha256"] for name, e in manifest["input_snapshots"].items()}
    )
    manifest["inputs_hash"], manifest["run_id"] = inputs_hash, derive_run_id(inputs_hash)
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return run_dir.rename(run_dir.with_name(manifest["run_id"]))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.0**53, b"9007199254740992"),
        (2.0**63, b"9223372036854776000"),
        (1.8e19, b"18000000000000000000"),
        (-(2.0**60), b"-1152921504606847000"),
    ],
)
def test_verify_accepts_whole_doubles_the_writer_wrote(
    workspace: Path, cli: Cli, value: float, text: bytes
) -> None:
    run_dir = with_param(make_run(cli, workspace), value)
    assert b'"budget":' + text in (run_dir / "inputs/brief.resolved.json").read_bytes()
    result = run_subprocess("verify", str(run_dir), "--json", cwd=workspace)
    assert result.code == 0, result.stdout
    assert json.loads(result.stdout)["runs"][0]["problems"] == []


def test_verify_still_refuses_an_integer_no_double_holds(workspace: Path, cli: Cli) -> None:
    """2**53 + 1 written by hand (no writer produces it): not canonical, named as such."""
    run_dir = with_param(make_run(cli, workspace), 2.0**53)
    path = run_dir / "inputs/brief.resolved.json"
    data = path.read_bytes().replace(b"9007199254740992", b"9007199254740993")
    path.write_bytes(data)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["input_snapshots"]["brief"]["sha256"] = hashlib.sha256(data).hexdigest()
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    result = run_subprocess("verify", str(run_dir), "--json", cwd=workspace)
    assert result.code == 1
    kinds = {p["kind"] for p in json.loads(result.stdout)["runs"][0]["problems"]}
    assert "snapshot_not_canonical" in kinds
