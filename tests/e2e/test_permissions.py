"""Everything under artifacts/ is created with the user's umask, and nothing is world-writable.

Run folders, snapshots, outputs, manifests, lock files (opened with 0o666, so the umask
decides) and the index are made by a real child process under umask 022 and 077.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.helpers import run_python

JOB = "ig-test-001"
CHILD = """
import os, sys
os.umask(int(sys.argv[1], 8))
from sigilctl.cli import run_cli
sys.exit(run_cli(sys.argv[2:]))
"""


def sigilctl_with_umask(workspace: Path, umask: int, *args: str) -> None:
    proc = run_python("-c", CHILD, f"{umask:o}", *args, cwd=workspace)
    assert proc.code == 0, proc.stderr


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["022", "077"])
def test_everything_follows_the_umask(workspace: Path, umask: int) -> None:
    artifacts = workspace / "artifacts"
    artifacts.rmdir()  # created by the child, so its mode is the child's too
    sigilctl_with_umask(workspace, umask, "run", JOB)
    sigilctl_with_umask(workspace, umask, "reindex")
    sigilctl_with_umask(workspace, umask, "run", JOB, "--force")  # an upsert and a replace
    sigilctl_with_umask(workspace, umask, "run", "--provider", "offline", "ig-launch-openai")
    # The audit tools' files: an attestation (under artifacts/) and an export, written whole.
    keys = workspace / "keys"  # a key folder is its owner's (0700), kept out of artifacts/
    sigilctl_with_umask(workspace, umask, "attest", "keygen", str(keys))
    sigilctl_with_umask(workspace, umask, "attest", JOB, "--key", str(keys / "attestation.key.pem"))
    sigilctl_with_umask(workspace, umask, "export", JOB, "--out", str(artifacts / "run.tar.gz"))
    private = keys / "attestation.key.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600  # a private key: its owner's alone
    public = stat.S_IMODE((keys / "attestation.pub.pem").stat().st_mode)
    assert public == 0o666 & ~umask, f"{public:o}"
    seen = {"dir": 0, "file": 0, "lock": 0, "index": 0}
    for path in [artifacts, *artifacts.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert not mode & stat.S_IWOTH, f"{path} is world-writable ({mode:o})"
        if path.is_dir():
            assert mode == 0o777 & ~umask, f"{path}: {mode:o}"
            seen["dir"] += 1
        else:
            assert path.is_file() and not path.is_symlink(), path
            assert mode == 0o666 & ~umask, f"{path}: {mode:o}"
            kind = "lock" if path.suffix == ".lock" else "file"
            kind = "index" if ".sigilctl" in path.parts else kind
            seen[kind] += 1
    assert seen["dir"] >= 8 and seen["file"] >= 12, seen
    assert seen["lock"] >= 2 and seen["index"] >= 2, seen  # run locks; the index and its lock
