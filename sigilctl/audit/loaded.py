"""A finished run as the audit tools see it: its manifest and its parsed input snapshots.

Read through ``reading`` only. The snapshot hashes here are those of the bytes actually found,
so a tampered snapshot shows up as itself (and ``verify`` names the mismatch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sigilctl.audit.reading import read_run_file
from sigilctl.errors import InputError, SigilError
from sigilctl.identity import sha256_hex
from sigilctl.manifest import MANIFEST_NAME, Manifest


class DamagedRun(SigilError):
    """A run's manifest or snapshots cannot be read as JSON: the run is not ok (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class LoadedRun:
    run_dir: Path
    manifest: Manifest
    raw_manifest: dict[str, Any]
    snapshot_bytes: dict[str, bytes]
    snapshots: dict[str, Any]

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    @property
    def job_id(self) -> str:
        return self.manifest.job_id

    @property
    def label(self) -> str:
        return f"{self.job_id}/{self.run_id}"

    def snapshot_hashes(self) -> dict[str, str]:
        """sha256 of each snapshot's bytes as found on disk (not as the manifest lists them)."""
        return {name: sha256_hex(data) for name, data in self.snapshot_bytes.items()}

    def output_hashes(self) -> dict[str, str]:
        """Every output the manifest lists, with the sha256 it lists."""
        return {entry.path: entry.sha256 for entry in self.manifest.artifacts}


def parse_manifest(data: bytes, where: str) -> tuple[Manifest, dict[str, Any]]:
    """The manifest model and its raw document; a damaged manifest is a DamagedRun."""
    from sigilctl.manifest import parse_manifest as validate

    try:
        raw = orjson.loads(data)
        return validate(raw, Path(where)), raw
    except orjson.JSONDecodeError as exc:
        raise DamagedRun(f"{where} is not valid JSON ({exc})") from None
    except InputError as exc:
        raise DamagedRun(exc.message) from None


def load_run(run_dir: Path) -> LoadedRun:
    """Read a run's manifest and every input snapshot it lists, never leaving the run."""
    manifest, raw = parse_manifest(
        read_run_file(run_dir, MANIFEST_NAME), str(run_dir / MANIFEST_NAME)
    )
    snapshot_bytes: dict[str, bytes] = {}
    snapshots: dict[str, Any] = {}
    for name, entry in sorted(manifest.input_snapshots.items()):
        data = read_run_file(run_dir, entry.path)
        try:
            snapshots[name] = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DamagedRun(f"{run_dir / entry.path} is not valid JSON ({exc})") from None
        snapshot_bytes[name] = data
    return LoadedRun(run_dir, manifest, raw, snapshot_bytes, snapshots)
