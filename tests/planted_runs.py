"""Planted runs: tampered run folders whose links and paths lead to a canary outside the run.

A reader of runs (``show``, ``verify``, ``reindex``, ``runs``, and later ``diff``, ``replay``,
``export``, the HTTP API) must refuse each of them without opening anything outside the run:
the canary string, held only by files outside the run, must never appear in what it prints,
returns or indexes. To add a reader, append to ``READERS`` (a CLI command) or call ``plant()``
and ``assert_no_canary()`` from your own test (an HTTP request, a Python call).

    planted = plant("symlinked_output", workspace, make_run(cli, workspace))
    result = cli("show", planted.run_id)
    assert_no_canary(planted, result.stdout + result.stderr, "show")
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CANARY = "CANARY-0b5e55ed-outside-the-run"
LATER = "2999-01-01T00:00:00.000Z"  # planted runs are the latest of their job


@dataclass(frozen=True)
class Planted:
    """A planted run: where it is, what names it, and the folder outside it with the canary."""

    kind: str
    workspace: Path
    job_id: str
    run_id: str
    run_dir: Path
    outside: Path


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _save(path: Path, manifest: dict[str, Any]) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True))


def _canary_captions(path: Path) -> None:
    path.write_text(json.dumps({"captions": [{"text": CANARY, "hashtags": [CANARY]}] * 3}))


def _canary_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest that would print the canary anywhere it is shown or indexed."""
    return {**manifest, "brand": CANARY, "error": CANARY, "finished_at": LATER}


def _canary_run_copy(run: Path, dest: Path) -> None:
    """A whole copy of ``run`` whose outputs and manifest hold the canary."""
    shutil.copytree(run, dest, symlinks=True)
    _canary_captions(dest / "outputs/captions.json")
    _save(dest / "manifest.json", _canary_manifest(_load(dest / "manifest.json")))


def _listed_later(run: Path, path: str | None = None) -> None:
    manifest = _load(run / "manifest.json")
    manifest["finished_at"] = LATER
    if path is not None:
        manifest["artifacts"][0]["path"] = path
    _save(run / "manifest.json", manifest)


def absolute_path(run: Path, outside: Path) -> None:
    _canary_captions(outside / "captions.json")
    _listed_later(run, str(outside / "captions.json"))


def dotdot_path(run: Path, outside: Path) -> None:
    _canary_captions(outside / "captions.json")
    up = os.path.relpath(outside / "captions.json", run / "outputs")
    _listed_later(run, f"outputs/{up}")


def symlinked_output(run: Path, outside: Path) -> None:
    _canary_captions(outside / "captions.json")
    (run / "outputs/captions.json").unlink()
    os.symlink(outside / "captions.json", run / "outputs/captions.json")
    _listed_later(run)


def symlinked_outputs_folder(run: Path, outside: Path) -> None:
    shutil.move(run / "outputs", outside / "outputs")
    _canary_captions(outside / "outputs/captions.json")
    os.symlink(outside / "outputs", run / "outputs")
    _listed_later(run)


def symlinked_inputs_folder(run: Path, outside: Path) -> None:
    shutil.move(run / "inputs", outside / "inputs")
    config = outside / "inputs/model_config.resolved.json"
    config.write_text(json.dumps({**_load(config), "provider": CANARY}))
    os.symlink(outside / "inputs", run / "inputs")
    _listed_later(run)


def symlinked_manifest(run: Path, outside: Path) -> None:
    target = outside / "manifest.json"
    _save(target, _canary_manifest(_load(run / "manifest.json")))
    (run / "manifest.json").unlink()
    os.symlink(target, run / "manifest.json")


def symlinked_run_folder(run: Path, outside: Path) -> None:
    _canary_run_copy(run, outside / run.name)
    shutil.rmtree(run)
    os.symlink(outside / run.name, run)


def symlinked_job_folder(run: Path, outside: Path) -> None:
    job = run.parent
    copy = outside / job.name
    copy.mkdir()
    _canary_run_copy(run, copy / run.name)
    shutil.rmtree(job)
    os.symlink(copy, job)


PLANTS: dict[str, Callable[[Path, Path], None]] = {
    f.__name__: f
    for f in (
        absolute_path,
        dotdot_path,
        symlinked_output,
        symlinked_outputs_folder,
        symlinked_inputs_folder,
        symlinked_manifest,
        symlinked_run_folder,
        symlinked_job_folder,
    )
}


def plant(kind: str, workspace: Path, run_dir: Path) -> Planted:
    """Tamper with the published run ``run_dir`` as ``kind`` says; the canary lives outside."""
    outside = workspace.parent / f"outside-{kind}"
    outside.mkdir()
    PLANTS[kind](run_dir, outside)
    return Planted(kind, workspace, run_dir.parent.name, run_dir.name, run_dir, outside)


# Every CLI command that reads runs today, as the arguments that point it at the planted run.
READERS: dict[str, Callable[[Planted], list[str]]] = {
    "show job": lambda p: ["show", p.job_id],
    "show run_id": lambda p: ["show", p.run_id],
    "show prefix": lambda p: ["show", p.run_id[:8]],
    "show dir": lambda p: ["show", str(p.run_dir)],
    "show --json": lambda p: ["show", p.run_id, "--json"],
    "show dir --json": lambda p: ["show", str(p.run_dir), "--json"],
    "verify dir": lambda p: ["verify", str(p.run_dir)],
    "verify run_id --json": lambda p: ["verify", p.run_id, "--json"],
    "verify --all": lambda p: ["verify", "--all"],
    "verify --all --json": lambda p: ["verify", "--all", "--json"],
    "verify --all --source": lambda p: ["verify", "--all", "--source", "--json"],
    "reindex": lambda p: ["reindex"],
    "reindex --json": lambda p: ["reindex", "--json"],
    "runs": lambda p: ["runs"],
    "runs --json": lambda p: ["runs", "--json"],
    "diff run dir": lambda p: ["diff", p.run_id, str(p.run_dir), "--json"],
    "diff --source": lambda p: ["diff", p.run_id, "--source", "--json"],
    "replay": lambda p: ["replay", p.run_id, "--json"],
    "export": lambda p: ["export", p.run_id, "--out", str(p.workspace / "planted.tar.gz")],
}


def index_bytes(workspace: Path) -> bytes:
    """Every byte of the index files (and their sidecars) under the artifacts tree."""
    folder = workspace / "artifacts" / ".sigilctl"
    if not folder.is_dir():
        return b""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def assert_no_canary(planted: Planted, seen: str | bytes, where: str) -> None:
    data = seen.encode() if isinstance(seen, str) else seen
    assert CANARY.encode() not in data, f"{planted.kind}: {where} read a file outside the run"
