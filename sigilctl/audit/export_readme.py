"""The README inside an export: how an auditor recomputes a run's ids without sigilctl."""

from __future__ import annotations

from sigilctl.audit.loaded import LoadedRun
from sigilctl.canonical import canonical_bytes
from sigilctl.identity import RUN_ID_PREFIX
from sigilctl.verify.report import RunReport


def readme(run: LoadedRun, report: RunReport, *, has_history: bool, signed: bool) -> str:
    m = run.manifest
    hashes = {name: entry.sha256 for name, entry in sorted(m.input_snapshots.items())}
    hash_object = canonical_bytes(hashes).decode("ascii")
    expected = "\n".join(
        f"    {entry.sha256}  inputs/{name}.resolved.json"
        for name, entry in sorted(m.input_snapshots.items())
    )
    state = (
        "clean: every hash and id recomputed and matched."
        if report.ok
        else "NOT clean:\n" + "\n".join(f"- {p.kind.value}: {p.message}" for p in report.problems)
    )
    parts = [
        f"# Audit export of run {m.run_id}",
        "",
        f"Job `{m.job_id}` ({m.job_type}, brand {m.brand}), status `{m.status}`, finished "
        f"{m.finished_at}. Made by sigilctl {m.sigilctl_version}.",
        "",
        "## What is here",
        "",
        f"- `{m.job_id}/{m.run_id}/`: the run folder as published: `manifest.json`, the input "
        "snapshots `inputs/*.resolved.json` (RFC 8785 canonical JSON) and `outputs/`.",
        f"- `{m.job_id}/.history/{m.run_id}/`: earlier executions of the same inputs."
        if has_history
        else "- no history: this run_id was executed once.",
        f"- `attestations/{m.run_id}.intoto.jsonl`: signed provenance (DSSE envelope, in-toto "
        "Statement v1, SLSA provenance v1)."
        if signed
        else "- no attestation was made for this run.",
        "- `SHA256SUMS`: the sha256 of every file above.",
        "",
        f"At export, `sigilctl verify` found the run {state}",
        "",
        "## 1. Every file is the one exported",
        "",
        "    sha256sum -c SHA256SUMS",
        "",
        "## 2. Each snapshot's sha256",
        "",
        f"    cd {m.job_id}/{m.run_id}",
        "    sha256sum inputs/*.resolved.json",
        "",
        "must print (and `manifest.json` lists the same under `input_snapshots`):",
        "",
        expected,
        "",
        "Each snapshot must also be RFC 8785 canonical: re-serializing it with any RFC 8785 tool "
        "(for example `python3 -c 'import json,sys,rfc8785; sys.stdout.buffer.write("
        "rfc8785.dumps(json.load(open(sys.argv[1]))))' inputs/brief.resolved.json | cmp - "
        "inputs/brief.resolved.json`) gives the same bytes.",
        "",
        "## 3. inputs_hash",
        "",
        "The sha256 of the RFC 8785 serialization of `{snapshot name: snapshot sha256}`. With "
        "ASCII names and hex values that serialization is exactly this text:",
        "",
        f"    printf '%s' '{hash_object}' | sha256sum",
        "",
        f"must print `{m.inputs_hash}` (the manifest's `inputs_hash`).",
        "",
        "## 4. run_id",
        "",
        f"    printf '{RUN_ID_PREFIX}%s' {m.inputs_hash} | sha256sum | cut -c1-32",
        "",
        f"must print `{m.run_id}`, the folder's name and the manifest's `run_id`.",
        "",
        "## 5. Outputs",
        "",
        "`manifest.json` lists every file under `outputs/` with its sha256 and size "
        "(`sha256sum outputs/*`).",
    ]
    if signed:
        parts += [
            "",
            "## 6. The attestation",
            "",
            "The envelope's signature covers DSSE's pre-authentication encoding of the payload; "
            "check it with the signer's Ed25519 public key, e.g. with the in-toto project's "
            "securesystemslib (`Envelope.from_dict(...).verify([SSlibKey.from_crypto(key)], 1)`) "
            f"or `sigilctl verify {m.job_id}/{m.run_id} --attestation attestations/"
            f"{m.run_id}.intoto.jsonl --pubkey KEY.pub.pem`. Its subjects must match step 5 and "
            "its resolvedDependencies step 2.",
        ]
    return "\n".join(parts) + "\n"
