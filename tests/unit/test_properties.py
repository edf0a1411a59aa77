"""Properties over random inputs (hypothesis).

- A brief built from random valid parts gives the same run_id twice, in two workspace folders,
  and whatever the YAML spelling (key order, flow style, ``1`` vs ``1.0``, CRLF).
- Nested JSON with astral-plane keys and edge floats canonicalizes exactly like the ``rfc8785``
  oracle (test_canonical.py covers general values; this targets UTF-16 key order).
- ``verify`` never crashes on a corrupted manifest: every mutation is a named problem or a
  clean report, and the CLI exits 1 or 2 with a message, never a traceback.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sigilctl.canonical import canonical_bytes
from sigilctl.cli import run_cli
from sigilctl.identity import compute_identity
from sigilctl.resolve import resolve_job
from sigilctl.runner import run_job
from sigilctl.verify import verify_run
from sigilctl.workspace import Workspace
from tests.helpers import REPO

JOB = "prop-job"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- random briefs from valid parts ---------------------------------------------------------

words = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s != "")
temperatures = st.one_of(
    st.integers(0, 2), st.floats(0, 2, allow_nan=False, allow_infinity=False)
)  # fmt: skip
briefs = st.fixed_dictionaries(
    {
        "job_id": st.just(JOB),
        "job_type": st.just("instagram_copy"),
        "brand": words,
        "doctrine": st.fixed_dictionaries(
            {"id": words, "version": words, "path": st.just("../_brands/sigilzero/doctrine.md")}
        ),
        "context": st.fixed_dictionaries(
            {
                "paths": st.lists(
                    st.sampled_from(
                        [
                            "../_brands/sigilzero/context/*.md",
                            "../_brands/sigilzero/context/0[1-3]-*.md",
                            "../_brands/sigilzero/context/05-team.md",
                        ]
                    ),
                    min_size=1,
                    max_size=3,
                    unique=True,
                )
            },
            optional={"query": words, "top_k": st.integers(1, 10)},
        ),
        "model": st.fixed_dictionaries(
            {
                "provider": st.sampled_from(["offline", "openai"]),
                "name": words,
                "temperature": temperatures,
                "max_tokens": st.integers(1, 1_000_000),
            },
            optional={"seed": st.integers(-(2**53 - 1), 2**53 - 1)},
        ),
        "params": st.fixed_dictionaries({"topic": words, "count": st.integers(1, 20)}),
    },
    optional={
        "observability": st.fixed_dictionaries(
            {}, optional={"enabled": st.booleans(), "sample_rate": st.floats(0, 1)}
        )
    },
)


def respell(value: Any) -> Any:
    """The same values spelled differently: keys reversed, whole floats as floats/ints."""
    if isinstance(value, dict):
        return {k: respell(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [respell(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
        return float(value) if abs(value) < 1e15 else value
    return value


@pytest.fixture(scope="module")
def two_workspaces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Workspace]:
    made = []
    for name in ("first/ws", "second/deeper/other-ws"):
        root = tmp_path_factory.mktemp("props") / name
        shutil.copytree(REPO / "jobs", root / "jobs")
        (root / "jobs" / JOB).mkdir()
        made.append(Workspace(root.resolve(), (root / "artifacts").resolve()))
    return made[0], made[1]


def identity_of(workspace: Workspace, text: str, *, crlf: bool = False) -> str:
    brief = workspace.jobs / JOB / "brief.yaml"
    brief.write_bytes(text.replace("\n", "\r\n").encode() if crlf else text.encode())
    return compute_identity(resolve_job(brief, workspace).snapshots).run_id


@FAST
@given(brief=briefs)
def test_a_random_brief_has_one_run_id_everywhere(
    two_workspaces: tuple[Workspace, Workspace], brief: dict[str, Any]
) -> None:
    first, second = two_workspaces
    plain = yaml.safe_dump(brief, allow_unicode=True, sort_keys=True)
    run_id = identity_of(first, plain)
    assert identity_of(first, plain) == run_id  # twice
    assert identity_of(second, plain) == run_id  # another folder
    other = yaml.safe_dump(respell(brief), default_flow_style=True, sort_keys=False)
    assert identity_of(second, other, crlf=True) == run_id  # another spelling


@settings(max_examples=4, deadline=None)
@given(brief=briefs)
def test_a_random_brief_end_to_end_has_one_run_id(
    two_workspaces: tuple[Workspace, Workspace], brief: dict[str, Any]
) -> None:
    brief["model"]["provider"] = "offline"
    first, second = two_workspaces
    text = yaml.safe_dump(brief, allow_unicode=True)
    ids = []
    for workspace in (first, second):
        (workspace.jobs / JOB / "brief.yaml").write_text(text)
        outcome = run_job(JOB, workspace)
        assert outcome.status == "succeeded" and verify_run(outcome.run_dir).ok
        ids.append(outcome.run_id)
    assert ids[0] == ids[1] == identity_of(first, text)


# --- canonical JSON: astral keys, nesting, edge floats ---------------------------------------

key_chars = st.sampled_from(
    ["a", "B", "z", "\x7f", "é", "\u00ff", "\u0800", "\ue000", "\uffff", "\U00010000",
     "\U0001f600", "\U0001f4a9", "\U0010ffff", "\u20ac", "\u2028"]
)  # fmt: skip
astral_keys = st.lists(key_chars, min_size=0, max_size=4).map("".join)
edge_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([5e-324, -5e-324, 2.2250738585072014e-308, 1e21, 1e-7, 9007199254740993.0,
                     0.1, -0.0, 1.7976931348623157e308, 123456789012345680000.0]),
)  # fmt: skip
nested = st.recursive(
    st.none() | st.booleans() | edge_floats | astral_keys | st.integers(-(2**53 - 1), 2**53 - 1),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(astral_keys, children, max_size=6),
    max_leaves=30,
)  # fmt: skip


@settings(max_examples=250, deadline=None)
@given(value=st.dictionaries(astral_keys, nested, min_size=1, max_size=8))
def test_astral_keys_and_edge_floats_match_the_oracle(value: dict[str, Any]) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


# --- verify on corrupted manifests -----------------------------------------------------------


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("verify-props") / "ws"
    shutil.copytree(REPO / "jobs", root / "jobs")
    outcome = run_job("ig-test-001", Workspace(root, root / "artifacts"))
    assert outcome.status == "succeeded"
    return outcome.run_dir


@pytest.fixture
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def copy_run(run_dir: Path, into: Path) -> Path:
    target = into / run_dir.parent.name / run_dir.name
    shutil.rmtree(target.parent, ignore_errors=True)
    shutil.copytree(run_dir, target)
    return target


def paths_of(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, (*here, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths_of(item, (*here, i))
    return found


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)
byte_edits = st.lists(
    st.tuples(st.sampled_from(["flip", "insert", "delete"]), st.integers(0, 10**6), st.binary(min_size=1, max_size=3)),
    min_size=1,
    max_size=4,
)  # fmt: skip


def edit_bytes(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    buffer = bytearray(data)
    for kind, position, chunk in edits:
        at = position % max(len(buffer), 1)
        if kind == "flip" and buffer:
            buffer[at] ^= chunk[0] or 1
        elif kind == "insert":
            buffer[at:at] = chunk
        elif buffer:
            del buffer[at : at + len(chunk)]
    return bytes(buffer)


def assert_reported(run_dir: Path) -> None:
    report = verify_run(run_dir)  # must not raise
    assert isinstance(report.ok, bool)
    for problem in report.problems:
        assert problem.message and "\n" not in problem.message
    json.dumps(report.as_json())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=byte_edits)
def test_verify_never_crashes_on_corrupted_manifest_bytes(
    real_run: Path, scratch: Path, edits: list[tuple[str, int, bytes]]
) -> None:  # fmt: skip
    run_dir = copy_run(real_run, scratch)
    original = (run_dir / "manifest.json").read_bytes()
    corrupted = edit_bytes(original, edits)
    (run_dir / "manifest.json").write_bytes(corrupted)
    assert_reported(run_dir)


IDENTITY_FIELDS = ("run_id", "inputs_hash", "job_id", "input_snapshots", "artifacts")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), replacement=json_values, delete=st.booleans())
def test_verify_never_crashes_on_corrupted_manifest_fields(
    real_run: Path, scratch: Path, data: st.DataObject, replacement: Any, delete: bool
) -> None:  # fmt: skip
    run_dir = copy_run(real_run, scratch)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    path = data.draw(st.sampled_from(paths_of(manifest)[1:]))
    parent = manifest
    for part in path[:-1]:
        parent = parent[part]
    before = parent[path[-1]]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        assume(replacement != before or type(replacement) is not type(before))
        parent[path[-1]] = replacement
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    assert_reported(run_dir)
    if path[0] in IDENTITY_FIELDS and not (delete and path[0] == "artifacts" and len(path) == 1):
        assert not verify_run(run_dir).ok, (path, replacement, delete)


CORRUPTIONS = {
    "empty": b"",
    "not json": b"{not json",
    "a list": b"[1, 2, 3]",
    "nul bytes": b"\x00\x00\x00",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "huge number": b'{"run_id": 1e999999}',
    "wrong types": b'{"run_id": [], "input_snapshots": "x", "artifacts": {"a": 1}}',
    "lone surrogate": b'{"job_id": "\\ud800"}',
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_verify_cli_on_corrupted_manifests_is_a_message_not_a_traceback(
    real_run: Path, scratch: Path, capfd: pytest.CaptureFixture[str], name: str
) -> None:
    run_dir = copy_run(real_run, scratch)
    (run_dir / "manifest.json").write_bytes(CORRUPTIONS[name])
    assert_reported(run_dir)
    for args in ((), ("--json",)):
        capfd.readouterr()
        code = run_cli(["verify", str(run_dir), *args])
        out, err = capfd.readouterr()
        assert code in (1, 2), (code, out, err)
        assert "Traceback" not in out + err
        assert (out + err).strip()
        if args:
            json.loads(out)
