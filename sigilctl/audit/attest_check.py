"""``verify RUN --attestation FILE --pubkey PEM``: is the envelope signed by that key, is it
about this run, and does every digest it states match the run's files today?

Each failure is named: the signature (payload changed, or signed by another key), the
statement (wrong type, another run), and every subject or dependency whose file is missing or
whose sha256 differs. Files are read only through ``reading``: nothing outside the run.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sigilctl.audit.attest import PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE, pae
from sigilctl.audit.keys import keyid, load_public_key
from sigilctl.audit.loaded import parse_manifest
from sigilctl.audit.reading import UnsafeRunFile, read_run_file
from sigilctl.errors import InputError
from sigilctl.identity import sha256_hex
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.text import printable

MAX_ENVELOPE_BYTES = 64 * 1024 * 1024


@dataclass
class AttestationReport:
    file: Path
    keyid: str
    problems: list[str] = field(default_factory=list)
    subjects: int = 0
    dependencies: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, message: str) -> None:
        self.problems.append(printable(message))

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "keyid": self.keyid,
            "ok": self.ok,
            "subjects": self.subjects,
            "dependencies": self.dependencies,
            "problems": self.problems,
        }


def check_attestation(run_dir: Path, envelope_file: Path, pubkey_file: Path) -> AttestationReport:
    public = load_public_key(pubkey_file)
    report = AttestationReport(envelope_file, keyid(public))
    envelopes = _read_envelopes(envelope_file)
    manifest_bytes = read_run_file(run_dir, MANIFEST_NAME)
    manifest, _raw = parse_manifest(manifest_bytes, str(run_dir / MANIFEST_NAME))
    failures: list[str] = []
    for envelope in reversed(envelopes):  # the newest envelope first
        statement = _open_envelope(envelope, public, report.keyid, failures)
        if statement is None:
            continue
        invocation = _get(statement, "predicate", "runDetails", "metadata", "invocationId")
        if invocation != manifest.run_id:
            failures.append(f"the attestation is for run {invocation!r}, not {manifest.run_id}")
            continue
        _check_statement(statement, run_dir, manifest_bytes, report)
        return report
    if not failures:
        failures.append("it holds no DSSE envelope")
    report.add(f"{envelope_file}: " + failures[0])
    return report


def _read_envelopes(path: Path) -> list[Any]:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ENVELOPE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"--attestation {path} cannot be read: {exc.strerror or exc}") from None
    try:
        return [orjson.loads(data)]  # one (possibly pretty-printed) envelope
    except orjson.JSONDecodeError:
        pass  # JSON Lines: one envelope per line
    envelopes: list[Any] = []
    for line in data.splitlines():
        if line.strip():
            try:
                envelopes.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                envelopes.append(None)
    return envelopes


def _open_envelope(
    envelope: Any, public: Any, expected_keyid: str, failures: list[str]
) -> dict[str, Any] | None:
    """The statement inside ``envelope`` if a signature by ``public`` covers it, else None."""
    from cryptography.exceptions import InvalidSignature

    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), str):
        failures.append("an envelope is not a DSSE envelope (no payload)")
        return None
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        failures.append(f"payloadType is {envelope.get('payloadType')!r}, not {PAYLOAD_TYPE}")
        return None
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
    except (binascii.Error, ValueError):
        failures.append("the payload is not valid base64")
        return None
    signatures = [s for s in envelope.get("signatures") or [] if isinstance(s, dict)]
    ours = [s for s in signatures if s.get("keyid") in (expected_keyid, None, "")]
    if not ours:
        others = ", ".join(str(s.get("keyid")) for s in signatures) or "none"
        failures.append(
            f"signature: it is signed by another key (keyid {others}), not by the given public "
            f"key (keyid {expected_keyid})"
        )
        return None
    for signature in ours:
        try:
            public.verify(
                base64.b64decode(str(signature.get("sig", ""))), pae(PAYLOAD_TYPE, payload)
            )
        except (InvalidSignature, binascii.Error, ValueError):
            continue
        try:
            statement = orjson.loads(payload)
        except orjson.JSONDecodeError:
            failures.append("the signed payload is not JSON")
            return None
        if not isinstance(statement, dict):
            failures.append("the signed payload is not a statement object")
            return None
        return statement
    failures.append(
        "signature: it does not verify with the given public key: the payload was changed "
        "after signing, or another key with the same keyid signed it"
    )
    return None


def _get(document: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _check_statement(
    statement: dict[str, Any], run_dir: Path, manifest_bytes: bytes, report: AttestationReport
) -> None:
    if statement.get("_type") != STATEMENT_TYPE:
        report.add(f"statement: _type is {statement.get('_type')!r}, not {STATEMENT_TYPE}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        report.add(f"statement: predicateType is {statement.get('predicateType')!r}")
    subjects = statement.get("subject")
    deps = _get(statement, "predicate", "buildDefinition", "resolvedDependencies")
    byproducts = _get(statement, "predicate", "runDetails", "byproducts")
    if not isinstance(subjects, list) or not subjects:
        report.add("statement: it has no subject")
        subjects = []
    if not isinstance(deps, list):
        report.add("statement: it has no resolvedDependencies")
        deps = []
    report.subjects, report.dependencies = len(subjects), len(deps)
    attested = {_check_digest(run_dir, item, "subject", report) for item in subjects}
    for item in deps:
        _check_digest(run_dir, item, "dependency", report)
    for item in byproducts if isinstance(byproducts, list) else []:
        named = isinstance(item, dict) and item.get("name") == MANIFEST_NAME
        if named and _get(item, "digest", "sha256") != sha256_hex(manifest_bytes):
            report.add(f"{MANIFEST_NAME}: it changed since the attestation was signed")
    manifest, _raw = parse_manifest(manifest_bytes, MANIFEST_NAME)
    for artifact in manifest.artifacts:
        if artifact.path not in attested:
            report.add(f"{artifact.path}: an output of the run that the attestation does not name")


def _check_digest(run_dir: Path, item: Any, what: str, report: AttestationReport) -> str | None:
    name = item.get("name") if isinstance(item, dict) else None
    stated = _get(item, "digest", "sha256")
    if not isinstance(name, str) or not isinstance(stated, str):
        report.add(f"statement: a {what} has no name or no sha256 digest")
        return None
    try:
        actual = sha256_hex(read_run_file(run_dir, name))
    except UnsafeRunFile as exc:
        report.add(f"{name}: the attested {what} cannot be read ({exc.message})")
        return name
    if actual != stated:
        report.add(f"{name}: sha256 is {actual}; the attestation says {stated}")
    return name
