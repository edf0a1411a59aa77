"""Every bad input: one sentence naming the file/field, exit 2, nothing under artifacts/."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

BRIEF = "jobs/ig-test-001/brief.yaml"


def replace_in_brief(old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / BRIEF
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new))

    return change


def write_brief(text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / BRIEF).write_text(text)

    return change


def write_bytes(relative: str, data: bytes) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / relative).write_bytes(data)

    return change


def symlink_doctrine_outside(root: Path) -> None:
    outside = root.parent / "outside.md"
    outside.write_text("# secret doctrine outside the workspace\n")
    link = root / "jobs/_brands/sigilzero/linked.md"
    os.symlink(outside, link)
    replace_in_brief("sigilzero/doctrine.md", "sigilzero/linked.md")(root)


ALIAS_BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
job_id: ig-test-001
"""

CASES: list[tuple[str, Callable[[Path], None], list[str]]] = [
    (
        "malformed yaml",
        replace_in_brief("brand: sigilzero", "brand: [sigilzero"),
        ["line", "malformed YAML"],
    ),
    (
        "unknown key",
        replace_in_brief("brand: sigilzero", "brand: sigilzero\ncolour: red"),
        ["unknown key 'colour'"],
    ),
    (
        "unknown nested key",
        replace_in_brief("  seed: 42", "  seed: 42\n  top_p: 1"),
        ["unknown key 'model.top_p'"],
    ),
    ("missing key", replace_in_brief("brand: sigilzero\n", ""), ["missing required key 'brand'"]),
    (
        "unknown job_type",
        replace_in_brief("job_type: instagram_copy", "job_type: tiktok"),
        ["unknown job_type 'tiktok'", "instagram_copy"],
    ),
    (
        "job_id not folder",
        replace_in_brief("job_id: ig-test-001", "job_id: ig-test-002"),
        ["must equal its folder name"],
    ),
    (
        "job_id pattern",
        replace_in_brief("job_id: ig-test-001", "job_id: '../x'"),
        ["job_id", "must match"],
    ),
    (
        "missing doctrine",
        replace_in_brief("sigilzero/doctrine.md", "sigilzero/nope.md"),
        ["doctrine", "nope.md", "does not exist"],
    ),
    (
        "glob matches nothing",
        replace_in_brief("context/*.md", "context/*.txt"),
        ["context.paths", "matches no file"],
    ),
    (
        "path escapes root",
        replace_in_brief("../_brands/sigilzero/doctrine.md", "../../../etc/hostname"),
        ["doctrine.path", "outside the workspace"],
    ),
    ("escape via symlink", symlink_doctrine_outside, ["doctrine.path", "outside the workspace"]),
    (
        "non-utf8 doctrine",
        write_bytes("jobs/_brands/sigilzero/doctrine.md", b"caf\xe9 voice\n"),
        ["doctrine", "not valid UTF-8"],
    ),
    (
        "binary context",
        write_bytes("jobs/_brands/sigilzero/context/01-provenance.md", b"\x00\x01\x02"),
        ["context file", "binary"],
    ),
    ("non-utf8 brief", write_bytes(BRIEF, b"job_id: caf\xe9\n"), ["brief.yaml", "not valid UTF-8"]),
    (
        "python tag",
        replace_in_brief("brand: sigilzero", "brand: !!python/object/apply:os.system ['true']"),
        ["line", "tags"],
    ),
    ("alias bomb", write_brief(ALIAS_BOMB), ["aliases", "not allowed"]),
    (
        "duplicate key",
        replace_in_brief("brand: sigilzero", "brand: sigilzero\nbrand: other"),
        ["duplicate key 'brand'"],
    ),
    (
        "nan temperature",
        replace_in_brief("temperature: 0.7", "temperature: .nan"),
        ["model.temperature"],
    ),
    (
        "infinite max_tokens",
        replace_in_brief("max_tokens: 800", "max_tokens: .inf"),
        ["model.max_tokens"],
    ),
    ("bad params", replace_in_brief("count: 3", "count: 0"), ["params.count"]),
    (
        "unknown param",
        replace_in_brief("count: 3", "count: 3\n  tone: loud"),
        ["unknown key 'params.tone'"],
    ),
    ("empty brief", write_brief(""), ["brief is empty"]),
    ("brief is a list", write_brief("- a\n- b\n"), ["must be a mapping", "list"]),
    (
        "huge brief",
        write_brief("job_id: ig-test-001\n" + "# pad\n" * 2_000_000),
        ["over the", "limit"],
    ),
]


@pytest.mark.parametrize(("name", "change", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_sentence_and_exit_2(
    workspace: Path,
    cli: Callable[..., object],
    name: str,
    change: Callable[[Path], None],
    words: list[str],
) -> None:
    change(workspace)
    result = cli("run", "ig-test-001")
    assert result.code == 2, (name, result.stderr)  # type: ignore[attr-defined]
    err = result.stderr.strip()  # type: ignore[attr-defined]
    assert err.startswith("sigilctl: error: ")
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert list((workspace / "artifacts").iterdir()) == []


@pytest.mark.parametrize(
    ("job", "words"),
    [
        ("no-such-job", ["no job 'no-such-job'", "'sigilctl jobs' lists them"]),
        ("ig-tset-001", ["no job 'ig-tset-001'", "did you mean 'ig-test-001'"]),
        ("jobs/ig-test-001/missing.yaml", ["no brief at"]),
        ("bad/..//", ["no brief"]),
        ("-x", ["sigilctl: error: run: no such option: -x"]),
    ],
)
def test_bad_job_argument(
    workspace: Path, cli: Callable[..., object], job: str, words: list[str]
) -> None:
    result = cli("run", job)
    assert result.code == 2  # type: ignore[attr-defined]
    for word in words:
        assert word in result.stderr  # type: ignore[attr-defined]


def test_job_folder_without_brief(workspace: Path, cli: Callable[..., object]) -> None:
    (workspace / "jobs/empty-job").mkdir()
    result = cli("run", "empty-job")
    assert result.code == 2  # type: ignore[attr-defined]
    assert "has no brief.yaml" in result.stderr  # type: ignore[attr-defined]


def test_traceback_only_with_verbose(workspace: Path, cli: Callable[..., object]) -> None:
    replace_in_brief("brand: sigilzero", "colour: red\nbrand: sigilzero")(workspace)
    quiet = cli("run", "ig-test-001")
    loud = cli("-v", "run", "ig-test-001")
    assert "Traceback" not in quiet.stderr  # type: ignore[attr-defined]
    assert "Traceback" in loud.stderr and loud.code == 2  # type: ignore[attr-defined]
