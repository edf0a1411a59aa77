"""Identity per SPEC §4, recomputed independently with hashlib + the rfc8785 package."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import rfc8785
import yaml

from sigilctl.identity import compute_identity
from sigilctl.resolve import resolve_job
from sigilctl.workspace import Workspace

BRIEF = Path("jobs/ig-test-001/brief.yaml")


def identity_of(root: Path, **kwargs: str) -> tuple[str, str, dict[str, object]]:
    workspace = Workspace.locate(root)
    job = resolve_job(root / BRIEF, workspace, **kwargs)  # type: ignore[arg-type]
    ident = compute_identity(job.snapshots)
    return ident.run_id, ident.inputs_hash, job.snapshots


def edit_brief(root: Path, **changes: object) -> None:
    path = root / BRIEF
    data = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_identity_recomputed_independently(workspace: Path) -> None:
    run_id, inputs_hash, snapshots = identity_of(workspace)
    hashes = {
        name: hashlib.sha256(rfc8785.dumps(value)).hexdigest() for name, value in snapshots.items()
    }
    assert set(hashes) == {"brief", "doctrine", "context", "model_config", "pipeline"}
    expected_inputs = hashlib.sha256(rfc8785.dumps(hashes)).hexdigest()
    expected_run = hashlib.sha256(f"sigilzero/run_id/v1:{expected_inputs}".encode()).hexdigest()
    assert inputs_hash == expected_inputs
    assert run_id == expected_run[:32]


def test_same_run_id_from_two_workspace_locations(workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(workspace / "jobs", other / "jobs")
    first = identity_of(workspace)
    second = identity_of(other)
    assert first[:2] == second[:2]
    assert str(workspace) not in rfc8785.dumps(first[2]).decode()


def test_integer_and_float_temperature_are_one_identity(workspace: Path) -> None:
    edit_brief(workspace, model__temperature=1)
    as_int = identity_of(workspace)[0]
    edit_brief(workspace, model__temperature=1.0)
    assert identity_of(workspace)[0] == as_int


def test_yaml_key_order_is_irrelevant(workspace: Path) -> None:
    before = identity_of(workspace)[0]
    path = workspace / BRIEF
    data = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump(dict(reversed(list(data.items()))), sort_keys=False))
    assert identity_of(workspace)[0] == before


def test_observability_settings_do_not_change_identity(workspace: Path) -> None:
    before = identity_of(workspace)[0]
    edit_brief(workspace, observability__enabled=False, observability__sample_rate=0.0)
    assert identity_of(workspace)[0] == before


def test_doctrine_edit_gives_a_new_run_id(workspace: Path) -> None:
    before = identity_of(workspace)[0]
    doctrine = workspace / "jobs/_brands/sigilzero/doctrine.md"
    doctrine.write_text(doctrine.read_text() + "\nOne more rule.\n")
    assert identity_of(workspace)[0] != before


def test_every_identity_input_matters(workspace: Path) -> None:
    seen = {identity_of(workspace)[0]}
    for change in (
        {"params__topic": "another topic"},
        {"model__seed": 43},
        {"context__top_k": 2},
        {"brand": "other-brand"},
    ):
        edit_brief(workspace, **change)
        seen.add(identity_of(workspace)[0])
    assert len(seen) == 5


def test_provider_override_is_part_of_model_config(workspace: Path) -> None:
    offline = identity_of(workspace)
    assert offline[2]["model_config"]["provider"] == "offline"  # type: ignore[index]
    brief = workspace / "jobs/ig-launch-openai/brief.yaml"
    ws = Workspace.locate(workspace)
    as_openai = compute_identity(resolve_job(brief, ws).snapshots).run_id
    as_offline = compute_identity(resolve_job(brief, ws, provider_override="offline").snapshots)
    assert as_openai != as_offline.run_id


def test_snapshots_hold_no_absolute_paths_or_times(workspace: Path) -> None:
    snapshots = identity_of(workspace)[2]
    text = rfc8785.dumps(snapshots).decode()
    assert str(workspace) not in text
    assert "/tmp" not in text
    assert "observability" not in snapshots["brief"]  # type: ignore[operator]
    assert "T0" not in text and 'Z"' not in text
