"""The worked example of docs/determinism.md, pinned: a change here is a change of contract."""

from __future__ import annotations

from pathlib import Path

from sigilctl.identity import compute_identity

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = {
    "brief": {"job_id": "demo", "model": {"temperature": 1.0}},
    "doctrine": {"id": "voice", "text": "Be calm.\n"},
    "context": {"documents": []},
    "model_config": {"provider": "offline", "temperature": 1},
    "pipeline": {"job_type": "instagram_copy", "version": "1.0.0"},
}
EXPECTED_HASHES = {
    "brief": "f6f7eabfa6fb5aec9794dba0d5201bc2a1eeb7dd13ea08822bcc6e3557aa37c4",
    "context": "f332a4181af7c4a82f09927e71369910957b21632a21eb990216dbd59c728dd3",
    "doctrine": "3630ea67700af91e5edf29baae5b46512e9997eb8adef38ed3561ed37d0b517b",
    "model_config": "2aa282508aad6303426502be4af7ab3b68bbc08a57af1e2293d243bc66b8049d",
    "pipeline": "7fc6b526ab6a43d7ba70c718a1139f68c85c45e0679e49f45c054a49bd0a2ea9",
}
INPUTS_HASH = "ac0b055084b3d8f99c7b91514dc2aeec260fd95e304414bdb1eea1120fae9fbc"
RUN_ID = "8d36797f1215befb59f03acc0517f34f"


def test_worked_example_hashes() -> None:
    identity = compute_identity(EXAMPLE)
    assert identity.snapshots["brief"] == b'{"job_id":"demo","model":{"temperature":1}}'
    assert identity.snapshot_hashes == EXPECTED_HASHES
    assert identity.inputs_hash == INPUTS_HASH
    assert identity.run_id == RUN_ID


def test_the_document_states_the_same_numbers() -> None:
    text = (REPO / "docs/determinism.md").read_text()
    for value in (*EXPECTED_HASHES.values(), INPUTS_HASH, RUN_ID):
        assert value in text
