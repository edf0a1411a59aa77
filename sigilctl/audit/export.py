"""``sigilctl export RUN --out FILE.tar.gz``: one archive an auditor can check with no sigilctl.

It holds the run folder, the run's history executions (if any), its attestation (if any), a
``SHA256SUMS`` file for ``sha256sum -c`` and a README that walks through recomputing the ids
with ``sha256sum`` and any RFC 8785 tool. Files are read through ``reading`` (a symbolic link
anywhere stops the export: it is never followed), and the archive is byte-reproducible (fixed
times, owners and modes) and written atomically (temp file beside ``FILE``, fsync, rename).
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigilctl.audit.export_readme import readme
from sigilctl.audit.loaded import load_run
from sigilctl.audit.reading import UnsafeRunFile, read_tree_file, walk_tree
from sigilctl.durable import atomic_file
from sigilctl.errors import InputError, SigilError
from sigilctl.identity import sha256_hex

HISTORY_DIR = ".history"


class NotExportable(SigilError):
    """A run holds something export refuses to follow or copy (a link, a device): exit 1."""

    exit_code = 1


@dataclass(frozen=True)
class ExportOutcome:
    path: Path
    run_id: str
    files: int
    history_files: int
    attestation: bool
    verified: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "run_id": self.run_id,
            "files": self.files,
            "history_files": self.history_files,
            "attestation": self.attestation,
            "verified": self.verified,
        }


def refuse_inside(path: Path, run_dir: Path, what: str) -> None:
    """Run folders are immutable: nothing sigilctl makes about a run is written inside one."""
    if path.resolve().is_relative_to(run_dir.resolve()):
        raise InputError(f"{what} {path} is inside the run folder; run folders are never written")


def _collect(root: Path, prefix: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        for entry in walk_tree(root):
            if entry.kind != "file":
                what = "a symbolic link" if entry.kind == "link" else "not a regular file"
                raise NotExportable(
                    f"{root / entry.rel} is {what}; export never follows or copies it "
                    "(sigilctl verify names it)"
                )
            files[f"{prefix}{entry.rel}"] = read_tree_file(root, entry.rel)
    except UnsafeRunFile as exc:
        raise NotExportable(exc.message) from None
    return files


def _history(run_dir: Path) -> Path | None:
    folder = run_dir.parent / HISTORY_DIR / run_dir.name
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(mode):
        raise NotExportable(f"{folder} is not a folder (a link is never followed)")
    return folder


def export_run(
    run_dir: Path, out: Path, *, artifacts: Path, attestation: Path | None = None
) -> ExportOutcome:
    """Write the archive of one run to ``out`` (whole or not at all). The run's attestation
    is ``attestation``, else the default one under ``artifacts`` if it exists."""
    from sigilctl.audit.attest import default_path
    from sigilctl.verify import verify_run

    if not out.name.endswith((".tar.gz", ".tgz")):
        raise InputError(f"--out {out} must name a .tar.gz file")
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: folder {out.parent} does not exist")
    refuse_inside(out, run_dir, "--out")
    run = load_run(run_dir)
    top = f"sigilctl-export-{run.run_id}/"
    base = f"{top}{run.job_id}/"
    files = _collect(run_dir, f"{base}{run.run_id}/")
    history = _history(run_dir)
    history_files = _collect(history, f"{base}{HISTORY_DIR}/{run.run_id}/") if history else {}
    files.update(history_files)
    signed = attestation
    if signed is None and default_path(artifacts, run.job_id, run.run_id).is_file():
        signed = default_path(artifacts, run.job_id, run.run_id)
    if signed is not None:
        try:
            files[f"{top}attestations/{run.run_id}.intoto.jsonl"] = signed.read_bytes()
        except OSError as exc:
            raise InputError(f"--attestation {signed} cannot be read: {exc.strerror}") from None
    report = verify_run(run_dir)
    sums = "".join(
        f"{sha256_hex(data)}  {name[len(top) :]}\n" for name, data in sorted(files.items())
    )
    files[f"{top}SHA256SUMS"] = sums.encode()
    files[f"{top}README.md"] = readme(
        run, report, has_history=bool(history_files), signed=signed is not None
    ).encode()
    try:
        with atomic_file(out) as handle:
            handle.write(_archive(files))
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    return ExportOutcome(
        out, run.run_id, len(files), len(history_files), signed is not None, report.ok
    )


def _archive(files: dict[str, bytes]) -> bytes:
    """A gzip'd tar of ``files`` with fixed metadata, so one run always gives the same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()
