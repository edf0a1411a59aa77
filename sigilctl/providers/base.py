"""The provider interface: one request in, raw reply text and usage out.

Providers never see paths, keys in snapshots or trace objects; the pipeline builds the request
and parses the reply, so a new provider is one module implementing ``generate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sigilctl.errors import SigilError


@dataclass(frozen=True)
class GenerationRequest:
    provider: str
    model: str
    temperature: float
    max_tokens: int
    seed: int | None
    system: str
    prompt: str
    schema_name: str
    response_schema: Mapping[str, Any]
    # Structured material for providers that do not read prose (the offline generator).
    material: Mapping[str, Any] = field(default_factory=dict)
    # inputs_hash: deterministic seed material for the offline generator.
    seed_material: str = ""
    # How the offline provider answers this request (the pipeline's composer): a JSON value
    # built from ``material`` and ``seed_material`` alone. None: the reply schema is filled in.
    offline_composer: Callable[[GenerationRequest], Any] | None = field(
        default=None, compare=False, repr=False
    )


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True)
class GenerationResult:
    text: str
    model: str
    usage: Usage | None = None
    attempts: int = 1
    cost_usd: float | None = None
    # The reply exactly as the provider sent it (secrets scrubbed), or None when nothing came
    # back. A failed run keeps it as an output, so a paid but rejected reply is never lost.
    raw: str | None = None


class ProviderError(SigilError):
    """The provider failed for good (after retries). The message never holds a secret.

    ``result`` carries what is known of the failed call (attempts, usage, the raw reply) for the
    manifest.
    """

    exit_code = 1

    def __init__(self, message: str, *, result: GenerationResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class Provider(Protocol):
    name: str
    offline: bool

    def check_ready(self) -> None:
        """Raise InputError (exit 2) if the provider cannot be used (e.g. missing key)."""

    def endpoint(self) -> str | None:
        """A secret-free description of where requests go, for the manifest (or None)."""

    def generate(self, request: GenerationRequest) -> GenerationResult: ...
