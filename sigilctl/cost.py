"""What a run's model call cost (SPEC §12), in USD, from a pinned price table.

Prices come from ``genai-prices`` (pydantic's maintained table of provider prices, pinned in
pyproject.toml so a run's cost never changes under it unnoticed; the manifest's ``source``
names the table and its version). A brief may override the table for its model with
``model.price: {input_per_mtok, output_per_mtok}`` (a self-hosted model, a negotiated rate).
A price that is not known is ``total: null`` with a ``reason``: never a made-up 0. The offline
provider makes no model call and costs exactly 0.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache

from sigilctl.brief import PriceSpec
from sigilctl.manifest import CostRecord
from sigilctl.providers.base import Usage

PRICE_TABLE = "genai-prices"
OVERRIDE_SOURCE = "brief model.price"
OFFLINE_SOURCE = "offline provider (no model call)"
_MTOK = Decimal(1_000_000)


@cache
def table_source() -> str:
    """The price table and its version, as the manifest records it."""
    from importlib.metadata import version

    return f"{PRICE_TABLE} {version(PRICE_TABLE)}"


def price_generation(
    *,
    provider: str,
    model: str,
    usage: Usage | None,
    reported_model: str | None = None,
    override: PriceSpec | None = None,
    at: datetime | None = None,
) -> CostRecord:
    """The cost of one generation. ``reported_model`` (what the server said it ran) is priced
    first, then the brief's ``model``; ``at`` picks the price in force at that time."""
    if provider == "offline":
        return CostRecord(input=0.0, output=0.0, total=0.0, source=OFFLINE_SOURCE)
    tokens_in = usage.prompt_tokens if usage else None
    tokens_out = usage.completion_tokens if usage else None
    if tokens_in is None or tokens_out is None:
        return CostRecord(
            source=OVERRIDE_SOURCE if override else table_source(),
            reason="the provider reported no token usage, so the cost is unknown",
        )
    if override is not None:
        cost_in = Decimal(str(override.input_per_mtok)) * tokens_in / _MTOK
        cost_out = Decimal(str(override.output_per_mtok)) * tokens_out / _MTOK
        return _record(cost_in, cost_out, cost_in + cost_out, OVERRIDE_SOURCE)
    return _from_table(provider, model, reported_model, tokens_in, tokens_out, at)


def _from_table(
    provider: str,
    model: str,
    reported_model: str | None,
    tokens_in: int,
    tokens_out: int,
    at: datetime | None,
) -> CostRecord:
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    usage = PriceUsage(input_tokens=tokens_in, output_tokens=tokens_out)
    for ref in dict.fromkeys(r for r in (reported_model, model) if r):
        try:
            price = calc_price(usage, ref, provider_id=provider, genai_request_timestamp=at)
        except (LookupError, ValueError):
            continue
        return _record(price.input_price, price.output_price, price.total_price, table_source())
    return CostRecord(
        source=table_source(),
        reason=(
            f"{table_source()} has no price for model '{model}' of provider '{provider}'; "
            "set model.price in the brief to price it"
        ),
    )


def _record(cost_in: Decimal, cost_out: Decimal, total: Decimal, source: str) -> CostRecord:
    return CostRecord(
        input=float(cost_in), output=float(cost_out), total=float(total), source=source
    )


def cost_details(cost: CostRecord | None) -> dict[str, float] | None:
    """The cost as a trace generation's cost details ({input, output, total}), when known."""
    if cost is None or cost.total is None or cost.input is None or cost.output is None:
        return None
    return {"input": cost.input, "output": cost.output, "total": cost.total}
