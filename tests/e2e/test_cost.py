"""Cost: a model run's manifest says what it cost, from the pinned price table (or the brief's
override); an unknown price is null with a reason, never 0; a cache hit is logged as saved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from sigilctl.cache_log import append_hit, cache_hit, log_path, read_cache_hits
from sigilctl.cost import price_generation
from sigilctl.manifest import read_manifest
from sigilctl.providers.base import Usage
from tests.helpers import make_run
from tests.openai_server import FakeOpenAI, Reply, captions, completion, serve

JOB = "ig-launch-openai"
BRIEF = Path(f"jobs/{JOB}/brief.yaml")
SERVED_MODEL = "gpt-4o-mini-2024-07-18"  # what tests/openai_server.py reports
USAGE = {"prompt_tokens": 321, "completion_tokens": 123, "total_tokens": 444}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with serve() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "c0" * 20)
        monkeypatch.setenv("SIGILCTL_OPENAI_MAX_RETRIES", "0")
        yield fake


def expected_from_table(model: str) -> dict[str, float]:
    """What the pinned table says, computed here from its per-token prices."""
    price = calc_price(PriceUsage(input_tokens=1, output_tokens=1), model, provider_id="openai")
    per_in, per_out = price.model_price.input_mtok, price.model_price.output_mtok
    assert isinstance(per_in, Decimal) and isinstance(per_out, Decimal)
    cost_in = per_in * USAGE["prompt_tokens"] / Decimal(1_000_000)
    cost_out = per_out * USAGE["completion_tokens"] / Decimal(1_000_000)
    return {"input": float(cost_in), "output": float(cost_out), "total": float(cost_in + cost_out)}


def test_an_openai_run_costs_exactly_what_the_pinned_table_says(
    cli: Any, workspace: Path, server: FakeOpenAI
) -> None:
    run = make_run(cli, workspace, JOB)
    cost = json.loads((run / "manifest.json").read_text())["cost"]
    expected = expected_from_table(SERVED_MODEL)
    assert {k: cost[k] for k in ("input", "output", "total")} == expected
    assert cost["total"] > 0
    assert cost["currency"] == "USD" and cost["reason"] is None
    from importlib.metadata import version

    assert cost["source"] == f"genai-prices {version('genai-prices')}"


def test_an_unknown_model_costs_null_with_a_reason(
    cli: Any, workspace: Path, server: FakeOpenAI
) -> None:
    BRIEF.write_text(BRIEF.read_text().replace("name: gpt-4o-mini", "name: house-llama-7b"))
    server.default = Reply(body=completion(captions(4), model="house-llama-7b"))
    run = make_run(cli, workspace, JOB)
    cost = json.loads((run / "manifest.json").read_text())["cost"]
    assert cost["total"] is None and cost["input"] is None
    assert "no price for model 'house-llama-7b'" in cost["reason"]
    assert "model.price" in cost["reason"]


def test_no_usage_reported_is_null_with_a_reason(
    cli: Any, workspace: Path, server: FakeOpenAI
) -> None:
    server.default = Reply(body=completion(captions(4), usage=False))
    cost = json.loads((make_run(cli, workspace, JOB) / "manifest.json").read_text())["cost"]
    assert cost["total"] is None and "no token usage" in cost["reason"]


def test_the_brief_price_overrides_the_table_and_keeps_the_run_id(
    cli: Any, workspace: Path, server: FakeOpenAI
) -> None:
    plain = make_run(cli, workspace, JOB)
    text = BRIEF.read_text()
    BRIEF.write_text(
        text.replace(
            "  seed: 7\n",
            "  seed: 7\n  price:\n    input_per_mtok: 2.5\n    output_per_mtok: 10\n",
        )
    )
    check = cli("run", JOB, "--json")
    assert check.code == 0 and json.loads(check.stdout)["run_id"] == plain.name  # a cache hit
    priced = cli("run", JOB, "--force", "--json")
    assert json.loads(priced.stdout)["run_id"] == plain.name
    cost = json.loads((plain / "manifest.json").read_text())["cost"]
    assert cost["source"] == "brief model.price"
    assert cost["input"] == float(Decimal("2.5") * 321 / Decimal(1_000_000))
    assert cost["output"] == float(Decimal(10) * 123 / Decimal(1_000_000))
    assert cost["total"] == float(Decimal("2.5") * 321 / 1_000_000 + Decimal(10) * 123 / 1_000_000)
    snapshot = (plain / "inputs/brief.resolved.json").read_text()
    assert "price" not in snapshot


def test_an_offline_run_costs_zero_and_a_cache_hit_is_logged_as_saved(
    cli: Any, workspace: Path, server: FakeOpenAI
) -> None:
    offline = make_run(cli, workspace)
    cost = json.loads((offline / "manifest.json").read_text())["cost"]
    assert cost["total"] == 0 and cost["source"] == "offline provider (no model call)"
    paid = make_run(cli, workspace, JOB)
    calls = len(server.requests)
    again = cli("run", JOB, "--json")
    assert json.loads(again.stdout)["cached"] is True and len(server.requests) == calls
    hits = read_cache_hits(workspace / "artifacts")
    assert [(h.job_id, h.run_id) for h in hits] == [(JOB, paid.name)]
    assert hits[0].saved_usd == expected_from_table(SERVED_MODEL)["total"]
    assert (hits[0].input_tokens, hits[0].output_tokens) == (321, 123)
    assert hits[0].brand == "sigilzero" and hits[0].job_type == "instagram_copy"


def test_a_torn_log_line_is_skipped_and_never_swallows_the_next(cli: Any, workspace: Path) -> None:
    run = make_run(cli, workspace)
    artifacts = workspace / "artifacts"
    hit = cache_hit(read_manifest(run), at="2026-01-01T00:00:00.000Z")
    append_hit(artifacts, hit)
    with log_path(artifacts).open("ab") as handle:
        handle.write(b'{"at": "2026-01-01T00:00:01.000Z", "job_id": "ig-te')  # a crash mid-line
    append_hit(artifacts, hit)
    assert read_cache_hits(artifacts) == [hit, hit]
    assert read_cache_hits(artifacts, since="2026-01-02") == []


def test_price_generation_rules() -> None:
    usage = Usage(prompt_tokens=1000, completion_tokens=2000, total_tokens=3000)
    offline = price_generation(provider="offline", model="x", usage=None)
    assert offline.total == 0
    unknown = price_generation(provider="openai", model="no-such-model", usage=usage)
    assert unknown.total is None and unknown.reason
    reported_first = price_generation(
        provider="openai", model="no-such-model", usage=usage, reported_model="gpt-4o-mini"
    )
    assert reported_first.total is not None and reported_first.total > 0


def test_stats_sums_what_runs_cost_and_what_the_cache_saved(
    cli: Any, workspace: Path, server: FakeOpenAI
) -> None:
    """A paid run, then two cache hits of it: stats counts one execution at its cost, and two
    hits that saved that cost each (computed from the pinned table here, not hard-coded)."""
    make_run(cli, workspace, JOB)
    for _ in range(2):
        again = json.loads(cli("run", JOB, "--json").stdout)
        assert again["cached"] is True
    total = expected_from_table(SERVED_MODEL)["total"]
    result = cli("stats", "--json")
    assert result.code == 0, result.stderr
    [row] = [r for r in json.loads(result.stdout) if r["key"] == JOB]
    assert (row["runs"], row["succeeded"], row["cache_hits"]) == (1, 1, 2)
    assert row["input_tokens"] == USAGE["prompt_tokens"]
    assert row["cost_usd"] == pytest.approx(total, abs=1e-9)
    assert row["saved_usd"] == pytest.approx(2 * total, abs=1e-9)
    assert len(server.requests) == 1  # the hits called no model
    human = cli("stats")
    assert "2 cache hit(s) saved $" in human.stdout
    since_tomorrow = json.loads(cli("stats", "--json", "--since", "2999-01-01").stdout)
    assert since_tomorrow == []
