"""``sigilctl export``: one archive an auditor checks with sha256sum and the README's recipe."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.faults import CHILD, wrap
from tests.helpers import make_run, run_python

CANARY = "CANARY-outside-the-run-7f3a"


def extract(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert all(not n.startswith("/") and ".." not in n.split("/") for n in names)
        tar.extractall(into, filter="data")
    (top,) = list(into.iterdir())
    return top


def test_the_archive_checks_with_sha256sum_and_the_readme_recomputes_the_ids(
    cli: Any, workspace: Path, tmp_path: Path
) -> None:
    run = make_run(cli, workspace)
    cli("attest", "keygen", "keys")
    assert cli("attest", run.name, "--key", "keys/attestation.key.pem").code == 0
    out = tmp_path / "audit.tar.gz"
    result = cli("export", run.name, "--out", str(out), "--json")
    assert result.code == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["attestation"] is True and outcome["verified"] is True
    top = extract(out, tmp_path / "x")
    assert top.name == f"sigilctl-export-{run.name}"
    inside = top / "ig-test-001" / run.name
    for rel in ("manifest.json", "inputs/context.resolved.json", "outputs/captions.json"):
        assert (inside / rel).read_bytes() == (run / rel).read_bytes()
    assert (top / "attestations" / f"{run.name}.intoto.jsonl").is_file()
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=top, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    readme = (top / "README.md").read_text()
    commands = [line.strip() for line in readme.splitlines() if line.startswith("    printf")]
    assert len(commands) == 2
    printed = [
        subprocess.run(["bash", "-c", c], capture_output=True, text=True, check=True).stdout
        for c in commands
    ]
    assert printed[0].split()[0] == manifest["inputs_hash"]
    assert printed[1].strip() == run.name
    sums = subprocess.run(
        ["bash", "-c", "sha256sum inputs/*.resolved.json"],
        cwd=inside,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name, entry in manifest["input_snapshots"].items():
        assert f"{entry['sha256']}  inputs/{name}.resolved.json" in sums
        assert f"{entry['sha256']}  inputs/{name}.resolved.json" in readme
    # The exported run verifies where it was unpacked, attestation included.
    verified = cli(
        "verify", str(inside), "--attestation", str(top / "attestations" / f"{run.name}.intoto.jsonl"),
        "--pubkey", "keys/attestation.pub.pem",
    )  # fmt: skip
    assert verified.code == 0, verified.stdout


def test_the_archive_is_byte_reproducible_and_holds_the_history(
    cli: Any, workspace: Path, tmp_path: Path
) -> None:
    run = make_run(cli, workspace)
    earlier = run.parent / ".history" / run.name / "20260101T000000.000Z-0badc0de"
    shutil.copytree(run, earlier)
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    assert cli("export", run.name, "--out", str(first)).code == 0
    os.utime(run / "manifest.json", (1, 1))  # file times never reach the archive
    assert cli("export", run.name, "--out", str(second)).code == 0
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        names = tar.getnames()
    history = [n for n in names if "/.history/" in n]
    assert (
        f"sigilctl-export-{run.name}/ig-test-001/.history/{run.name}/20260101T000000.000Z-0badc0de/manifest.json"
        in history
    )


@pytest.mark.parametrize("target", ["outputs/captions.json", "inputs"])
def test_a_symlink_in_the_run_stops_the_export_and_is_never_followed(
    cli: Any, workspace: Path, tmp_path: Path, target: str
) -> None:
    run = make_run(cli, workspace)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "context.resolved.json").write_text(CANARY)
    (outside / "captions.json").write_text(CANARY)
    victim = run / target
    shutil.rmtree(victim) if victim.is_dir() else victim.unlink()
    victim.symlink_to(outside / Path(target).name if target != "inputs" else outside)
    out = tmp_path / "audit.tar.gz"
    result = cli("export", run.name, "--out", str(out))
    assert result.code == 1
    assert "symbolic link" in result.stderr and CANARY not in result.stdout + result.stderr
    assert not out.exists()
    replay = cli("replay", run.name)
    assert replay.code == 1 and CANARY not in replay.stdout + replay.stderr
    diff = cli("diff", run.name, run.name)  # a linked snapshot stops it; an output is named
    assert "symbolic link" in diff.stderr or "does not verify" in diff.stderr
    assert CANARY not in diff.stdout + diff.stderr


def test_a_crash_before_the_rename_leaves_the_previous_archive_whole(
    cli: Any, workspace: Path, tmp_path: Path
) -> None:
    run = make_run(cli, workspace)
    out = tmp_path / "audit.tar.gz"
    assert cli("export", run.name, "--out", str(out)).code == 0
    before = out.read_bytes()
    cli("attest", "keygen", "keys")
    cli("attest", run.name, "--key", "keys/attestation.key.pem")  # the next export differs
    child = run_python(
        "-c", CHILD.format(inject=wrap("sigilctl.durable", "_rename_in", "before")),
        "export", run.name, "--out", str(out), cwd=workspace,
    )  # fmt: skip
    assert child.code == -signal.SIGKILL, child.stderr
    assert out.read_bytes() == before
    assert cli("export", run.name, "--out", str(out)).code == 0
    assert out.read_bytes() != before


def test_nothing_is_written_inside_a_run_folder(cli: Any, workspace: Path) -> None:
    run = make_run(cli, workspace)
    cli("attest", "keygen", "keys")
    export = cli("export", run.name, "--out", str(run / "outputs" / "a.tar.gz"))
    attest = cli(
        "attest", run.name, "--key", "keys/attestation.key.pem", "--out", str(run / "x.jsonl")
    )
    assert export.code == attest.code == 2
    assert "inside the run folder" in export.stderr and "inside the run folder" in attest.stderr
    assert cli("verify", str(run)).code == 0


def test_a_crash_around_the_cache_hit_log_leaves_runs_and_log_readable(
    cli: Any, workspace: Path
) -> None:
    from sigilctl.cache_log import read_cache_hits

    run = make_run(cli, workspace)
    for when in ("before", "after"):
        child = run_python(
            "-c", CHILD.format(inject=wrap("sigilctl.cache_log", "append_hit", when)),
            "run", "ig-test-001", cwd=workspace,
        )  # fmt: skip
        assert child.code == -signal.SIGKILL, child.stderr
    assert cli("verify", "--all").code == 0
    hits = read_cache_hits(workspace / "artifacts")
    assert [h.run_id for h in hits] == [run.name]  # the "after" kill had written its line
    again = cli("run", "ig-test-001", "--json")
    assert json.loads(again.stdout)["cached"] is True
    assert len(read_cache_hits(workspace / "artifacts")) == 2
