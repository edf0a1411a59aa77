"""``sigilctl attest`` and ``verify --attestation``: provenance that the in-toto project's own
tooling accepts, and that fails by name when an output, the payload or the key is not right."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

from tests.helpers import make_run


@pytest.fixture
def keys(cli: Any, workspace: Path) -> tuple[Path, Path]:
    result = cli("attest", "keygen", "keys", "--json")
    assert result.code == 0, result.stderr
    made = json.loads(result.stdout)
    return Path(made["private_key"]), Path(made["public_key"])


@pytest.fixture
def attested(cli: Any, workspace: Path, keys: tuple[Path, Path]) -> tuple[Path, Path]:
    run = make_run(cli, workspace)
    result = cli("attest", run.name, "--key", str(keys[0]), "--json")
    assert result.code == 0, result.stderr
    envelope = Path(json.loads(result.stdout)["attestation"])
    assert envelope == (
        workspace / "artifacts/.sigilctl/attestations/ig-test-001" / f"{run.name}.intoto.jsonl"
    )
    return run, envelope


def envelope_dict(path: Path) -> dict[str, Any]:
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    document: dict[str, Any] = json.loads(lines[0])
    return document


def test_keygen_writes_a_private_key_only_its_owner_can_read(
    cli: Any, workspace: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    again = cli("attest", "keygen", "keys")
    assert again.code == 2 and "never overwrites" in again.stderr
    assert not [p for p in private.parent.iterdir() if ".tmp-" in p.name]


def test_the_envelope_verifies_with_the_in_toto_tooling(
    attested: tuple[Path, Path], keys: tuple[Path, Path]
) -> None:
    run, path = attested
    document = envelope_dict(path)
    assert document["payloadType"] == "application/vnd.in-toto+json"
    # securesystemslib's DSSE implementation checks the signature with the public key alone.
    key = SSlibKey.from_crypto(load_pem_public_key(keys[1].read_bytes()))
    envelope = Envelope.from_dict(json.loads(json.dumps(document)))
    assert key.keyid in envelope.verify([key], 1)
    statement = json.loads(envelope.payload)
    # in-toto-attestation's own Statement v1 and SLSA provenance v1 models accept it.
    proto = json_format.Parse(envelope.payload, statement_pb2.Statement())
    Statement.copy_from_pb(proto).validate()
    json_format.ParseDict(statement["predicate"], provenance_pb2.Provenance())
    manifest = json.loads((run / "manifest.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["subject"] == [
        {"name": a["path"], "digest": {"sha256": a["sha256"]}} for a in manifest["artifacts"]
    ]
    dependencies = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert {d["name"]: d["digest"]["sha256"] for d in dependencies} == {
        e["path"]: e["sha256"] for e in manifest["input_snapshots"].values()
    }
    assert statement["predicate"]["runDetails"]["metadata"]["invocationId"] == run.name


def test_verify_with_the_attestation_is_clean(
    cli: Any, attested: tuple[Path, Path], keys: tuple[Path, Path]
) -> None:
    run, path = attested
    result = cli("verify", str(run), "--attestation", str(path), "--pubkey", str(keys[1]), "--json")
    assert result.code == 0, result.stdout
    report = json.loads(result.stdout)["runs"][0]["attestation"]
    assert report["ok"] is True and report["subjects"] == 1 and report["dependencies"] == 5
    # Without --attestation the run's own envelope is found.
    assert cli("verify", run.name, "--pubkey", str(keys[1])).code == 0
    # Attesting again adds nothing (Ed25519 signatures are deterministic).
    again = cli("attest", run.name, "--key", str(keys[0]), "--json")
    assert json.loads(again.stdout)["added"] is False
    assert len(path.read_text().splitlines()) == 1


def attestation_problems(cli: Any, run: Path, path: Path, pubkey: Path) -> list[str]:
    result = cli("verify", str(run), "--attestation", str(path), "--pubkey", str(pubkey), "--json")
    assert result.code == 1, result.stdout
    problems: list[str] = json.loads(result.stdout)["runs"][0]["attestation"]["problems"]
    assert problems
    human = cli("verify", str(run), "--attestation", str(path), "--pubkey", str(pubkey))
    assert human.code == 1 and problems[0][:40] in human.stdout.replace("\n", "")
    return problems


def test_one_flipped_byte_of_an_output_fails_naming_the_output(
    cli: Any, attested: tuple[Path, Path], keys: tuple[Path, Path]
) -> None:
    run, path = attested
    output = run / "outputs/captions.json"
    data = bytearray(output.read_bytes())
    data[10] ^= 0x01
    output.write_bytes(bytes(data))
    problems = attestation_problems(cli, run, path, keys[1])
    assert any(p.startswith("outputs/captions.json: sha256 is") for p in problems)


def test_one_flipped_byte_of_the_payload_fails_naming_the_signature(
    cli: Any, attested: tuple[Path, Path], keys: tuple[Path, Path]
) -> None:
    run, path = attested
    document = envelope_dict(path)
    payload = bytearray(base64.b64decode(document["payload"]))
    payload[payload.index(b"sha256") + 12] ^= 0x01
    document["payload"] = base64.b64encode(bytes(payload)).decode()
    path.write_text(json.dumps(document) + "\n")
    problems = attestation_problems(cli, run, path, keys[1])
    assert "signature" in problems[0] and "payload was changed" in problems[0]


def test_another_key_fails_naming_the_key(
    cli: Any, attested: tuple[Path, Path], keys: tuple[Path, Path]
) -> None:
    run, path = attested
    other = cli("attest", "keygen", "other-keys", "--json")
    pubkey = Path(json.loads(other.stdout)["public_key"])
    problems = attestation_problems(cli, run, path, pubkey)
    assert "signed by another key" in problems[0]


def test_an_attestation_of_another_run_is_named(
    cli: Any, workspace: Path, attested: tuple[Path, Path], keys: tuple[Path, Path]
) -> None:
    run, path = attested
    result = cli("run", "ig-launch-openai", "--provider", "offline", "--json")
    other = workspace / "artifacts/ig-launch-openai" / json.loads(result.stdout)["run_id"]
    problems = attestation_problems(cli, other, path, keys[1])
    assert f"is for run '{run.name}'" in problems[0]


def test_a_run_that_does_not_verify_is_never_signed(
    cli: Any, workspace: Path, keys: tuple[Path, Path]
) -> None:
    run = make_run(cli, workspace)
    (run / "outputs/captions.json").write_text("{}\n")
    result = cli("attest", run.name, "--key", str(keys[0]))
    assert result.code == 1 and "does not verify" in result.stderr
    assert not (workspace / "artifacts/.sigilctl/attestations").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--key", "missing.pem"), "cannot be read"),
        (("--key", "keys/attestation.pub.pem"), "not a PEM private key"),
        ((), "--key KEY is required"),
    ],
)
def test_bad_keys_are_one_sentence_exit_2(
    cli: Any, workspace: Path, keys: tuple[Path, Path], args: tuple[str, ...], message: str
) -> None:
    run = make_run(cli, workspace)
    result = cli("attest", run.name, *args)
    assert result.code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_out_writes_the_envelope_where_asked(
    cli: Any, workspace: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    run = make_run(cli, workspace)
    out = tmp_path / "signed" / "run.intoto.jsonl"
    result = cli("attest", run.name, "--key", str(keys[0]), "--out", str(out))
    assert result.code == 0 and out.is_file()
    assert cli("verify", run.name, "--attestation", str(out), "--pubkey", str(keys[1])).code == 0
