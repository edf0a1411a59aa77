"""Hostile inputs through the real CLI, each in a child process: input errors, never unexpected ones.

Deep nesting, link loops (as the doctrine, a context file, --root, --artifacts), a job folder
linked outside the root, context folders that link back into themselves, and terminal escape
codes or newlines in names. Each is exit 2 with one sentence naming the file (or a clean run),
no traceback, nothing hangs, and no control character reaches the terminal raw.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from sigilctl.nesting import MAX_NESTING
from tests.helpers import Result, make_run, run_subprocess

JOB = "ig-test-001"
BRIEF = f"jobs/{JOB}/brief.yaml"
Cli = Callable[..., Result]
ESCAPE = "\x1b[2J\x1b]0;owned\x07"


def edit_brief(workspace: Path, old: str, new: str) -> None:
    path = workspace / BRIEF
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def assert_one_sentence(result: Result, code: int, words: list[str]) -> None:
    assert result.code == code, (result.code, result.stderr)
    err = result.stderr.strip()
    assert err.startswith("sigilctl: error: "), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "unexpected" not in err, err
    for word in words:
        assert word in err, (word, err)


def assert_no_raw_control(result: Result) -> None:
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\x07" not in stream, stream


# --- deep nesting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nested",
    [
        "[" * 600 + "]" * 600,  # the reported case: RecursionError, exit 1
        "{a: " * 5000 + "1" + "}" * 5000,
        "\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)) + "  " * 200 + "v: 1",
    ],
    ids=["flow-lists-600", "flow-maps-5000", "block-maps-200"],
)
def test_deeply_nested_yaml_is_an_input_error(workspace: Path, nested: str) -> None:
    edit_brief(workspace, "  count: 3", f"  count: 3\n  deep: {nested}")
    result = run_subprocess("run", JOB, cwd=workspace)
    assert_one_sentence(result, 2, ["brief.yaml", f"deeper than {MAX_NESTING} levels"])
    assert list((workspace / "artifacts").iterdir()) == []


def test_deeply_nested_manifest_is_a_clear_error_for_every_reader(
    workspace: Path, cli: Cli
) -> None:
    run_dir = make_run(cli, workspace)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    deep: object = {"langfuse_trace_id": "x"}
    for _ in range(900):
        deep = [deep]
    manifest["notes"] = deep
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    for args in (("show", str(run_dir)), ("show", run_dir.name, "--json")):
        result = run_subprocess(*args, cwd=workspace)
        assert_one_sentence(result, 2, ["manifest.json", f"deeper than {MAX_NESTING} levels"])
        assert result.stdout == ""
    verified = run_subprocess("verify", str(run_dir), "--json", cwd=workspace)
    assert verified.code == 1, verified.stderr
    [problem] = json.loads(verified.stdout)["runs"][0]["problems"]
    assert problem["kind"] == "manifest_unreadable"
    reindexed = run_subprocess("reindex", "--json", cwd=workspace)
    assert reindexed.code == 0 and json.loads(reindexed.stdout)["skipped"] == 1


# --- link loops and links out of the root ----------------------------------------------------


def test_a_doctrine_that_is_a_link_loop(workspace: Path) -> None:
    os.symlink("loop.md", workspace / "jobs/_brands/sigilzero/loop.md")
    edit_brief(workspace, "sigilzero/doctrine.md", "sigilzero/loop.md")
    result = run_subprocess("run", JOB, cwd=workspace)
    assert_one_sentence(result, 2, ["brief.yaml", "doctrine.path", "symbolic link loop"])


def test_a_context_file_that_is_a_link_loop(workspace: Path) -> None:
    os.symlink("00-loop.md", workspace / "jobs/_brands/sigilzero/context/00-loop.md")
    result = run_subprocess("run", JOB, cwd=workspace)
    assert_one_sentence(result, 2, ["brief.yaml", "context path", "symbolic link loop"])


@pytest.mark.parametrize("command", [("run", JOB), ("show", JOB), ("verify", "--all"), ("runs",)])
@pytest.mark.parametrize("how", ["--root", "--artifacts", "SIGILCTL_ROOT", "SIGILCTL_ARTIFACTS"])
def test_root_or_artifacts_that_is_a_link_loop(
    workspace: Path, tmp_path: Path, how: str, command: tuple[str, ...]
) -> None:
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    if how.startswith("--"):
        result = run_subprocess(*command, how, str(loop), cwd=workspace)
    else:
        result = run_subprocess(*command, cwd=workspace, env={how: str(loop)})
    what = "workspace root" if "ROOT" in how.upper() else "artifacts folder"
    assert_one_sentence(result, 2, [what, str(loop), "symbolic link loop"])


def test_a_job_folder_linked_outside_the_root(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "outj"
    shutil.copytree(workspace / f"jobs/{JOB}", outside)
    (outside / "brief.yaml").write_text(
        (outside / "brief.yaml").read_text().replace(f"job_id: {JOB}", "job_id: outj")
    )
    os.symlink(outside, workspace / "jobs/outj")
    result = run_subprocess("run", "outj", cwd=workspace)
    assert_one_sentence(result, 2, ["brief.yaml", "outside the workspace root"])
    assert list((workspace / "artifacts").iterdir()) == []


# --- context folders that link back into themselves ------------------------------------------


def looping_context(workspace: Path, pattern: str, *, notes: bool = True) -> None:
    """The reported tree: `ln -s . a; ln -s . b` in a context folder the brief globs."""
    folder = workspace / "jobs/_x"
    folder.mkdir()
    if notes:
        (folder / "notes.md").write_text("Provenance notes for the caption run.\n")
    os.symlink(".", folder / "a")
    os.symlink(".", folder / "b")
    edit_brief(workspace, "../_brands/sigilzero/context/*.md", pattern)


def test_a_recursive_glob_over_links_back_into_the_tree_ends(workspace: Path) -> None:
    looping_context(workspace, "../_x/**/*.md")
    result = run_subprocess("run", JOB, "--json", cwd=workspace, timeout=60)
    assert result.code == 0, result.stderr
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    context = json.loads((run_dir / "inputs/context.resolved.json").read_text())
    assert [d["path"] for d in context["documents"]] == ["jobs/_x/notes.md"]


def test_a_glob_that_fans_out_over_links_is_refused(workspace: Path) -> None:
    """No `**`, yet 2**30 folders to list: the folder bound ends it (glob never returned)."""
    pattern = "../_x/" + "*/" * 30 + "*.md"
    looping_context(workspace, pattern, notes=False)
    result = run_subprocess("run", JOB, cwd=workspace, timeout=60)
    assert_one_sentence(result, 2, ["brief.yaml", "context.paths", pattern, "folders (the limit)"])


# --- terminal escape codes and newlines in names ---------------------------------------------


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_escape_codes_in_a_job_path_are_escaped(workspace: Path, verbose: tuple[str, ...]) -> None:
    result = run_subprocess(*verbose, "run", f"jobs/ev{ESCAPE}il\nforged line", cwd=workspace)
    assert result.code == 2
    assert_no_raw_control(result)
    assert "\\x1b[2J" in result.stderr
    if not verbose:
        assert_one_sentence(result, 2, ["no brief at"])


def test_escape_codes_in_a_doctrine_path_are_escaped(workspace: Path) -> None:
    edit_brief(
        workspace,
        "../_brands/sigilzero/doctrine.md",
        '"../_brands/sigilzero/\\e[2J\\nforged.md"',
    )
    for verbose in ((), ("-v",)):
        result = run_subprocess(*verbose, "run", JOB, cwd=workspace)
        assert result.code == 2
        assert_no_raw_control(result)
        if not verbose:
            assert_one_sentence(result, 2, ["doctrine", "\\x1b[2J\\nforged.md"])


def test_escape_codes_in_a_run_folder_name_are_escaped(workspace: Path, cli: Cli) -> None:
    run_dir = make_run(cli, workspace)
    shutil.copytree(run_dir, run_dir.parent / f"x{ESCAPE}\nforged")
    for args in (("reindex",), ("verify", "--all"), ("runs",), ("show", JOB)):
        result = run_subprocess(*args, cwd=workspace)
        assert result.code in (0, 1), (args, result.stderr)
        assert_no_raw_control(result)
        assert "\nforged" not in result.stderr, result.stderr


def test_escape_codes_and_markup_in_a_brand_are_shown_not_obeyed(workspace: Path) -> None:
    edit_brief(workspace, "brand: sigilzero", 'brand: "[bold]sigil\\e[31mzero\\nforged"')
    assert run_subprocess("run", JOB, cwd=workspace).code == 0
    for args in (("show", JOB), ("runs",), ("verify", "--all")):
        result = run_subprocess(*args, cwd=workspace)
        assert result.code == 0, (args, result.stderr)
        assert_no_raw_control(result)
    shown = run_subprocess("show", JOB, cwd=workspace).stdout
    assert "[bold]sigil\\x1b[31mzero\\nforged" in shown
