"""Observations 4 and 8: `runs`, `show` and `jobs` read at 80 columns when piped.

No line is wider than ``COLUMNS`` (80 by default off a terminal), no job id or short run id is
split across lines, one border style (an ASCII rule under the header, no frame), UTC times are
marked with Z, numbers are right-aligned; `runs` has a default limit, shows provider/model,
duration, tokens and cost, the error's first words, and never advises a reindex that would fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import add_job, failing_openai, run_subprocess
from tests.openai_server import serve

Cli = Callable[..., Any]
LONG = "nw-autumn-launch-captions-2026-001"  # a realistic, long job id


def assert_fits(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        assert len(line) <= width, f"{len(line)} columns: {line!r}"
    assert "|" not in text and "╭" not in text and "+--" not in text  # one border style


def assert_whole(text: str, *words: str) -> None:
    """Each word appears whole on one line (an id folded across lines would not)."""
    for word in words:
        assert any(word in line for line in text.splitlines()), f"{word} split or missing"


@pytest.fixture
def day(workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A long-named job, the example jobs, a paid openai run (usage and cost known, from the
    test server) and a failed one; run ids by job."""
    monkeypatch.setenv("COLUMNS", "80")
    add_job(workspace, LONG)
    add_job(workspace, "ig-openai-fails", source="ig-launch-openai")
    run_ids = {}
    for job in (LONG, "ig-test-001", "email-test-001"):
        result = cli("run", job, "--json")
        assert result.code == 0, result.stderr
        run_ids[job] = json.loads(result.stdout)["run_id"]
    with serve() as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "0f" * 20)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        paid = cli("run", "ig-launch-openai", "--json")
        assert paid.code == 0, paid.stderr
        run_ids["ig-launch-openai"] = json.loads(paid.stdout)["run_id"]
    failing_openai(monkeypatch)
    failed = cli("run", "ig-openai-fails", "--json")
    assert failed.code == 1
    run_ids["ig-openai-fails"] = json.loads(failed.stdout)["run_id"]
    return run_ids


def test_runs_fits_80_columns_with_model_duration_tokens_and_errors(
    workspace: Path, cli: Cli, day: dict[str, str]
) -> None:
    result = cli("runs")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert_fits(out)
    assert_whole(out, LONG, *(run_id[:12] for run_id in day.values()))
    header = out.splitlines()[0].split()
    assert header[:5] == ["age", "job", "run", "status", "model"]
    assert len(out.splitlines()) == 2 + 5 + 1
    offline = next(line for line in out.splitlines() if day["ig-test-001"][:12] in line)
    assert " offline" in offline and "openai" not in offline  # never looks like a model's
    failed = cli("runs", "--job", "ig-openai-fails").stdout.splitlines()[2]
    assert "failed: the Open" in failed and "gpt-4o-mini" in failed
    assert out.splitlines()[-1] == "5 run(s)"
    # A paid run: tokens and what it cost come before its duration when room is short.
    short = cli("runs", "--job", "ig-launch-openai").stdout
    assert_fits(short)
    header = short.splitlines()[0].split()
    assert header == ["age", "job", "run", "status", "model", "tokens", "cost"]
    paid = short.splitlines()[2]
    assert " gpt-4o-mini" in paid and " 444" in paid and "$0.0001" in paid
    [document] = json.loads(cli("runs", "--job", "ig-launch-openai", "--json").stdout)
    assert document["cost_usd"] > 0  # the index records what the run cost


def test_runs_wide_shows_utc_times_and_whole_ids(
    workspace: Path, cli: Cli, day: dict[str, str]
) -> None:
    out = cli("runs", "--wide").stdout
    for run_id in day.values():
        assert run_id in out
    assert "kept failing (connection error)" in out
    stamps = [line.split()[0] + " " + line.split()[1] for line in out.splitlines()[2:-1]]
    assert all(stamp.endswith("Z") and len(stamp) == 20 for stamp in stamps), stamps


def test_runs_limit_json_and_csv(workspace: Path, cli: Cli, day: dict[str, str]) -> None:
    limited = cli("runs", "--limit", "2")
    assert "showing the newest 2 runs; there are more (--limit 0 for all)" in limited.stdout
    documents = json.loads(cli("runs", "--format", "json").stdout)
    assert len(documents) == 5 and documents == json.loads(cli("runs", "--json").stdout)
    assert {d["provider"] for d in documents} == {"offline", "openai"}
    csv = cli("runs", "--format", "csv", "--limit", "1")
    assert csv.code == 0
    header, row = csv.stdout.splitlines()
    assert header.startswith("run_id,job_id,status,started_at,finished_at,duration_ms")
    assert row.split(",")[0] == documents[0]["run_id"]
    assert "showing the newest 1 runs; there are more" in csv.stderr


