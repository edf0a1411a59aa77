"""The audit floor's building blocks, called directly: the run-file door, the confinement,
patch explanations and key ids."""

from __future__ import annotations

import importlib
import os
import socket
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import SSlibKey

from sigilctl.audit.confine import Confinement, confined
from sigilctl.audit.diff import explain, make_patch, text_delta
from sigilctl.audit.keys import keyid
from sigilctl.audit.reading import UnsafeRunFile, read_run_file, walk_tree


def make_run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "job" / "run"
    (run / "inputs").mkdir(parents=True)
    (run / "outputs").mkdir()
    (run / "manifest.json").write_text("{}")
    (run / "inputs" / "brief.resolved.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("CANARY")
    return run


@pytest.mark.parametrize(
    "rel", ["../secret.txt", "/etc/passwd", "inputs/../manifest.json", "other/x", "inputs//a"]
)
def test_paths_that_are_not_plain_run_paths_are_refused(tmp_path: Path, rel: str) -> None:
    run = make_run_dir(tmp_path)
    with pytest.raises(UnsafeRunFile):
        read_run_file(run, rel)


def test_a_link_anywhere_on_the_way_is_refused(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path)
    (run / "outputs" / "x.json").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(UnsafeRunFile, match="symbolic link"):
        read_run_file(run, "outputs/x.json")
    (run / "outputs").rename(run / "real-outputs")
    (run / "outputs").symlink_to(run / "real-outputs")
    (run / "real-outputs" / "y.json").write_text("{}")
    with pytest.raises(UnsafeRunFile, match="symbolic link"):
        read_run_file(run, "outputs/y.json")
    assert read_run_file(run, "inputs/brief.resolved.json") == b"{}"
    kinds = {e.rel: e.kind for e in walk_tree(run)}
    assert kinds["outputs"] == "link" and "outputs/y.json" not in kinds


def test_confinement_records_reads_listings_and_connections_beyond_its_folder(
    tmp_path: Path,
) -> None:
    inside = tmp_path / "scratch"
    inside.mkdir()
    (tmp_path / "outside.txt").write_text("x")
    with confined(Confinement([inside])) as box:
        (inside / "ok.txt").write_text("fine")
        (inside / "ok.txt").read_text()
        (tmp_path / "outside.txt").read_text()
        os.listdir(tmp_path)
        with socket.socket() as sock, pytest.raises(OSError):
            sock.connect(("127.0.0.1", 9))
        importlib.import_module("sigilctl.audit.export_readme")  # importing code is fine
    assert any("outside.txt" in leak for leak in box.leaks)
    assert any(leak.startswith("listed") for leak in box.leaks)
    assert any("network" in leak for leak in box.leaks)
    assert not any("ok.txt" in leak or leak.endswith(".py") for leak in box.leaks)
    assert len(box.leaks) == 3
    (tmp_path / "outside.txt").read_text()  # outside a confinement nothing is recorded
    assert len(box.leaks) == 3


def test_explained_changes_carry_the_value_each_operation_replaced() -> None:
    before = {"documents": [{"p": "a"}, {"p": "b"}, {"p": "c"}], "n": 1, "text": "x\ny\n"}
    after = {"documents": [{"p": "a"}, {"p": "c"}], "n": 2, "text": "x\nz\n"}
    patch = make_patch(before, after)
    changes = {c.path: c for c in explain(before, patch)}
    assert changes["/n"].old == 1 and changes["/n"].new == 2
    removed = [c for c in changes.values() if c.op == "remove"]
    assert removed and removed[0].old == {"p": "b"}
    assert changes["/text"].text_delta() == ["@@ -1,2 +1,2 @@", " x", "-y", "+z"]


def test_text_delta_is_bounded() -> None:
    old = "\n".join(f"line {i}" for i in range(200))
    new = "\n".join(f"LINE {i}" for i in range(200))
    lines = text_delta(old, new)
    assert len(lines) == 41 and lines[-1].endswith("more diff line(s)")


def test_our_keyid_is_the_one_securesystemslib_computes() -> None:
    public = Ed25519PrivateKey.generate().public_key()
    assert keyid(public) == SSlibKey.from_crypto(public).keyid
