"""Observation 3: validate a brief, see its run_id, whether it is a cache hit and the prompt,
without running (and paying). ``check`` and ``run --dry-run`` write nothing at all."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import closed_port_url, failing_openai

Cli = Callable[..., Any]


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``root`` with its size and mtime: any write shows."""
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            stat = path.lstat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Langfuse configured (at a closed port): a run would trace and spool; check must not."""
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-test")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-test")
    monkeypatch.setenv("LANGFUSE_BASE_URL", closed_port_url().removesuffix("/v1"))


@pytest.mark.parametrize("command", [("check",), ("run", "--dry-run")])
def test_check_writes_nothing_before_or_after_a_run(
    workspace: Path, cli: Cli, traced: None, command: tuple[str, ...]
) -> None:
    before = tree(workspace)
    first = cli(*command, "ig-test-001", "--prompt", "--json")
    assert first.code == 0, first.stderr
    assert tree(workspace) == before  # no run dir, lock, index, trace spool, cache log
    would = json.loads(first.stdout)
    assert would["cache_hit"] is False and would["verdict"] == "would run"
    assert "Write 3 Instagram captions" in would["prompt"]["prompt"]
    assert "SigilZero brand doctrine" in would["prompt"]["prompt"]

    ran = cli("run", "ig-test-001", "--json", "--no-trace")
    assert ran.code == 0, ran.stderr
    assert json.loads(ran.stdout)["run_id"] == would["run_id"]
    assert json.loads(ran.stdout)["inputs_hash"] == would["inputs_hash"]

    before = tree(workspace)
    again = cli(*command, "ig-test-001", "--json")
    assert again.code == 0, again.stderr
    assert tree(workspace) == before
    hit = json.loads(again.stdout)
    assert hit["cache_hit"] is True and hit["run_id"] == would["run_id"]


def test_check_shows_what_a_run_would_use(workspace: Path, cli: Cli) -> None:
    result = cli("check", "ig-test-001")
    assert result.code == 0, result.stderr
    out = result.stdout
    for expected in (
        "would run (no run yet)",
        "offline/offline-captioner",
        "brand-voice v1.0 (jobs/_brands/sigilzero/doctrine.md)",
        "jobs/_brands/sigilzero/context/",
    ):
        assert expected in out, expected
    assert "Prompt" not in out  # only with --prompt
    assert "nothing was written" in result.stderr


def test_check_many_jobs_one_line_each_and_the_worst_exit(workspace: Path, cli: Cli) -> None:
    brief = workspace / "jobs/email-test-001/brief.yaml"
    brief.write_text(brief.read_text().replace("  topic:", "  topik:"))
    before = tree(workspace)
    result = cli("check", "--all", "-j", "2")
    assert tree(workspace) == before
    assert result.code == 2  # an invalid brief and an openai job without a key
    lines = result.stdout.splitlines()
    assert len(lines) == 4  # three jobs, then the summary
    assert any(line.startswith("✓ ig-test-001") and "would run" in line for line in lines)
    assert any(line.startswith("✗ email-test-001  invalid") for line in lines)
    assert any("provider not ready" in line for line in lines)
    assert "3 job(s) checked" in lines[-1]
    assert "unknown key 'params.topik' (did you mean 'topic'?)" in result.stderr
    documents = json.loads(cli("check", "--all", "--json").stdout)
    assert sorted(d["job_id"] for d in documents) == [
        "email-test-001", "ig-launch-openai", "ig-test-001"
    ]  # fmt: skip


def test_check_reports_the_provider_it_would_call(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_openai(monkeypatch)
    result = cli("check", "ig-launch-openai", "--json")
    assert result.code == 0, result.stderr
    provider = json.loads(result.stdout)["provider"]
    assert provider["name"] == "openai" and provider["model"] == "gpt-4o-mini"
    assert provider["endpoint"].startswith("http://127.0.0.1:") and provider["ready"] is True


def test_prompt_needs_dry_run(workspace: Path, cli: Cli) -> None:
    result = cli("run", "ig-test-001", "--prompt")
    assert result.code == 2
    assert "--prompt" in result.stderr and not list((workspace / "artifacts").iterdir())