def test_runs_has_a_default_limit_of_50(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(52):
        add_job(workspace, f"bulk-{i:03d}")
    result = cli("run", *(f"bulk-{i:03d}" for i in range(52)), "-j", "2", "--json")
    assert result.code == 0, result.stderr
    listed = cli("runs")
    assert len(listed.stdout.splitlines()) == 2 + 50 + 1
    assert listed.stdout.splitlines()[-1].startswith("showing the newest 50 runs")
    assert len(json.loads(cli("runs", "--limit", "0", "--json").stdout)) == 52


def test_show_fits_80_columns_and_names_doctrine_context_provider(
    workspace: Path, cli: Cli, day: dict[str, str]
) -> None:
    out = cli("show", LONG).stdout
    assert_fits(out)
    assert_whole(out, LONG, day[LONG], "jobs/_brands/sigilzero/context/02-caching.md")
    assert "brand-voice v1.0 (jobs/_brands/sigilzero/doctrine.md)" in out
    context = out.split("Context (retrieved, by rank)")[1].split("Input snapshots")[0]
    ranks = [line.split()[:2] for line in context.splitlines()[3:] if line.strip()]
    assert [r[0] for r in ranks] == ["1", "2", "3"]
    assert all(float(score) >= 0 for _, score in ranks)
    assert "started      " in out and out.split("started")[1].split()[1].endswith("Z")
    failed = cli("show", "ig-openai-fails").stdout
    assert_fits(failed)
    assert "openai/gpt-4o-mini at http://127.0.0.1:" in " ".join(failed.split())
    assert "error        the OpenAI-compatible server" in failed
    history = cli("show", "ig-test-001", "--history").stdout
    assert_fits(history)
    assert "Executions (oldest first)" in history


def test_jobs_fits_80_columns(
    workspace: Path, cli: Cli, day: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = cli("jobs").stdout
    assert_fits(out)
    assert_whole(out, LONG, "ig-openai-fails", "email-test-001", day[LONG][:12])


def test_numbers_are_right_aligned(workspace: Path, cli: Cli, day: dict[str, str]) -> None:
    out = cli("show", "ig-test-001").stdout
    snapshots = out.split("Input snapshots")[1].split("Artifacts")[0].splitlines()[3:8]
    ends = {len(line.rstrip()) for line in snapshots}
    assert len(ends) == 1, snapshots  # the bytes column ends in one place


def test_piped_output_defaults_to_80_columns(workspace: Path, day: dict[str, str]) -> None:
    """A real pipe with no COLUMNS: the width is 80, not 160."""
    env = {"NO_COLOR": "1"}
    result = run_subprocess("runs", "--wide", cwd=workspace, env=env)
    assert max(len(line) for line in result.stdout.splitlines()) > 80  # --wide is not cut
    narrow = run_subprocess("runs", cwd=workspace, env=env)
    assert_fits(narrow.stdout)


def test_runs_never_advises_a_reindex_that_would_fail(
    workspace: Path, cli: Cli, tmp_path: Path
) -> None:
    """An index path that is a folder is bad input (both commands say so, no circle through
    reindex); a file that is not a database is never overwritten by a reader: the advice to
    reindex comes where reindex works."""
    folder = tmp_path / "index-is-a-folder.sqlite"
    folder.mkdir()
    result = cli("runs", "--db", str(folder))
    assert result.code == 2
    assert "reindex" not in result.stderr and "give a file path" in result.stderr
    assert cli("reindex", "--db", str(folder)).code == 2  # it indeed cannot
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_text("not a database")
    advice = cli("runs", "--db", str(damaged))
    assert advice.code == 1
    assert "run 'sigilctl reindex' to rebuild it" in advice.stderr
    assert cli("reindex", "--db", str(damaged)).code == 0  # and there it works


def test_the_advice_names_what_blocks_a_rebuild(tmp_path: Path) -> None:
    from sigilctl.index.advice import rebuild_advice

    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    assert rebuild_advice(tmp_path / "i.sqlite", artifacts) == (
        "run 'sigilctl reindex' to rebuild it"
    )
    gone = rebuild_advice(tmp_path / "i.sqlite", tmp_path / "missing")
    assert gone.startswith("'sigilctl reindex' cannot rebuild it either") and "missing" in gone
