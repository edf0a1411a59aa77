"""``sigilctl attest``: a signed in-toto Statement (SLSA provenance v1) of one run, in DSSE.

The statement's subjects are the run's output files, its resolvedDependencies the input
snapshots, its invocation id the run_id; all digests are sha256, as the manifest lists them
(only a run that verifies clean is signed). The envelope is a DSSE envelope (payloadType
``application/vnd.in-toto+json``, signature over DSSE's pre-authentication encoding) and is
written outside the run folder, which stays immutable: by default
``<artifacts>/.sigilctl/attestations/<job_id>/<run_id>.intoto.jsonl``, one envelope per line
(the in-toto bundle format). Attesting again adds a line; an identical line is not repeated.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from sigilctl.audit.loaded import LoadedRun, load_run
from sigilctl.audit.reading import read_run_file
from sigilctl.durable import write_atomic
from sigilctl.errors import InputError, SigilError
from sigilctl.identity import sha256_hex
from sigilctl.manifest import MANIFEST_NAME

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://sigilzero.dev/sigilctl/run/v1"
BUILDER_ID = "https://sigilzero.dev/sigilctl"
ATTESTATION_DIR = ".sigilctl/attestations"
SUFFIX = ".intoto.jsonl"


class NotAttestable(SigilError):
    """The run cannot be signed: it does not verify (exit 1)."""

    exit_code = 1


@dataclass(frozen=True)
class AttestOutcome:
    path: Path
    run_id: str
    keyid: str
    subjects: int
    dependencies: int
    added: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "attestation": str(self.path),
            "run_id": self.run_id,
            "keyid": self.keyid,
            "subjects": self.subjects,
            "dependencies": self.dependencies,
            "added": self.added,
        }


def default_path(artifacts: Path, job_id: str, run_id: str) -> Path:
    return artifacts / ATTESTATION_DIR / job_id / f"{run_id}{SUFFIX}"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is signed, never the bare payload."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def build_statement(run: LoadedRun, manifest_bytes: bytes) -> dict[str, Any]:
    m = run.manifest
    subjects = [{"name": a.path, "digest": {"sha256": a.sha256}} for a in m.artifacts]
    dependencies = [
        {"name": entry.path, "digest": {"sha256": entry.sha256}, "annotations": {"snapshot": name}}
        for name, entry in sorted(m.input_snapshots.items())
    ]
    metadata: dict[str, Any] = {"invocationId": m.run_id}
    if m.started_at:
        metadata["startedOn"] = m.started_at
    if m.finished_at:
        metadata["finishedOn"] = m.finished_at
    builder: dict[str, Any] = {"id": BUILDER_ID}
    if m.sigilctl_version:
        builder["version"] = {"sigilctl": m.sigilctl_version}
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "job_id": m.job_id,
                    "job_type": m.job_type,
                    "brand": m.brand,
                },
                "internalParameters": {
                    "inputs_hash": m.inputs_hash,
                    "pipeline_version": m.pipeline_version,
                    "status": m.status,
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": builder,
                "metadata": metadata,
                "byproducts": [
                    {"name": MANIFEST_NAME, "digest": {"sha256": sha256_hex(manifest_bytes)}}
                ],
            },
        },
    }


def sign_envelope(payload: bytes, key: Ed25519PrivateKey) -> dict[str, Any]:
    from sigilctl.audit.keys import keyid

    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": keyid(key.public_key()), "sig": base64.b64encode(signature).decode("ascii")}
        ],
    }


def attest_run(run_dir: Path, key_path: Path, out: Path | None, artifacts: Path) -> AttestOutcome:
    """Sign a statement of a run that verifies clean, and add it to the attestation file."""
    from sigilctl.audit.keys import keyid, load_private_key
    from sigilctl.verify import verify_run

    key = load_private_key(key_path)
    report = verify_run(run_dir)
    if report.problems:
        first = report.problems[0].message
        raise NotAttestable(
            f"{run_dir} does not verify ({len(report.problems)} problem(s), first: {first}); "
            "sigilctl signs only intact runs"
        )
    run = load_run(run_dir)
    if not run.manifest.artifacts:
        raise InputError(f"{run.label} has no output files: an attestation needs a subject")
    statement = build_statement(run, read_run_file(run_dir, MANIFEST_NAME))
    payload = orjson.dumps(statement, option=orjson.OPT_SORT_KEYS)
    line = orjson.dumps(sign_envelope(payload, key), option=orjson.OPT_SORT_KEYS) + b"\n"
    if out is not None and out.resolve().is_relative_to(run_dir.resolve()):
        raise InputError(f"--out {out} is inside the run folder; run folders are never written")
    path = out if out is not None else default_path(artifacts, run.job_id, run.run_id)
    added = _add_line(path, line)
    return AttestOutcome(
        path,
        run.run_id,
        keyid(key.public_key()),
        len(statement["subject"]),
        len(run.manifest.input_snapshots),
        added,
    )


def _add_line(path: Path, line: bytes) -> bool:
    """Append ``line`` to the bundle at ``path`` by rewriting it whole (atomically)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            existing = path.read_bytes()
        except FileNotFoundError:
            existing = b""
        if line in existing.splitlines(keepends=True):
            return False
        if existing and not existing.endswith(b"\n"):
            existing += b"\n"
        write_atomic(path, existing + line)
    except OSError as exc:
        raise InputError(f"cannot write the attestation {path}: {exc.strerror or exc}") from None
    return True
